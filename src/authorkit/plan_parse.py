"""Plan parsing: the user's Markdown plans turned into items, plus what could not be read.

A plan is written for people, not machines, so the parser understands the forms the user
actually writes rather than one schema:

- numbered items in bullets and headings (`- POC #61: Cache-aside pattern ⭐ NEW`),
- tables with a number or title column (`| 71 | Connection Pool Sizing | … |`), including a
  `Type` column and status columns,
- ranges (`#46-50`, `POCs #51-55`) that expand to numbers without inventing titles,
- unnumbered `- POC: …` bullets under numbered bold topics and category headings,
- bold kind labels (`**POCs (4)**:`) and kind headings (`### Articles Needed (7)`) whose
  lists are items of that kind,
- status marks (✅ ⏳ 🔄), `**Theme**:` lines, tier headings, and a "Success Criteria" section
  whose per-kind checklists are kept as context for generation.

The same item usually appears several times in one plan (a series table, the day's list, a
tier table); those mentions are merged into one item. Across plan files the later-listed plan
wins and a disagreement about a number is reported as a conflict. Parsing never raises on odd
text: what it cannot read becomes a `PlanWarning` with file and line.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from authorkit.document import is_symbol
from authorkit.errors import PlanError
from authorkit.fix import fix_mojibake
from authorkit.textio import read_document

KINDS = ("poc", "article", "problem")
KIND_LABEL = {"poc": "POC", "article": "Article", "problem": "Problem"}
STATUS_MARKS = {"✅": "done", "⏳": "pending", "🔄": "in-progress"}
GROUP_SEP = " › "

# A range wider than this is almost certainly a typo (`#46-500`); it is reported, not expanded.
MAX_RANGE = 200


@dataclass(frozen=True)
class PlanWarning:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class PlanItem:
    kind: str  # poc | article | problem
    number: int | None
    title: str | None  # None when only a range names it
    group: tuple[str, ...]
    status: str | None  # done | pending | in-progress
    source: str
    line: int
    theme: str | None = None
    tier: str | None = None
    series: str | None = None  # e.g. "Caching" from `| Caching | #61-65 |`
    series_range: tuple[int, int] | None = None
    extra: dict[str, str] = field(default_factory=dict)  # other table columns ("Why Critical", …)
    mentions: list[tuple[str, int]] = field(default_factory=list)

    @property
    def group_path(self) -> str:
        return GROUP_SEP.join(self.group)

    @property
    def label(self) -> str:
        head = KIND_LABEL[self.kind] + (f" #{self.number}" if self.number is not None else "")
        return f"{head}: {self.title}" if self.title else head

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "number": self.number,
            "title": self.title,
            "group": self.group_path,
            "status": self.status,
            "theme": self.theme,
            "tier": self.tier,
            "series": self.series,
            "series_range": list(self.series_range) if self.series_range else None,
            "extra": dict(self.extra),
            "source": self.source,
            "line": self.line,
        }


@dataclass(frozen=True)
class PlanConflict:
    kind: str
    number: int
    kept: PlanItem
    dropped: PlanItem

    def __str__(self) -> str:
        return (
            f"{KIND_LABEL[self.kind]} #{self.number}: {self.kept.where} says {self.kept.title!r}, "
            f"{self.dropped.where} says {self.dropped.title!r}; keeping {self.kept.source} (listed later)"
        )


@dataclass
class Plan:
    items: list[PlanItem] = field(default_factory=list)
    warnings: list[PlanWarning] = field(default_factory=list)
    conflicts: list[PlanConflict] = field(default_factory=list)
    criteria: dict[str, list[str]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)  # source -> the plan's H1

    # -- lookup -------------------------------------------------------------------------

    def of_kind(self, kind: str | None) -> list[PlanItem]:
        return [i for i in self.items if kind is None or i.kind == kind]

    def find(self, kind: str, number: int) -> PlanItem | None:
        for item in self.items:
            if item.kind == kind and item.number == number:
                return item
        return None

    def numbers(self, kind: str) -> list[int]:
        return sorted({i.number for i in self.items if i.kind == kind and i.number is not None})

    def nearest(self, kind: str, number: int, n: int = 5) -> list[int]:
        nums = self.numbers(kind)
        return sorted(sorted(nums, key=lambda x: (abs(x - number), x))[:n])

    def search(self, kind: str | None, words: str, limit: int = 5) -> list[tuple[float, PlanItem]]:
        """Items whose title best matches `words` (fuzzy), best first."""
        q = title_key(words)
        q_words = set(q.split())
        scored: list[tuple[float, PlanItem]] = []
        for item in self.of_kind(kind):
            if not item.title:
                continue
            t = title_key(item.title)
            ratio = difflib.SequenceMatcher(None, q, t).ratio()
            t_words = set(t.split())
            overlap = len(q_words & t_words) / len(q_words) if q_words else 0.0
            score = max(ratio, 0.6 * ratio + 0.4 * overlap, overlap * 0.95 if q in t else 0.0)
            if q and q in t:
                score = max(score, 0.9)
            scored.append((round(score, 3), item))
        scored.sort(key=lambda p: -p[0])
        return scored[:limit]

    def siblings(self, item: PlanItem) -> list[PlanItem]:
        return [i for i in self.items if i is not item and i.kind == item.kind and i.group == item.group]

    def related(self, item: PlanItem) -> list[PlanItem]:
        """Items of other kinds in the same group: the day's article and problem."""
        return [i for i in self.items if i.kind != item.kind and i.group == item.group]

    def context(self, item: PlanItem) -> dict[str, Any]:
        """Everything a generator is told about the item."""
        return {
            "item": item.to_dict(),
            "label": item.label,
            "plan": self.titles.get(item.source, item.source),
            "group": item.group_path,
            "theme": item.theme,
            "tier": item.tier,
            "series": item.series,
            "siblings": [s.label for s in self.siblings(item)],
            "related": [r.label for r in self.related(item)],
            "criteria": list(self.criteria.get(item.kind, [])),
        }


# --- text helpers ------------------------------------------------------------------------

_CHECKBOX = re.compile(r"^\[(?P<x>[ xX])\]\s*")
# Patterns that start with a run of spaces begin at the run's first space (`(?<!\s)`) and take
# it possessively: the same matches, without retrying from every space of a long run.
_NEW_FLAG = re.compile(r"(?:(?<!\s)\s++)?⭐\s*+(?:NEW\b)?|(?<!\s)\s++\bNEW!?\s*+$")
_SPACES = re.compile(r"\s+")
_COUNT_WORD = re.compile(r"\b(?:articles?|pocs?|problems?|total|deliverables?)\b", re.I)
_COUNT_NUMBER = re.compile(r"\s*\d+\s*")
_COUNT_TAIL = re.compile(r"(?<!\s)\s++[-–—]\s++\d++\+?\s++(?:articles?|pocs?)\b.*$", re.I)
_STATUS_TAIL = re.compile(r"(?<!\s)\s++\b(?:Pending|Done|Completed?)\s*+$")


def _unlink(s: str) -> str:
    r"""`re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", s)` in one pass: every `[` before a `]`
    shares its fate, so a long run of `[` is not retried one by one."""
    if "](" not in s:
        return s
    out: list[str] = []
    i = 0
    while True:
        j = s.find("[", i)
        k = s.find("]", j + 1) if j >= 0 else -1
        if k < 0:
            break
        m = s.find(")", k + 2) if s.startswith("(", k + 1) else -1
        if m < 0:
            out.append(s[i : k + 1])
            i = k + 1
            continue
        start = j - 1 if j > i and s[j - 1] == "!" else j
        out.append(s[i:start] + s[j + 1 : k])
        i = m + 1
    out.append(s[i:])
    return "".join(out)


def _drop_parens(s: str, counts_only: bool = False) -> str:
    r"""`re.sub(r"\s*\([^)]*\)", "", s)` in one pass (the regex retries from every `(` when no
    `)` follows). With `counts_only`, only parentheticals that hold a count: `(12)`, `(5 POCs)`."""
    out: list[str] = []
    i = 0
    while True:
        j = s.find("(", i)
        k = s.find(")", j + 1) if j >= 0 else -1
        if k < 0:
            break
        if counts_only:
            # Every `(` before this `)` shares it: the first one matches when its span holds a
            # count word (a later one's span is part of it), else the last one when it is a number.
            if not _COUNT_WORD.search(s, j + 1, k):
                j = s.rfind("(", j, k)
                if not _COUNT_NUMBER.fullmatch(s, j + 1, k):
                    out.append(s[i : k + 1])
                    i = k + 1
                    continue
        out.append(s[i:j].rstrip())
        i = k + 1
    out.append(s[i:])
    return "".join(out)


def strip_symbols(text: str) -> str:
    """Drop emoji, keycaps, variation selectors and private-use leftovers of mojibake."""
    return "".join(" " if is_symbol(c) else c for c in text)


def status_of(text: str) -> str | None:
    for mark, status in STATUS_MARKS.items():
        if mark in text:
            return status
    low = text.lower()
    if re.search(r"\b(?:done|complete|completed|finished)\b", low):
        return "done"
    if re.search(r"\b(?:in progress|started|wip|ongoing)\b", low):
        return "in-progress"
    if re.search(r"\b(?:pending|todo|to do|planned|not started)\b", low):
        return "pending"
    return None


def clean_title(text: str) -> str:
    s = _unlink(text)
    s = _CHECKBOX.sub("", s.strip())
    s = _NEW_FLAG.sub(" ", s)
    s = strip_symbols(s)
    s = s.replace("**", "").replace("__", "")
    s = re.sub(r"(?<!\w)[*_](\S(?:.*?\S)?)[*_](?!\w)", r"\1", s)
    s = _STATUS_TAIL.sub("", s)
    s = _SPACES.sub(" ", s).strip()
    return s.strip(" :;-–—").strip()


def clean_heading(text: str) -> str:
    s = clean_title(re.sub(r"^#+\s*", "", text))
    s = _COUNT_TAIL.sub("", s)
    s = _drop_parens(s, counts_only=True)
    return s.strip(" :")


def title_key(title: str) -> str:
    """Comparable form of a title: no parenthetical, case, punctuation or noise."""
    s = _drop_parens(clean_title(title)).lower()
    s = re.sub(r"[^a-z0-9]+", " ", s)
    return s.strip()


def titles_agree(a: str, b: str) -> bool:
    ka, kb = title_key(a), title_key(b)
    if not ka or not kb or ka == kb:
        return True
    short, long_ = sorted((ka, kb), key=len)
    return long_.startswith(short + " ") or difflib.SequenceMatcher(None, ka, kb).ratio() >= 0.9


def kind_of(word: str) -> str | None:
    w = strip_symbols(word).replace("*", "").strip().lower()
    if re.fullmatch(r"pocs?|practice pocs?|practical pocs?", w):
        return "poc"
    if re.fullmatch(r"articles?", w):
        return "article"
    if re.fullmatch(r"problems?(?: at scale)?", w):
        return "problem"
    return None


def repair(text: str) -> str:
    """Mojibake repair (the same as `authorkit fix`), keeping the line count."""
    fixed = fix_mojibake(text)
    if fixed.count("\n") == text.count("\n"):
        return fixed
    return "\n".join(fix_mojibake(line) for line in text.split("\n"))


# --- parsing one file ----------------------------------------------------------------------

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})(.*)$")
# The text after the #s is taken whole and its closing #s stripped with string operations: a
# lazy `(.*?)\s*#*\s*$` backtracks cubically over a long run of spaces.
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")


def _heading_text(raw: str) -> str:
    r"""What `(.*?)\s*#*\s*$` would leave: trailing spaces, closing #s, spaces before them."""
    return raw.rstrip().rstrip("#").rstrip()
_LIST = re.compile(r"^(?P<indent>\s*)(?:[-*+]|(?P<num>\d+)[.)])\s+(?P<text>.*)$")
_EXPLICIT = re.compile(
    r"^(?P<kind>POCs?|Articles?|Problems?)\b\s*"
    r"(?:#\s*(?P<a>\d+)(?:\s*[-–—]\s*#?\s*(?P<b>\d+))?\b|(?P<badnum>#\s*(?!\d)\S*))?"
    r"\s*(?P<sep>[:\-–—.)])?\s*(?P<rest>.*)$",
    re.I,
)
_RANGE = re.compile(r"^(?:POCs?\s*)?#\s*(\d+)\s*[-–—]\s*#?\s*(\d+)\b\s*(.*)$", re.I)
_NUMBERED = re.compile(r"^(?:POC\s*)?#\s*(\d+)\b\s*[:\-–—.]?\s*(.*)$", re.I)
_BOLD_LABEL = re.compile(r"^\*\*(?P<label>[^*]+?)\*\*\s*:?\s*(?P<rest>.*)$")
_CRITERIA_HEAD = re.compile(r"success criteria|success metrics|definition of done|acceptance criteria", re.I)
_KIND_WORD = re.compile(r"\b(POCs?|Articles?|Problems?)\b", re.I)
_TIER = re.compile(r"\btier\s*\d+", re.I)
_NUM_HEADERS = {"#", "no", "no.", "nr", "number", "num", "id"}
_TITLE_HEADERS = {"title", "titles", "name", "poc", "article", "problem", "item", "deliverable"}
_PLURAL_TITLE_HEADERS = {"pocs", "articles", "problems"}
_TYPE_HEADERS = {"type", "kind"}
_SERIES_HEADERS = {"series"}
_STATUS_HEADERS = {"status", "state", "progress"}


@dataclass
class _Mention:
    kind: str
    number: int | None
    title: str | None
    group: tuple[str, ...]
    line: int
    priority: int  # 3 list/heading, 2 table row, 1 range
    status: str | None = None
    theme: str | None = None
    series: str | None = None
    series_range: tuple[int, int] | None = None
    tier: str | None = None
    annotate: bool = False  # tier/priority tables: annotate existing items, never create
    extra: dict[str, str] = field(default_factory=dict)


def _kind_heading(text: str) -> str | None:
    """`Articles Pending (7)`, `POCs Needed`, `Problems at Scale (8)` name the kind of what follows."""
    s = clean_heading(text)
    m = re.match(r"^(POCs?|Articles?|Problems?(?: at Scale)?)(?:\s+(?:pending|needed|planned|to write|todo|done|completed|remaining|new))*\s*$", s, re.I)
    return kind_of(m.group(1)) if m else None


def _split_row(line: str) -> list[str]:
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", s)]


_SEP_CELL = re.compile(r"^:?-{2,}:?$")


class _FileParser:
    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.lines = repair(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.mentions: list[_Mention] = []
        self.warnings: list[PlanWarning] = []
        self.criteria: dict[str, list[str]] = {}
        self.title: str | None = None
        self.headings: dict[int, str] = {}
        self.raw_headings: dict[int, str] = {}
        self.themes: dict[tuple[str, ...], str] = {}
        self.heading_kind: str | None = None  # from a kind heading; lasts until the next heading
        self.label_kind: str | None = None  # from a bold label; lasts until a paragraph or heading
        self.criteria_kind: str | None = None
        self.list_stack: list[tuple[int, str | None]] = []  # (indent, topic text)

    # -- state ---------------------------------------------------------------------------

    def group(self) -> tuple[str, ...]:
        return tuple(self.headings[k] for k in sorted(self.headings) if k > 1 and self.headings[k])

    def in_criteria(self) -> bool:
        return any(_CRITERIA_HEAD.search(h) for h in self.raw_headings.values())

    def tier(self) -> str | None:
        for k in sorted(self.headings, reverse=True):
            if _TIER.search(self.headings[k]):
                return self.headings[k]
        return None

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(PlanWarning(self.source, line, message))

    # -- driver --------------------------------------------------------------------------

    def run(self) -> None:
        fence: str | None = None
        i = 0
        n = len(self.lines)
        while i < n:
            raw = self.lines[i]
            lineno = i + 1
            fm = _FENCE.match(raw)
            if fence is not None:
                # CommonMark: a closing fence is at least as long as the opening and has no info.
                if fm and fm.group(1)[0] == fence[0] and len(fm.group(1)) >= len(fence) and not fm.group(2).strip():
                    fence = None
                i += 1
                continue
            if fm:
                fence = fm.group(1)
                i += 1
                continue
            stripped = raw.strip()
            if not stripped:
                i += 1
                continue
            hm = _HEADING.match(raw)
            if hm:
                self.on_heading(len(hm.group(1)), _heading_text(hm.group(2)), lineno)
                i += 1
                continue
            if stripped.startswith("|"):
                j = i
                while j < n and self.lines[j].strip().startswith("|"):
                    j += 1
                self.on_table(i, j)
                self.label_kind = None
                i = j
                continue
            lm = _LIST.match(raw)
            if lm:
                self.on_list(len(lm.group("indent").expandtabs(4)), lm.group("text"), lineno, bool(lm.group("num")))
                i += 1
                continue
            self.on_paragraph(stripped, lineno, raw)
            i += 1

    # -- handlers ------------------------------------------------------------------------

    def on_heading(self, level: int, text: str, lineno: int) -> None:
        if level == 1 and self.title is None:
            self.title = clean_heading(text)
        for k in [k for k in self.headings if k >= level]:
            del self.headings[k]
            self.raw_headings.pop(k, None)
        self.label_kind = None
        self.list_stack = []
        m = _EXPLICIT.match(re.sub(r"^\d+[.)]\s+", "", clean_title(text)))
        if m and m.group("a"):
            # `### POC #61: Title` is an item; its group is the headings above it.
            self._explicit(m, lineno, priority=3)
        self.headings[level] = clean_heading(text)
        self.raw_headings[level] = text
        self.heading_kind = _kind_heading(text)
        self.criteria_kind = None
        if self.in_criteria():
            km = _KIND_WORD.search(text)
            self.criteria_kind = kind_of(km.group(1)) if km else None

    def on_paragraph(self, stripped: str, lineno: int, raw: str) -> None:
        self.list_stack = []
        bm = _BOLD_LABEL.match(stripped)
        if bm:
            label, rest = bm.group("label").strip().rstrip(":"), bm.group("rest").strip()
            k = kind_of(re.sub(r"\s*\(\d+\)\s*$", "", label))
            if k and not rest:
                if self.in_criteria():
                    self.criteria_kind = k
                else:
                    self.label_kind = k
                return
            if label.lower() == "theme" and rest:
                self.themes[self.group()] = clean_title(rest)
            fm = re.match(r"^For\s+(.+?):?$", label, re.I)
            if fm and self.in_criteria():
                km = _KIND_WORD.search(fm.group(1))
                self.criteria_kind = kind_of(km.group(1)) if km else None
                return
        # `For POCs:` written as plain text inside the criteria section.
        if self.in_criteria():
            fm = re.match(r"^For\s+(.+?):\s*$", clean_title(stripped) + ":", re.I)
            km = _KIND_WORD.search(stripped)
            if fm and km:
                self.criteria_kind = kind_of(km.group(1))
                return
        self.label_kind = None

    def on_list(self, indent: int, text: str, lineno: int, numbered: bool) -> None:
        while self.list_stack and self.list_stack[-1][0] >= indent:
            self.list_stack.pop()
        topics = tuple(t for _, t in self.list_stack if t)
        cleaned = clean_title(text)
        checkbox = _CHECKBOX.match(text.strip())
        status = status_of(text) if not checkbox else ("done" if checkbox.group("x").strip() else None)

        if self.in_criteria():
            em = re.match(r"^\*\*(?:Each|Every|For)\s+([^*:]+?):?\*\*:?\s*(.*)$", text.strip(), re.I)
            if em:
                k = kind_of(em.group(1).strip())
                if k and em.group(2).strip():
                    self.criteria.setdefault(k, []).append(clean_title(em.group(2)))
                    return
            if self.criteria_kind and cleaned:
                self.criteria.setdefault(self.criteria_kind, []).append(cleaned)
            self.list_stack.append((indent, None))
            return

        m = _EXPLICIT.match(cleaned)
        if m and (m.group("a") or m.group("badnum") or m.group("sep") == ":"):
            self._explicit(m, lineno, priority=3, status=status, topics=topics)
            self.list_stack.append((indent, None))
            return

        kind = self.label_kind or self.heading_kind
        if kind and not self.list_stack and cleaned:
            nm = _NUMBERED.match(cleaned)
            if kind == "poc" and nm:
                self._add(kind, int(nm.group(1)), nm.group(2) or None, lineno, 3, status=status, topics=topics)
            else:
                self._add(kind, None, cleaned, lineno, 3, status=status, topics=topics)
            self.list_stack.append((indent, None))
            return
        # Anything else may be a topic (`1. **Redis String Operations**`) for nested items.
        topic = cleaned if (numbered or text.strip().startswith("**")) and cleaned else None
        self.list_stack.append((indent, topic))

    def _explicit(self, m: re.Match[str], lineno: int, priority: int, status: str | None = None, topics: tuple[str, ...] = ()) -> None:
        kind = kind_of(m.group("kind")) or "poc"
        rest = clean_title(m.group("rest") or "") or None
        if m.group("badnum"):
            self.warn(lineno, f"cannot read the number in {m.group(0).strip()!r}; write it as `{KIND_LABEL[kind]} #N: Title`")
            return
        a, b = m.group("a"), m.group("b")
        if a and b:
            self._range(kind, int(a), int(b), rest, lineno, status=status, topics=topics)
        elif a:
            self._add(kind, int(a), rest, lineno, priority, status=status, topics=topics)
        elif rest:
            self._add(kind, None, rest, lineno, priority, status=status, topics=topics)

    def _range(self, kind: str, lo: int, hi: int, series: str | None, lineno: int, *, status: str | None = None,
               topics: tuple[str, ...] = (), annotate: bool = False, tier: str | None = None, priority: int = 1) -> None:
        if hi < lo or hi - lo > MAX_RANGE:
            self.warn(lineno, f"range #{lo}-{hi} is {'reversed' if hi < lo else 'too wide'}; not expanded")
            return
        series = re.sub(r"\s*\(\d+\)\s*$", "", series or "").strip() or None
        for num in range(lo, hi + 1):
            self._add(kind, num, None, lineno, priority, status=status, topics=topics, series=series,
                      series_range=(lo, hi), annotate=annotate, tier=tier)

    def _add(self, kind: str, number: int | None, title: str | None, lineno: int, priority: int, *,
             status: str | None = None, topics: tuple[str, ...] = (), series: str | None = None,
             series_range: tuple[int, int] | None = None, annotate: bool = False, tier: str | None = None,
             extra: dict[str, str] | None = None) -> None:
        group = self.group() + topics
        theme = None
        for k in range(len(self.group()), 0, -1):
            theme = self.themes.get(self.group()[:k])
            if theme:
                break
        if title is not None:
            title = clean_title(title) or None
        self.mentions.append(_Mention(kind, number, title, group, lineno, priority, status, theme, series, series_range,
                                      tier or self.tier(), annotate or self.tier() is not None, extra or {}))

    def on_table(self, start: int, end: int) -> None:
        rows = [(k + 1, _split_row(self.lines[k])) for k in range(start, end)]
        if len(rows) < 2 or not all(_SEP_CELL.match(c.replace(" ", "")) for c in rows[1][1] if c) or not any(rows[1][1]):
            header = [clean_title(c).lower() for c in rows[0][1]]
            if any(h in _TITLE_HEADERS | _PLURAL_TITLE_HEADERS for h in header):
                self.warn(rows[0][0], "table has no separator row (`|---|---|`) under its header; table skipped")
            return
        header_raw = rows[0][1]
        header = [clean_title(c).lower() for c in header_raw]
        col = {h: idx for idx, h in reversed(list(enumerate(header)))}
        num_col = next((col[h] for h in _NUM_HEADERS if h in col), None)
        type_col = next((col[h] for h in _TYPE_HEADERS if h in col), None)
        title_col = next((i for i, h in enumerate(header) if h in _TITLE_HEADERS), None)
        plural = title_col is None
        if title_col is None:
            title_col = next((i for i, h in enumerate(header) if h in _PLURAL_TITLE_HEADERS), None)
        if title_col is None:
            return  # a summary or comparison table, not a list of deliverables
        status_col = next((col[h] for h in _STATUS_HEADERS if h in col), None)
        series_col = next((col[h] for h in _SERIES_HEADERS if h in col), None)
        if series_col is None and plural and title_col > 0:
            series_col = 0  # `| Kafka | #46-50 | 5 | ⏳ |`: the first column names the series
        default_kind = kind_of(header[title_col]) or self.label_kind or self.heading_kind
        structural = {c for c in (num_col, type_col, title_col, status_col, series_col) if c is not None}
        for lineno, cells in rows[2:]:
            if len(cells) != len(header):
                self.warn(lineno, f"table row has {len(cells)} cells but the header has {len(header)}; row skipped")
                continue
            kind = default_kind
            if type_col is not None:
                kind = kind_of(cells[type_col]) or (None if cells[type_col].strip() else kind)
            if kind is None:
                continue
            cell = clean_title(cells[title_col])
            if not cell or re.fullmatch(r"[\d\s.,%+]*", cell):
                continue
            status = status_of(cells[status_col]) if status_col is not None else status_of(" ".join(cells))
            series = clean_title(cells[series_col]) if series_col is not None else None
            extra = {header_raw[k].strip(): clean_title(cells[k]) for k in range(len(cells)) if k not in structural and header[k] and cells[k].strip()}
            rm = _RANGE.match(cell)
            if rm and kind == "poc":
                self._range(kind, int(rm.group(1)), int(rm.group(2)), series or rm.group(3), lineno, status=status,
                            priority=1)
                continue
            nm = _NUMBERED.match(cell)
            if nm and kind == "poc":
                self._add(kind, int(nm.group(1)), nm.group(2) or None, lineno, 2, status=status, extra=extra)
                continue
            if "#" in cell and kind == "poc":
                self.warn(lineno, f"cannot read the POC number in {cell!r}; write `#N` or `#N-M`")
                continue
            number = None
            if kind == "poc" and num_col is not None:
                raw_num = clean_title(cells[num_col]).lstrip("#")
                if raw_num.isdigit():
                    number = int(raw_num)
                elif raw_num:
                    self.warn(lineno, f"POC number {cells[num_col].strip()!r} is not a number; item read without a number")
            self._add(kind, number, cell, lineno, 2, status=status, extra=extra)


def _merge_file(mentions: list[_Mention], source: str, warnings: list[PlanWarning],
                themes: dict[tuple[str, ...], str]) -> list[PlanItem]:
    items: dict[tuple[Any, ...], PlanItem] = {}
    prio: dict[tuple[Any, ...], int] = {}
    title_line: dict[tuple[Any, ...], int] = {}

    def key_of(m: _Mention) -> tuple[Any, ...] | None:
        if m.number is not None:
            return (m.kind, m.number)
        if not m.title:
            return None
        if m.kind == "poc":
            # Unnumbered POCs repeat across topics ("Consumer groups" under Redis and Kafka).
            return (m.kind, None, title_key(m.title), m.group)
        return (m.kind, None, title_key(m.title))

    for m in mentions:
        if m.annotate:
            continue
        key = key_of(m)
        if key is None:
            continue
        item = items.get(key)
        if item is None:
            items[key] = PlanItem(m.kind, m.number, m.title, m.group, m.status, source, m.line, m.theme, m.tier,
                                  m.series, m.series_range, dict(m.extra), [(source, m.line)])
            prio[key] = m.priority
            if m.title:
                title_line[key] = m.line
            continue
        item.mentions.append((source, m.line))
        if m.title:
            if not item.title:
                item.title = m.title
                title_line[key] = m.line
            elif not titles_agree(item.title, m.title):
                warnings.append(PlanWarning(source, m.line, f"{KIND_LABEL[m.kind]} #{m.number} is {m.title!r} here but "
                                            f"{item.title!r} on line {title_line.get(key)}; keeping the first"))
        if m.priority > prio[key]:
            prio[key] = m.priority
            item.group, item.line = m.group, m.line
            item.theme = m.theme or item.theme
            item.status = m.status or item.status
        else:
            item.status = item.status or m.status
        item.series = item.series or m.series
        item.series_range = item.series_range or m.series_range
        for k, v in m.extra.items():
            item.extra.setdefault(k, v)

    # Tier and priority tables only annotate what the plan lists elsewhere.
    for m in mentions:
        if not m.annotate:
            continue
        target = None
        key = key_of(m)
        if key is not None and key in items:
            target = items[key]
        elif m.title and m.number is None:
            tk = title_key(m.title)
            for it in items.values():
                if it.kind == m.kind and it.title and (title_key(it.title).startswith(tk) or tk.startswith(title_key(it.title))):
                    target = it
                    break
        if target is not None:
            target.tier = target.tier or m.tier
            target.series = target.series or m.series
            target.series_range = target.series_range or m.series_range
            target.mentions.append((source, m.line))
    return list(items.values())


def parse_plan_text(text: str, source: str = "<plan>") -> Plan:
    """Parse one plan document. Never raises; unreadable parts become warnings."""
    p = _FileParser(text, source)
    p.run()
    items = _merge_file(p.mentions, source, p.warnings, p.themes)
    warnings = sorted(p.warnings, key=lambda w: w.line)
    plan = Plan(items=items, warnings=warnings, criteria=p.criteria, sources=[source])
    if p.title:
        plan.titles[source] = p.title
    return plan


def merge_plans(plans: Iterable[Plan]) -> Plan:
    """Combine plans in order; for a number named by two plans, the later one wins."""
    out = Plan()
    index: dict[tuple[Any, ...], int] = {}
    for plan in plans:
        out.sources.extend(plan.sources)
        out.titles.update(plan.titles)
        out.warnings.extend(plan.warnings)
        out.conflicts.extend(plan.conflicts)
        for kind, crit in plan.criteria.items():
            # A later plan's criteria for a kind replace the earlier ones.
            out.criteria[kind] = list(crit)
        for item in plan.items:
            if item.number is not None:
                key: tuple[Any, ...] = (item.kind, item.number)
            elif item.kind == "poc":
                key = (item.kind, None, title_key(item.title or ""), item.group)
            else:
                key = (item.kind, None, title_key(item.title or ""))
            if key in index:
                old = out.items[index[key]]
                if item.number is not None and old.title and item.title and not titles_agree(old.title, item.title):
                    out.conflicts.append(PlanConflict(item.kind, item.number, kept=item, dropped=old))
                if not item.title:
                    item.title = old.title
                item.mentions = old.mentions + item.mentions
                out.items[index[key]] = item
            else:
                index[key] = len(out.items)
                out.items.append(item)
    return out


def parse_plan_file(path: Path, display: str | None = None) -> Plan:
    shown = display or str(path)
    res = read_document(path)
    if res.text is None:
        raise PlanError(f"cannot read plan: {res.detail or res.problem}", path=shown,
                        hint="fix the file or remove it from `plans.files` in authorkit.toml")
    return parse_plan_text(res.text, shown)


def load_plan(ws: Any) -> Plan:
    """Parse the plan files named in the workspace's `plans.files`, in the order listed."""
    files = list(ws.config.plans.files)
    if not files:
        raise PlanError(
            "no plan files are configured",
            path=str(ws.config_path) if ws.config_path else None,
            hint="list them under [plans] files = [\"PLAN.md\"] in authorkit.toml, or run `authorkit init`",
        )
    plans = []
    for rel in files:
        path = ws.path(rel)
        if not path.is_file():
            raise PlanError(
                f"plan file {rel!r} does not exist",
                path=str(ws.config_path) if ws.config_path else None,
                hint=f"fix `plans.files` in authorkit.toml (looked for {path})",
            )
        plans.append(parse_plan_file(path, rel))
    return merge_plans(plans)
