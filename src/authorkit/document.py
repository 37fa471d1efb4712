"""Parse a Markdown document into the structure the checker and generators work on.

mistune's block parser gives the block structure (so a `#` line inside a fenced code block is
never a heading); inline parsing is skipped because no rule needs it and it doubles the cost.
mistune does not report positions, so the state records the cursor as each top-level token is
appended, and nested tokens are located by searching inside their parent's span.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterator

import mistune
from mistune.core import BlockState
from mistune.helpers import unescape_char

_NEWLINE = re.compile("\n")
FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\n.*?\n---[ \t]*\n", re.S)


@dataclass(frozen=True)
class Heading:
    level: int
    text: str  # as written, without the leading #s
    line: int  # 1-based
    norm: str  # normalised for matching (see normalize_heading)


@dataclass(frozen=True)
class CodeBlock:
    line: int  # line of the opening fence (1-based)
    end_line: int  # line of the closing fence (or last line when unclosed)
    info: str  # full info string, e.g. 'js title="app.js"'
    lang: str  # first word of the info string, lower-cased ('' when none)
    code: str
    fenced: bool = True
    closed: bool = True  # False: the fence is never closed (see _parse_fenced_code)

    @property
    def first_code_line(self) -> int:
        return self.line + 1 if self.fenced else self.line


@dataclass(frozen=True)
class Table:
    line: int
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass
class Section:
    heading: Heading
    start: int  # heading line
    end: int  # last line that belongs to the section (inclusive), subsections included
    children: list["Section"] = field(default_factory=list)

    @property
    def line_count(self) -> int:
        return self.end - self.start + 1


class LineIndex:
    """Offset -> 1-based line. Lookups mostly move forward, so count newlines incrementally
    (str.count runs in C) instead of building a table of every line start."""

    __slots__ = ("text", "_off", "_line")

    def __init__(self, text: str) -> None:
        self.text = text
        self._off = 0
        self._line = 1

    def __call__(self, offset: int) -> int:
        if offset < self._off:
            self._off, self._line = 0, 1
        self._line += self.text.count("\n", self._off, offset)
        self._off = offset
        return self._line


@dataclass
class Document:
    text: str
    lines: list[str]
    headings: list[Heading]
    code_blocks: list[CodeBlock]
    tables: list[Table]
    front_matter_lines: int = 0

    @property
    def line_count(self) -> int:
        return len(self.lines)

    @property
    def title(self) -> Heading | None:
        for h in self.headings:
            if h.level == 1:
                return h
        return None

    def sections(self, level: int | None = None) -> list[Section]:
        """Sections at `level` (default: the shallowest level below the title)."""
        if level is None:
            levels = sorted({h.level for h in self.headings if h.level > 1})
            level = levels[0] if levels else 2
        cache = self.__dict__.setdefault("_section_cache", {})
        if level not in cache:
            cache[level] = self._sections(level)
        return cache[level]

    def _sections(self, level: int) -> list[Section]:
        ends = self.heading_ends()
        hs = self.headings
        out: list[Section] = []
        for i, h in enumerate(hs):
            if h.level != level:
                continue
            sec = Section(h, h.line, max(ends[i], h.line))
            j = i + 1
            while j < len(hs) and hs[j].line <= sec.end:
                if hs[j].level == level + 1:
                    sec.children.append(Section(hs[j], hs[j].line, ends[j]))
                j += 1
            out.append(sec)
        return out

    def heading_ends(self) -> list[int]:
        """For each heading, the last line of its section: the line before the next heading at
        its level or above, else the document's last line. One pass with a stack."""
        cache = self.__dict__.get("_ends")
        if cache is not None:
            return cache
        ends = [self.line_count] * len(self.headings)
        open_: list[int] = []
        for i, h in enumerate(self.headings):
            while open_ and self.headings[open_[-1]].level >= h.level:
                ends[open_.pop()] = h.line - 1
            open_.append(i)
        self.__dict__["_ends"] = ends
        return ends

    def enclosing_headings(self, line: int) -> list[Heading]:
        """The headings a line sits under, nearest first (its section, the parent, … the title)."""
        chain: list[Heading] = []
        level = 99
        for h in reversed(self.headings):
            if h.line < line and h.level < level:
                chain.append(h)
                level = h.level
        return chain

    def code_in(self, start: int, end: int) -> list[CodeBlock]:
        return [b for b in self.code_blocks if start <= b.line <= end]

    def tables_in(self, start: int, end: int) -> list[Table]:
        return [t for t in self.tables if start <= t.line <= end]

    def headings_in(self, start: int, end: int) -> list[Heading]:
        return [h for h in self.headings if start < h.line <= end]

    def code_line_mask(self) -> list[bool]:
        """mask[i] is True when line i+1 is inside a fenced code block (fences included)."""
        mask = [False] * (self.line_count + 2)
        for b in self.code_blocks:
            for n in range(b.line, min(b.end_line, self.line_count) + 1):
                mask[n - 1] = True
        return mask

    def prose_lines(self) -> Iterator[tuple[int, str]]:
        mask = self.code_line_mask()
        for i, line in enumerate(self.lines):
            if not mask[i]:
                yield i + 1, line


# --- heading normalisation -------------------------------------------------------------

_KEYCAP = re.compile("[0-9#*]\ufe0f?\u20e3")
# Neither part can run past the next opening bracket, so each `[` / `(` / `<` is scanned once
# and a heading of thousands of unclosed `![` stays linear (a link label holds no `[`).
_MD_LINK = re.compile(r"!?\[([^\[\]]*)\]\([^()]*\)")
_HTML_TAG = re.compile(r"<[^<>]+>")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_EMPH = re.compile(r"(\*\*|__|\*|_|`|~~)")
_NUMBERING = re.compile(
    r"^(?:(?:part|step|phase|level|section|chapter|element|day|week)\s+[0-9a-z]+\s*[:.)\-–—]?\s*"
    r"|[0-9]+(?:\.[0-9]+)*[.)]\s+|[0-9]+\s*[:\-–—]\s+|[ivx]+\.\s+)",
    re.I,
)
_TRAILING_CHARS = ":;,.!?…-–—"
_SPACES = re.compile(r"\s+")
_APOS = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})


def _is_symbol(ch: str) -> bool:
    if ch < "\x80":
        return False
    cat = unicodedata.category(ch)
    return cat in ("So", "Sk", "Cn", "Co", "Cs", "Mn", "Me", "Cf") and ch not in "$%"


@lru_cache(maxsize=65536)
def normalize_heading(text: str, keep_numbering: bool = False) -> str:
    """Lower-case heading text with emoji, markup, numbering and trailing punctuation removed.

    `## 💰 The $2.3M Problem` -> `the $2.3m problem`; `### **Step 3: Create Schema**` ->
    `create schema`; `## What's Next?` -> `what's next`.
    """
    # Each substitution runs only when its marker character is present: most headings are
    # plain words, and every heading of a site passes through here.
    s = text.translate(_APOS)
    if "[" in s:
        s = _MD_LINK.sub(r"\1", s)
    if "<" in s:
        s = _HTML_TAG.sub("", s)
    if not s.isascii():
        s = _KEYCAP.sub(" ", s)
        s = "".join(" " if _is_symbol(c) else c for c in s)
    if "*" in s or "_" in s or "`" in s or "~" in s:
        s = _EMPH.sub("", s)
    s = " ".join(s.split())  # str.split() and re's \s agree on what whitespace is
    if not keep_numbering:
        for _ in range(2):
            m = _NUMBERING.match(s)
            if m is None or m.end() == len(s):
                break
            s = s[m.end() :].strip()
    while True:  # drop trailing punctuation and spaces, in any mix
        t = s.rstrip().rstrip(_TRAILING_CHARS)
        if t == s:
            break
        s = t
    return s.lower()


STEP_RE = re.compile(r"^\W*(?:\*\*)?\s*step\s+(\d+)\b", re.I)


def step_number(text: str) -> int | None:
    m = STEP_RE.match(_KEYCAP.sub(" ", text).strip())
    return int(m.group(1)) if m else None


# --- parsing ---------------------------------------------------------------------------


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
_LIST_MARKER = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")


def _block_tokens(src: str) -> list[dict[str, Any]]:
    state = _PositionState()
    state.process(src)
    if _NEEDS_FULL.search(src) or _NEEDS_FULL.match("\n" + src[:200]):
        _MARKDOWN.block.parse(state)
    else:
        _MARKDOWN.block.parse(state, _FAST_RULES)
    return state.tokens


def parse(text: str) -> Document:
    """Parse Markdown text. Never raises on odd input; unknown constructs are paragraphs."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    body = text
    fm_lines = 0
    m = FRONT_MATTER_RE.match(text)
    if m:
        fm_lines = m.group(0).count("\n")
        # Keep line numbers: blank out the front matter instead of cutting it.
        body = "\n" * fm_lines + text[m.end() :]
    if not body.endswith("\n"):
        body += "\n"
    line_of = LineIndex(body)

    headings: list[Heading] = []
    blocks: list[CodeBlock] = []
    tables: list[Table] = []

    tokens = _block_tokens(body)
    for i, tok in enumerate(tokens):
        if tok["type"] not in _INTERESTING:
            continue
        pos = tok.get("_pos", 0)
        if tok.get("type") in ("list", "block_quote") and i > 0:
            # These are appended after their content is parsed, so _pos is their end.
            pos = tokens[i - 1].get("_pos", 0)
        end = tokens[i + 1].get("_pos", len(body)) if i + 1 < len(tokens) else len(body)
        _collect(tok, body, pos, end, line_of, headings, blocks, tables, top=True)

    return Document(text, lines, headings, blocks, tables, fm_lines)


_INTERESTING = frozenset({"heading", "block_code", "table", "list", "list_item", "block_quote"})


def _skip_blank(src: str, pos: int) -> int:
    if pos < len(src) and src[pos] != "\n":
        return pos  # the usual case: a token starts on its own line
    while pos < len(src) and src[pos] == "\n":
        pos += 1
    return pos


def _collect(tok, src, pos, end, line_of, headings, blocks, tables, top: bool) -> None:
    t = tok.get("type")
    if t == "heading" and tok.get("style") == "setext" and _LIST_MARKER.match(tok.get("text", "")):
        return  # "- item" followed by "---" is a list and a rule, not a heading
    if t == "heading":
        start = _skip_blank(src, pos)
        text = tok.get("text", "")
        text = (_HTML_COMMENT.sub("", text) if "<!--" in text else text).strip()
        line = line_of(start)
        headings.append(Heading(tok["attrs"]["level"], text, line, normalize_heading(text)))
    elif t == "block_code":
        start = _skip_blank(src, pos)
        info = (tok.get("attrs") or {}).get("info") or ""
        info = info.strip()
        code = tok.get("raw", "")
        fenced = tok.get("style") == "fenced"
        first = line_of(start)
        code_lines = code.count("\n")
        if fenced:
            # Closing fence, when present, sits after the code lines.
            last = first + code_lines + 1
            segment_end = line_of(max(end - 1, start))
            last = min(last, max(segment_end, first))
        else:
            last = first + max(code_lines - 1, 0)
        lang = info.split()[0].lower() if info else ""
        lang = lang.split("{")[0].split(",")[0]
        if tok.get("unclosed"):
            last = first + code.count("\n")
        blocks.append(CodeBlock(first, last, info, lang, code, fenced, not tok.get("unclosed")))
    elif t == "table":
        start = _skip_blank(src, pos)
        header: tuple[str, ...] = ()
        rows: list[tuple[str, ...]] = []
        for part in tok.get("children", []):
            if part["type"] == "table_head":
                header = tuple(c.get("text", "").strip() for c in part.get("children", []))
            elif part["type"] == "table_body":
                for row in part.get("children", []):
                    rows.append(tuple(c.get("text", "").strip() for c in row.get("children", [])))
        tables.append(Table(line_of(start), header, tuple(rows)))
    else:
        children = tok.get("children")
        if isinstance(children, list) and children and t in ("list", "list_item", "block_quote"):
            _collect_nested(children, src, pos, end, line_of, headings, blocks, tables)


def _collect_nested(children, src, pos, end, line_of, headings, blocks, tables) -> None:
    """Nested tokens carry offsets into a rewritten child source; find them in the parent span."""
    cursor = pos
    for child in children:
        ct = child.get("type")
        needle = None
        if ct == "block_code":
            raw = child.get("raw", "")
            needle = raw.split("\n", 1)[0] if raw.strip() else None
        elif ct == "heading":
            needle = child.get("text", "").strip()
        elif ct == "table":
            needle = None
        if ct in ("list", "list_item", "block_quote"):
            _collect_nested(child.get("children", []), src, cursor, end, line_of, headings, blocks, tables)
            continue
        if ct not in ("block_code", "heading", "table"):
            continue
        found = src.find(needle, cursor, end) if needle else -1
        if found < 0:
            found = cursor
        line_start = src.rfind("\n", 0, found) + 1
        if ct == "block_code" and child.get("style") == "fenced":
            # Step back to the opening fence line.
            fence = src.rfind("\n", 0, max(line_start - 1, 0)) + 1
            line_start = fence if line_start > pos else line_start
        fake_next = end
        _collect(child, src, line_start, fake_next, line_of, headings, blocks, tables, top=False)
        cursor = max(cursor, found + 1)
