"""`authorkit init`: look at a site and write an `authorkit.toml` that works without editing.

Detection is by evidence, and every guess is printed:
- content root: `docs-site/pages`, `pages`, `content` or the directory itself;
- navigation: every `_meta.js` / `_meta.json` under the content root;
- the POC folder: the one whose pages are titled `POC #N: …` or whose `_meta.js` labels are
  keycap-numbered (`4️⃣6️⃣ Kafka Basics`); it receives new POCs;
- styles: each folder's documents are scored against every guide (as `check --explain`
  does) and the folder is mapped to the style most of them fit; a document that clearly fits
  another style gets its own line; a folder no guide fits but whose documents share a shape
  gets a guide learned from them (`--learn`);
- index and landing pages (index.md, overview pages, pages that are mostly links or cards)
  are excluded from checking;
- plan documents: `*PLAN*.md` / `*ROADMAP*.md` at the root, under `docs-site/` or the content
  root; the current ones are enrolled and the superseded ones listed, commented out, with why;
- the draft reference: the document that best fits the tutorial guide.
Nothing is overwritten without `--force`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from authorkit.config import CONFIG_NAME
from authorkit.errors import WriteRefused

_SKIP_DIRS = {"node_modules", ".git", ".next", ".venv", "venv", "dist", "build", "out", "sessions", "__pycache__"}
# PLAN.md, WEEK_3_CONSOLIDATED_PLAN.md, ROADMAP.md — a word of the name, not `capacity-planning`.
_PLAN_NAME = re.compile(r"(?:^|[_\-\s.])(?:plans?|roadmap)(?:$|[_\-\s.])", re.I)
_ARTICLE_DIR = re.compile(r"^(?:system-design|articles?|guides?|blog|posts)$", re.I)
_PROBLEM_DIR = re.compile(r"^(?:problems?-at-scale|problems?)$", re.I)
_POC_TITLE = re.compile(r"^#\s+.*\bPOC\s*#\s*\d+", re.I | re.M)


@dataclass
class Layout:
    root: Path
    content_root: str = "."
    nav_files: list[str] = field(default_factory=list)
    plan_files: list[str] = field(default_factory=list)
    poc_dir: str | None = None
    poc_evidence: str = ""
    article_dirs: list[str] = field(default_factory=list)
    problem_dirs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was found and what was guessed


def _walk(root: Path, start: Path):
    for dirpath, dirnames, filenames in os.walk(start):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        yield Path(dirpath), sorted(filenames)


def _rel(root: Path, p: Path) -> str:
    rel = p.resolve().relative_to(root.resolve()).as_posix()
    return rel or "."


def _numbered_nav_entries(path: Path, root: Path) -> int:
    from authorkit.errors import NavigationError
    from authorkit.nav import read_nav

    try:
        nav = read_nav(path, root=root)  # a navigation file linked from outside the site is not read
    except NavigationError:
        return 0
    return sum(1 for e in nav.entries if e.number is not None)


def detect(root: Path) -> Layout:
    root = root.resolve()
    lay = Layout(root)
    for cand in ("docs-site/pages", "pages", "content", "docs-site/content", "docs"):
        if (root / cand).is_dir():
            lay.content_root = cand
            break
    croot = root / lay.content_root
    lay.notes.append(f"content root: {lay.content_root}" + ("" if lay.content_root != "." else " (no pages/ or content/ folder found)"))

    poc_scores: dict[Path, tuple[int, str]] = {}
    for d, files in _walk(root, croot):
        metas = [f for f in files if f in ("_meta.js", "_meta.json", "_meta.ts", "_meta.jsx", "_meta.tsx")]
        for m in metas:
            lay.nav_files.append(_rel(root, d / m))
        titled = 0
        for f in files:
            if f.endswith((".md", ".mdx")):
                try:
                    head = (d / f).read_text(encoding="utf-8", errors="replace")[:3000]
                except OSError:
                    continue
                if _POC_TITLE.search(head):
                    titled += 1
        keycaps = max((_numbered_nav_entries(d / m, root) for m in metas), default=0)
        score = max(titled, keycaps)
        if score >= 2:
            why = f"{titled} pages titled `POC #N`" if titled >= keycaps else f"{keycaps} numbered entries in {metas[0]}"
            poc_scores[d] = (score, why)
        if d != croot and _ARTICLE_DIR.match(d.name) and not any(d.resolve().is_relative_to(x) for x in map(lambda s: (root / s).resolve(), lay.article_dirs)):
            lay.article_dirs.append(_rel(root, d))
        if d != croot and _PROBLEM_DIR.match(d.name):
            lay.problem_dirs.append(_rel(root, d))
    if poc_scores:
        best = max(poc_scores.items(), key=lambda kv: kv[1][0])
        lay.poc_dir = _rel(root, best[0])
        lay.poc_evidence = best[1][1]
        lay.notes.append(f"POC folder (new POCs go here): {lay.poc_dir} ({lay.poc_evidence})")
    else:
        lay.notes.append("POC folder: none found (no `POC #N` titles or keycap-numbered _meta.js); guessed " + _default_poc_dir(lay))
    lay.article_dirs = [a for a in lay.article_dirs if a != lay.poc_dir]
    lay.problem_dirs = [p for p in lay.problem_dirs if p != lay.poc_dir]
    for a in lay.article_dirs:
        lay.notes.append(f"article folder (new articles go here): {a}")
    for p in lay.problem_dirs:
        lay.notes.append(f"problem folder (new problems go here): {p}")
    lay.notes.append(f"navigation files: {len(lay.nav_files)}" + (f" ({', '.join(lay.nav_files[:3])}{', …' if len(lay.nav_files) > 3 else ''})" if lay.nav_files else ""))

    plans: list[Path] = []
    for d in (root, root / "docs-site"):
        if d.is_dir():
            plans += [p for p in sorted(d.iterdir()) if p.is_file() and p.suffix.lower() in (".md", ".mdx") and _PLAN_NAME.search(p.stem)]
    if (root / lay.content_root).resolve() != root:
        # Among the pages, only a name in capitals (PLAN.md, WEEK_2_PLAN.md) is a plan.
        plans += [p for p in sorted((root / lay.content_root).glob("*.md")) if _PLAN_NAME.search(p.stem) and not p.stem.islower()]
    seen: set[Path] = set()
    uniq = []
    for p in plans:
        if p.resolve() not in seen:
            seen.add(p.resolve())
            uniq.append(p)
    uniq.sort(key=lambda p: (p.stat().st_mtime, p.name))  # oldest first: the newest plan wins
    lay.plan_files = [_rel(root, p) for p in uniq]
    lay.notes.append("plan files found: " + (", ".join(lay.plan_files) if lay.plan_files else "none found (add them under [plans] files)"))
    return lay


def _default_poc_dir(lay: Layout) -> str:
    return (lay.content_root.rstrip("/") + "/practice-pocs") if lay.content_root != "." else "practice-pocs"


# --- looking at the documents ------------------------------------------------------------------

FIT = 0.6  # a document fits a style when that style scores best and at least this
MAJORITY = 0.5  # a folder takes the style more than this share of its documents fit
SHAPE_SHARE = 0.6  # a section this share of a folder's documents have is part of its shape
_IGNORED_NAMES = re.compile(r"^(?:readme|changelog|license|contributing)\.mdx?$", re.I)


@dataclass
class FolderSurvey:
    rel: str
    docs: list[str]  # workspace-relative paths of the documents scored (landing pages left out)
    fits: dict[str, int]  # style -> documents it fits
    mean: dict[str, float]  # style -> mean score over the folder
    style: str | None = None
    why: str = ""
    exceptions: list[tuple[str, str, float]] = field(default_factory=list)  # (doc, style, score)
    shape: list[str] = field(default_factory=list)  # headings most documents share, when no style fits
    learned: str | None = None
    minority: str = ""  # a group of documents in the folder with a shape of its own
    failing: str = ""  # most documents fail the folder's style structurally


@dataclass
class PlanChoice:
    rel: str
    current: bool
    reason: str = ""
    items: int = 0


@dataclass
class Survey:
    folders: list[FolderSurvey] = field(default_factory=list)
    landing: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    learned: list[tuple[str, Path, str, bool]] = field(default_factory=list)  # (name, path, yaml, kept existing)
    plans: list[PlanChoice] = field(default_factory=list)
    reference: str | None = None
    reference_why: str = ""
    groups: list[str] = field(default_factory=list)  # guides learned for documents across folders


def _docs_by_folder(root: Path, croot: Path) -> dict[Path, list[Path]]:
    from authorkit.discover import DOC_SUFFIXES

    out: dict[Path, list[Path]] = {}
    for d, files in _walk(root, croot):
        docs = [d / f for f in files if f.endswith(DOC_SUFFIXES) and not _IGNORED_NAMES.match(f)]
        if docs:
            out[d] = docs
    return out


def _parse(path: Path):
    from authorkit.document import parse
    from authorkit.textio import read_document

    res = read_document(path)
    if res.problem and res.problem != "encoding":
        return None
    return parse(res.text or "")


def _glob_of(folder: str) -> str:
    return "*" if folder == "." else folder.rstrip("/") + "/*"


def _guide_name_for(folder: str, taken: set[str]) -> str:
    from authorkit.nav import slugify

    parts = [slugify(p) for p in Path(folder).parts if p not in (".",)]
    for n in range(1, len(parts) + 1):
        cand = "-".join(parts[-n:])[:60].strip("-")
        if cand and cand not in taken:
            return cand
    base = "-".join(parts)[:56] or "site"
    k = 2
    while f"{base}-{k}" in taken:
        k += 1
    return f"{base}-{k}"


def survey(root: Path, lay: Layout, *, learn: bool = False, force: bool = False, dry_run: bool = False, guides_dir: Path | None = None) -> Survey:
    """Score every folder's documents against every guide and decide each folder's style;
    with `learn`, learn guides for the shapes no guide fits; find landing pages."""
    from authorkit.learn import Exemplar, cluster_headings, heading_key, landing_reason, learn as learn_guide, section_level
    from authorkit.nav import slugify
    from authorkit.rules import score_style
    from authorkit.styleguide import load_guides, parse_guide

    root = root.resolve()
    guides_dir = guides_dir or (root / "style_guides")
    guides = dict(load_guides(guides_dir))
    sv = Survey()
    croot = (root / lay.content_root).resolve()
    parsed: dict[Path, Any] = {}
    folders = _docs_by_folder(root, croot)
    plan_paths = {(root / p).resolve() for p in lay.plan_files}
    for d in sorted(folders):
        kept = []
        for p in folders[d]:
            if p.resolve() in plan_paths:
                continue
            doc = _parse(p)
            if doc is None:
                continue
            why = landing_reason(p, doc)
            if why is not None:
                sv.landing.append((_rel(root, p), why))
                continue
            parsed[p] = doc
            kept.append(p)
        folders[d] = kept

    scores_of: dict[Path, tuple[str, float, dict[str, float]]] = {}

    by_guide: dict[Path, dict[str, float]] = {}

    def score_doc(p: Path) -> tuple[str, float, dict[str, float]]:
        """Best style, its score and every style's score, as `detect_style` gives them; a
        document is scored once per guide however often its folder is looked at again."""
        have = by_guide.setdefault(p, {})
        for name, g in guides.items():
            if name not in have:
                have[name] = score_style(parsed[p], g).score
        ranked = sorted(have.items(), key=lambda kv: (-kv[1], kv[0]))
        scores_of[p] = (ranked[0][0], ranked[0][1], dict(have)) if ranked else ("", 0.0, {})
        return scores_of[p]

    def fits_any(p: Path) -> bool:
        return scores_of[p][1] >= FIT

    def score_folder(d: Path) -> FolderSurvey:
        docs = folders[d]
        fs = FolderSurvey(_rel(root, d), [_rel(root, p) for p in docs], {}, {})
        totals: dict[str, float] = {}
        for p in docs:
            name, score, by = score_doc(p)
            for k, v in by.items():
                totals[k] = totals.get(k, 0.0) + v
            if name and score >= FIT:
                fs.fits[name] = fs.fits.get(name, 0) + 1
        fs.mean = {k: round(v / len(docs), 2) for k, v in totals.items()} if docs else {}
        if fs.fits:
            top, n = sorted(fs.fits.items(), key=lambda kv: (-kv[1], -fs.mean.get(kv[0], 0), kv[0]))[0]
            if n > MAJORITY * len(docs):
                fs.style = top
                fs.why = f"{n}/{len(docs)} documents fit {top} (mean score {fs.mean.get(top, 0):.2f})"
                for p in docs:
                    name, score, by = scores_of[p]
                    # A document that clearly fits another style, and not this one, gets its own line.
                    if name and name != top and score >= FIT and by.get(top, 0) < FIT:
                        fs.exceptions.append((_rel(root, p), name, score))
        return fs

    def shape_of(paths: list[Path]) -> tuple[list[str], list[Exemplar]]:
        """The headings most of these documents share (two or more), and the documents that
        have at least half of them."""
        exs = [Exemplar(p, _rel(root, p), parsed[p]) for p in paths]
        clusters = [c for c in cluster_headings(exs, section_level(exs)) if len(c.docs) >= SHAPE_SHARE * len(exs)]
        if len(clusters) < 2:
            return [], []
        clusters.sort(key=lambda c: (c.mean_pos(), c.key))
        members = [e for i, e in enumerate(exs) if sum(1 for c in clusters if i in c.docs) * 2 >= len(clusters)]
        return [c.label for c in clusters], members

    def learn_for(hint: str, members: list[Exemplar], where: str) -> str:
        name = _guide_name_for(hint, set(guides))
        path = guides_dir / f"{name}.yaml"
        while path.exists() and not force:  # an existing guide is never replaced without --force
            name = _guide_name_for(hint + "-learned", set(guides) | {name, path.stem})
            path = guides_dir / f"{name}.yaml"
        res = learn_guide(members, name, description=f"Learned by `authorkit init --learn` from {len(members)} documents in {where}.")
        guides[name] = parse_guide(res.text, str(path))
        sv.learned.append((name, path, res.text, False))
        return name

    def struct_failures(paths: list[Path], style: str) -> int:
        from authorkit.rules import check_document

        g = guides[style]
        return sum(1 for p in paths if any(f.rule in _STRUCTURAL and str(f.severity) == "error" for f in check_document(parsed[p], g, code_checks=False)))

    # 1. Folders, biggest first, so a guide learned for one is tried on the next.
    order = sorted((d for d in folders if folders[d]), key=lambda d: (-len(folders[d]), str(d)))
    results: dict[Path, FolderSurvey] = {}
    for d in order:
        fs = score_folder(d)
        docs = folders[d]
        elsewhere = {e[0] for e in fs.exceptions}
        own = [p for p in docs if _rel(root, p) not in elsewhere]
        failing = struct_failures(own, fs.style) if fs.style is not None and len(own) >= 3 else 0
        if fs.style is not None and failing * 2 >= len(own) > 2:
            fs.failing = f"{failing}/{len(own)} of its documents fail {fs.style} structurally (missing sections, title)"
        if len(docs) >= 3 and (fs.style is None or fs.failing):
            shape, members = shape_of(docs)
            fs.shape = shape
            if shape and learn and len(members) >= 3:
                before = fs.style
                hint, where = fs.rel, fs.rel
                # Category folders (problems-at-scale/consistency, …/performance) usually share
                # one shape: learned from all of them that fit no style, named after the parent.
                sibs = [x for x in folders if x.parent == d.parent and x != d and folders[x]]
                if sibs and d.parent.resolve() != croot:
                    pool_sib = [p for x in sibs for p in folders[x] if score_doc(p)[1] < FIT]
                    wide, wide_members = shape_of(docs + pool_sib)
                    if wide and len(wide_members) > len(members) and set(shape[:2]) <= set(wide):
                        shape, members = wide, wide_members
                        hint, where = _rel(root, d.parent), f"{_rel(root, d.parent)} ({len({m.path.parent for m in members})} folders)"
                name = learn_for(hint, members, where)
                fs = score_folder(d)
                fs.shape, fs.learned = shape, name
                fit = fs.fits.get(name, 0)
                if fs.style != name:
                    fs.style, fs.exceptions = name, [e for e in fs.exceptions if e[1] != name]
                reason = "no guide fits" if before is None else f"most fail {before} structurally"
                fs.why = (f"{reason}; learned `{name}` from {len(members)} documents sharing "
                          f"{', '.join(shape[:4])}{'…' if len(shape) > 4 else ''} ({fit}/{len(docs)} now fit it)")
                fs.failing = ""
        if fs.style is None and not fs.fits and len(docs) < 3:
            # Too few documents to judge by their shape: the folder's name or titles decide.
            guess = _named_style(lay, fs.rel)
            if guess is not None and guess in guides:
                fs.style, fs.why = guess, f"{len(docs)} document(s), none fitting any style yet; {guess} by the folder's {'POC titles' if guess == 'tutorial' else 'name'}"
        results[d] = fs

    # 2. Documents that fit no style, wherever they are: groups of them that share a shape (a
    # "Quick Overview" opening across folders, short POCs among long ones) get a learned guide.
    pool = [p for d in order for p in folders[d] if not fits_any(p)]
    tried: set[str] = set()
    while learn and len(pool) >= 3 and len(sv.learned) < MAX_LEARNED:
        freq: dict[str, set[Path]] = {}
        for p in pool:
            doc = parsed[p]
            for s in doc.sections(section_level([Exemplar(p, "", doc)])):
                k = heading_key(s.heading.norm)
                if k and k not in tried:
                    freq.setdefault(k, set()).add(p)
        cands = sorted(((len(v), k) for k, v in freq.items() if len(v) >= 3), key=lambda t: (-t[0], t[1]))
        if not cands:
            break
        _, key = cands[0]
        tried.add(key)
        group = sorted(freq[key], key=str)
        shape, members = shape_of(group)
        if not shape or len(members) < 3:
            continue
        dirs = {m.path.parent for m in members}
        hint = slugify(shape[0])[:40] if len(dirs) > 1 else f"{_rel(root, next(iter(dirs)))}-{slugify(shape[0])[:30]}"
        where = f"{len(dirs)} folders" if len(dirs) > 1 else _rel(root, next(iter(dirs)))
        name = learn_for(hint, members, where)
        placed = [p for p in pool if score_doc(p)[0] == name and scores_of[p][1] >= FIT]
        pool = [p for p in pool if p not in set(placed)]
        sv.groups.append(f"learned `{name}` for {len(placed)} documents in {where} that fit no style but share {', '.join(shape[:4])}")
        for d, fs in results.items():
            in_here = [p for p in placed if p.parent == d]
            if not in_here:
                continue
            if fs.style is None:
                again = score_folder(d)
                if again.style is not None:
                    again.why += f" (after learning `{name}`)"
                    results[d] = again
                    continue
            fs.exceptions += [(_rel(root, p), name, scores_of[p][1]) for p in in_here]
    for d, fs in results.items():
        if fs.style is not None and not learn:
            misfits = [p for p in folders[d] if not fits_any(p)]
            if len(misfits) >= 3 and len(misfits) >= 0.15 * len(folders[d]):
                shape, _ = shape_of(misfits)
                if shape:
                    fs.minority = (f"{len(misfits)} documents fit no style but share {', '.join(shape[:4])} "
                                   "(`authorkit init --learn` learns a guide for them)")

    poc = lay.poc_dir or _default_poc_dir(lay)
    # Folders with no documents to score still receive new pages: named by what they are for.
    for rel, style, what in [(poc, "tutorial", "POCs")] + [(a, "article", "articles") for a in lay.article_dirs] + [(p, "problem", "problems") for p in lay.problem_dirs]:
        if style in guides and not any(fs.rel == rel and fs.docs for fs in results.values()):
            results[root / rel] = FolderSurvey(rel, [], {}, {}, style=style, why=f"no documents to score yet; new {what} are drafted here in this style")
    sv.folders = [results[d] for d in sorted(results, key=lambda d: _rel(root, d))]

    # The draft reference: the document that best fits the tutorial guide, fewest errors first.
    if "tutorial" in guides:
        sv.reference, sv.reference_why = _reference(root, lay, parsed, guides["tutorial"])
    return sv


_STRUCTURAL = {"section-missing", "section-forbidden", "title-format", "title-missing"}
MAX_LEARNED = 20  # guides `init --learn` writes at most in one run


def _named_style(lay: Layout, rel: str) -> str | None:
    if rel == lay.poc_dir:
        return "tutorial"
    if rel in lay.article_dirs:
        return "article"
    if rel in lay.problem_dirs:
        return "problem"
    return None


def _reference(root: Path, lay: Layout, parsed: dict[Path, object], guide) -> tuple[str | None, str]:
    from authorkit.findings import Severity
    from authorkit.rules import check_document, score_style

    poc_dir = (root / (lay.poc_dir or _default_poc_dir(lay))).resolve()
    pool = [p for p in parsed if p.resolve().is_relative_to(poc_dir)] or list(parsed)
    scored = sorted(((score_style(parsed[p], guide).score, p) for p in pool), key=lambda t: (-t[0], _rel(root, t[1])))  # type: ignore[arg-type]
    best: tuple | None = None
    target = guide.lines.target if guide.lines and guide.lines.target else 800
    for score, p in scored[:25]:
        if score < FIT:
            break
        doc = parsed[p]
        errors = sum(1 for f in check_document(doc, guide, code_checks=False) if f.severity == Severity.ERROR)  # type: ignore[arg-type]
        key = (errors, -score, abs(doc.line_count - target), _rel(root, p))  # type: ignore[attr-defined]
        if best is None or key < best[0]:
            best = (key, p, score, errors, doc.line_count)  # type: ignore[attr-defined]
    if best is None:
        return None, "no document fits the tutorial guide (score ≥ %.1f)" % FIT
    _, p, score, errors, lines = best
    return _rel(root, p), f"tutorial score {score:.2f}, {errors} structural errors, {lines} lines"


# --- plans: which are current ------------------------------------------------------------------

_OLD_WORDS = re.compile(r"(?:^|[_\-\s.])(superseded|old|archived?|deprecated|obsolete|legacy|backup|outdated)(?=$|[_\-\s.\d])", re.I)
_OLD_TEXT = re.compile(r"\b(?:superseded|replaced by|archived|deprecated|obsolete|no longer (?:current|used|maintained|valid))\b", re.I)
_SERIES = re.compile(r"(?:^|[_\-\s])(week|sprint|phase|iteration|month|v|version)[_\-\s]?(\d+)(?=$|[_\-\s.])", re.I)
_DATE = re.compile(r"(20\d\d)[-_]?([01]\d)[-_]?([0-3]\d)")
_CONSOLIDATED = re.compile(r"consolidat|merged|combined", re.I)
ROADMAP_ITEMS = 200  # a plan this large next to a smaller current one is a long-range roadmap


def _git_time(root: Path, path: Path) -> float | None:
    import subprocess

    try:
        r = subprocess.run(["git", "log", "-1", "--format=%ct", "--", str(path)], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    out = r.stdout.strip()
    return float(out) if r.returncode == 0 and out.isdigit() else None


def classify_plans(root: Path, plan_files: list[str]) -> list[PlanChoice]:
    """Which plans are current. A plan is superseded when its name or opening says so, when it
    is an earlier week/sprint/phase or date than another plan of the same series, when a newer
    plan holds most of its items, or when it is a long-range roadmap beside a current plan."""
    from authorkit.plan import parse_plan_file, title_key

    root = root.resolve()
    info = []
    for rel in plan_files:
        p = root / rel
        try:
            head = "\n".join(p.read_text(encoding="utf-8", errors="replace").split("\n")[:60])
        except OSError:
            head = ""
        try:
            items = parse_plan_file(p, rel).items
        except Exception:  # a plan that cannot be read is reported by `plan`, not here
            items = []
        keys = {(i.kind, i.number) if i.number is not None else (i.kind, title_key(i.title or "")) for i in items}
        when = _git_time(root, p) or p.stat().st_mtime
        info.append({"rel": rel, "head": head, "items": items, "keys": keys, "when": when, "stem": p.stem})
    out = {x["rel"]: PlanChoice(x["rel"], True, "", len(x["items"])) for x in info}

    for x in info:
        m = _OLD_WORDS.search(x["stem"])
        if m:
            out[x["rel"]] = PlanChoice(x["rel"], False, f"its name says “{m.group(1)}”", len(x["items"]))
            continue
        m = _OLD_TEXT.search(x["head"])
        if m:
            line = next((ln.strip() for ln in x["head"].split("\n") if m.group(0).lower() in ln.lower()), m.group(0))
            out[x["rel"]] = PlanChoice(x["rel"], False, f"it says “{line[:80]}”", len(x["items"]))
    # Series: WEEK_2 vs WEEK_3, PHASE_1 vs PHASE_2, dated names.
    series: dict[str, list[tuple[tuple[int, ...], dict]]] = {}
    for x in info:
        m = _SERIES.search(x["stem"])
        if m:
            series.setdefault(m.group(1).lower(), []).append(((int(m.group(2)),), x))
        d = _DATE.search(x["stem"])
        if d:
            series.setdefault("date", []).append(((int(d.group(1)), int(d.group(2)), int(d.group(3))), x))
    for kind, members in series.items():
        if len(members) < 2:
            continue
        newest = max(members, key=lambda t: (t[0], t[1]["when"]))
        for rank, x in members:
            if rank < newest[0] and out[x["rel"]].current:
                what = "dated" if kind == "date" else f"{kind} {rank[0]}"
                out[x["rel"]] = PlanChoice(x["rel"], False, f"an earlier {what} than {newest[1]['rel']}", len(x["items"]))
    # Covered by a newer plan.
    for x in info:
        if not out[x["rel"]].current or not x["keys"]:
            continue
        for y in sorted(info, key=lambda t: (-t["when"], t["rel"])):
            if y is x or not out[y["rel"]].current or len(y["keys"]) >= ROADMAP_ITEMS:
                continue
            # Covered by a plan that is newer, or that holds more (a consolidated plan copied
            # in at the same moment has no older date to tell it by).
            newer = y["when"] > x["when"] + 1
            bigger = len(y["keys"]) > len(x["keys"])
            if not (newer or bigger):
                continue
            shared = len(x["keys"] & y["keys"])
            if shared * 2 >= len(x["keys"]) and (shared < len(y["keys"]) or newer):
                what = "newer" if newer else "larger"
                out[x["rel"]] = PlanChoice(x["rel"], False, f"{shared} of its {len(x['keys'])} items are in the {what} {y['rel']}", len(x["items"]))
                break
    # A consolidated plan ("Week 3 Consolidated Plan: Pending Week 2 + …") takes over the
    # older plans it shares items with.
    for y in sorted(info, key=lambda t: (-t["when"], t["rel"])):
        title = next((ln for ln in y["head"].split("\n") if ln.startswith("# ")), "")
        if not out[y["rel"]].current or not _CONSOLIDATED.search(y["stem"] + " " + title) or len(y["keys"]) >= ROADMAP_ITEMS:
            continue
        for x in info:
            if x is y or not out[x["rel"]].current or x["when"] > y["when"] or len(x["keys"]) >= ROADMAP_ITEMS:
                continue
            shared = len(x["keys"] & y["keys"])
            if x["keys"] and shared * 5 >= len(x["keys"]):
                out[x["rel"]] = PlanChoice(x["rel"], False, f"consolidated into {y['rel']} ({shared} of its {len(x['keys'])} items are there)", len(x["items"]))
    current = [c for c in out.values() if c.current]
    if len(current) > 1:
        small = [c for c in current if 0 < c.items < ROADMAP_ITEMS]
        for c in current:
            if c.items >= ROADMAP_ITEMS and small:
                out[c.rel] = PlanChoice(c.rel, False, f"a long-range roadmap ({c.items} items) beside the current {small[0].rel}", c.items)
    if not any(c.current for c in out.values()) and info:
        newest = max(info, key=lambda t: t["when"])
        out[newest["rel"]] = PlanChoice(newest["rel"], True, "", len(newest["items"]))
    return [out[x["rel"]] for x in info]


# --- the config ----------------------------------------------------------------------------------


def _q(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _list(items: list[str]) -> str:
    if not items:
        return "[]"
    if len(items) <= 2 and sum(len(i) for i in items) < 60:
        return "[" + ", ".join(_q(i) for i in items) + "]"
    return "[\n" + "".join(f"  {_q(i)},\n" for i in items) + "]"


def _glob(d: str) -> str:
    return "**" if d == "." else d.rstrip("/") + "/**"


_BASE_EXCLUDES = ["**/node_modules/**", "**/.git/**", "sessions/**", "**/README.md", "**/CHANGELOG.md", "**/index.md", "**/index.mdx"]


def _style_lines(lay: Layout, sv: Survey | None) -> str:
    lines: list[str] = []
    if sv is None:
        poc_dir = lay.poc_dir or _default_poc_dir(lay)
        styles = [(_glob(poc_dir), "tutorial")] + [(_glob(a), "article") for a in lay.article_dirs] + [(_glob(p), "problem") for p in lay.problem_dirs]
        return "".join(f"{_q(g)} = {_q(s)}\n" for g, s in styles)
    for fs in sv.folders:
        for doc, style, score in fs.exceptions:
            lines.append(f"{_q(doc)} = {_q(style)}  # fits {style} ({score:.2f})" + (f" rather than the folder's {fs.style}" if fs.style else ""))
    for fs in sv.folders:
        scores = ", ".join(f"{k} {v:.2f}" for k, v in sorted(fs.mean.items(), key=lambda kv: (-kv[1], kv[0]))[:3])
        if fs.style:
            lines.append(f"# {fs.rel}: {fs.why}; mean scores: {scores}")
            lines.append(f"{_q(_glob_of(fs.rel))} = {_q(fs.style)}")
        else:
            shape = f"; its documents share {', '.join(fs.shape[:4])} (`authorkit init --learn` learns a guide for it)" if fs.shape else ""
            lines.append(f"# {fs.rel}: no style fits most of its {len(fs.docs)} documents (mean scores: {scores}){shape}; detected per document")
    return "\n".join(lines) + ("\n" if lines else "")


def render_config(lay: Layout, sv: Survey | None = None) -> str:
    poc_dir = lay.poc_dir or _default_poc_dir(lay)
    article_dir = lay.article_dirs[0] if lay.article_dirs else (lay.content_root.rstrip("/") + "/system-design" if lay.content_root != "." else "system-design")
    problem_dir = lay.problem_dirs[0] if lay.problem_dirs else (lay.content_root.rstrip("/") + "/problems-at-scale" if lay.content_root != "." else "problems-at-scale")
    style_lines = _style_lines(lay, sv)
    exclude = list(_BASE_EXCLUDES)
    exclude_text = "[\n" + "".join(f"  {_q(e)},\n" for e in exclude)
    croot = lay.content_root.rstrip("/")
    plans_inside = [p for p in lay.plan_files if croot == "." or p.startswith(croot + "/")]
    for p in plans_inside:
        exclude_text += f"  {_q(p)},  # a plan, read by `authorkit plan`\n"
    if sv is not None:
        for path, why in sv.landing:
            if not re.search(r"(?:^|/)index\.mdx?$", path):
                exclude_text += f"  {_q(path)},  # landing page: {why}\n"
    exclude_text += "]"
    if sv is not None and sv.plans:
        plan_text = "[\n"
        for c in sv.plans:
            if c.current:
                plan_text += f"  {_q(c.rel)},  # {c.items} items\n"
        for c in sv.plans:
            if not c.current:
                plan_text += f"  # {_q(c.rel)},  # not enrolled: {c.reason}\n"
        plan_text += "]"
    else:
        plan_text = _list(lay.plan_files)
    if sv is not None and sv.reference:
        ref = f"# The finished page the model is shown as the house example ({sv.reference_why}).\nreference = {_q(sv.reference)}"
    else:
        why = f" ({sv.reference_why})" if sv is not None and sv.reference_why else ""
        ref = f'# A finished page the model is shown as the reference example{why}, e.g. "{poc_dir}/database-crud.md".\n# reference = ""'
    return f"""# authorkit configuration, written by `authorkit init`. Paths are relative to this file.
# Every key is optional; the values below are what `init` detected in this site.

[content]
# Where the documents live (checked by `authorkit check` with no arguments).
roots = {_list([lay.content_root])}
include = ["**/*.md", "**/*.mdx"]
# Index and landing pages are navigation, not documents of a style: they are not checked.
exclude = {exclude_text}

# Which style guide applies to which paths (first match wins). Each folder is mapped to the
# style most of its documents fit (scores as `authorkit check --explain` computes them);
# "auto" picks the best-scoring style for anything not listed.
[styles]
{style_lines}
[plans]
# Current plan documents, oldest first: when two plans give a number different titles, the
# later wins. Plans that look superseded are listed commented out, with the reason.
files = {plan_text}

[navigation]
# Nextra navigation files; `draft` inserts new pages here in number order.
files = {_list(lay.nav_files)}
update = true

[draft]
# Where `authorkit draft` writes new pages of each kind.
poc_dir = {_q(poc_dir)}
article_dir = {_q(article_dir)}
problem_dir = {_q(problem_dir)}
style = "tutorial"
{ref}
# provider = "scaffold"   # default: anthropic when ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL is set

[model]
name = "claude-sonnet-4-5"
max_tokens = 8192
concurrency = 4

[model.prices]
# US dollars per million tokens.
input = 3.0
cache_write = 3.75
cache_read = 0.30
output = 15.0
"""


@dataclass
class InitResult:
    path: Path
    layout: Layout
    text: str
    replaced: bool
    survey: Survey | None = None
    notes: list[str] = field(default_factory=list)  # everything guessed, in the order it was decided


def _survey_notes(sv: Survey) -> list[str]:
    notes: list[str] = []
    for fs in sv.folders:
        scores = ", ".join(f"{k} {v:.2f}" for k, v in sorted(fs.mean.items(), key=lambda kv: (-kv[1], kv[0]))[:4])
        fits = ", ".join(f"{k} {n}/{len(fs.docs)}" for k, n in sorted(fs.fits.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"
        if fs.style:
            notes.append(f"{fs.rel} -> {fs.style}: {fs.why} [fits: {fits}; mean scores: {scores}]")
        else:
            shape = f"; its own shape: {', '.join(fs.shape[:5])} (run `authorkit init --learn` to learn a guide for it)" if fs.shape else ""
            notes.append(f"{fs.rel} -> auto: no style fits most of its {len(fs.docs)} documents [fits: {fits}; mean scores: {scores}]{shape}")
        if fs.minority:
            notes.append(f"  {fs.minority}")
        if fs.failing:
            shape = f"; they share {', '.join(fs.shape[:4])} (`authorkit init --learn` learns a guide for them)" if fs.shape else ""
            notes.append(f"  {fs.failing}{shape}")
        for doc, style, score in fs.exceptions[:20]:
            notes.append(f"  {doc} -> {style} ({score:.2f})" + (f": fits it rather than {fs.style}" if fs.style else ""))
        if len(fs.exceptions) > 20:
            notes.append(f"  … and {len(fs.exceptions) - 20} more documents mapped to their own style")
    for g in sv.groups:
        notes.append(g)
    for name, path, _, kept in sv.learned:
        notes.append(f"learned style `{name}` -> {path.name}" + (" (kept the existing file)" if kept else ""))
    if sv.landing:
        shown = ", ".join(f"{p} ({why})" for p, why in sv.landing[:5])
        notes.append(f"not checked, {len(sv.landing)} index/landing page(s): {shown}{', …' if len(sv.landing) > 5 else ''}")
    for c in sv.plans:
        notes.append(f"plan {c.rel}: " + (f"enrolled ({c.items} items)" if c.current else f"not enrolled, {c.reason}"))
    if sv.reference:
        notes.append(f"draft reference: {sv.reference} ({sv.reference_why})")
    else:
        notes.append(f"draft reference: none ({sv.reference_why or 'no tutorial guide'})")
    return notes


def init_workspace(root: Path, *, force: bool = False, dry_run: bool = False, learn: bool = False) -> InitResult:
    import tomllib

    from authorkit.config import Config
    from authorkit.textio import atomic_write_text

    root = root.resolve()
    target = root / CONFIG_NAME
    exists = target.exists()
    if exists and not force and not dry_run:
        raise WriteRefused(f"{CONFIG_NAME} already exists", path=str(target),
                           hint="use `authorkit init --force` to replace it (your edits to it would be lost)")
    lay = detect(root)
    sv = survey(root, lay, learn=learn, force=force, dry_run=dry_run)
    sv.plans = classify_plans(root, lay.plan_files)
    text = render_config(lay, sv)
    Config.model_validate(tomllib.loads(text))  # what we write must load; checked before writing
    if not dry_run:
        for name, path, ytext, _ in sv.learned:
            if path.exists() and not force:
                continue  # never replaced without --force (a new name was chosen above)
            atomic_write_text(path, ytext)
        atomic_write_text(target, text)
    return InitResult(target, lay, text, exists, sv, lay.notes + _survey_notes(sv))


def copy_templates(root: Path, *, force: bool = False) -> tuple[list[str], list[str]]:
    """Copy the built-in style guides and prompts into the workspace to customise them.
    Returns (copied, kept): an existing file is kept unless `force`."""
    from authorkit.resources import data_dir
    from authorkit.textio import atomic_write_text

    copied: list[str] = []
    kept: list[str] = []
    for kind in ("style_guides", "prompts"):
        src = data_dir(kind)
        if not src.is_dir() or src.resolve() == (root / kind).resolve():
            continue
        for f in sorted(p for p in src.iterdir() if p.is_file()):
            dest = root / kind / f.name
            rel = f"{kind}/{f.name}"
            if dest.exists() and not force:
                kept.append(rel)
                continue
            atomic_write_text(dest, f.read_text(encoding="utf-8"))
            copied.append(rel)
    return copied, kept
