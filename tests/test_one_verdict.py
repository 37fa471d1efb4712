"""One verdict per file: `check`, `review` and the commit message's check line choose the guide
the same way and apply `[style_overrides]` the same way."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.clihelp import init_repo, invoke


@pytest.mark.parametrize("override", ["", "[style_overrides.tutorial.lines]\nmin = 10\n"], ids=["guide targets", "overridden"])
def test_check_review_and_commit_agree(tmp_path: Path, capsys, repo_root: Path, override: str) -> None:
    (tmp_path / "authorkit.toml").write_text('[content]\nroots = ["pocs"]\n[styles]\n"pocs/**" = "tutorial"\n' + override, encoding="utf-8")
    (tmp_path / "pocs").mkdir()
    page = tmp_path / "pocs" / "short.md"
    lines = (repo_root / "content" / "practice-pocs" / "redis-cache-aside.md").read_text(encoding="utf-8").splitlines()
    page.write_text("\n".join(lines[:150]) + "\n", encoding="utf-8")
    init_repo(tmp_path)
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
