"""Rule fixtures, markdownlint-style: each fixture marks the line where a finding must be
reported with `<!-- expect: rule-id[, rule-id] -->` (or `<!-- expect-line N: rule-id -->`).
The checker must report exactly those errors and warnings, no more and no fewer.

The first line sets the options: `style=NAME`, `lines=off` (no length rules) or
`lines=MIN:TARGET:MAX` (line targets as authorkit.toml would set them), `code=on` (code blocks
are checked too; needs node and bash) and `info=on` (info findings must be marked as well)."""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from authorkit.check import check_text
from authorkit.findings import Severity
from authorkit.rules import RULES
from authorkit.styleguide import load_guides, parse_guide

FIXTURES = Path(__file__).parent / "fixtures" / "check"
_EXPECT = re.compile(r"<!--\s*expect:\s*([^>]*?)\s*-->")
_EXPECT_LINE = re.compile(r"<!--\s*expect-line\s+(\d+):\s*([^>]*?)\s*-->")
_HEADER = re.compile(r"<!--\s*fixture:\s*(.*?)\s*-->")


def _expected(text: str) -> Counter:
    out: Counter = Counter()
    for n, line in enumerate(text.splitlines(), 1):
        for m in _EXPECT.finditer(line):
            for rule in m.group(1).split(","):
                out[(n, rule.strip())] += 1
        for m in _EXPECT_LINE.finditer(line):
            for rule in m.group(2).split(","):
                out[(int(m.group(1)), rule.strip())] += 1
    return out


def _options(text: str) -> dict[str, str]:
    m = _HEADER.search(text.splitlines()[0])
    assert m, "fixture must start with <!-- fixture: style=NAME -->"
    return dict(kv.split("=", 1) for kv in m.group(1).split())


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.md")))
def test_fixture_findings_on_marked_lines(fixture: str) -> None:
    text = (FIXTURES / fixture).read_text(encoding="utf-8")
    findings, opts = _run_fixture(fixture, text)
    floor = Severity.INFO if opts.get("info") == "on" else Severity.WARNING
    got = Counter((f.line, f.rule) for f in findings if f.severity >= floor)
    assert got == _expected(text), "\n".join(f"{f.line}: {f.severity} {f.rule}: {f.message}" for f in findings)


def _run_fixture(fixture: str, text: str):
    opts = _options(text)
    code = opts.get("code") == "on"
    if code and not (shutil.which("node") and shutil.which("bash")):
        pytest.skip("code fixtures need node and bash")
    guide = None
    style = opts.get("style", "none")
    if style.endswith(".yaml"):
        guide = parse_guide((FIXTURES / style).read_text(encoding="utf-8"), style)
    elif style != "none":
        guide = load_guides()[style]
    if guide is not None:
        lines = opts.get("lines")
        if lines == "off":
            guide = guide.model_copy(update={"lines": None, "reading_time": None})
        elif lines:
            lo, target, hi = (int(x) if x else None for x in lines.split(":"))
            guide = guide.with_lines({"min": lo, "target": target, "max": hi})
    return check_text(text, guide, fixture, code_checks=code), opts


def test_every_rule_id_has_a_fixture_marking_where_it_fires() -> None:
    marked = set()
    for p in FIXTURES.glob("*.md"):
        marked |= {rule for _, rule in _expected(p.read_text(encoding="utf-8"))}
    marked |= {rule for _, _, rule in _file_fixtures()}
    unmarked = sorted(set(RULES) - marked)
    assert not unmarked, f"rules no fixture marks: {unmarked}"
    assert not marked - set(RULES), f"fixtures mark unknown rules: {sorted(marked - set(RULES))}"


# --- file-level rules: what the checker reports for a file it cannot read as Markdown -------

FILES = FIXTURES / "files"


def _file_fixtures() -> list[tuple[str, int, str]]:
    """(file name, line, rule) from files/EXPECT: `name: line rule` per line."""
    out = []
    for line in (FILES / "EXPECT").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, rest = line.split(":", 1)
            n, rule = rest.split()
            out.append((name.strip(), int(n), rule))
    return out


def test_file_level_rules_fire_on_their_fixtures(tmp_path: Path) -> None:
    from authorkit import textio
    from authorkit.check import run_checks

    for p in FILES.iterdir():
        if p.name != "EXPECT":
            shutil.copyfile(p, tmp_path / p.name)
    # Made here rather than stored: a file over the size limit, and a symlink that loops.
    with open(tmp_path / "too-large.md", "wb") as fh:
        fh.truncate(textio.MAX_DOCUMENT_BYTES + 1)
    os.symlink("loop.md", tmp_path / "loop.md")
    items = []
    for name, _, _ in _file_fixtures():
        items.append((str(tmp_path / name), name, "auto" if name.startswith("auto") else "tutorial"))
    results = {r.path: r for r in run_checks(items, None, code_checks=False, jobs=1)}
    for name, line, rule in _file_fixtures():
        got = [(f.line, f.rule) for f in results[name].findings]
        assert (line, rule) in got, (name, got)


def test_md043_wildcards() -> None:
    from authorkit.styleguide import parse_guide

    guide = parse_guide(
        "name: w\ntitle: {required: false}\nsections:\n  - id: a\n    headings: [Alpha]\n  - '+'\n  - id: b\n    headings: [Beta]\n  - '?'\n  - id: c\n    headings: [Gamma]\n",
        "w.yaml",
    )
    rules = lambda text: [f.rule for f in check_text(text, guide, "w.md", code_checks=False)]  # noqa: E731
    assert rules("## Alpha\n## Extra\n## Beta\n## Gamma\n") == []
    assert rules("## Alpha\n## Beta\n## Gamma\n") == ["section-missing-between"]
    assert rules("## Alpha\n## X\n## Beta\n## One\n## Gamma\n") == []
    assert rules("## Alpha\n## X\n## Beta\n## One\n## Two\n## Gamma\n") == ["section-unknown"]


def test_code_element_languages_see_through_aliases() -> None:
    from authorkit.styleguide import parse_guide

    guide = parse_guide(
        "name: c\ntitle: {required: false}\nsections:\n  - id: setup\n    headings: [Setup]\n    elements:\n"
        "      - {type: code, min: 2, languages: [yaml, bash]}\n",
        "c.yaml",
    )
    ok = "## Setup\n\n```yml\na: 1\n```\n\n```sh\necho hi\n```\n"
    assert [f.rule for f in check_text(ok, guide, "ok.md", code_checks=False)] == []
    bad = "## Setup\n\n```yml\na: 1\n```\n\n```python\nprint(1)\n```\n"
    assert [f.rule for f in check_text(bad, guide, "bad.md", code_checks=False)] == ["element-code"]


def test_an_index_page_is_not_checked_as_a_poc_unless_a_style_is_named(tmp_path: Path) -> None:
    from authorkit.check import check_paths
    from authorkit.config import load_workspace

    (tmp_path / "authorkit.toml").write_text('[content]\nroots = ["pages"]\n\n[styles]\n"practice-pocs/**" = "tutorial"\n')
    pocs = tmp_path / "pages" / "practice-pocs"
    pocs.mkdir(parents=True)
    (pocs / "index.md").write_text("# Practice POCs\n\nHands-on builds, one per page.\n\n- [Cache-aside](./cache-aside)\n- TODO: add the queue POC\n")
    ws = load_workspace(tmp_path)
    landing = check_paths(ws, None, use_cache=False).results[0]
    # Not a POC: no missing sections or title rule, but the text rules still apply.
    assert landing.style is None and [f.rule for f in landing.findings] == ["placeholder"]
    named = check_paths(ws, None, style="tutorial", use_cache=False).results[0]
    assert "section-missing" in {f.rule for f in named.findings}
