"""The documentation matches the code: generated parts are current, links resolve, the README
stays short and its Quickstart test command is exactly what CI runs."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import REPO

LINK = re.compile(r"\]\(((?!https?://|#)[^)#\s]+)(?:#[^)]*)?\)")


def test_generated_parts_of_the_docs_are_current() -> None:
    r = subprocess.run([sys.executable, str(REPO / "docs" / "gen_reference.py"), "--check"], cwd=REPO,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr + r.stdout


def test_every_relative_link_resolves() -> None:
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "bench" / "README.md"]
    broken = []
    for page in pages:
        if not page.exists():
            continue
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(REPO)} → {target}")
    assert broken == []


def test_readme_is_short_and_its_test_command_is_what_ci_runs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 250
    command = next(line.strip() for line in readme.splitlines() if line.strip().startswith("python -m pytest"))
    assert command in (REPO / ".ci" / "run").read_text(encoding="utf-8")
