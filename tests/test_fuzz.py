"""Fuzzing every parser: the plan parser, the document parser, the navigation reader (and its
writer's round trip), the mojibake fixer and the style-guide loader.

Each must return, or raise a typed authorkit error, for any input, within a time bound; the
inputs mix the syntax each parser cares about with arbitrary text, and long repetitions of
one fragment (the shape of input that makes a backtracking regex hang).

The number of examples per test is small so the suite stays fast; for a real fuzz run set
AUTHORKIT_FUZZ_EXAMPLES, e.g.:

    AUTHORKIT_FUZZ_EXAMPLES=10000 python -m pytest -q -p no:cacheprovider tests/test_fuzz.py
"""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authorkit.errors import AuthorkitError

EXAMPLES = int(os.environ.get("AUTHORKIT_FUZZ_EXAMPLES", "20"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])

# CPU seconds one call may take on inputs of these sizes (a few KB; repetitions up to 6,000
# characters). Linear parsers take milliseconds; a quadratic regex takes seconds here.
BOUND = float(os.environ.get("AUTHORKIT_FUZZ_BOUND", "2.0"))


def _bounded(fn, *args):
    """Call `fn`; a typed authorkit error is an answer, anything else fails the test. CPU time,
    not wall time: other processes on a shared machine do not count against the parser."""
    t = time.process_time()
    try:
        result = fn(*args)
    except AuthorkitError as exc:
        result = exc
    spent = time.process_time() - t
    assert spent < BOUND, f"{fn.__name__} took {spent:.2f} s of CPU on {len(args[0])} characters"
    return result


def _text(fragments: list[str], max_size: int = 60):
    """Text made of the parser's own syntax, arbitrary characters, and long runs of one piece."""
    piece = st.one_of(
        st.sampled_from(fragments),
        st.text(max_size=6),
        st.sampled_from(["\n", " ", "\t", "\r\n", "\u00a0", "\u3000", "\ufeff", "\x00", "\u2028"]),
    )
    run = st.tuples(st.sampled_from(fragments + [" ", "\t", "#", "(", "[", "*", "\\", "|", "`"]),
                    st.integers(min_value=200, max_value=3000)).map(lambda t: t[0] * (t[1] // max(len(t[0]), 1)))
    return st.lists(st.one_of(piece, piece, piece, run), max_size=max_size).map("".join)


MARKDOWN = ["# ", "## ", "### ", "#### ", "#", " #", "\n", "- ", "* ", "1. ", "> ", "```", "```python\n", "~~~",
            "|", " | ", "|---|---|", "---", "**", "__", "_", "*", "`", "[", "]", "(", ")", "](", "![", "<!--", "-->",
            "<", ">", "✅", "⏳", "❌", "⭐ NEW", "🔄", "4️⃣2️⃣", "\ufe0f", "\u20e3", "POC #", "POCs #12-14", "Article",
            "Problems", "Day 1:", "Week 2", "Step 1:", "**Theme**: ", "Success criteria", "done", "pending", "Ã©",
            "â€™", "ðŸš€", "Â", "\t", "    ", "---\ntitle: x\n---\n"]


# --- the plan parser ----------------------------------------------------------------------------


@FUZZ
@given(_text(MARKDOWN))
def test_plan_parser_never_crashes_or_hangs(text: str):
    from authorkit.plan import Plan, parse_plan_text

    result = _bounded(parse_plan_text, text, "PLAN.md")
    assert isinstance(result, (Plan, AuthorkitError))


# --- the document parser ------------------------------------------------------------------------


@FUZZ
@given(_text(MARKDOWN))
def test_document_parser_never_crashes_or_hangs(text: str):
    from authorkit.document import Document, parse

    doc = _bounded(parse, text)
    assert isinstance(doc, Document)
    n = max(len(doc.lines), 1)
    assert all(1 <= h.line <= n + 1 for h in doc.headings)


@FUZZ
@given(_text(MARKDOWN, max_size=30))
def test_check_never_crashes_or_hangs(text: str):
    from authorkit.check import check_text
    from authorkit.styleguide import load_guides

    guide = load_guides()["tutorial"]
    _bounded(check_text, text, guide, "fuzz.md")


# --- the navigation reader and writer -----------------------------------------------------------

JS = ["export default {", "module.exports = {", "const meta = {", "}", "};", "} as const;", "{", ":", ",", "\n", "  ",
      '"', "'", "`", "\\", "\\\n", "\\x2D", "\\u0041", "\\u{1F600}", "\\uD83D", "\\0", "\\01", "${", "//", "/*", "*/",
      '"kv-one"', "'it\\'s'", "index", "title", "type", '"page"', '"1️⃣ One"', "'2. Two'", "[", "]", "...", "404",
      "// Caching (POCs #61-65)", "// Group", "4️⃣2️⃣", "\u2028", "\t", "\r\n", "$", "_"]


def _meta_file():
    entry = st.tuples(st.sampled_from(['"', "'", ""]), st.text(min_size=1, max_size=12), st.text(max_size=20),
                      st.booleans())
    body = st.lists(st.one_of(entry, st.sampled_from(["// Group (POCs #1-5)", "", "/* c */"]), _text(JS, 8)), max_size=12)

    def render(items) -> str:
        from authorkit.nav import js_quote

        lines = ["export default {"]
        for it in items:
            if isinstance(it, tuple):
                q, key, label, comma = it
                k = js_quote(key, q) if q else key
                v = js_quote(label, q or '"')
                lines.append(f"  {k}: {v}{',' if comma else ''}")
            else:
                lines.append(it)
        lines.append("}")
        return "\n".join(lines) + "\n"

    return body.map(render)


@FUZZ
@given(st.one_of(_text(JS), _meta_file()))
def test_nav_reader_never_crashes_or_hangs(text: str):
    from authorkit.nav import NavFile, parse_nav

    for name in ("_meta.js", "_meta.json"):
        nav = _bounded(parse_nav, text, name)
        assert isinstance(nav, (NavFile, AuthorkitError))


@FUZZ
@given(_meta_file(), st.text(max_size=30), st.one_of(st.none(), st.integers(min_value=0, max_value=99)), st.text(max_size=30))
def test_nav_insert_writes_only_what_reads_back(text: str, title: str, number, label: str):
    """Any insertion either raises a NavigationError or gives a file that reads back with the
    new entry exactly as asked and every other entry unchanged."""
    from authorkit.errors import NavigationError
    from authorkit.nav import parse_nav, plan_insert

    try:
        nav = parse_nav(text, "_meta.js")
        ins = plan_insert(nav, "fuzz-new-key", title or "x", number, label=label or None)
    except NavigationError:
        return
    if not ins.changed:
        return
    again = parse_nav(ins.text, "_meta.js")
    got = again.find_key("fuzz-new-key")
    assert got is not None and (label == "" or got.label == label)
    assert [(e.key, e.label) for e in nav.entries] == [(e.key, e.label) for e in again.entries if e.key != "fuzz-new-key"]


@FUZZ
@given(st.text(), st.sampled_from(['"', "'"]))
def test_js_quote_round_trips_any_text(value: str, quote: str):
    from authorkit.nav import JSStringError, decode_js_string, js_quote

    if any("\ud800" <= c <= "\udfff" for c in value):
        with pytest.raises(JSStringError):  # a lone surrogate cannot be written as UTF-8 text
            decode_js_string(js_quote(value, quote))
        return
    assert decode_js_string(js_quote(value, quote)) == value


@FUZZ
@given(_text(JS, max_size=20))
def test_js_string_decoder_raises_only_its_error(body: str):
    from authorkit.nav import JSStringError, decode_js_string

    for q in ('"', "'", "`"):
        try:
            _bounded(decode_js_string, q + body + q)
        except JSStringError:
            pass


# --- the mojibake fixer -------------------------------------------------------------------------


@FUZZ
@given(_text(MARKDOWN + ["Ã", "â€", "ðŸ", "Ã¢Â€Â", "\x81", "\x8d", "Ã©tÃ©", "ï»¿", "Ãƒ"]))
def test_mojibake_fixer_never_crashes_or_hangs(text: str):
    from authorkit.fix import fix_text

    fixed, changes = _bounded(fix_text, text)
    assert isinstance(fixed, str) and isinstance(changes, list)


# --- the style-guide loader ---------------------------------------------------------------------

YAML = ["name: x\n", "sections:\n", "  - id: a\n", "    headings: [A]\n", "    required: true\n", "    elements:\n",
        "      - type: regex\n", "        pattern: '(a+)+$'\n", "        must: true\n", "title:\n", "  pattern: '^x'\n",
        "forbidden:\n", "[", "]", "{", "}", ":", "- ", "&a ", "*a", "!!python/object:os.system", "\n", "  ", "'", '"',
        "---\n", "? ", "%YAML 1.2\n", "<<: *a\n", "patterns: ['(']\n", "min: -1\n", "severity: fatal\n"]


@FUZZ
@given(_text(YAML))
def test_style_guide_loader_raises_only_typed_errors(text: str):
    from authorkit.styleguide import StyleGuide, parse_guide

    guide = _bounded(parse_guide, text, "fuzz.yaml")
    assert isinstance(guide, (StyleGuide, AuthorkitError))
