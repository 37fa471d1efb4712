"""One verdict per file: `check`, `review` and the commit message's check line choose the guide
the same way and apply `[style_overrides]` the same way."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.clihelp import invoke


def _git(root: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, env=env, check=True).stdout


@pytest.mark.parametrize("override", ["", "[style_overrides.tutorial.lines]\nmin = 10\n"], ids=["guide targets", "overridden"])
def test_check_review_and_commit_agree(tmp_path: Path, capsys, repo_root: Path, override: str) -> None:
    (tmp_path / "authorkit.toml").write_text('[content]\nroots = ["pocs"]\n[styles]\n"pocs/**" = "tutorial"\n' + override, encoding="utf-8")
    (tmp_path / "pocs").mkdir()
    page = tmp_path / "pocs" / "short.md"
    lines = (repo_root / "content" / "practice-pocs" / "redis-cache-aside.md").read_text(encoding="utf-8").splitlines()
    page.write_text("\n".join(lines[:150]) + "\n", encoding="utf-8")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "config", "user.name", "Dana Writer")
    _git(tmp_path, "config", "user.email", "dana@example.org")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "site")
    page.write_text(page.read_text(encoding="utf-8") + "One more line.\n", encoding="utf-8")

    _, out, _ = invoke(["check", "--no-cache", "--format", "json"], capsys, cwd=tmp_path)
    checked = json.loads(out)
    rules = {f["rule"] for f in checked["files"][0]["findings"]}
    assert ("doc-too-short" in rules) == (not override)  # the override is applied...
    _, out, _ = invoke(["review", "pocs/short.md", "--format", "json"], capsys, cwd=tmp_path)
    reviewed = json.loads(out)["new"]["check"]
    _, out, _ = invoke(["commit", "--dry-run", "pocs/short.md"], capsys, cwd=tmp_path)
    m = re.search(r"Check: 0 of 1 files pass \((\d+) errors?\)", out)
    assert m, out
    # ...and all three give the same verdict.
    assert checked["summary"]["error"] == reviewed["errors"] == int(m.group(1))
