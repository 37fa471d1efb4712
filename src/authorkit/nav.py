"""Navigation files (Nextra `_meta.js` / `_meta.json`): read them, and insert one entry.

The user edits these files by hand and their layout carries meaning (comment groups such as
`// Kafka Message Queues (POCs #46-50)`, keycap-numbered labels `"4️⃣6️⃣ Kafka Basics"`), so
the file is never re-serialised: a new entry is one inserted line, in number order, in the
right comment group, in the file's own label style. The only other byte that may change is a
comma after the previous last entry. Files that are not a plain object literal of string
(or object) values and comments are refused rather than guessed at.
"""

from __future__ import annotations

import bisect
import fcntl
import json
import os
import re
import signal
import stat
import threading
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from authorkit.errors import AuthorkitError, Interrupted, NavigationError, WriteRefused
from authorkit.plan_parse import _drop_parens  # `\s*\([^)]*\)` removed in one pass
from authorkit.textio import atomic_write_text

KEYCAP_MARK = "\u20e3"
VS16 = "\ufe0f"
KEYCAP_TEN = "\U0001f51f"  # 🔟

# Lines outside the object (before `export default {`, after its `}`) are matched on their
# stripped text with possessive quantifiers: a long run of spaces never backtracks.
_OPEN_JS = re.compile(r"(?:export\s++default|module\.exports\s*+=|(?:export\s++)?(?:const|let|var)\s++[A-Za-z_$][\w$]*+\s*+(?::\s*+[\w.<>\[\]]++)?\s*+=)\s*+\{")
_CLOSE = re.compile(r"\}(?:\s*+as\s++const|\s*+satisfies\s++[\w.<>]++)?+\s*+;?+")
_TAIL_OK = re.compile(r"(?:export\s++default\s++[A-Za-z_$][\w$]*+\s*+;?+|//.*)?+")
_RANGE_IN_COMMENT = re.compile(r"#\s*(\d+)\s*[-–—]\s*#?\s*(\d+)")
_KEYCAP_RUN = re.compile(r"^\s*((?:[0-9]\ufe0f?\u20e3)+|\U0001f51f)")
_DOTTED = re.compile(r"^\s*#?(\d+)[.):]?\s+\S")
_IDENT = re.compile(r"(?:[^\W\d]|\$)[\w$]*")
_NUMBER = re.compile(r"[0-9]+")


@dataclass
class NavEntry:
    key: str
    label: str | None
    line: int  # first line (1-based)
    end_line: int  # last line (multi-line object values)
    number: int | None
    comma: bool
    indent: str
    quote: str  # quote used for the key: '"', "'" or "" (bare identifier)
    end_col: int = -1  # column just after the value on `end_line` (where a comma goes)


@dataclass
class NavComment:
    text: str
    line: int
    range: tuple[int, int] | None


@dataclass
class NavFile:
    path: str
    text: str
    kind: str  # "js" | "json"
    entries: list[NavEntry]
    comments: list[NavComment]
    open_line: int
    close_line: int
    newline: str = "\n"
    lines: list[str] = field(default_factory=list)

    def find_key(self, key: str) -> NavEntry | None:
        return next((e for e in self.entries if e.key == key), None)

    def find_number(self, number: int) -> NavEntry | None:
        return next((e for e in self.entries if e.number == number), None)

    @property
    def keys(self) -> set[str]:
        return {e.key for e in self.entries}

    @property
    def label_style(self) -> str:
        """How numbered labels are written: keycap (with or without U+FE0F), dotted, or plain."""
        votes: dict[str, int] = {}
        for e in self.entries:
            if not e.label or e.number is None:
                continue
            if _KEYCAP_RUN.match(e.label):
                style = "keycap" if VS16 in _KEYCAP_RUN.match(e.label).group(1) or e.label.lstrip().startswith(KEYCAP_TEN) else "keycap-bare"
            else:
                style = "dotted"
            votes[style] = votes.get(style, 0) + 1
        if not votes:
            return "plain"
        return max(votes.items(), key=lambda kv: kv[1])[0]


def keycap(number: int, vs16: bool = True) -> str:
    return "".join(d + (VS16 if vs16 else "") + KEYCAP_MARK for d in str(number))


def label_number(label: str | None) -> int | None:
    if not label:
        return None
    m = _KEYCAP_RUN.match(label)
    if m:
        run = m.group(1)
        if run == KEYCAP_TEN:
            return 10
        return int("".join(ch for ch in run if ch.isdigit()))
    m = _DOTTED.match(label)
    if m and (label.lstrip().startswith("#") or re.match(r"^\s*\d+[.):]", label)):
        return int(m.group(1))
    return None


# --- JavaScript string literals --------------------------------------------------------------

_SINGLE_ESCAPES = {"'": "'", '"': '"', "\\": "\\", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_LINE_TERMINATORS = "\n\r\u2028\u2029"
_HEX = frozenset("0123456789abcdefABCDEF")
_JS_SPACE = frozenset(" \t\n\r\v\f\ufeff\u2028\u2029")


class JSStringError(ValueError):
    """A string literal JavaScript would reject; `offset` is where, in the literal."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def decode_js_string(literal: str) -> str:
    """The value of one JavaScript string literal, quotes included: `"…"`, `'…'`, or a
    template literal without substitutions. Follows ECMAScript's grammar for modules (strict
    mode: legacy octal escapes are errors); raises JSStringError where Node would not parse."""
    if len(literal) < 2 or literal[0] not in "\"'`" or literal[-1] != literal[0]:
        raise JSStringError("not a complete string literal", 0)
    quote, body = literal[0], literal[1:-1]
    out: list[str] = []
    i, n = 0, len(body)
    while i < n:
        ch = body[i]
        if ch == "\\":
            if i + 1 >= n:
                raise JSStringError("a backslash ends the string", i + 1)
            e = body[i + 1]
            if e in _SINGLE_ESCAPES:
                out.append(_SINGLE_ESCAPES[e])
                i += 2
            elif e == "\r":
                i += 3 if body[i + 2 : i + 3] == "\n" else 2  # line continuation
            elif e in _LINE_TERMINATORS:
                i += 2
            elif e == "0" and not body[i + 2 : i + 3].isdigit():
                out.append("\0")
                i += 2
            elif e.isdigit() and e.isascii():
                raise JSStringError(f"octal escape `\\{e}` is not allowed in a module", i + 1)
            elif e == "x":
                hx = body[i + 2 : i + 4]
                if len(hx) != 2 or not set(hx) <= _HEX:
                    raise JSStringError("`\\x` needs two hex digits", i + 1)
                out.append(chr(int(hx, 16)))
                i += 4
            elif e == "u":
                if body[i + 2 : i + 3] == "{":
                    close = body.find("}", i + 3)
                    hx = body[i + 3 : close] if close > 0 else ""
                    if not hx or not set(hx) <= _HEX or int(hx, 16) > 0x10FFFF:
                        raise JSStringError("`\\u{…}` needs a code point of at most 10FFFF", i + 1)
                    out.append(chr(int(hx, 16)))
                    i = close + 1
                else:
                    hx = body[i + 2 : i + 6]
                    if len(hx) != 4 or not set(hx) <= _HEX:
                        raise JSStringError("`\\u` needs four hex digits", i + 1)
                    out.append(chr(int(hx, 16)))
                    i += 6
            else:
                out.append(e)  # a non-escape character stands for itself
                i += 2
        elif quote == "`" and ch == "$" and body[i + 1 : i + 2] == "{":
            raise JSStringError("a template literal with `${…}` is computed at run time", i)
        elif quote == "`" and ch == "\r":
            out.append("\n")  # template literals read CR and CRLF as LF
            i += 2 if body[i + 1 : i + 2] == "\n" else 1
        elif ch in "\n\r" and quote != "`":
            raise JSStringError("a line break inside a quoted string (end the line with `\\` to continue it)", i)
        else:
            out.append(ch)
            i += 1
    value = "".join(out)
    if any("\ud800" <= c <= "\udfff" for c in value):
        try:  # \uD83D\uDE00 escapes of a surrogate pair are one character
            value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
        except UnicodeDecodeError:
            raise JSStringError("an unpaired surrogate escape (half of an emoji)", 0) from None
    return value


def js_quote(value: str, quote: str = '"') -> str:
    """`value` as a JavaScript string literal in `quote`s; `decode_js_string` reads it back."""
    out = [quote]
    for ch in value:
        if ch == "\\" or ch == quote:
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch < " " or ch == "\x7f" or ch in "\u2028\u2029" or "\ud800" <= ch <= "\udfff":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append(quote)
    return "".join(out)


# --- the object literal ----------------------------------------------------------------------


@dataclass
class _Tok:
    kind: str  # str | ident | num | punct | comment
    start: int
    end: int
    value: str  # decoded string value, identifier, digits, punctuation or comment text


class _Lines:
    """Offset -> (1-based line, column)."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def col(self, offset: int) -> int:
        return offset - self.starts[self.line(offset) - 1]


def _tokens(text: str, pos: int, path: str, at: _Lines) -> Iterator[_Tok]:
    n = len(text)
    while pos < n:
        ch = text[pos]
        if ch in _JS_SPACE or (ch > "\x7f" and unicodedata.category(ch) == "Zs"):
            pos += 1
        elif text.startswith("//", pos):
            end = text.find("\n", pos)
            end = n if end < 0 else end
            body = text[pos + 2 : end].rstrip("\r")
            if "\u2028" in body or "\u2029" in body:
                raise _refuse(path, at.line(pos), "a line separator (U+2028/U+2029) inside a // comment ends it early in JavaScript")
            yield _Tok("comment", pos, end, body)
            pos = end
        elif text.startswith("/*", pos):
            end = text.find("*/", pos + 2)
            if end < 0:
                raise _refuse(path, at.line(pos), "a /* comment is never closed")
            yield _Tok("comment", pos, end + 2, text[pos + 2 : end])
            pos = end + 2
        elif ch in "\"'`":
            j = pos + 1
            while j < n and text[j] != ch:
                if text[j] == "\\":
                    j += 1
                elif text[j] in "\n\r" and ch != "`":
                    break
                j += 1
            if j >= n or text[j] != ch:
                raise _refuse(path, at.line(pos), "a string is never closed")
            try:
                value = decode_js_string(text[pos : j + 1])
            except JSStringError as exc:
                raise _refuse(path, at.line(pos + 1 + exc.offset), f"{exc} (in {text[pos:j + 1][:60]})") from None
            yield _Tok("str", pos, j + 1, value)
            pos = j + 1
        elif text.startswith("...", pos):
            raise _refuse(path, at.line(pos), "a spread (`...`) copies entries from elsewhere")
        elif ch in "{}[]():,;":
            yield _Tok("punct", pos, pos + 1, ch)
            pos += 1
        elif (m := _IDENT.match(text, pos)) is not None:
            yield _Tok("ident", pos, m.end(), m.group(0))
            pos = m.end()
        elif (m := _NUMBER.match(text, pos)) is not None:
            if len(m.group(0)) > 1 and m.group(0).startswith("0"):
                raise _refuse(path, at.line(pos), f"a number key with a leading zero ({m.group(0)})")
            yield _Tok("num", pos, m.end(), m.group(0))
            pos = m.end()
        else:
            raise _refuse(path, at.line(pos), f"unexpected {ch!r}")


def _refuse(path: str, line: int, what: str) -> NavigationError:
    return NavigationError(
        f"cannot update this navigation file safely: {what}",
        path=path,
        line=line,
        hint="authorkit edits only `_meta` files made of `\"slug\": \"Label\",` entries and // comments; add the entry by hand",
    )


def _comment_body(line: str) -> str | None:
    """The text of a line that is only a comment, else None."""
    s = line.strip()
    if s.startswith("//"):
        return s[2:]
    if s.startswith("/*") and s.endswith("*/") and len(s) >= 4 and "*/" not in s[2:-2]:
        return s[2:-2]
    return None


def parse_nav(text: str, path: str = "_meta.js") -> NavFile:
    """Parse a `_meta.js` / `_meta.json` text; raise NavigationError on anything unusual."""
    kind = "json" if path.endswith(".json") else "js"
    crlf = text.count("\r\n")
    if crlf and (crlf != text.count("\n") or crlf != text.count("\r")) or (not crlf and "\r" in text):
        raise _refuse(path, 1, "the file mixes line endings")
    newline = "\r\n" if crlf else "\n"
    lines = text.split(newline)
    if kind == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise NavigationError(f"not valid JSON: {exc.msg}", path=path, line=exc.lineno,
                                  hint="fix the JSON syntax, then run the command again") from None
        except RecursionError:
            raise _refuse(path, 1, "the JSON is nested too deeply") from None
        if not isinstance(data, dict):
            raise _refuse(path, 1, "the top level is not an object")
    open_line = 0
    for i, ln in enumerate(lines):
        s = ln.strip()
        if (kind == "json" and s == "{") or (kind == "js" and _OPEN_JS.fullmatch(s)):
            open_line = i + 1
            break
        if s and _comment_body(ln) is None:
            raise _refuse(path, i + 1, "expected `export default {` (or an opening `{` in JSON) before any other code")
    if not open_line:
        raise _refuse(path, 1, "no `export default {` object found")

    at = _Lines(text)
    body_start = sum(len(ln) + len(newline) for ln in lines[:open_line])
    toks = _tokens(text, body_start, path, at)
    entries: list[NavEntry] = []
    comments: list[NavComment] = []
    close_line = 0
    last_end_line = open_line  # the line the previous entry (or the opening) ends on

    def on_own_line(tok: _Tok) -> bool:
        return not text[at.starts[at.line(tok.start) - 1] : tok.start].strip()

    def take() -> _Tok | None:
        return next(toks, None)

    tok = take()
    while tok is not None:
        line = at.line(tok.start)
        if tok.kind == "comment":
            if line != last_end_line or not entries:
                body = tok.value.strip()
                rm = _RANGE_IN_COMMENT.search(body)
                comments.append(NavComment(body, line, (int(rm.group(1)), int(rm.group(2))) if rm else None))
            tok = take()
            continue
        if tok.kind == "punct" and tok.value == "}":
            if not on_own_line(tok) or not _CLOSE.fullmatch(lines[line - 1].strip()):
                raise _refuse(path, line, "the closing `}` must be on a line of its own")
            close_line = line
            break
        if tok.kind == "punct" and tok.value == "[":
            raise _refuse(path, line, "a computed key (`[…]:`) is only known at run time")
        if tok.kind not in ("str", "ident", "num") or (tok.kind == "str" and text[tok.start] == "`"):
            raise _refuse(path, line, f"unrecognised line {lines[line - 1].strip()[:60]!r}")
        if not on_own_line(tok) or line == last_end_line and entries:
            raise _refuse(path, line, "put each entry on a line of its own")
        key_tok = tok
        colon = take()
        if colon is None or colon.kind != "punct" or colon.value != ":":
            raise _refuse(path, line, f"unrecognised line {lines[line - 1].strip()[:60]!r}")
        value = take()
        label: str | None
        if value is not None and value.kind == "str":
            label, end_tok = value.value, value
        elif value is not None and value.kind == "punct" and value.value == "{":
            depth, label, end_tok = 1, None, value
            hist: list[_Tok] = [value]
            while depth:
                inner = take()
                if inner is None:
                    raise _refuse(path, line, "this entry's object value is never closed")
                if inner.kind == "punct" and inner.value in "{[(":
                    depth += 1
                elif inner.kind == "punct" and inner.value in "}])":
                    depth -= 1
                elif (inner.kind == "str" and depth == 1 and label is None and len(hist) == 3
                      and hist[0].kind == "punct" and hist[0].value in "{," and hist[1].kind in ("ident", "str") and hist[1].value == "title"
                      and hist[2].value == ":"):
                    label = inner.value
                if inner.kind != "comment":
                    hist = (hist + [inner])[-3:]
                end_tok = inner
        else:
            raise _refuse(path, line, "only string and object values are supported")
        tok = take()
        comma = False
        last_end_line = at.line(end_tok.end - 1)
        if tok is not None and tok.kind == "punct" and tok.value == ",":
            comma = True
            last_end_line = at.line(tok.start)
            tok = take()
        end_line = at.line(end_tok.end - 1)
        quote = text[key_tok.start] if key_tok.kind == "str" else ""
        ln_text = lines[line - 1]
        entries.append(NavEntry(key_tok.value, label, line, end_line, label_number(label), comma,
                                ln_text[: len(ln_text) - len(ln_text.lstrip())], quote, at.col(end_tok.end)))
    if not close_line:
        raise _refuse(path, len(lines), "the object is never closed with `}`")
    for j in range(close_line, len(lines)):
        if not _TAIL_OK.fullmatch(lines[j].strip()):
            raise _refuse(path, j + 1, "unexpected code after the closing `}`")
    return NavFile(path, text, kind, entries, comments, open_line, close_line, newline, lines)


# --- slugs and labels --------------------------------------------------------------------

_SMALL = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "vs", "via", "with"}


def _bare_title(title: str) -> str:
    s = _drop_parens(title).strip()
    return s or title.strip()


MAX_SLUG = 100


def slugify(title: str) -> str:
    """`Cache-aside pattern (read-through)` -> `cache-aside-pattern`, like the existing entries."""
    s = _bare_title(title).lower().replace("&", " ").replace("+", " plus ")
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    s = re.sub(r"-{2,}", "-", s)
    if len(s) > MAX_SLUG:  # a file name has room for 255 bytes; keep whole words
        s = s[: MAX_SLUG + 1].rsplit("-", 1)[0] if "-" in s[:MAX_SLUG] else s[:MAX_SLUG]
    return s or "page"


def unique_slug(slug: str, taken: set[str]) -> str:
    if slug not in taken:
        return slug
    n = 2
    while f"{slug}-{n}" in taken:
        n += 1
    return f"{slug}-{n}"


def title_case(title: str) -> str:
    """`Cache-aside pattern (read-through)` -> `Cache-Aside Pattern (Read-Through)`; acronyms
    and mixed-case words (gRPC, ETags) are left as written."""
    first = True

    def cap(m: re.Match[str]) -> str:
        nonlocal first
        word = m.group(0)
        was_first, first = first, False
        if word.islower() and (was_first or word not in _SMALL):
            return word[0].upper() + word[1:]
        return word

    return re.sub(r"[A-Za-z]+(?:'[a-z]+)?", cap, title)


def short_label(title: str) -> str:
    """Title-cased label without the parenthetical: `Cache-Aside Pattern`."""
    return title_case(_bare_title(title))


def format_label(nav: NavFile, title: str, number: int | None) -> str:
    label = short_label(title)
    if number is None:
        return label
    style = nav.label_style
    if style in ("keycap", "keycap-bare"):
        return f"{keycap(number, style == 'keycap')} {label}"
    if style == "dotted":
        return f"{number}. {label}"
    return label


# --- insertion ---------------------------------------------------------------------------


@dataclass
class Insertion:
    path: str
    changed: bool
    text: str  # the new file text (the old one when unchanged)
    line: int | None  # line of the inserted entry in the new text
    entry: str  # the inserted line (without newline)
    group: str | None  # the comment group it went into
    new_group: bool = False
    reason: str = ""


def _groups(nav: NavFile) -> list[tuple[NavComment | None, list[NavEntry]]]:
    groups: list[tuple[NavComment | None, list[NavEntry]]] = [(None, [])]
    marks = sorted([(c.line, "c", c) for c in nav.comments] + [(e.line, "e", e) for e in nav.entries], key=lambda t: t[0])
    for _, what, obj in marks:
        if what == "c":
            # consecutive comment lines form one header; the last one names the group, unless
            # both name a range (an empty group prepared before its entries, then the next)
            prev = groups[-1][0]
            if groups[-1][1] or prev is None or (prev.range is not None and obj.range is not None):
                groups.append((obj, []))
            else:
                groups[-1] = (obj, groups[-1][1])
        else:
            groups[-1][1].append(obj)
    return [g for g in groups if g[1] or g[0] is not None]


def _comment_style(nav: NavFile) -> str | None:
    """A template for a new group comment, from the file's own comments."""
    for c in reversed(nav.comments):
        m = re.match(r"^(?P<name>.+?)\s*\((?P<word>POCs?|Pages?|Articles?)\s*#\s*\d+\s*[-–—]\s*#?\s*\d+\)\s*$", c.text)
        if m:
            return "{name} (" + m.group("word") + " #{lo}-{hi})"
    return None


def plan_insert(nav: NavFile, key: str, title: str, number: int | None,
                group: tuple[str, int, int] | None = None, label: str | None = None) -> Insertion:
    """Compute the insertion of `key` (without writing). `group` is (name, lo, hi) for a new
    comment group when no existing group covers `number`."""
    if nav.find_key(key) is not None:
        return Insertion(nav.path, False, nav.text, nav.find_key(key).line, "", None, reason=f"{key!r} is already listed")
    if number is not None:
        other = nav.find_number(number)
        if other is not None:
            raise NavigationError(
                f"number {number} is already used by {other.key!r}",
                path=nav.path,
                line=other.line,
                hint=f"draft into {other.key!r} instead, or renumber the entry by hand",
            )
    label = label or format_label(nav, title, number)
    nl = nav.newline
    lines = list(nav.lines)
    groups = _groups(nav)
    numbered = [e for e in nav.entries if e.number is not None]
    quote = '"' if nav.kind == "json" else next((e.quote for e in nav.entries if "-" in e.key and e.quote), '"')
    indent = (nav.entries[-1].indent if nav.entries else "  ")

    target_group: tuple[NavComment | None, list[NavEntry]] | None = None
    new_group_text: str | None = None
    before: NavEntry | None = None  # insert before this entry …
    after: NavEntry | None = None  # … or after this one
    after_comment: NavComment | None = None  # … or right below this (empty) group's comment
    if number is not None:
        for g in groups:
            if g[0] is not None and g[0].range and g[0].range[0] <= number <= g[0].range[1]:
                target_group = g
                break
    if number is not None and numbered:
        if target_group is None:
            for g in groups:
                nums = [e.number for e in g[1] if e.number is not None]
                if nums and min(nums) <= number <= max(nums):
                    target_group = g
                    break
        lower = [e for e in numbered if e.number < number]  # type: ignore[operator]
        if target_group is None:
            if lower:
                prev = max(lower, key=lambda e: (e.number, e.line))
                home = next(g for g in groups if prev in g[1])
                style = _comment_style(nav)
                if group and style and (home[0] is None or home[0].range is not None):
                    new_group_text = style.format(name=group[0], lo=group[1], hi=group[2])
                    after = home[1][-1]
                else:
                    target_group = home
            else:
                first = min(numbered, key=lambda e: (e.number, e.line))
                before = first
    if target_group is not None and before is None and after is None:
        higher = [e for e in target_group[1] if e.number is not None and e.number > number]  # type: ignore[operator]
        if higher:
            before = min(higher, key=lambda e: e.line)
        elif target_group[1]:
            after = target_group[1][-1]
        else:
            after_comment = target_group[0]  # a group prepared before its entries
    elif before is None and after is None and nav.entries:
        after = nav.entries[-1]
        target_group = groups[-1] if groups else None

    if nav.kind == "json":
        key_text = json.dumps(key, ensure_ascii=False)
        value_text = json.dumps(label, ensure_ascii=False)
    else:
        key_text = js_quote(key, quote) if (quote or not _IDENT.fullmatch(key) or not key.isascii()) else key
        value_text = js_quote(label, quote or '"')
    new_line = f"{indent}{key_text}: {value_text}"

    # 0-based index in `lines` where the new lines go
    if before is not None:
        insert_at = before.line - 1
    elif after is not None:
        insert_at = after.end_line
    elif after_comment is not None:
        insert_at = after_comment.line
    else:  # an empty object
        insert_at = nav.close_line - 1
    if any(e.line > insert_at for e in nav.entries):
        new_line += ","  # entries follow
    else:
        # The new last entry: the previous last one gains the comma an object needs between
        # entries; the new one ends like it did (JSON allows no trailing comma).
        prev_last = nav.entries[-1] if nav.entries else None
        if prev_last is not None and not prev_last.comma:
            idx = prev_last.end_line - 1
            lines[idx] = lines[idx][: prev_last.end_col] + "," + lines[idx][prev_last.end_col :]
        elif nav.kind == "js":
            new_line += ","
    block = [new_line]
    entry_line = insert_at + 1
    if new_group_text is not None:
        block = ["", f"{indent}// {new_group_text}", new_line]
        entry_line = insert_at + 3
    lines[insert_at:insert_at] = block
    text = nl.join(lines)
    _verify(nav, text, key, label)
    gname = new_group_text if new_group_text else (target_group[0].text if target_group and target_group[0] else None)
    return Insertion(nav.path, True, text, entry_line, new_line.strip().rstrip(","), gname, new_group_text is not None)


def _verify(nav: NavFile, text: str, key: str, label: str) -> None:
    """Only write what reads back: the new text parses, lists every old entry unchanged and
    the new one with exactly this key and label."""
    try:
        again = parse_nav(text, nav.path)
        if nav.kind == "json":
            json.loads(text)
    except (NavigationError, json.JSONDecodeError) as exc:
        raise NavigationError(f"adding {key!r} would leave a file that does not read back ({exc})",
                              path=nav.path, hint="add the entry by hand") from None
    got = again.find_key(key)
    old = [(e.key, e.label) for e in nav.entries]
    new = [(e.key, e.label) for e in again.entries if e.key != key]
    if got is None or got.label != label or old != new:
        raise NavigationError(f"adding {key!r} with the label {label!r} would not read back as written",
                              path=nav.path, hint="add the entry by hand")


# --- reading and writing safely ----------------------------------------------------------------

MAX_NAV_BYTES = 1024 * 1024  # a navigation file is a few KB; anything this large is not one


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def real_nav_path(path: Path, root: Path | None, shown: str) -> Path:
    """The file behind `path` (a symlink is followed, never replaced), refused when it lies
    outside `root` or is not a regular file."""
    real = Path(path).resolve()
    if root is not None and not _inside(real, Path(root).resolve()):
        raise NavigationError(f"the navigation file is a link to {real}, outside the workspace", path=shown,
                              hint="authorkit does not read or write files outside the workspace; copy the file in, or update it by hand")
    try:
        st = real.stat()
    except FileNotFoundError:
        raise NavigationError("navigation file does not exist", path=shown,
                              hint="fix `navigation.files` in authorkit.toml") from None
    except OSError as exc:
        raise NavigationError(f"cannot read navigation file: {exc.strerror or exc}", path=shown) from None
    if not stat.S_ISREG(st.st_mode):
        raise NavigationError("the navigation file is not a regular file", path=shown,
                              hint="point `navigation.files` at a `_meta.js` or `_meta.json` file")
    return real


def child_path(folder: Path, key: str, root: Path, suffix: str = "") -> Path:
    """`folder/<key><suffix>`, refused unless `key` is a plain name and the path stays inside
    `folder` and `root` once resolved (a navigation key such as `../../x`, `/etc/x` or `..`,
    or a symlink out of the workspace)."""
    name = key + suffix
    bad = (not key or "/" in key or "\\" in key or "\0" in key or key.strip(".") == ""
           or len(name.encode("utf-8", "surrogatepass")) > 255)
    target = Path(folder) / name.replace("\0", "")
    if bad or not _inside(target.resolve(), Path(folder).resolve()) or not _inside(target.resolve(), Path(root).resolve()):
        raise WriteRefused(f"the navigation key {key!r} would put the page outside {folder}",
                           path=str(target), hint="use a plain file name (letters, digits, dashes) as the navigation key")
    return target


def read_nav(path: Path, display: str | None = None, *, root: Path | None = None) -> NavFile:
    """Read and parse a navigation file. With `root`, a symlink whose target is outside it is
    refused; devices, FIFOs and files over MAX_NAV_BYTES are refused without being read."""
    shown = display or str(path)
    real = real_nav_path(Path(path), root, shown)
    try:
        with open(real, "rb") as fh:
            data = fh.read(MAX_NAV_BYTES + 1)
        if len(data) > MAX_NAV_BYTES:
            raise NavigationError(f"the navigation file is over {MAX_NAV_BYTES // 1024} KB", path=shown,
                                  hint="a `_meta.js` is a short list of pages; check the file")
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise NavigationError("navigation file does not exist", path=shown,
                              hint="fix `navigation.files` in authorkit.toml") from None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise NavigationError(f"not valid UTF-8 (byte {exc.start + 1})", path=shown, line=line,
                              hint="save the file as UTF-8") from None
    except OSError as exc:
        raise NavigationError(f"cannot read navigation file: {exc.strerror or exc}", path=shown) from None
    return parse_nav(text, shown)


@contextmanager
def locked(path: Path, shown: str | None = None, timeout: float = 30.0) -> Iterator[None]:
    """Hold an exclusive lock on the navigation file `path` (through a `.NAME.lock` file beside
    its real target) so concurrent runs update it one after the other; the caller re-reads the
    file inside. The lock file is removed on the way out."""
    real = Path(path).resolve()
    lock = real.with_name(f".{real.name}.lock")
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            raise NavigationError(f"cannot lock the navigation file ({exc.strerror or exc})", path=shown or str(path)) from None
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise NavigationError("another authorkit run has been updating the navigation file for "
                                              f"{timeout:.0f} s", path=shown or str(path),
                                              hint=f"wait for it to finish; if none is running, delete {lock}") from None
                    time.sleep(0.01)
            # The holder before us may have removed the lock file: then lock the new one.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(lock, follow_symlinks=False))
            except FileNotFoundError:
                same = False
        except BaseException:
            os.close(fd)
            raise
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        try:
            os.unlink(lock)
        except OSError:
            pass
        os.close(fd)


def write_nav(path: Path, text: str, *, root: Path | None = None, shown: str | None = None) -> None:
    """Replace the navigation file's text atomically. A symlink stays a symlink: its target is
    written (when inside `root`)."""
    real = real_nav_path(Path(path), root, shown or str(path))
    try:
        atomic_write_text(real, text)
    except OSError as exc:
        raise NavigationError(f"cannot write the navigation file ({exc.strerror or exc})", path=shown or str(path)) from None


def insert_entry(path: Path, key: str, title: str, number: int | None, *, display: str | None = None,
                 group: tuple[str, int, int] | None = None, dry_run: bool = False,
                 root: Path | None = None) -> Insertion:
    """Insert one entry into the navigation file at `path` unless `dry_run`: under the lock,
    from the file as it is at that moment, written atomically."""
    if dry_run:
        return plan_insert(read_nav(path, display, root=root), key, title, number, group)
    real_nav_path(Path(path), root, display or str(path))  # no lock file beside a refused link's target
    with locked(path, display):
        ins = plan_insert(read_nav(path, display, root=root), key, title, number, group)
        if ins.changed:
            write_nav(path, ins.text, root=root, shown=display)
    return ins


# --- a page and its entry as one unit ------------------------------------------------------------


@contextmanager
def deferred_interrupts() -> Iterator[list[int]]:
    """Inside the block, SIGINT and SIGTERM are noted instead of raised (the list receives
    them); the caller decides what a pending interrupt means. On leaving, the handlers are
    restored and a noted interrupt is raised as KeyboardInterrupt. Outside the main thread
    signals cannot be caught, and the block runs as is."""
    got: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield got
        return
    old = {}

    def note(signum: int, frame: object) -> None:
        got.append(signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        old[sig] = signal.signal(sig, note)
    try:
        yield got
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    if got:
        raise KeyboardInterrupt()


class Unit:
    """Files written by one step (a page and its navigation entry), undone together when the
    step is interrupted or fails before it is recorded."""

    def __init__(self) -> None:
        self._done: list[tuple[Path, bytes | None, str]] = []  # (path, bytes before or None, shown)

    def write(self, path: Path, text: str, shown: str, *, root: Path | None = None, nav: bool = False) -> None:
        # A symlinked page or navigation file stays a link: its target is written.
        real = real_nav_path(path, root, shown) if nav else Path(path).resolve()
        try:
            before = real.read_bytes() if real.is_file() else None
        except OSError:
            before = None
        self._done.append((real, before, shown))
        atomic_write_text(real, text)

    def undo(self) -> str:
        """Put every file back as it was; what was done, for the message."""
        said = []
        for real, before, shown in reversed(self._done):
            try:
                if before is None:
                    real.unlink(missing_ok=True)
                    said.append(f"removed {shown}")
                else:
                    tmp = real.with_name(f".{real.name}.restore")
                    tmp.write_bytes(before)
                    os.replace(tmp, real)
                    said.append(f"restored {shown}")
            except OSError as exc:
                said.append(f"could not put back {shown} ({exc.strerror or exc})")
        self._done.clear()
        return ", ".join(reversed(said))

    def abort(self, exc: BaseException, what: str) -> None:
        """Undo, then re-raise `exc` saying so; an interrupt or an OSError becomes a message."""
        done = self.undo()
        note = f"{done}; nothing was {what}" if done else f"nothing was {what}"
        if isinstance(exc, KeyboardInterrupt):
            raise Interrupted(f"interrupted: {note}") from None
        if isinstance(exc, AuthorkitError):
            exc.message = f"{exc.message} ({note})"
            raise exc
        if isinstance(exc, OSError):
            raise WriteRefused(f"cannot write {exc.filename or 'a file'}: {exc.strerror or exc} ({note})") from None
        raise exc
