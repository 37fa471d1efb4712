"""mistune's block parser, patched for speed and for documents with unclosed fences.

`document.parse` is the only caller; everything here returns mistune's own block tokens
(plus a `_pos` offset on each top-level token), so the rest of the code never sees a patch.
Why each patch exists:

- `_PositionState`: mistune reports no positions. The state records the cursor as each
  top-level token is appended, which is how headings and code blocks get their line numbers.
- `_FAST_RULES`: list, block-quote and indented-code parsing are most of mistune's cost and
  change nothing this project reads unless a list or quote holds a heading or an indented
  fence (`_NEEDS_FULL`); other documents are parsed without those rules.
- `other_line`: a line no rule claims makes mistune search forward character by character
  for the next rule; taking the line (and the plain lines after it) as paragraph text in one
  step gives the same tokens.
- `fenced_code`: finds the closing fence with one newline-anchored search instead of a
  `^`-anchored pattern tried at every character, and recovers from a fence that is never
  closed (the block ends before the next opening fence or section heading and the token is
  marked `unclosed`) instead of swallowing the rest of the document.
- `atx_heading`: trims a heading's closing #s linearly; mistune's regex backtracks on a long
  run of spaces (a 50 KB heading took minutes).

The patches touch mistune's private API: `BlockParser.SPECIFICATION` (the `atx_heading`
and `fenced_code` patterns with their `atx_1`/`atx_2` and `fenced_1`..`fenced_3` groups),
`BlockParser.rules`, `register`, `parse(state, rules)`, and `BlockState` (`src`, `cursor`,
`cursor_max`, `tokens`, `process`, `append_token`, `add_paragraph`, `last_token`).
tests/test_markdown_parser.py fails with the attribute's name if any of them changes, and
tests/test_document.py compares the patched parser's tokens with mistune's own. Tested
against mistune 3.1.4 and 3.4.0; 3.0.x names the heading rule `axt_heading` and does not work.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from typing import Any

import mistune
from mistune.core import BlockState
from mistune.helpers import unescape_char


class _PositionState(BlockState):
    """BlockState that remembers where each token started (offset into its own src)."""

    def append_token(self, token: dict[str, Any]) -> None:
        token["_pos"] = self.cursor
        super().append_token(token)

    def add_paragraph(self, text: str) -> None:
        # Paragraphs bypass append_token; setext headings are paragraphs turned into headings.
        last = self.last_token()
        if last and last["type"] == "paragraph":
            last["text"] += text
        else:
            self.tokens.append({"type": "paragraph", "text": text, "_pos": self.cursor})


_MARKDOWN = mistune.create_markdown(renderer=None, plugins=["table"])
# List and block-quote parsing is most of mistune's cost and only matters when a list or quote
# holds a fence indented 4+ spaces or a heading; otherwise those lines parse the same as
# paragraphs (fences indented up to 3 spaces are still fences), so the fast rule set is used.
# Indented (4-space) code blocks are not used in these sites and checking every line for one
# costs ~15% of parsing; a 4-space-indented fence still selects the full rule set below.
_FAST_RULES = [r for r in _MARKDOWN.block.rules if r not in ("list", "block_quote", "indent_code")]


def _parse_other_line(block: Any, m: re.Match[str], state: BlockState) -> int:
    state.add_paragraph(m.group(0))
    return m.end()


# A line no rule claims and that starts with punctuation, a digit or a space ("- item", "**Note**")
# makes mistune search forward character by character for the next rule; every rule is anchored
# at a line start, so taking the line as paragraph text here gives the same tokens, faster.
# The lines after it that start with a letter (or "- ", "1. " and a letter) and hold no "|"
# cannot start any rule either (each needs one of ` ~ # = - _ * [ < | or a "|" in the line),
# so they join the same paragraph in the same step.
_MARKDOWN.block.register(
    "other_line", r"^[^\n]*\n(?:(?:[A-Za-z]|[-*+] [A-Za-z]|\d{1,9}[.)] [A-Za-z])[^|\n]*\n)*", _parse_other_line
)
_MARKDOWN.block.rules.remove("other_line")
_FAST_RULES.append("other_line")


@lru_cache(maxsize=64)
def _closing_fence(char: str, length: int) -> re.Pattern[str]:
    # Starts with a literal newline, so the engine jumps between lines; a `^`-anchored pattern
    # (what mistune compiles for each block) is tried at every character of the code.
    return re.compile("\n {0,3}" + re.escape(char) + "{" + str(length) + ",}[ \t]*(?:\n|$)")


# Whether unclosed fences are recovered from (CommonMark would run the block on); a test
# switches it off to compare the parser's other shortcuts with mistune's own tokens.
RECOVER_UNCLOSED = [True]


@lru_cache(maxsize=64)
def _opening_fence(char: str, length: int) -> re.Pattern[str]:
    # A fence with an info string cannot close a block: inside a block it is the next block's opening.
    info = r"[^`\s][^`\n]*" if char == "`" else r"[^\s][^\n]*"
    return re.compile("\n {0,3}" + re.escape(char) + "{" + str(length) + ",}[ \t]*" + info + "(?=\n)")


# A section heading after a blank line, inside a block that is never closed: where the prose
# resumes. Code comments rarely start with `## ` followed by a capital or a digit.
_BODY_HEADING = re.compile(r"\n\n(?=#{2,6} +[\w*\"'`\[(\u00a0-\U0010ffff])")


@lru_cache(maxsize=16)
def _fence_indent(n: int) -> re.Pattern[str]:
    return re.compile("^ {0,%d}" % n, re.M)


def _parse_fenced_code(block: Any, m: re.Match[str], state: BlockState) -> int | None:
    """mistune's fenced-code rule with a faster search for the closing fence; the token is the
    same (a test compares the two on random documents)."""
    indent, marker, info = m.group("fenced_1"), m.group("fenced_2"), m.group("fenced_3")
    if info and marker[0] == "`" and "`" in info:
        return None  # a backtick fence's info string cannot hold a backtick: not a fence
    body_start = m.end() + 1
    close = _closing_fence(marker[0], len(marker)).search(state.src, m.end())
    limit = close.start() if close is not None else len(state.src)
    # A fence that is never closed runs into the next block's opening fence (```bash), which
    # CommonMark reads as code, and every block after it turns inside out. The block is ended
    # before that opening fence, or before a section heading, and marked unclosed, so the
    # rest of the document parses as written and one finding names the fence.
    opener = _opening_fence(marker[0], len(marker)).search(state.src, m.end(), limit) if RECOVER_UNCLOSED[0] else None
    closed = opener is None and close is not None
    if not RECOVER_UNCLOSED[0] and close is None:
        code, end, closed = state.src[body_start:], state.cursor_max, True
    elif not closed:
        cut = _BODY_HEADING.search(state.src, m.end(), opener.start() if opener else limit)
        stop = cut.start() if cut else opener.start() if opener else None
        if stop is not None:
            code, end = state.src[body_start : stop + 1], stop + 1
        else:
            code, end = state.src[body_start:], state.cursor_max
    else:
        code, end = state.src[body_start : close.start() + 1], close.end()  # type: ignore[union-attr]
    if indent and code:
        code = _fence_indent(len(indent)).sub("", code)
    token: dict[str, Any] = {"type": "block_code", "raw": code, "style": "fenced", "marker": marker}
    if not closed:
        token["unclosed"] = True
    if info:
        token["attrs"] = {"info": unescape_char(info).strip()}
    state.append_token(token)
    return end


_MARKDOWN.block.register("fenced_code", None, _parse_fenced_code)


def _trim_atx_closing(text: str) -> str:
    r"""mistune's `(\s+|^)#+\s*$` removal of a heading's closing #s, without the regex: it
    retries from every space of a long run (a 50 KB heading took minutes)."""
    body = text.rstrip()
    k = len(body.rstrip("#"))
    if k == len(body):
        return text  # no closing #s
    if k == 0:
        return ""
    if not body[k - 1].isspace():
        return text  # `C#`: the #s belong to the text
    return text[: len(body[:k].rstrip())]


def _parse_atx_heading(block: Any, m: re.Match[str], state: BlockState) -> int:
    """mistune's ATX heading rule with a linear trim of the closing #s; the same token."""
    text = m.group("atx_2").strip(string.whitespace)
    token = {"type": "heading", "text": _trim_atx_closing(text) if text else text,
             "attrs": {"level": len(m.group("atx_1"))}, "style": "atx"}
    state.append_token(token)
    return m.end() + 1


_MARKDOWN.block.register("atx_heading", None, _parse_atx_heading)
# Anchored on "\n" rather than `^` with re.M: a literal first character lets the regex engine
# jump from newline to newline, about four times faster on a long document.
_NEEDS_FULL = re.compile(r"\n(?:(?: {4,}|\t+)(?:`{3,}|~{3,})| {0,3}>[ \t]*(?:#|`{3,}|~{3,}))")


def _block_tokens(src: str) -> list[dict[str, Any]]:
    state = _PositionState()
    state.process(src)
    if _NEEDS_FULL.search(src) or _NEEDS_FULL.match("\n" + src[:200]):
        _MARKDOWN.block.parse(state)
    else:
        _MARKDOWN.block.parse(state, _FAST_RULES)
    return state.tokens
