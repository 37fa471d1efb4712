"""Parse a Markdown document into the structure the checker and generators work on.

mistune's block parser gives the block structure (so a `#` line inside a fenced code block is
never a heading); inline parsing is skipped because no rule needs it and it doubles the cost.
mistune does not report positions, so the state records the cursor as each top-level token is
appended, and nested tokens are located by searching inside their parent's span. The patched
mistune parser itself lives in markdown_parser.py.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator

from authorkit.markdown_parser import (  # noqa: F401  (re-exported: tests compare the patched parser with mistune's own)
    _FAST_RULES,
    _MARKDOWN,
    RECOVER_UNCLOSED,
    _block_tokens,
    _PositionState,
)

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


def is_symbol(ch: str) -> bool:
    """Emoji, keycap parts, variation selectors, joiners and private-use leftovers of mojibake:
    what heading and title matching sees through. ASCII (`$`, `%`, digits) never is one."""
    if ch < "\x80":
        return False
    return unicodedata.category(ch) in ("So", "Sk", "Cn", "Co", "Cs", "Mn", "Me", "Cf")



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
        s = "".join(" " if is_symbol(c) else c for c in s)
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


_LIST_MARKER = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")


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
        if tok.get("type") in ("list", "block_quote"):
            # These are appended after their content is parsed, so _pos is their end: they
            # start where the token before them ended (the document's start for the first).
            pos = tokens[i - 1].get("_pos", 0) if i > 0 else 0
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
