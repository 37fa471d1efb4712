"""Check files: discovery, the style of each file, the result cache and worker processes.

The rules themselves live in `rules.py`; this module stays light to import so a warm run
(everything cached) never loads the Markdown parser or the style-guide models.
"""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from authorkit.findings import Finding, Severity, sort_key

if TYPE_CHECKING:
    from authorkit.document import Document
    from authorkit.styleguide import StyleGuide

# Names that moved to rules.py stay importable from here.
_RULES_EXPORTS = {"RULES", "check_text", "check_document", "detect_style", "score_style", "explain", "canonical_lang", "StyleScore"}


def __getattr__(name: str) -> Any:
    if name in _RULES_EXPORTS:
        from authorkit import rules

        return getattr(rules, name)
    raise AttributeError(name)

ENGINE_VERSION = "7"  # bump when results change shape or meaning: invalidates caches

# rule id -> what it means (README lists these)
# --- files and runs ------------------------------------------------------------------------


@dataclass
class FileResult:
    path: str
    style: str | None
    detected: dict[str, Any] | None
    lines: int
    findings: list[Finding] = field(default_factory=list)
    cached: bool = False
    code: dict[str, Any] | None = None  # code-block counts: checked per language, lenient, skipped
    digest: str | None = None  # hash of the content checked (for the cache; not reported)

    def counts(self) -> dict[str, int]:
        c = {"error": 0, "warning": 0, "info": 0}
        for f in self.findings:
            c[str(f.severity)] += 1
        return c

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "style": self.style,
            "detected": self.detected,
            "lines": self.lines,
            "findings": [f.to_dict() for f in self.findings],
            **({"code_blocks": self.code} if self.code else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "FileResult":
        return cls(d["path"], d.get("style"), d.get("detected"), d.get("lines", 0), [Finding.from_dict(f) for f in d.get("findings", [])],
                   code=d.get("code_blocks"), digest=d.get("_digest"))


_FILE_PROBLEMS = {
    "empty": ("file-empty", "the file is empty", "write the document, or delete the file"),
    "binary": ("file-binary", "this is a binary file, not Markdown", "exclude it in authorkit.toml ([content] exclude) or remove it"),
    "too-large": ("file-too-large", "too large to check", "split it, or exclude it in authorkit.toml"),
    "unreadable": ("file-unreadable", "cannot be read", "fix its permissions or the symlink it points through"),
    "encoding": ("file-encoding", "not valid UTF-8", "re-encode it as UTF-8 with `authorkit fix --encoding cp1252 FILE` (or the encoding it was written in)"),
}


def check_many(items: list[tuple[str, str, str]], guides: dict[str, StyleGuide], code_checks: bool, overrides: dict[str, dict[str, Any]] | None = None) -> list[FileResult]:
    """Check (path, rel, style) items. Code blocks of all of them go to the code checker in one
    call, so external checkers (node, bash) start once per batch, not once per document.
    Never raises for bad input; problems become findings."""
    with _gc_paused():
        return _check_many(items, guides, code_checks, overrides)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for one batch. Parsing allocates millions of small
    containers (tokens, AST nodes) that all stay alive until the batch ends, so each automatic
    collection rescans them for nothing: about half of Python's parse time went there. Nothing
    in a batch builds reference cycles worth collecting, and collection resumes after it."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _check_many(items: list[tuple[str, str, str]], guides: dict[str, StyleGuide], code_checks: bool, overrides: dict[str, dict[str, Any]] | None) -> list[FileResult]:
    from authorkit.rules import _code_findings, _dedupe

    if overrides:
        # Line targets from authorkit.toml, applied once per batch rather than per file.
        guides = {n: g.with_lines(overrides[n].get("lines")) if n in overrides else g for n, g in guides.items()}
    results: list[FileResult] = []
    pending: list[tuple[FileResult, Document, StyleGuide | None, dict[int, str]]] = []
    for path_str, rel, style in items:
        r, doc, guide, modes = _check_structure_of(path_str, rel, style, guides)
        results.append(r)
        if doc is not None and code_checks and (guide is None or guide.code_checks):
            pending.append((r, doc, guide, modes))
    if pending:
        from authorkit.codecheck import CodeStats

        stats = CodeStats()
        found_all = _code_findings([(d, g, m) for _, d, g, m in pending], stats)
        for i, ((r, *_), found) in enumerate(zip(pending, found_all)):
            r.code = stats.for_document(i)
            if found:
                r.findings = _dedupe(r.findings + [f.with_path(r.path) for f in found])
                r.findings.sort(key=sort_key)
    return results


def _check_structure_of(path_str: str, rel: str, style: str, guides: dict[str, StyleGuide]) -> tuple[FileResult, Document | None, StyleGuide | None, dict[int, str]]:
    from authorkit.document import parse
    from authorkit.matching import Match, match_sections
    from authorkit.rules import check_document, detect_style
    from authorkit.textio import read_document

    res = read_document(Path(path_str))
    findings: list[Finding] = []
    if res.problem:
        rule, msg, hint = _FILE_PROBLEMS[res.problem]
        sev = Severity.ERROR
        findings.append(Finding(rule, sev, 1, f"{msg}: {res.detail}" if res.detail and res.problem != "empty" else msg, hint, path=rel))
        if res.problem != "encoding":
            return FileResult(rel, None if style == "auto" else style, None, 0, findings, digest=res.digest), None, None, {}
    text = res.text or ""
    doc = parse(text)
    detected = None
    all_matches: dict[str, list[Match]] = {}
    if style == "auto":
        name, score, scores = detect_style(doc, guides, all_matches)
        detected = {"style": name, "score": score, "scores": {s.name: s.score for s in scores}}
        if not name or score < DETECT_MIN_SCORE:
            findings.append(Finding("style-unknown", Severity.WARNING, 1, f"no style fits this document well (best: {name or 'none'} at {score:.2f})",
                                    "map its path to a style in authorkit.toml [styles] or pass --style", path=rel))
            guide = None
            used = None
        else:
            guide, used = guides[name], name
    elif style == LANDING:
        guide, used = None, None  # only the text and code rules apply
    else:
        guide, used = guides[style], style
    matches = all_matches.get(used) if used else None
    if guide is not None and matches is None:
        matches = match_sections(doc, guide)
    modes: dict[int, str] = {}
    findings.extend(f.with_path(rel) for f in check_document(doc, guide, code_checks=False, matches=matches, modes_out=modes))
    findings.sort(key=sort_key)
    return FileResult(rel, used, detected, doc.line_count, findings, digest=res.digest), doc, guide, modes


# Index pages (Nextra's `index.md`, Hugo's `_index.md`) introduce a folder and link to its
# documents: they are not POCs, whatever style the folder's glob gives. Checked against no
# style guide unless `--style` names one.
LANDING = "(landing page)"


def is_landing_page(path: Path) -> bool:
    return path.stem.lower() in ("index", "_index") and path.suffix.lower() in (".md", ".mdx", ".markdown")


_WORKER_GUIDES: dict[str | None, dict[str, StyleGuide]] = {}


def _worker_chunk(args: tuple[list[tuple[str, str, str]], str | None, bool, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    items, guides_dir, code_checks, overrides = args
    # A worker lives for one run, and the guides cannot change under it: load them once.
    guides = _WORKER_GUIDES.get(guides_dir)
    if guides is None:
        from authorkit.styleguide import load_guides

        guides = _WORKER_GUIDES[guides_dir] = load_guides(Path(guides_dir) if guides_dir else None)
    return [{**r.to_dict(), "_digest": r.digest} for r in check_many(items, guides, code_checks, overrides)]


def run_checks(
    items: list[tuple[str, str, str]],
    guides_dir: Path | None,
    *,
    code_checks: bool = True,
    jobs: int = 0,
    overrides: dict[str, dict[str, Any]] | None = None,
    on_result: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Check (path, rel, style) items, in parallel processes when there is enough work."""
    if not items:
        return []
    from authorkit.styleguide import load_guides

    overrides = overrides or {}
    jobs = jobs or (os.cpu_count() or 1)
    total_bytes = 0
    for p, _, _ in items:
        try:
            total_bytes += os.path.getsize(p)
        except OSError:
            pass
    results: list[FileResult] = []
    if jobs <= 1 or len(items) < 8 or total_bytes < 400_000:
        guides = load_guides(guides_dir)
        # In groups, so memory stays flat and progress moves on a long single-process run.
        for at in range(0, len(items), _CHUNK_DOCS):
            for r in check_many(items[at : at + _CHUNK_DOCS], guides, code_checks, overrides):
                results.append(r)
                if on_result:
                    on_result(r)
        return results
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    load_guides(guides_dir)  # parsed once here; forked workers inherit the cache
    # Imported once here rather than once in every worker: forked workers share these pages.
    import authorkit.rules  # noqa: F401
    if code_checks:
        # The parsers of particular languages (pglast, sqlglot, graphql) are not: each worker
        # imports one when it first meets that language. Importing them here for every
        # language the files hold was measured at 8% more CPU for a cold run, not less.
        import authorkit.codecheck  # noqa: F401
    gc.freeze()  # what exists now is never garbage; workers' collections need not scan it
    # Chunks handed out as workers free up, largest documents first, each a share of what is
    # left (guided scheduling): few chunks, so few fixed costs (a bash run, a Node round trip),
    # and small ones at the end, so the workers finish together. Each worker keeps its Node
    # process across chunks (see codecheck).
    order = sorted(items, key=lambda it: -_size(it[0]))
    chunks: list[list[tuple[str, str, str]]] = []
    at = 0
    while at < len(order):
        n = max(_MIN_CHUNK_DOCS, min(_CHUNK_DOCS, (len(order) - at) // (jobs * 2)))
        chunks.append(order[at : at + n])
        at += n
    ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()
    ex = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init)
    try:
        futures = [ex.submit(_worker_chunk, (c, str(guides_dir) if guides_dir else None, code_checks, overrides)) for c in chunks if c]
        for fut in as_completed(futures):
            for d in fut.result():
                r = FileResult.from_dict(d)
                results.append(r)
                if on_result:
                    on_result(r)
    except BaseException:
        # Ctrl-C or a failed chunk: drop the chunks not started rather than waiting for them.
        ex.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        ex.shutdown(wait=True)
    finally:
        gc.unfreeze()  # a library caller's process collects normally again
    return results


_CHUNK_DOCS = 200
_MIN_CHUNK_DOCS = 4


def _worker_init() -> None:
    # A pool worker leaves through os._exit, which skips atexit; multiprocessing's own
    # finalizers still run on that path (normal shutdown, Ctrl-C, a failed chunk), so the
    # Node process a worker starts ends with it instead of outliving the run.
    from multiprocessing.util import Finalize

    from authorkit import codecheck

    Finalize(None, codecheck.close_node, exitpriority=10)


def _size(p: str) -> int:
    try:
        return os.path.getsize(p)
    except OSError:
        return 0


# --- a whole run: discovery, styles, cache, workers ---------------------------------------


@dataclass
class CheckRun:
    results: list[FileResult]
    missing: list[str]
    cached: int = 0

    def totals(self) -> dict[str, int]:
        t = {"files": len(self.results), "error": 0, "warning": 0, "info": 0}
        for r in self.results:
            for k, v in r.counts().items():
                t[k] += v
        return t

    def worst(self) -> Severity | None:
        sev = [f.severity for r in self.results for f in r.findings]
        return max(sev) if sev else None


def check_paths(
    ws: Any,
    paths: list[str] | None,
    *,
    style: str | None = None,
    code_checks: bool | None = None,
    use_cache: bool | None = None,
    jobs: int | None = None,
    on_result: Callable[[FileResult], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> CheckRun:
    """Check files (or the workspace's content roots) and return every file's result."""
    from authorkit.cache import CheckCache, guides_digest, settings_digest
    from authorkit.discover import discover
    from authorkit.resources import data_dir

    cfg = ws.config
    code_checks = cfg.check.code_checks if code_checks is None else code_checks
    use_cache = cfg.check.cache if use_cache is None else use_cache
    jobs = cfg.check.jobs if jobs is None else jobs
    found = discover(ws, paths)
    overrides = {k: v.model_dump(exclude_none=True) for k, v in cfg.style_overrides.items()}
    settings = settings_digest(ENGINE_VERSION, guides_digest([data_dir("style_guides"), ws.style_guides_dir]), overrides, code_checks)
    cache = CheckCache(ws.root, settings, enabled=use_cache)

    if style and style != "auto":
        from authorkit.styleguide import get_guide, load_guides

        get_guide(style, load_guides(ws.style_guides_dir))  # unknown style: a usage error up front
    else:
        _validate_config_styles(ws)

    results: list[FileResult] = []
    todo: list[tuple[str, str, str]] = []
    stamps: dict[str, tuple[Path, dict[str, Any]]] = {}
    cached = 0
    for p in found.files:
        rel = ws.rel(p)
        st = style or (LANDING if is_landing_page(p) else ws.style_for(p))
        hit, stamp = cache.get(p, f"{settings}:{st}:{rel}")
        if hit is not None:
            r = FileResult.from_dict(hit)
            r.cached = True
            results.append(r)
            cached += 1
            if on_result:
                on_result(r)
            continue
        todo.append((str(p), rel, st))
        stamps[rel] = (p, stamp)
    if on_start:
        on_start(len(todo))
    fresh: list[FileResult] = []

    def arrived(r: FileResult) -> None:
        # Cached as each result arrives, so an interrupted run keeps what it finished.
        fresh.append(r)
        p, stamp = stamps[r.path]
        if not any(f.rule == "file-unreadable" for f in r.findings):
            cache.put(p, stamp, r.to_dict(), r.digest)
        if on_result:
            on_result(r)

    try:
        run_checks(todo, ws.style_guides_dir, code_checks=code_checks, jobs=jobs, overrides=overrides, on_result=arrived)
    except KeyboardInterrupt:
        from authorkit.errors import Interrupted

        cache.save()
        # Counted from the cache itself: Ctrl-C may land between a result's arrival and its entry.
        kept = sum(1 for p, stamp in stamps.values() if cache.holds(p, stamp))
        raise Interrupted(f"interrupted: {cached + kept} of {len(found.files)} files checked; their results are cached") from None
    results.extend(fresh)
    cache.save()
    results.sort(key=lambda r: r.path)
    return CheckRun(results, found.missing, cached)


# Below this score no guide is said to fit a document (style-unknown).
DETECT_MIN_SCORE = 0.2


def guide_for(ws: Any, path: Path, doc: "Document", *, style: str | None = None,
              guides: dict[str, StyleGuide] | None = None) -> tuple[StyleGuide | None, bool]:
    """The guide that judges `path` (its parsed `doc`), as `check` chooses it: an explicit
    style, else the one authorkit.toml maps the path to, else the best-scoring guide when it
    scores at least DETECT_MIN_SCORE. Returns (guide or None, whether it was detected).
    Overrides come with the guides (`workspace_guides`)."""
    from authorkit.rules import detect_style
    from authorkit.styleguide import get_guide, workspace_guides

    guides = workspace_guides(ws) if guides is None else guides
    if style is None and is_landing_page(path):
        return None, False
    name = style or ws.style_for(path)
    if name and name != "auto":
        return get_guide(name, guides), False
    best, score, _ = detect_style(doc, guides)
    if not best or score < DETECT_MIN_SCORE:
        return None, True
    return guides[best], True


def _validate_config_styles(ws: Any) -> None:
    from authorkit.errors import ConfigError
    from authorkit.resources import data_dir

    names = set(ws.config.styles.values()) | {ws.config.default_style}
    names.discard("auto")
    # Guide files are named after their style; only an unusual name needs the guides parsed.
    stems = {p.stem for d in (data_dir("style_guides"), ws.style_guides_dir) if d.is_dir() for p in d.glob("*.y*ml")}
    if not names - stems:
        return
    from authorkit.styleguide import load_guides

    guides = load_guides(ws.style_guides_dir)
    for n in sorted(names):
        if n not in guides:
            line = None
            if ws.config_path:
                text = ws.config_path.read_text(encoding="utf-8")
                line = next((i + 1 for i, ln in enumerate(text.splitlines()) if f'"{n}"' in ln or f"'{n}'" in ln), None)
            raise ConfigError(f"unknown style {n!r} in [styles]", path=ws.config_path, line=line,
                              hint=f"known styles: {', '.join(sorted(guides))}, or 'auto'")

