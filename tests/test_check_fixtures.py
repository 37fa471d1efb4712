"""Rule fixtures, markdownlint-style: each fixture marks the line where a finding must be
reported with `<!-- expect: rule-id[, rule-id] -->` (or `<!-- expect-line N: rule-id -->`).
The checker must report exactly those errors and warnings, no more and no fewer."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from authorkit.check import check_text
from authorkit.findings import Severity
from authorkit.styleguide import load_guides

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
    opts = _options(text)
    guide = None
    if opts.get("style", "none") != "none":
        guide = load_guides()[opts["style"]]
        if opts.get("lines") == "off":
            guide = guide.model_copy(update={"lines": None, "reading_time": None})
    findings = check_text(text, guide, fixture, code_checks=False)
    got = Counter((f.line, f.rule) for f in findings if f.severity >= Severity.WARNING)
    assert got == _expected(text), "\n".join(f"{f.line}: {f.rule}: {f.message}" for f in findings)


def test_every_rule_fixture_family_is_exercised() -> None:
    expected_rules = set()
    for p in FIXTURES.glob("*.md"):
        expected_rules |= {rule for _, rule in _expected(p.read_text(encoding="utf-8"))}
    for rule in ["section-forbidden", "section-missing", "section-order", "element-checklist", "element-field",
                 "element-table", "element-steps", "element-code", "element-mermaid", "placeholder", "mojibake", "title-format"]:
        assert rule in expected_rules, f"no fixture marks {rule}"


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
