"""`authorkit check` and `fix` from the command line: formats, exit codes, bad input, cache."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from authorkit.check import check_paths
from authorkit.config import load_workspace
from tests.clihelp import run

GOOD = (Path(__file__).parent / "fixtures" / "check" / "tutorial-good.md").read_text(encoding="utf-8")
BAD = (Path(__file__).parent / "fixtures" / "check" / "tutorial-forbidden.md").read_text(encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "authorkit.toml").write_text(
        '[content]\nroots = ["pages"]\n\n[styles]\n"practice-pocs/**" = "tutorial"\n\n[style_overrides.tutorial]\nlines = { min = 10, target = 80, max = 200 }\n'
    )
    pocs = tmp_path / "pages" / "practice-pocs"
    pocs.mkdir(parents=True)
    (pocs / "good.md").write_text(GOOD)
    return tmp_path


def test_clean_site_exits_0_and_says_so(site: Path) -> None:
    r = run(["check"], site)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 file checked: 0 errors" in r.stdout


def test_findings_exit_1_with_path_line_rule(site: Path) -> None:
    (site / "pages" / "practice-pocs" / "bad.md").write_text(BAD)
    r = run(["check"], site)
    assert r.returncode == 1
    assert "pages/practice-pocs/bad.md:13:1: error section-forbidden" in r.stdout
    assert "hint:" in r.stdout


def test_fail_on_warning_and_quiet(site: Path) -> None:
    doc = site / "pages" / "practice-pocs" / "good.md"
    doc.write_text(GOOD.replace("## Test It", "## Odd Extra Section").replace("## How This Fits Larger Systems", "## Another One\n\nx\n\n## How This Fits Larger Systems"))
    # Unknown sections after the build are allowed by the tutorial's wildcard: still clean.
    assert run(["check"], site).returncode == 0
    doc.write_text(GOOD.replace("## Why This Matters", "## Interlude\n\nx\n\n## Why This Matters"))
    assert run(["check"], site).returncode == 0  # a warning does not fail by default
    r = run(["check", "--fail-on", "warning"], site)
    assert r.returncode == 1 and "section-unknown" in r.stdout


def test_json_names_style_lines_and_findings(site: Path) -> None:
    (site / "pages" / "practice-pocs" / "bad.md").write_text(BAD)
    (site / "pages" / "free.md").write_text(GOOD)
    r = run(["check", "--format", "json"], site)
    data = json.loads(r.stdout)
    files = {f["path"]: f for f in data["files"]}
    bad = files["pages/practice-pocs/bad.md"]
    assert bad["style"] == "tutorial" and bad["detected"] is None
    assert bad["lines"] == len(BAD.splitlines())
    assert {f["rule"] for f in bad["findings"]} >= {"section-forbidden"}
    free = files["pages/free.md"]
    assert free["detected"]["style"] == "tutorial" and free["detected"]["score"] > 0.6
    assert data["summary"]["files"] == 3


def test_github_and_sarif_formats(site: Path) -> None:
    (site / "pages" / "practice-pocs" / "bad.md").write_text(BAD)
    gh = run(["check", "--format", "github"], site).stdout
    assert "::error file=pages/practice-pocs/bad.md,line=13,col=1,title=section-forbidden::" in gh
    sarif = json.loads(run(["check", "--format", "sarif"], site).stdout)
    assert sarif["version"] == "2.1.0"
    res = sarif["runs"][0]["results"]
    assert any(x["ruleId"] == "section-forbidden" and x["locations"][0]["physicalLocation"]["region"]["startLine"] == 13 for x in res)
    assert {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]} >= {"section-forbidden"}


def test_unknown_style_and_missing_path_are_usage_errors(site: Path) -> None:
    r = run(["check", "--style", "nope"], site)
    assert r.returncode == 2 and "unknown style 'nope'" in r.stderr
    r = run(["check", "does-not-exist.md"], site)
    assert r.returncode == 2 and "does-not-exist.md" in r.stderr
    (site / "authorkit.toml").write_text('[styles]\n"x/**" = "tutorail"\n')
    r = run(["check"], site)
    assert r.returncode == 2 and "authorkit.toml:2" in r.stderr and "tutorail" in r.stderr


def test_bad_config_is_exit_2_with_file_and_line(site: Path) -> None:
    (site / "authorkit.toml").write_text('[check]\nfail_on = "sometimes"\n')
    r = run(["check"], site)
    assert r.returncode == 2
    assert "authorkit.toml:2" in r.stderr and "check.fail_on" in r.stderr
    assert "Traceback" not in r.stderr


def test_bad_inputs_are_findings_and_the_run_continues(site: Path) -> None:
    d = site / "pages"
    (d / "empty.md").write_text("")
    (d / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR")
    (d / "latin1.md").write_bytes("# Caf\xe9 notes\n\n## Section\n".encode("cp1252"))
    big = d / "huge.md"
    with open(big, "wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse 50 MB file
    (d / "loop-a.md").symlink_to(d / "loop-b.md")
    (d / "loop-b.md").symlink_to(d / "loop-a.md")
    (d / "dangling.md").symlink_to(d / "gone.md")
    r = run(["check", "--format", "json"], site)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    files = {f["path"]: {x["rule"] for x in f["findings"]} for f in json.loads(r.stdout)["files"]}
    assert "file-empty" in files["pages/empty.md"]
    assert "file-binary" in files["pages/binary.md"]
    assert "file-encoding" in files["pages/latin1.md"]
    assert "file-too-large" in files["pages/huge.md"]
    assert "file-unreadable" in files["pages/loop-a.md"]
    assert "file-unreadable" in files["pages/dangling.md"]
    assert files["pages/practice-pocs/good.md"] == {"doc-over-target"} or not files["pages/practice-pocs/good.md"] - {"doc-over-target"}


def test_unreadable_permissions_are_a_finding(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Root ignores file modes, so simulate the OS refusing the read.
    target = site / "pages" / "secret.md"
    target.write_text(GOOD)
    real = os.open

    def deny(path, flags, *args):  # type: ignore[no-untyped-def]
        if os.path.basename(path) == "secret.md":
            raise PermissionError(13, "Permission denied")
        return real(path, flags, *args)

    monkeypatch.setattr(os, "open", deny)
    run_ = check_paths(load_workspace(site), None, use_cache=False)
    by = {r.path: r for r in run_.results}
    assert [f.rule for f in by["pages/secret.md"].findings] == ["file-unreadable"]
    assert "permission denied" in by["pages/secret.md"].findings[0].message


def test_directory_with_thousands_of_files(tmp_path: Path) -> None:
    d = tmp_path / "many"
    d.mkdir()
    for i in range(5000):
        (d / f"n{i:04d}.md").write_text(f"# Note {i}\n\nShort.\n")
    run_ = check_paths(load_workspace(tmp_path), [str(d)], use_cache=False)
    assert len(run_.results) == 5000


def test_warm_run_uses_cache_and_edits_invalidate(site: Path) -> None:
    ws = load_workspace(site)
    os.environ["AUTHORKIT_CACHE_DIR"] = str(site / ".cache")
    try:
        first = check_paths(ws, None)
        assert first.cached == 0
        second = check_paths(ws, None)
        assert second.cached == 1
        assert [f.to_dict() for f in second.results[0].findings] == [f.to_dict() for f in first.results[0].findings]
        doc = site / "pages" / "practice-pocs" / "good.md"
        # Touched but unchanged (a checkout, an editor save): the stored hash of the checked
        # bytes still matches, so the result is reused.
        st = doc.stat()
        os.utime(doc, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
        assert check_paths(ws, None).cached == 1
        doc.write_text(BAD)
        third = check_paths(ws, None)
        assert third.cached == 0
        assert any(f.rule == "section-forbidden" for f in third.results[0].findings)
        # A guide edit invalidates too.
        (site / "style_guides").mkdir()
        (site / "style_guides" / "tutorial.yaml").write_text("name: tutorial\nsections:\n  - id: x\n    headings: [Anything]\n    required: false\n")
        fourth = check_paths(load_workspace(site), None)
        assert fourth.cached == 0
        assert not any(f.rule == "section-forbidden" for f in fourth.results[0].findings)
    finally:
        del os.environ["AUTHORKIT_CACHE_DIR"]


def test_explain_shows_scores_and_matches(samples: Path, tmp_path: Path) -> None:
    r = run(["check", "--explain", str(samples / "postgresql-partitioning-strategies.before.md")], tmp_path)
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert "best: engagement" in r.stdout
    assert any("paradigm-shift" in ln and "Paradigm Shift" in ln for ln in lines)


def test_fix_repairs_mojibake_atomically_and_leaves_good_text(tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("# Plan\n\n- âœ… Done \t\n- â³ Pending\n- ‚≠ê NEW\n", encoding="utf-8")
    good = tmp_path / "good.md"
    good_text = "# Fine\n\nCafé ✅ ⭐ — “quotes”\n\nHard break  \nnext line\n"
    good.write_text(good_text, encoding="utf-8")
    r = run(["fix", "."], tmp_path)
    assert r.returncode == 0, r.stderr
    assert bad.read_text(encoding="utf-8") == "# Plan\n\n- ✅ Done\n- ⏳ Pending\n- ⭐ NEW\n"
    assert good.read_text(encoding="utf-8") == good_text
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert run(["check", "bad.md", "--style", "article"], tmp_path).stdout.count("mojibake") == 0


def test_fix_reencodes_cp1252_only_when_told(tmp_path: Path) -> None:
    p = tmp_path / "old.md"
    raw = "# Caf\xe9 \x93quoted\x94\n".encode("latin-1")
    p.write_bytes(raw)
    r = run(["fix", "old.md"], tmp_path)
    assert r.returncode == 2 and "old.md:1: not valid UTF-8: byte 0xE9 at byte offset 5" in r.stderr
    assert "--encoding" in r.stderr and p.read_bytes() == raw
    r = run(["fix", "old.md", "--encoding", "cp1252"], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "re-encoded from cp1252" in r.stdout
    assert p.read_text(encoding="utf-8") == "# Café “quoted”\n"


def test_help_is_fast_to_import() -> None:
    # Heavy libraries must not load for --help; a cheap proxy that cannot be fooled by a fast machine.
    import subprocess
    import sys

    code = "import sys, authorkit.cli; bad=[m for m in ('anthropic','mistune','pydantic','git','langchain_text_splitters','sqlglot') if m in sys.modules]; print(bad)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip()
    assert out == "[]"


def test_verbose_lists_skipped_languages_cold_and_from_cache(tmp_path: Path) -> None:
    doc = tmp_path / "v.md"
    doc.write_text("# Notes\n\n```rust\nfn main() {}\n```\n\n```python\nprint(1)\n```\n")
    for _ in range(2):  # the second run is served from the cache and must say the same
        r = run(["check", "v.md", "--style", "article", "--verbose"], tmp_path)
        assert "code blocks: 1 checked (python 1); 1 skipped (rust 1)" in r.stderr
        assert "v.md:3: rust: skipped" in r.stderr
