"""Plan progress: which planned items have a page, found by number, title, navigation label or
file name, and whether each page passes its style check; totals per group and the snapshot a
session record stores.

Reading the plan Markdown into items is plan_parse.py; its public names are re-exported here
so `from authorkit.plan import load_plan, Plan, …` keeps working.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from authorkit.check import check_paths
from authorkit.discover import discover
from authorkit.errors import NavigationError
from authorkit.findings import Severity
from authorkit.nav import read_nav, slugify
from authorkit.plan_parse import (  # noqa: F401  (re-exported)
    GROUP_SEP,
    KIND_LABEL,
    KINDS,
    MAX_RANGE,
    STATUS_MARKS,
    Plan,
    PlanConflict,
    PlanItem,
    PlanWarning,
    clean_heading,
    clean_title,
    kind_of,
    load_plan,
    merge_plans,
    parse_plan_file,
    parse_plan_text,
    repair,
    status_of,
    strip_symbols,
    title_key,
    titles_agree,
)
from authorkit.textio import read_document

# --- progress: planned items against the content that exists ---------------------------------

_H1_NUMBER = re.compile(r"\bPOC\s*#\s*(\d+)\b", re.I)


def title_number(text: str) -> int | None:
    """The N of `# POC #N: …` in a page's first level-1 heading."""
    in_fence = False
    for line in text.split("\n")[:200]:
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if not in_fence and re.match(r"^#\s+", line):
            m = _H1_NUMBER.search(line)
            return int(m.group(1)) if m else None
    return None


def _h1(text: str) -> str | None:
    for line in text.split("\n")[:200]:
        if re.match(r"^#\s+", line):
            return line[1:].strip()
    return None


@dataclass
class Page:
    path: Path
    rel: str
    title: str | None
    number: int | None


@dataclass
class ItemStatus:
    item: PlanItem
    state: str  # missing | passes | fails | found (found but not checked)
    path: str | None = None
    found_by: str | None = None  # title | nav | slug
    errors: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = self.item.to_dict()
        d.update(state=self.state, path=self.path, found_by=self.found_by, errors=self.errors)
        return d


@dataclass
class GroupTotal:
    group: str
    total: int
    found: int
    passing: int

    @property
    def percent(self) -> float:
        return 100.0 * self.found / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"group": self.group, "total": self.total, "found": self.found, "passing": self.passing,
                "percent": round(self.percent, 1)}


def scan_pages(ws: Any, exclude: Iterable[str] = ()) -> list[Page]:
    skip = {str(ws.path(e)) for e in exclude}
    pages = []
    for path in discover(ws, None).files:
        if str(path) in skip:
            continue
        res = read_document(path)
        text = res.text or ""
        pages.append(Page(path, ws.rel(path), _h1(text), title_number(text)))
    return pages


def _nav_pages(ws: Any) -> list[tuple[int | None, str | None, Path]]:
    """(number, label, page path) for every entry of the configured navigation files."""
    out: list[tuple[int | None, str | None, Path]] = []
    for rel in ws.config.navigation.files:
        p = ws.path(rel)
        if not p.is_file():
            continue
        try:
            nav = read_nav(p, rel, root=ws.root)
        except NavigationError:
            continue  # `plan` reports progress; a nav file it cannot read only loses one clue
        folder = p.parent.resolve()
        for e in nav.entries:
            if not e.key or "/" in e.key or "\\" in e.key or "\0" in e.key or e.key.strip(".") == "" or len(e.key.encode("utf-8", "replace")) > 240:
                continue  # a key such as `../x` names no page of this folder
            for cand in (p.parent / f"{e.key}.md", p.parent / f"{e.key}.mdx", p.parent / e.key / "index.md", p.parent / e.key / "index.mdx"):
                if cand.is_file() and cand.resolve().is_relative_to(folder):
                    out.append((e.number, e.label, cand.resolve()))
                    break
    return out


def check_pages(ws: Any, pages: list[tuple[Path, str]]) -> dict[str, int | None]:
    """Error count of each page (by workspace-relative path) under its style: the configured
    one, else the kind's default. Uses `check`'s cache and workers. The one place `plan`
    calls the checker."""
    batches: dict[str | None, list[str]] = {}
    for path, kind in pages:
        style = None if ws.style_for(path) != "auto" else (ws.config.draft.style if kind == "poc" else kind)
        batches.setdefault(style, []).append(str(path))
    out: dict[str, int | None] = {}
    for style, paths in batches.items():
        run = check_paths(ws, sorted(set(paths)), style=style)
        for r in run.results:
            out[r.path] = sum(1 for f in r.findings if f.severity == Severity.ERROR)
    return out


# Words that do not make two titles different pages: "Rate Limiting Strategies" is the page
# `rate-limiting.md`, "Message Queues: Kafka vs RabbitMQ" is `message-queues-kafka-rabbitmq.md`.
_GENERIC_WORDS = frozenset(
    "a an and the of in on for to with using vs versus or strategies strategy patterns pattern guide "
    "introduction intro overview explained deep dive basics fundamentals complete practical tutorial "
    "approaches techniques how what why when".split()
)
_POC_PREFIX = re.compile(r"^.*?#\s*\d+\s*[:\-–—]\s*")


_MATCH_KEYS: dict[str, str] = {}


def match_key(title: str) -> str:
    """A title as compared with pages: mojibake repaired, `POC #N:` prefix, emoji, case and
    punctuation gone. Memoised: every plan item is compared with every page."""
    key = _MATCH_KEYS.get(title)
    if key is None:
        key = _MATCH_KEYS[title] = title_key(_POC_PREFIX.sub("", repair(title).strip()))
    return key


def _core(key: str) -> frozenset[str]:
    return frozenset(w for w in key.split() if w not in _GENERIC_WORDS)


def titles_match(a: str, b: str) -> float:
    """How surely two titles (or a title and a slug) name the same page: 1.0 equal, 0.95 the
    same words apart from generic ones (two or more of them), 0.9 one the other plus a
    subtitle (three or more words before it), else the similarity when at least 0.92, else 0."""
    ka, kb = match_key(a), match_key(b)
    if not ka or not kb:
        return 0.0
    if ka == kb:
        return 1.0
    ca, cb = _core(ka), _core(kb)
    if len(ca) >= 2 and ca == cb:
        return 0.95
    short, long_ = sorted((ka, kb), key=len)
    if long_.startswith(short + " ") and len(_core(short)) >= 3:
        return 0.9  # the same title with a subtitle added ("…: Choosing the Right Tool")
    from rapidfuzz import fuzz  # lazy: ~33 ms to import (-X importtime); listing a plan never compares titles

    r = fuzz.ratio(ka, kb) / 100.0
    return r if r >= 0.92 else 0.0


@dataclass
class PageIndex:
    """The site's pages as plan items are looked up in them: by number, H1 title, navigation
    label and file name."""

    pages: list[Page]
    nav: list[tuple[int | None, str | None, Page]]

    @classmethod
    def build(cls, ws: Any, pages: list[Page] | None = None) -> "PageIndex":
        pages = pages if pages is not None else scan_pages(ws, ws.config.plans.files)
        by_path = {str(p.path.resolve()): p for p in pages}
        nav = [(n, label, by_path.get(str(path)) or Page(path, ws.rel(path), None, None)) for n, label, path in _nav_pages(ws)]
        return cls(pages, nav)

    def find(self, item: PlanItem) -> tuple[Page, str] | None:
        """The existing page for a plan item and how it was found (title | nav | slug)."""
        if item.kind == "poc" and item.number is not None:
            for p in self.pages:
                if p.number == item.number:
                    return p, "title"
            for n, _, p in self.nav:
                if n == item.number:
                    return p, "nav"
        if not item.title:
            return None

        def allowed(p: Page) -> bool:
            if p.number is None:
                return True
            # A page titled `POC #N` is that POC: never another number's, never an article.
            return item.kind == "poc" and (item.number is None or p.number == item.number)

        best: tuple[float, str, Page, str] | None = None
        for p in self.pages:
            if p.title and allowed(p):
                s = titles_match(item.title, p.title)
                if s and (best is None or (s, p.rel) > (best[0], best[1])):
                    best = (s, p.rel, p, "title")
        for _, label, p in self.nav:
            if label and allowed(p) and (best is None or best[3] != "title"):
                s = titles_match(item.title, strip_symbols(re.sub(r"^\W*\d+\W+", "", label)))
                if s and (best is None or s > best[0]):
                    best = (s, p.rel, p, "nav")
        if best is not None:
            return best[2], best[3]
        slug = slugify(item.title)
        for p in self.pages:
            if allowed(p) and (p.path.stem == slug or titles_match(slug.replace("-", " "), p.path.stem.replace("-", " ")) >= 0.95):
                return p, "slug"
        return None


def plan_status(ws: Any, plan: Plan, *, check: bool = True, pages: list[Page] | None = None) -> list[ItemStatus]:
    index = PageIndex.build(ws, pages)
    out: list[ItemStatus] = []
    found: list[tuple[Path, str]] = []
    for item in plan.items:
        hit = index.find(item)
        if hit is None:
            out.append(ItemStatus(item, "missing"))
            continue
        page, how = hit
        out.append(ItemStatus(item, "found", page.rel, how))
        found.append((page.path, item.kind))
    if check and found:
        errors = check_pages(ws, found)
        for st in out:
            if st.path is not None and errors.get(st.path) is not None:
                st.errors = errors[st.path]
                st.state = "passes" if st.errors == 0 else "fails"
    return out


def group_totals(statuses: list[ItemStatus]) -> list[GroupTotal]:
    totals: dict[str, GroupTotal] = {}
    for s in statuses:
        g = totals.setdefault(s.item.group_path or "(no group)", GroupTotal(s.item.group_path or "(no group)", 0, 0, 0))
        g.total += 1
        if s.state != "missing":
            g.found += 1
        if s.state == "passes":
            g.passing += 1
    return list(totals.values())


def snapshot(statuses: list[ItemStatus]) -> list[dict[str, Any]]:
    """The plan's progress as the session record's `plan_snapshot` event stores it."""
    groups: dict[str, dict[str, Any]] = {}
    for s in statuses:
        name = s.item.group_path or "(no group)"
        g = groups.setdefault(name, {"name": name, "total": 0, "done": 0, "pending": []})
        g["total"] += 1
        if s.state in ("passes", "found"):
            g["done"] += 1
        else:
            g["pending"].append({"kind": s.item.kind, "number": s.item.number, "title": s.item.title})
    return list(groups.values())
