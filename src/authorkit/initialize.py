"""`authorkit init`: look at a site and write an `authorkit.toml` that works without editing.

Detection is by evidence, and every guess is reported:
- content root: `docs-site/pages`, `pages`, `content` or the directory itself;
- navigation: every `_meta.js` / `_meta.json` under the content root;
- the POC folder: the one whose pages are titled `POC #N: …` or whose `_meta.js` labels are
  keycap-numbered (`4️⃣6️⃣ Kafka Basics`); it gets the tutorial style and receives new POCs;
- article and problem folders by name (`system-design`, `articles`, `problems-at-scale`);
- plan documents: `*PLAN*.md` / `*ROADMAP*.md` at the root or under `docs-site/`, oldest
  first so the most recent plan wins a disagreement.
An existing config is never overwritten without `--force`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from authorkit.config import CONFIG_NAME
from authorkit.errors import WriteRefused

_SKIP_DIRS = {"node_modules", ".git", ".next", ".venv", "venv", "dist", "build", "out", "sessions", "__pycache__"}
_PLAN_NAME = re.compile(r"plan|roadmap", re.I)
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


def _numbered_nav_entries(path: Path) -> int:
    from authorkit.errors import NavigationError
    from authorkit.nav import read_nav

    try:
        nav = read_nav(path)
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
        keycaps = max((_numbered_nav_entries(d / m) for m in metas), default=0)
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
        lay.notes.append(f"POC folder: {lay.poc_dir} ({lay.poc_evidence}) -> tutorial style, new POCs go here")
    else:
        lay.notes.append("POC folder: none found (no `POC #N` titles or keycap-numbered _meta.js); guessed " + _default_poc_dir(lay))
    lay.article_dirs = [a for a in lay.article_dirs if a != lay.poc_dir]
    lay.problem_dirs = [p for p in lay.problem_dirs if p != lay.poc_dir]
    for a in lay.article_dirs:
        lay.notes.append(f"article folder: {a} -> article style")
    for p in lay.problem_dirs:
        lay.notes.append(f"problem folder: {p} -> problem style")
    lay.notes.append(f"navigation files: {len(lay.nav_files)}" + (f" ({', '.join(lay.nav_files[:3])}{', …' if len(lay.nav_files) > 3 else ''})" if lay.nav_files else ""))

    plans: list[Path] = []
    for d in (root, root / "docs-site"):
        if d.is_dir():
            plans += [p for p in sorted(d.iterdir()) if p.is_file() and p.suffix.lower() in (".md", ".mdx") and _PLAN_NAME.search(p.stem)]
    if (root / lay.content_root).resolve() != root:
        plans += [p for p in sorted((root / lay.content_root).glob("*.md")) if _PLAN_NAME.search(p.stem)]
    seen: set[Path] = set()
    uniq = []
    for p in plans:
        if p.resolve() not in seen:
            seen.add(p.resolve())
            uniq.append(p)
    uniq.sort(key=lambda p: (p.stat().st_mtime, p.name))  # oldest first: the newest plan wins
    lay.plan_files = [_rel(root, p) for p in uniq]
    lay.notes.append("plan files: " + (", ".join(lay.plan_files) + " (oldest first; a later plan wins a disagreement)" if lay.plan_files else "none found (add them under [plans] files)"))
    return lay


def _default_poc_dir(lay: Layout) -> str:
    return (lay.content_root.rstrip("/") + "/practice-pocs") if lay.content_root != "." else "practice-pocs"


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


def render_config(lay: Layout) -> str:
    poc_dir = lay.poc_dir or _default_poc_dir(lay)
    article_dir = lay.article_dirs[0] if lay.article_dirs else (lay.content_root.rstrip("/") + "/system-design" if lay.content_root != "." else "system-design")
    problem_dir = lay.problem_dirs[0] if lay.problem_dirs else (lay.content_root.rstrip("/") + "/problems-at-scale" if lay.content_root != "." else "problems-at-scale")
    styles = [(_glob(poc_dir), "tutorial")] + [(_glob(a), "article") for a in lay.article_dirs] + [(_glob(p), "problem") for p in lay.problem_dirs]
    style_lines = "".join(f"{_q(g)} = {_q(s)}\n" for g, s in styles)
    return f"""# authorkit configuration, written by `authorkit init`. Paths are relative to this file.
# Every key is optional; the values below are what `init` detected in this site.

[content]
# Where the documents live (checked by `authorkit check` with no arguments).
roots = {_list([lay.content_root])}
include = ["**/*.md", "**/*.mdx"]
exclude = ["**/node_modules/**", "**/.git/**", "sessions/**", "**/README.md", "**/CHANGELOG.md"]

# Which style guide applies to which paths (first match wins). "auto" picks the best-scoring
# style for anything not listed.
[styles]
{style_lines}
[plans]
# Plan documents, oldest first: when two plans give a number different titles, the later wins.
files = {_list(lay.plan_files)}

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
# A finished page the model is shown as the reference example, e.g. "{poc_dir}/database-crud.md".
# reference = ""
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


def init_workspace(root: Path, *, force: bool = False, dry_run: bool = False) -> InitResult:
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
    text = render_config(lay)
    Config.model_validate(tomllib.loads(text))  # what we write must load; checked before writing
    if not dry_run:
        atomic_write_text(target, text)
    return InitResult(target, lay, text, exists)


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
