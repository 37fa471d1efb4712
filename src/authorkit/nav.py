"""Navigation files (Nextra `_meta.js` / `_meta.json`): read them, and insert one entry.

The user edits these files by hand and their layout carries meaning (comment groups such as
`// Kafka Message Queues (POCs #46-50)`, keycap-numbered labels `"4️⃣6️⃣ Kafka Basics"`), so
the file is never re-serialised: a new entry is one inserted line, in number order, in the
right comment group, in the file's own label style. The only other byte that may change is a
comma after the previous last entry. Files that are not a plain object literal of string
(or object) values and comments are refused rather than guessed at.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from authorkit.errors import NavigationError

KEYCAP_MARK = "\u20e3"
VS16 = "\ufe0f"
KEYCAP_TEN = "\U0001f51f"  # 🔟

_KEY = r"""(?P<key>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[A-Za-z_$][\w$]*)"""
_STR = r"""(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
_ENTRY = re.compile(r"^(?P<indent>[ \t]*)" + _KEY + r"\s*:\s*" + _STR + r"(?P<comma>\s*,)?(?P<tail>\s*(?://.*|/\*.*\*/)?\s*)$")
_OBJ_ONE = re.compile(r"^(?P<indent>[ \t]*)" + _KEY + r"\s*:\s*(?P<obj>\{.*\})(?P<comma>\s*,)?(?P<tail>\s*(?://.*)?\s*)$")
_OBJ_OPEN = re.compile(r"^(?P<indent>[ \t]*)" + _KEY + r"\s*:\s*\{\s*(?://.*)?$")
_OBJ_CLOSE = re.compile(r"^\s*\}(?P<comma>\s*,)?\s*(?://.*)?$")
_COMMENT = re.compile(r"^\s*(?://(?P<line>.*)|/\*(?P<block>.*)\*/\s*)$")
_OPEN_JS = re.compile(r"^\s*(?:export\s+default|module\.exports\s*=|(?:export\s+)?(?:const|let|var)\s+[A-Za-z_$][\w$]*\s*(?::\s*[\w.<>\[\]]+)?\s*=)\s*\{\s*$")
_CLOSE = re.compile(r"^\s*\}\s*(?:as\s+const\s*|satisfies\s+[\w.<>]+\s*)?;?\s*$")
_TAIL_OK = re.compile(r"^\s*(?:export\s+default\s+[A-Za-z_$][\w$]*\s*;?|//.*)?\s*$")
_TITLE_IN_OBJ = re.compile(r"""\btitle\s*:\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
_RANGE_IN_COMMENT = re.compile(r"#\s*(\d+)\s*[-–—]\s*#?\s*(\d+)")
_KEYCAP_RUN = re.compile(r"^\s*((?:[0-9]\ufe0f?\u20e3)+|\U0001f51f)")
_DOTTED = re.compile(r"^\s*#?(\d+)[.):]?\s+\S")


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


def _unquote(token: str) -> str:
    if token[0] == '"':
        return json.loads(token)
    if token[0] == "'":
        inner = token[1:-1].replace('\\"', '"').replace("\\'", "'").replace('"', '\\"')
        return json.loads('"' + inner + '"')
    return token


def _refuse(path: str, line: int, what: str) -> NavigationError:
    return NavigationError(
        f"cannot update this navigation file safely: {what}",
        path=path,
        line=line,
        hint="authorkit edits only `_meta` files made of `\"slug\": \"Label\",` entries and // comments; add the entry by hand",
    )


def parse_nav(text: str, path: str = "_meta.js") -> NavFile:
    """Parse a `_meta.js` / `_meta.json` text; raise NavigationError on anything unusual."""
    kind = "json" if path.endswith(".json") else "js"
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    if kind == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise NavigationError(f"not valid JSON: {exc.msg}", path=path, line=exc.lineno,
                                  hint="fix the JSON syntax, then run the command again") from None
        if not isinstance(data, dict):
            raise _refuse(path, 1, "the top level is not an object")
    entries: list[NavEntry] = []
    comments: list[NavComment] = []
    open_line = close_line = 0
    i = 0
    while i < len(lines):
        ln = lines[i]
        lineno = i + 1
        if not open_line:
            if (kind == "json" and ln.strip() == "{") or (kind == "js" and _OPEN_JS.match(ln)):
                open_line = lineno
            elif ln.strip() and not _COMMENT.match(ln):
                raise _refuse(path, lineno, "expected `export default {` (or an opening `{` in JSON) before any other code")
            i += 1
            continue
        if close_line:
            if not _TAIL_OK.match(ln):
                raise _refuse(path, lineno, "unexpected code after the closing `}`")
            i += 1
            continue
        if not ln.strip():
            i += 1
            continue
        if _CLOSE.match(ln):
            close_line = lineno
            i += 1
            continue
        cm = _COMMENT.match(ln)
        if cm:
            body = (cm.group("line") if cm.group("line") is not None else cm.group("block") or "").strip()
            rm = _RANGE_IN_COMMENT.search(body)
            comments.append(NavComment(body, lineno, (int(rm.group(1)), int(rm.group(2))) if rm else None))
            i += 1
            continue
        em = _ENTRY.match(ln)
        if em:
            key, label = _unquote(em.group("key")), _unquote(em.group("value"))
            entries.append(NavEntry(key, label, lineno, lineno, label_number(label), bool(em.group("comma")),
                                    em.group("indent"), em.group("key")[0] if em.group("key")[0] in "\"'" else ""))
            i += 1
            continue
        om = _OBJ_ONE.match(ln)
        if om and om.group("obj").count("{") == om.group("obj").count("}"):
            tm = _TITLE_IN_OBJ.search(om.group("obj"))
            label = _unquote(tm.group(1)) if tm else None
            entries.append(NavEntry(_unquote(om.group("key")), label, lineno, lineno, label_number(label),
                                    bool(om.group("comma")), om.group("indent"), om.group("key")[0] if om.group("key")[0] in "\"'" else ""))
            i += 1
            continue
        om = _OBJ_OPEN.match(ln)
        if om:
            depth, j, label = 1, i + 1, None
            comma = False
            while j < len(lines):
                inner = lines[j]
                tm = _TITLE_IN_OBJ.search(inner)
                if tm and depth == 1 and label is None:
                    label = _unquote(tm.group(1))
                stripped = re.sub(r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""", "", inner)
                depth += stripped.count("{") - stripped.count("}")
                if depth == 0:
                    cl = _OBJ_CLOSE.match(inner)
                    if not cl:
                        raise _refuse(path, j + 1, "cannot find the end of this entry's object value")
                    comma = bool(cl.group("comma"))
                    break
                j += 1
            else:
                raise _refuse(path, lineno, "this entry's object value is never closed")
            entries.append(NavEntry(_unquote(om.group("key")), label, lineno, j + 1, label_number(label), comma,
                                    om.group("indent"), om.group("key")[0] if om.group("key")[0] in "\"'" else ""))
            i = j + 1
            continue
        raise _refuse(path, lineno, f"unrecognised line {ln.strip()[:60]!r}")
    if not open_line:
        raise _refuse(path, 1, "no `export default {` object found")
    if not close_line:
        raise _refuse(path, len(lines), "the object is never closed with `}`")
    return NavFile(path, text, kind, entries, comments, open_line, close_line, newline, lines)


def read_nav(path: Path, display: str | None = None) -> NavFile:
    shown = display or str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise NavigationError("navigation file does not exist", path=shown,
                              hint="fix `navigation.files` in authorkit.toml") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NavigationError(f"cannot read navigation file: {exc}", path=shown) from None
    return parse_nav(text, shown)


# --- slugs and labels --------------------------------------------------------------------

_SMALL = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "vs", "via", "with"}


def _bare_title(title: str) -> str:
    s = re.sub(r"\s*\([^)]*\)", "", title).strip()
    return s or title.strip()


def slugify(title: str) -> str:
    """`Cache-aside pattern (read-through)` -> `cache-aside-pattern`, like the existing entries."""
    s = _bare_title(title).lower().replace("&", " ").replace("+", " plus ")
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    return re.sub(r"-{2,}", "-", s) or "page"


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


def _js_string(value: str, quote: str) -> str:
    if quote == "'":
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return json.dumps(value, ensure_ascii=False)


def _groups(nav: NavFile) -> list[tuple[NavComment | None, list[NavEntry]]]:
    groups: list[tuple[NavComment | None, list[NavEntry]]] = [(None, [])]
    marks = sorted([(c.line, "c", c) for c in nav.comments] + [(e.line, "e", e) for e in nav.entries], key=lambda t: t[0])
    for _, what, obj in marks:
        if what == "c":
            # consecutive comment lines form one header; the last one names the group
            if groups[-1][1] or groups[-1][0] is None:
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
    if number is not None and numbered:
        for g in groups:
            if g[0] is not None and g[0].range and g[0].range[0] <= number <= g[0].range[1]:
                target_group = g
                break
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
            higher = [e for e in target_group[1] if e.number is not None and e.number > number]
            if higher:
                before = min(higher, key=lambda e: e.line)
            else:
                after = target_group[1][-1]
    elif nav.entries:
        after = nav.entries[-1]
        target_group = groups[-1] if groups else None

    key_text = _js_string(key, quote) if (quote or nav.kind == "json" or not re.fullmatch(r"[A-Za-z_$][\w$]*", key)) else key
    if nav.kind == "json":
        key_text = json.dumps(key, ensure_ascii=False)
    value_text = json.dumps(label, ensure_ascii=False) if nav.kind == "json" else _js_string(label, quote or '"')
    new_line = f"{indent}{key_text}: {value_text}"

    insert_at: int  # 0-based index in `lines` where the new lines go
    is_last = False
    if before is not None:
        insert_at = before.line - 1
        new_line += ","
    elif after is not None:
        insert_at = after.end_line
        is_last = after is nav.entries[-1]
        if is_last and not after.comma:
            # The previous last entry gains the comma JSON/JS needs between entries.
            idx = after.end_line - 1
            lines[idx] = _add_comma(lines[idx])
        elif not is_last or after.comma:
            new_line += ","
    else:  # an empty object
        insert_at = nav.close_line - 1
        if nav.kind == "js":
            new_line += ","
    block = [new_line]
    entry_line = insert_at + 1
    if new_group_text is not None:
        block = ["", f"{indent}// {new_group_text}", new_line]
        entry_line = insert_at + 3
    lines[insert_at:insert_at] = block
    text = nl.join(lines)
    if nav.kind == "json":
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:  # pragma: no cover - defensive
            raise NavigationError(f"inserting the entry would break the JSON ({exc.msg})", path=nav.path) from None
    gname = new_group_text if new_group_text else (target_group[0].text if target_group and target_group[0] else None)
    return Insertion(nav.path, True, text, entry_line, new_line.strip().rstrip(","), gname, new_group_text is not None)


def _add_comma(line: str) -> str:
    m = _ENTRY.match(line) or _OBJ_ONE.match(line) or _OBJ_CLOSE.match(line)
    tail = m.group("tail") if m and "tail" in m.groupdict() else ""
    if m and tail:
        core = line[: len(line) - len(tail)]
        return core.rstrip() + "," + line[len(core.rstrip()):]
    stripped = line.rstrip()
    return stripped + "," + line[len(stripped):]


def insert_entry(path: Path, key: str, title: str, number: int | None, *, display: str | None = None,
                 group: tuple[str, int, int] | None = None, dry_run: bool = False) -> Insertion:
    """Insert one entry into the navigation file at `path` (atomically) unless `dry_run`."""
    from authorkit.textio import atomic_write_text

    nav = read_nav(path, display)
    ins = plan_insert(nav, key, title, number, group)
    if ins.changed and not dry_run:
        atomic_write_text(Path(path), ins.text)
    return ins
