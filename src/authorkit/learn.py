"""`authorkit style learn`: write a style guide from documents the author already accepts.

A guide is learned from evidence, never from a template:

- sections: the headings at the documents' usual section level, grouped when they are the
  same section written differently (same main part before `:`, numbers aside, or a close
  spelling, and never two of them in one document); listed in their usual order, required
  when at least `REQUIRED_SHARE` of the exemplars have them, optional otherwise;
- wildcards (`?`, `*`) exactly where some exemplar has a section the guide does not list;
- line ranges per section and for the whole document from the exemplars' spread, widened
  by a margin so a new document of the same shape fits;
- elements nearly every exemplar has: ✅ checklists, tables and a column they share, code
  blocks and their languages, mermaid diagrams, `Step N` subsections, labelled lines such as
  `**Time to complete**: …`;
- the title pattern when the titles share a prefix such as `POC #N:`.

The YAML is written by hand, commented with the evidence, so the author can edit it; the
same exemplars always give the same bytes (everything is sorted with a tie-breaker).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from authorkit.document import Document, Section, normalize_heading, parse, step_number
from authorkit.errors import InputError, UsageError

REQUIRED_SHARE = 0.9  # a section at least this share of exemplars have is required
ELEMENT_SHARE = 0.9  # an element at least this share of the sections (or documents) have is kept
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

# Amounts (`$1.2m`, `$340k`) and plain numbers, generalised in heading keys as `$#` and `#`.
_AMOUNT = re.compile(r"\$\d[\d.,]*\s*[kmb]?(?![a-z])|\$\d[\d.,]*")
_NUMBER = re.compile(r"\d+(?:\.\d+)*")
_AMOUNT_RX = r"\$[\d.,]+\s*[kmb]?"
_NUMBER_RX = r"\d+(?:\.\d+)*"
_SPLIT = re.compile(r"\s*(?::|\s-\s|\(|\s–\s|\s—\s)\s*")
_STOP = {"the", "and", "for", "with", "your", "what", "how", "why", "when", "this", "that", "from", "into", "you", "are", "of", "a", "an", "to", "in", "on", "vs"}
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
# A labelled line (`**Time to complete**: 20 minutes`), not a labelled list item
# (`- **Uber**: …`, which is content that differs from page to page).
_FIELD = re.compile(r"^[\s>]*\*\*([A-Za-z][^*:\n]{1,40}?)(?::\*\*|\*\*\s*:)\s*\S")
_MARKERS = ("✅", "[x]", "[ ]", "✓", "☐")
_LINKISH = re.compile(r"^\s*(?:[-*+]|\d+[.)])?\s*(?:\*\*)?\[[^\]]+\]\([^)]+\)|<(?:Card|Cards|Link|a)\b|^\s*\|.*\]\(", re.I)
_LANDING_NAMES = re.compile(r"^(?:index|_app|_document|overview|landing|home|readme|introduction|intro|contents|toc)$", re.I)


# --- exemplars ---------------------------------------------------------------------------------


@dataclass
class Exemplar:
    path: Path
    name: str  # as shown in the evidence (relative to the workspace when inside it)
    doc: Document


def display_name(path: Path, root: Path | None) -> str:
    p = path.resolve()
    if root is not None:
        try:
            return p.relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return p.name


def landing_reason(path: Path, doc: Document) -> str | None:
    """Why a page is an index or landing page rather than a document of a style, or None.

    Named like one (index, _app, overview, …), a body that is mostly links and cards, or a
    short page of text with no sections and no code."""
    if _LANDING_NAMES.match(path.stem):
        return f"named {path.name}"
    prose = [ln for n, ln in _prose(doc) if ln.strip() and not ln.lstrip().startswith(("#", "import ", "export "))]
    if not any(h.level > 1 for h in doc.headings) and len(prose) <= 25 and not doc.code_blocks:
        return f"no sections, {len(prose)} lines of text"
    if len(prose) >= 3:
        links = sum(1 for ln in prose if _LINKISH.search(ln))
        if links / len(prose) >= 0.6 and doc.line_count < 400:
            return f"{links} of its {len(prose)} lines are links or cards"
    return None


def _prose(doc: Document) -> Iterable[tuple[int, str]]:
    mask = doc.code_line_mask()
    for i, ln in enumerate(doc.lines):
        if not mask[i]:
            yield i + 1, ln


def read_exemplar(path: Path, root: Path | None) -> Exemplar:
    from authorkit.textio import read_document

    res = read_document(path)
    if res.problem and res.problem != "encoding":
        raise InputError(f"cannot use as an exemplar: {res.problem}" + (f" ({res.detail})" if res.detail else ""), path=path,
                         hint="give Markdown documents the style should describe")
    return Exemplar(path, display_name(path, root), parse(res.text or ""))


def collect(paths: list[str], root: Path | None) -> tuple[list[Exemplar], list[str]]:
    """Exemplars from files and directories (landing pages found in directories are skipped
    and reported; a file named on its own is always used). Sorted by name, so the order they
    are given in does not matter."""
    from authorkit.discover import DOC_SUFFIXES

    files: list[tuple[Path, bool]] = []  # (path, found in a directory)
    for a in paths:
        p = Path(a)
        if p.is_dir():
            for q in sorted(p.rglob("*")):
                rel = q.relative_to(p).parts
                if q.is_file() and q.name.endswith(DOC_SUFFIXES) and not any(x.startswith(".") or x == "node_modules" for x in rel):
                    files.append((q, True))
        elif p.is_file():
            files.append((p, False))
        else:
            raise InputError("no such file or directory", path=a, hint="give exemplar documents (or folders of them)")
    seen: set[Path] = set()
    out: list[Exemplar] = []
    skipped: list[str] = []
    for f, from_dir in files:
        r = f.resolve()
        if r in seen:
            continue
        seen.add(r)
        ex = read_exemplar(f, root)
        why = landing_reason(f, ex.doc) if from_dir else None
        if why is not None:
            skipped.append(f"{ex.name}: landing page ({why})")
            continue
        out.append(ex)
    out.sort(key=lambda e: (e.name, str(e.path)))
    return out, skipped


# --- headings ----------------------------------------------------------------------------------


def main_part(norm: str) -> str:
    head = _SPLIT.split(norm, maxsplit=1)[0].strip()
    return head or norm


def heading_key(norm: str) -> str:
    """What a heading is as a section: its main part with numbers and amounts generalised
    (`q3: why …` -> `q#`, `the $1.2m problem` -> `the # problem`)."""
    return _NUMBER.sub("#", _AMOUNT.sub("$#", main_part(norm)))


def _repaired(text: str) -> str:
    """Mojibake repaired (`ðŸŽ¯ What` -> `🎯 What`), so a garbled heading still names its section."""
    if text.isascii():
        return text
    from authorkit.plan import repair

    return repair(text)


def _norm(text: str) -> str:
    return normalize_heading(_repaired(text))


def _display(text: str) -> str:
    """A heading as an alias: mojibake repaired, markup and emoji gone, case kept."""
    from authorkit.document import is_symbol

    text = _repaired(text)
    s = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    s = re.sub(r"<[^>]+>", "", s)
    s = "".join(" " if is_symbol(c) else c for c in s)
    s = re.sub(r"[*_`]{1,3}", "", s)
    s = " ".join(s.split())
    s = re.sub(r"^(?:\d+(?:\.\d+)*[.)]|\d+\s*[:\-–—])\s+", "", s)
    return s.strip().rstrip(":.?!").strip()


def _key_pattern(key: str) -> str:
    out = []
    for i, chunk in enumerate(key.split("$#")):
        if i:
            out.append(_AMOUNT_RX)
        out.append(_NUMBER_RX.join(re.escape(p).replace("\\ ", r"\s+") for p in chunk.split("#")))
    return "^" + "".join(out) + r"(?=$|[\s:(\-–—])"


@dataclass
class Cluster:
    key: str
    docs: set[int] = field(default_factory=set)
    keys: Counter = field(default_factory=Counter)
    variants: Counter = field(default_factory=Counter)  # display text -> occurrences
    positions: dict[int, float] = field(default_factory=dict)  # doc -> relative position of first occurrence
    max_per_doc: int = 1
    repeated_docs: int = 0

    @property
    def numbered(self) -> bool:
        return any("#" in k for k in self.keys)

    @property
    def label(self) -> str:
        """The commonest heading, by its main part when the headings are numbered (`Q1`)."""
        top = sorted(self.variants.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        return (_SPLIT.split(top, maxsplit=1)[0].strip() or top) if self.numbered else top

    def mean_pos(self) -> float:
        return sum(self.positions.values()) / len(self.positions) if self.positions else 0.0


def _words(key: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9']+", key) if len(w) >= 4 and w not in _STOP}


def cluster_headings(exemplars: list[Exemplar], level: int) -> list[Cluster]:
    from rapidfuzz import fuzz

    by_key: dict[str, Cluster] = {}
    for di, ex in enumerate(exemplars):
        secs = ex.doc.sections(level)
        per: Counter = Counter()
        for si, s in enumerate(secs):
            key = heading_key(s.heading.norm if s.heading.text.isascii() else _norm(s.heading.text))
            if not key:
                continue
            c = by_key.setdefault(key, Cluster(key))
            c.docs.add(di)
            c.keys[key] += 1
            c.variants[_display(s.heading.text) or s.heading.text.strip()] += 1
            c.positions.setdefault(di, si / max(len(secs) - 1, 1))
            per[key] += 1
        for key, n in per.items():
            by_key[key].max_per_doc = max(by_key[key].max_per_doc, n)
            if n > 1:
                by_key[key].repeated_docs += 1
    # Merge variants of one section: big clusters absorb smaller ones that never share a
    # document with them and are spelt nearly the same (or share a word at the same place).
    order = sorted(by_key.values(), key=lambda c: (-len(c.docs), c.key))
    merged: list[Cluster] = []
    for c in order:
        home = None
        for m in merged:
            if m.docs & c.docs:
                continue
            close = any(len(a) >= 5 and len(b) >= 5 and fuzz.ratio(a, b) >= 86 for a in m.keys for b in c.keys)
            near = abs(m.mean_pos() - c.mean_pos()) <= 0.15 and bool(_words(m.key) & _words(c.key)) and len(c.docs) < len(m.docs)
            if close or near:
                home = m
                break
        if home is None:
            merged.append(c)
            continue
        home.docs |= c.docs
        home.keys.update(c.keys)
        home.variants.update(c.variants)
        for d, p in c.positions.items():
            home.positions.setdefault(d, p)
        home.max_per_doc = max(home.max_per_doc, c.max_per_doc)
        home.repeated_docs += c.repeated_docs
    return merged


def section_level(exemplars: list[Exemplar]) -> int:
    votes: Counter = Counter()
    for ex in exemplars:
        levels = sorted({h.level for h in ex.doc.headings if h.level > 1})
        if levels:
            votes[levels[0]] += 1
    if not votes:
        return 2
    return sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


# --- statistics --------------------------------------------------------------------------------


def _pct(values: list[int], q: float) -> int:
    """Nearest-rank percentile (deterministic, no interpolation)."""
    v = sorted(values)
    if not v:
        return 0
    k = max(0, min(len(v) - 1, math.ceil(q * len(v)) - 1))
    return v[k]


def _share(n: int, total: int) -> float:
    return n / total if total else 0.0


def _fmt_share(n: int, total: int) -> str:
    return f"{n}/{total}"


# --- elements ----------------------------------------------------------------------------------


@dataclass
class Learned:
    """An element found in (nearly) every region, with its evidence."""

    spec: dict[str, Any]
    evidence: str


def _region_facts(doc: Document, start: int, end: int, sec: Section | None) -> dict[str, Any]:
    mask = doc.code_line_mask()
    markers: Counter = Counter()
    fields: dict[str, str] = {}
    for n in range(start, min(end, doc.line_count) + 1):
        if mask[n - 1]:
            continue
        ln = doc.lines[n - 1]
        m = _LIST_ITEM.match(ln)
        if m:
            head = ln[: m.end() + 8]
            for mk in _MARKERS:
                if mk in head:
                    markers[mk] += 1
                    break
        f = _FIELD.match(ln)
        if f:
            label = " ".join(f.group(1).split())
            if 1 <= len(label.split()) <= 5:
                fields.setdefault(label.lower(), label)
    blocks = [b for b in doc.code_in(start, end) if b.fenced]
    langs: Counter = Counter()
    from authorkit.rules import canonical_lang

    for b in blocks:
        if b.lang and b.lang != "mermaid":
            langs[canonical_lang(b.lang)] += 1
    tables = doc.tables_in(start, end)
    columns: dict[str, tuple[str, int]] = {}
    for t in tables:
        for c in t.header:
            cl = re.sub(r"[*_`]", "", c).strip()
            if cl and len(cl) <= 30:
                prev = columns.get(cl.lower())
                if prev is None or len(t.rows) > prev[1]:
                    columns[cl.lower()] = (cl, len(t.rows))
    steps = 0
    if sec is not None:
        lvl = sec.heading.level + 1
        steps = sum(1 for h in doc.headings_in(start, end) if h.level == lvl and step_number(h.text) is not None)
    return {
        "markers": markers,
        "fields": fields,
        "code": sum(1 for b in blocks if b.lang != "mermaid"),
        "langs": langs,
        "mermaid": sum(1 for b in blocks if b.lang == "mermaid"),
        "tables": len(tables),
        "columns": columns,
        "steps": steps,
    }


def _severity(have: int, total: int) -> str:
    # Something every one of several exemplars has is a rule; nearly every one, a reminder.
    return "error" if have == total and total >= 3 else "warning"


def learn_elements(facts: list[dict[str, Any]], total_docs: int, skip: set[tuple[str, str]] | None = None, scope: str | None = None) -> list[Learned]:
    """Elements at least ELEMENT_SHARE of `facts` (one per region) have."""
    n = len(facts)
    out: list[Learned] = []
    if n == 0 or n < min(3, total_docs):
        return out
    skip = skip or set()
    extra = {"scope": scope} if scope else {}

    def keep(k: int) -> bool:
        return _share(k, n) >= ELEMENT_SHARE

    # checklist
    for mk in _MARKERS:
        counts = [f["markers"].get(mk, 0) for f in facts]
        have = sum(1 for c in counts if c > 0)
        if keep(have) and ("checklist", mk) not in skip:
            low = max(1, min(3, _pct([c for c in counts if c > 0], 0.1)))
            spec = {"type": "checklist", "min": low, **({"marker": mk} if mk != "✅" else {}), "severity": _severity(have, n), **extra}
            out.append(Learned(spec, f"{_fmt_share(have, n)} have {mk} checklist items (fewest {min(c for c in counts if c > 0)})"))
            break
    # labelled lines
    labels: Counter = Counter()
    shown: dict[str, str] = {}
    for f in facts:
        for low, label in f["fields"].items():
            labels[low] += 1
            shown.setdefault(low, label)
    for low in sorted(labels, key=lambda x: (-labels[x], x)):
        if keep(labels[low]) and ("field", low) not in skip:
            out.append(Learned({"type": "field", "label": shown[low], "severity": _severity(labels[low], n), **extra},
                               f"{_fmt_share(labels[low], n)} have a “{shown[low]}” line"))
    # tables
    with_tables = [f for f in facts if f["tables"]]
    if keep(len(with_tables)) and ("table", "") not in skip:
        cols: Counter = Counter()
        for f in with_tables:
            for low in f["columns"]:
                cols[low] += 1
        common = sorted((c for c in cols if keep(cols[c])), key=lambda c: (-cols[c], c))
        if common:
            col = common[0]
            label = next(f["columns"][col][0] for f in with_tables if col in f["columns"])
            rows = [f["columns"][col][1] for f in with_tables if col in f["columns"]]
            low_rows = max(1, min(3, _pct(rows, 0.1)))
            out.append(Learned({"type": "table", "column": label, "min_rows": low_rows, "severity": _severity(cols[col], n), **extra},
                               f"{_fmt_share(cols[col], n)} have a table with a “{label}” column (fewest rows {min(rows)})"))
        else:
            out.append(Learned({"type": "table", "min_rows": 1, "severity": _severity(len(with_tables), n), **extra},
                               f"{_fmt_share(len(with_tables), n)} have a table"))
    # code blocks and languages
    counts = [f["code"] for f in facts]
    have = sum(1 for c in counts if c > 0)
    if keep(have) and ("code", "") not in skip:
        low = max(1, _pct([c for c in counts if c > 0], 0.1) // 2)
        out.append(Learned({"type": "code", "min": low, "severity": _severity(have, n), **extra},
                           f"{_fmt_share(have, n)} have fenced code (fewest {min(c for c in counts if c > 0)} blocks)"))
        langs: Counter = Counter()
        for f in facts:
            for lang in f["langs"]:
                langs[lang] += 1
        for lang in sorted(langs, key=lambda x: (-langs[x], x)):
            if keep(langs[lang]) and ("code", lang) not in skip:
                # A language is a habit, not a rule: the next topic may need another one.
                out.append(Learned({"type": "code", "languages": [lang], "min": 1, "severity": "warning", **extra},
                                   f"{_fmt_share(langs[lang], n)} have a {lang} block"))
    # mermaid
    have = sum(1 for f in facts if f["mermaid"])
    if keep(have) and ("mermaid", "") not in skip:
        out.append(Learned({"type": "mermaid", "severity": _severity(have, n), **extra}, f"{_fmt_share(have, n)} have a mermaid diagram"))
    # steps
    counts = [f["steps"] for f in facts]
    have = sum(1 for c in counts if c > 0)
    if keep(have) and ("steps", "") not in skip:
        low = max(1, min(3, _pct([c for c in counts if c > 0], 0.1)))
        out.append(Learned({"type": "steps", "min": low, "severity": _severity(have, n), **extra},
                           f"{_fmt_share(have, n)} have “Step N” subsections (fewest {min(c for c in counts if c > 0)})"))
    return out


def _element_keys(items: list[Learned]) -> set[tuple[str, str]]:
    keys = set()
    for e in items:
        s = e.spec
        if s["type"] == "field":
            keys.add(("field", s["label"].lower()))
        elif s["type"] == "checklist":
            keys.add(("checklist", s.get("marker", "✅")))
        elif s["type"] == "code" and s.get("languages"):
            keys.add(("code", s["languages"][0]))
        else:
            keys.add((s["type"], ""))
    return keys


# --- the guide ---------------------------------------------------------------------------------


@dataclass
class RulePlan:
    id: str
    headings: list[str]
    patterns: list[str]
    required: bool
    ordered: bool
    repeat: bool
    cluster: Cluster
    matched: int = 0
    seen: Counter = field(default_factory=Counter)
    lines: list[int] = field(default_factory=list)
    elements: list[Learned] = field(default_factory=list)
    line_range: dict[str, int] | None = None


@dataclass
class LearnResult:
    name: str
    text: str  # the YAML
    exemplars: list[str]
    evidence: list[str]  # human-readable lines (`--explain`)
    sections: int
    required: int
    passes: list[str] = field(default_factory=list)  # exemplars with no error under the guide
    failures: dict[str, list[str]] = field(default_factory=dict)  # exemplar -> its error messages
    skipped: list[str] = field(default_factory=list)


def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "")).strip("-")
    return s[:40].strip("-") or "section"


def _title_pattern(exemplars: list[Exemplar]) -> tuple[str | None, str | None, str]:
    """(pattern, example, evidence) when (nearly) every title shares a prefix such as
    `POC #N:` (a number in it, or at most three words, before a colon)."""
    titles = [_display(ex.doc.title.text) for ex in exemplars if ex.doc.title is not None]
    if not titles:
        return None, None, "no exemplar has a title"
    prefixes: Counter = Counter()
    first: dict[str, str] = {}
    for t in titles:
        m = re.match(r"^(.{1,24}?)\s*:\s*\S", t)
        if not m:
            continue
        pre = m.group(1).strip()
        if not re.search(r"\d", pre) and len(pre.split()) > 3:
            continue
        key = re.sub(r"\d+", "N", pre)
        prefixes[key] += 1
        first.setdefault(key, pre)
    if not prefixes:
        return None, titles[0], f"{len(titles)}/{len(exemplars)} have a title; no shared prefix"
    best, n = sorted(prefixes.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    if _share(n, len(exemplars)) < REQUIRED_SHARE:
        return None, titles[0], f"the commonest title prefix “{best}:” is in only {n}/{len(exemplars)}"
    body = ""
    for part in re.split(r"(\d+)", first[best]):
        if part.isdigit():
            body += r"\s*\d+"
        elif part:
            body += r"\s*".join(re.escape(w) for w in part.split()) + (r"\s*" if part.endswith(" ") else "")
    pattern = r"^(?:\W*\s*)?" + body + r"\s*:\s*\S"
    example = next((t for t in titles if re.search(pattern, t)), titles[0])
    return pattern, example, f"{n}/{len(exemplars)} titles start “{best}:”"


def learn(exemplars: list[Exemplar], name: str, *, description: str | None = None) -> LearnResult:
    from authorkit.matching import match_sections
    from authorkit.styleguide import StyleGuide, parse_guide

    if not NAME_RE.match(name):
        raise UsageError(f"invalid style name {name!r}", hint="use lower-case letters, digits, '-' and '_' (e.g. `short-poc`)")
    if not exemplars:
        raise InputError("no exemplar documents", hint="give the documents (or folders) whose shape the style should describe")
    N = len(exemplars)
    level = section_level(exemplars)
    clusters = cluster_headings(exemplars, level)
    min_docs = 1 if N < 3 else max(2, math.ceil(0.1 * N))
    listed = [c for c in clusters if len(c.docs) >= min_docs]
    listed.sort(key=lambda c: (round(c.mean_pos(), 3), -len(c.docs), c.key))

    # Order: a section whose place disagrees with the learned order in more than one pair of
    # ten is unordered (it may sit anywhere).
    rank = {c.key: i for i, c in enumerate(listed)}
    agree: dict[str, list[int]] = {c.key: [0, 0] for c in listed}
    for a in listed:
        for b in listed:
            if rank[a.key] >= rank[b.key]:
                continue
            for d in sorted(a.docs & b.docs):
                ok = a.positions[d] <= b.positions[d]
                for k in (a.key, b.key):
                    agree[k][0] += ok
                    agree[k][1] += 1

    plans: list[RulePlan] = []
    ids: set[str] = set()
    for c in listed:
        variants = sorted(c.variants.items(), key=lambda kv: (-kv[1], kv[0]))
        headings: list[str] = []
        patterns: list[str] = []
        if c.numbered:
            for k in sorted(c.keys, key=lambda x: (-c.keys[x], x)):
                if "#" in k:
                    p = _key_pattern(k)
                    if p not in patterns:
                        patterns.append(p)
            first = variants[0][0]
            headings.append(_SPLIT.split(first, maxsplit=1)[0].strip() or first)
        for v, _ in variants:
            if not any(re.search(p, normalize_heading(v), re.I) for p in patterns) and v not in headings:
                headings.append(v)
        headings = headings[:12]
        rid = _slug(headings[0])
        while rid in ids:
            rid += "-2"
        ids.add(rid)
        a, t = agree[c.key]
        plans.append(RulePlan(
            id=rid, headings=headings, patterns=patterns,
            required=_share(len(c.docs), N) >= REQUIRED_SHARE,
            ordered=(t == 0 or a / t >= 0.9),
            repeat=c.max_per_doc > 1 and (c.numbered or c.repeated_docs * 4 >= len(c.docs)),
            cluster=c,
        ))

    def provisional(entries: list[Any]) -> StyleGuide:
        return StyleGuide.model_validate({"name": name, "section_level": level, "sections": entries, "allow_unknown_sections": False})

    rule_dicts = [{"id": p.id, "headings": p.headings, "patterns": p.patterns, "level": level, "required": p.required,
                   "ordered": p.ordered, "repeat": p.repeat} for p in plans]
    guide = provisional(rule_dicts)
    by_id = {p.id: p for p in plans}
    idx = {p.id: i for i, p in enumerate(plans)}
    gaps: dict[int, list[int]] = defaultdict(list)  # after rule index -> longest run per exemplar
    facts_by_rule: dict[str, list[dict[str, Any]]] = defaultdict(list)
    doc_facts: list[dict[str, Any]] = []
    unlisted: Counter = Counter()
    for ex in exemplars:
        matches = match_sections(ex.doc, guide)
        got: set[str] = set()
        prev, run = -1, 0
        runs: dict[int, int] = {}
        for m in matches:
            if m.rule is None:
                run += 1
                unlisted[_display(m.section.heading.text)] += 1
                continue
            p = by_id[m.rule.id]
            if m.rule.id not in got:
                p.matched += 1
                got.add(m.rule.id)
                p.lines.append(m.section.line_count)
                facts_by_rule[p.id].append(_region_facts(ex.doc, m.section.start, m.section.end, m.section))
            p.seen[_display(m.section.heading.text)] += 1
            if not m.rule.ordered:
                continue
            if run:
                runs[prev] = max(runs.get(prev, 0), run)
            run = 0
            prev = idx[m.rule.id]
        if run:
            runs[prev] = max(runs.get(prev, 0), run)
        for k, v in runs.items():
            gaps[k].append(v)
        doc_facts.append(_region_facts(ex.doc, 1, ex.doc.line_count, None))

    for p in plans:
        p.required = _share(p.matched, N) >= REQUIRED_SHARE
        if p.lines and len(p.lines) >= min(3, N):
            lo, hi = _pct(p.lines, 0.05), _pct(p.lines, 0.95)
            p.line_range = {"min": max(1, math.floor(lo * 0.5)), "max": math.ceil(hi * 1.5) + 3}
        p.elements = learn_elements(facts_by_rule[p.id], N)
    in_sections = set().union(*(_element_keys(p.elements) for p in plans)) if plans else set()
    doc_elements = learn_elements(doc_facts, N, skip=in_sections | {("code", ""), ("table", "")}, scope=None)

    lines = [ex.doc.line_count for ex in exemplars]
    lo, hi = _pct(lines, 0.05), _pct(lines, 1.0)
    doc_lines = {"min": math.floor(lo * 0.7), "target": max(math.floor(lo * 0.7), _pct(lines, 0.9)), "max": math.ceil(hi * 1.3)}
    title_rx, title_example, title_evidence = _title_pattern(exemplars)
    titled = sum(1 for ex in exemplars if ex.doc.title is not None)

    # --- the YAML, with its evidence ---
    names = [ex.name for ex in exemplars]
    evidence: list[str] = []
    out: list[str] = []
    w = out.append
    w(f"# The {name} style, learned by `authorkit style learn` from {N} exemplar{'s' * (N != 1)}:")
    for nm in names[:40]:
        w(f"#   {nm}")
    if N > 40:
        w(f"#   … and {N - 40} more")
    w(f"# A section is required when at least {int(REQUIRED_SHARE * 100)}% of the exemplars have it; an element is kept")
    w(f"# when at least {int(ELEMENT_SHARE * 100)}% have it (an error when all of three or more do, else a warning).")
    w("# The counts below are the evidence; edit freely (`authorkit style learn --force` overwrites).")
    w(f"name: {_y(name)}")
    w(f"description: {_y(description or f'Learned from {N} exemplar documents.')}")
    w("version: 1")
    w(f"# title: {title_evidence}; {titled}/{N} have a `# ` title")
    w("title:")
    w(f"  required: {_y(_share(titled, N) >= REQUIRED_SHARE)}")
    if title_rx:
        w(f"  pattern: {_y(title_rx)}")
    if title_example:
        w(f"  example: {_y(title_example)}")
    evidence.append(f"title: {title_evidence}")
    w(f"section_level: {level}")
    w("fuzzy_threshold: 0.86")
    w("sections:")

    def wildcard(after: int) -> None:
        runs = gaps.get(after)
        if not runs:
            return
        mark = "?" if max(runs) <= 1 else "*"
        where = "before the first listed section" if after < 0 else f"after “{plans[after].headings[0]}”"
        note = f"{len(runs)}/{N} exemplars have other sections {where} (at most {max(runs)} in a row)"
        w(f"  - {_y(mark)}  # {note}")
        evidence.append(f"  {mark:<3} {note}")

    wildcard(-1)
    for i, p in enumerate(plans):
        seen = ", ".join(f"“{v}” ×{k}" for v, k in sorted(p.seen.items(), key=lambda kv: (-kv[1], kv[0]))[:6])
        more = "" if len(p.seen) <= 6 else f", … {len(p.seen) - 6} more"
        state = "required" if p.required else "optional"
        w(f"  # {p.matched}/{N} exemplars ({state}); headings seen: {seen}{more}")
        evidence.append(f"  {p.matched:>4}/{N:<4} {state:<8} {p.headings[0]}  ← {seen}{more}")
        if not p.ordered:
            a, t = agree[p.cluster.key]
            w(f"  # its place varies ({a}/{t} pairs in this order), so it is not order-checked")
        w(f"  - id: {_y(p.id)}")
        w(f"    headings: {_y(p.headings)}")
        if p.patterns:
            w(f"    patterns: {_y(p.patterns)}")
        if level != 2:
            w(f"    level: {level}")
        w(f"    required: {_y(p.required)}")
        if not p.ordered:
            w("    ordered: false")
        if p.repeat:
            w("    repeat: true")
        if p.line_range:
            w(f"    lines: {_flow(p.line_range)}  # exemplars: {min(p.lines)}–{max(p.lines)} lines, median {_pct(p.lines, 0.5)}")
        if p.elements:
            w("    elements:")
            for e in p.elements:
                w(f"      - {_flow(e.spec)}  # {e.evidence}")
                evidence.append(f"             element {e.spec['type']}: {e.evidence}")
        wildcard(i)
    if not plans:
        w("  []")
    if doc_elements:
        w("elements:")
        for e in doc_elements:
            spec = {**e.spec, "scope": "document"}
            w(f"  - {_flow(spec)}  # {e.evidence} (whole document)")
            evidence.append(f"  document element {e.spec['type']}: {e.evidence}")
    w(f"lines: {_flow(doc_lines)}  # exemplars: {min(lines)}–{max(lines)} lines, median {_pct(lines, 0.5)}")
    evidence.append(f"document length: {min(lines)}–{max(lines)} lines (median {_pct(lines, 0.5)}) -> min {doc_lines['min']}, target {doc_lines['target']}, max {doc_lines['max']}")
    rare = [f"“{h}” ×{k}" for h, k in sorted(unlisted.items(), key=lambda kv: (-kv[1], kv[0]))[:8]]
    if rare:
        w(f"# Headings in too few exemplars to list (allowed by the wildcards): {', '.join(rare)}")
        evidence.append(f"not listed (too rare): {', '.join(rare)}")
    text = "\n".join(out) + "\n"

    learned = parse_guide(text, f"style_guides/{name}.yaml")  # what is written must load
    result = LearnResult(name, text, names, evidence, len(plans), sum(1 for p in plans if p.required))
    from authorkit.findings import Severity
    from authorkit.rules import check_document

    for ex in exemplars:
        errs = [f.message for f in check_document(ex.doc, learned, code_checks=False) if f.severity == Severity.ERROR]
        if errs:
            result.failures[ex.name] = errs
        else:
            result.passes.append(ex.name)
    return result


def _y(v: Any) -> str:
    """A YAML scalar or flow sequence: JSON's forms are valid YAML and never ambiguous."""
    return json.dumps(v, ensure_ascii=False)


def _flow(d: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {_y(v)}" for k, v in d.items()) + "}"


def guide_path(ws: Any, name: str) -> Path:
    return ws.style_guides_dir / f"{name}.yaml"


def write_guide(ws: Any, result: LearnResult, *, force: bool = False) -> Path:
    from authorkit.errors import WriteRefused
    from authorkit.textio import atomic_write_text

    path = guide_path(ws, result.name)
    if path.exists() and not force:
        raise WriteRefused("a style guide of this name already exists", path=ws.rel(path),
                           hint="choose another --name, or add --force to replace it (your edits to it would be lost)")
    atomic_write_text(path, result.text, root=ws.root)
    return path
