"""Parsing: headings (never inside code), code blocks, tables, sections, heading normalisation."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authorkit.check import check_text
from authorkit.document import normalize_heading, parse, step_number
from authorkit.matching import score_heading
from authorkit.styleguide import load_guides

DOC = """---
title: front matter is not a heading
---
# POC #3: Title

## What You'll Build

```bash
# not a heading
## nor this
```

- item
  ```js
  const nested = true;
  ```

| Company | Scale |
|---------|-------|
| Acme | 1M |

Setext Heading
--------------

### Step 1: Go
"""


def test_structure_and_lines() -> None:
    d = parse(DOC)
    assert [(h.level, h.text, h.line) for h in d.headings] == [
        (1, "POC #3: Title", 4),
        (2, "What You'll Build", 6),
        (2, "Setext Heading", 22),
        (3, "Step 1: Go", 25),
    ]
    assert [(b.lang, b.line, b.end_line) for b in d.code_blocks] == [("bash", 8, 11), ("js", 14, 16)]
    assert d.tables[0].header == ("Company", "Scale") and d.tables[0].line == 18
    secs = d.sections(2)
    assert [(s.heading.text, s.start, s.end) for s in secs] == [("What You'll Build", 6, 21), ("Setext Heading", 22, 25)]


def test_normalisation_sees_through_decoration() -> None:
    assert normalize_heading("💰 The $2.3M Problem") == "the $2.3m problem"
    assert normalize_heading("5️⃣4️⃣ PostgreSQL Partitioning") == "postgresql partitioning"
    assert normalize_heading("**Step 3: Create Schema**") == "create schema"
    assert normalize_heading("2. Why This Matters:") == "why this matters"
    assert normalize_heading("What’s Next?") == "what's next"
    assert normalize_heading("🏆 *Key Takeaways* !") == "key takeaways"
    assert step_number("Step 12: Load test") == 12


def test_heading_matching_aliases_prefix_and_near_miss() -> None:
    aliases = ("What You'll Build",)
    assert score_heading(normalize_heading("🎯 What You'll Build"), aliases, (), 0.86) == 1.0
    assert score_heading(normalize_heading("The Problem: N+1 Queries"), ("The Problem",), (), 0.86) == 0.95
    assert 0 < score_heading(normalize_heading("What You'l Buld"), aliases, (), 0.86) < 0.95
    assert score_heading(normalize_heading("Wrap Up"), aliases, (), 0.86) == 0.0


GUIDES = load_guides()
md_alphabet = string.ascii_letters + string.digits + " #*-_`>|[]()!\n\t~:.✅💰⭐âœ…"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=md_alphabet, max_size=600), st.sampled_from(sorted(GUIDES)))
def test_random_markdown_never_raises(text: str, style: str) -> None:
    check_text(text, GUIDES[style], "random.md", code_checks=False)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(data: bytes) -> None:
    from authorkit.textio import decode_document

    res = decode_document(data)
    if res.text is not None:
        check_text(res.text, GUIDES["tutorial"], "bytes.md", code_checks=False)


_LINES = ["# Title\n", "## Step 2: Load\n", "plain text\n", "- item\n", "3. third\n", "  indented\n", "```sql\n", "```\n", "~~~\n",
          "````\n", "  ```js\n", "``` a`b\n", "| a | b |\n", "|---|---|\n", "a | b\n", "---\n", "===\n", "\n", "<!--\n", "-->\n",
          "<div>\n", "[x]: /y\n", "**Bold**\n", "***\n", "#tag\n", "\tx\n", "    ```\n", "> ```\n", "|", "-", "#", "```",
          "More prose\n", "- item b\n", "2) two\n", "x|y\n", "- - -\n", "-a\n", "+ plus\n", "1.5 x\n"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_LINES), max_size=30))
def test_parser_shortcuts_give_mistunes_own_tokens(lines: list[str]) -> None:
    # The parser takes unclaimed lines in one step and finds closing fences with its own
    # search; the tokens must be exactly those of an unmodified mistune, for the fast rule set
    # and the full one.
    import mistune

    from authorkit import document

    src = "".join(lines) + "\n"
    pristine = mistune.create_markdown(renderer=None, plugins=["table"])

    def tokens(md: mistune.Markdown, rules: list[str]) -> list[dict]:
        state = document._PositionState()
        state.process(src)
        md.block.parse(state, rules)
        return state.tokens

    fast = [r for r in document._FAST_RULES if r != "other_line"]
    document.RECOVER_UNCLOSED[0] = False  # recovering from an unclosed fence is a deliberate difference
    try:
        assert tokens(document._MARKDOWN, document._FAST_RULES) == tokens(pristine, fast)
        assert tokens(document._MARKDOWN, document._MARKDOWN.block.rules) == tokens(pristine, pristine.block.rules)
    finally:
        document.RECOVER_UNCLOSED[0] = True


_PATTERNS = [r"services\s*:|docker(?:-compose| compose| run)\b", r"a|ab", r"(a|b)c|d", r"[|]x|y", r"\|a|b", r"^foo|bar$",
             r"x(?=y)|xy", r"[]|]|z", r"(?i)a|b", r"(a)|\1"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_PATTERNS), st.sampled_from([0, 2, 8]), st.text(alphabet="abcdxyz|fo r\n:services-dockerun", max_size=40))
def test_regex_elements_match_exactly_as_the_whole_pattern_would(pattern: str, flags: int, text: str) -> None:
    # A style guide's regex element is searched one alternative at a time (much faster on long
    # documents); the match found, and where, must be the pattern's own.
    import re

    from authorkit.rules import _first_match

    want = re.compile(pattern, flags).search(text)
    got = _first_match(pattern, flags, text)
    assert (want and (want.start(), want.group(0))) == (got and (got.start(), got.group(0)))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab1 -'’\n\t✅é_.,|#`Z9", max_size=60))
def test_word_count_for_reading_time_counts_words(text: str) -> None:
    # Counted without a regex (it was a tenth of a cold run): a word starts with a letter or
    # digit and runs on through letters, digits, apostrophes and hyphens.
    import re

    from authorkit.rules import count_words

    assert count_words(text) == len(re.findall(r"[A-Za-z0-9][A-Za-z0-9'’\-]*", text))
    assert count_words("Don’t re-run the 3 well-known steps — twice.") == 7


def test_a_quoted_heading_at_the_start_is_on_its_own_line() -> None:
    # A block quote or list that opens the document starts at line 1, not after its own end.
    doc = parse("> ## Quoted heading\n> text\n")
    assert [(h.line, h.text) for h in doc.headings] == [(1, "Quoted heading")]
    doc = parse("- item\n\n  ```js\n  run()\n  ```\n")
    assert [b.line for b in doc.code_blocks] == [3]
