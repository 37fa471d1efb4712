"""The draft pipeline: plan item → text → page on disk → navigation → session record.

    find_item → choose_guide → destination → produce_text → refuse_overwrite → write → nav → record

Each step is a small function usable on its own. `produce_text` is the only place that knows
about providers: `scaffold` renders the style guide's skeleton offline; model-backed providers
plug in there. Everything that can fail (plan lookup, style, navigation parse, overwrite
checks, generation) happens before the first byte is written, so a refused or failed draft
leaves the workspace as it was.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from authorkit.config import Workspace
from authorkit.errors import PlanError, ProviderError, UsageError, WriteRefused
from authorkit.plan import KIND_LABEL, Plan, PlanItem, load_plan
from authorkit.styleguide import StyleGuide

# What works without a model, named in the no-credentials message.
OFFLINE = "`--provider scaffold` writes the style guide's skeleton, and `--dry-run` shows the prompts and the cost estimate"
KIND_ALIASES = {"poc": "poc", "pocs": "poc", "article": "article", "articles": "article", "problem": "problem", "problems": "problem"}
DEFAULT_STYLE = {"article": "article", "problem": "problem"}  # POCs use `draft.style`


@dataclass
class DraftResult:
    item: PlanItem
    path: Path
    rel: str
    text: str
    style: str
    provider: str
    written: bool
    replaced: bool = False
    lines_before: int | None = None
    nav_rel: str | None = None
    nav_entry: str | None = None
    nav_line: int | None = None
    nav_changed: bool = False
    nav_note: str = ""
    errors: int | None = None
    messages: list[str] = field(default_factory=list)


# --- 1. the plan item ------------------------------------------------------------------------


def normalize_kind(kind: str) -> str:
    k = KIND_ALIASES.get(kind.lower().strip())
    if k is None:
        raise UsageError(f"unknown kind {kind!r}", hint="use one of: poc, article, problem")
    return k


def find_item(plan: Plan, kind: str, ref: str) -> PlanItem:
    """`61` / `#61` by number; anything else by fuzzy title match."""
    label = KIND_LABEL[kind]
    r = ref.strip().lstrip("#")
    if r.isdigit():
        n = int(r)
        item = plan.find(kind, n)
        if item is not None:
            return item
        near = plan.nearest(kind, n)
        hint = (f"nearest planned numbers: {', '.join(f'#{x}' for x in near)}" if near
                else f"the plan has no numbered {label}s; give title words instead, e.g. `authorkit draft {kind} \"cache aside\"`")
        raise PlanError(f"{label} #{n} is not in the plan ({', '.join(plan.sources) or 'no plan files'})", hint=hint)
    matches = plan.search(kind, ref)
    if not matches or matches[0][0] < 0.55:
        raise PlanError(f"no {label} in the plan matches {ref!r}",
                        hint="run `authorkit plan --kind " + kind + "` to list the planned items")
    best_score, best = matches[0]
    runner_up = matches[1][0] if len(matches) > 1 else 0.0
    if runner_up >= best_score - 0.02 and runner_up >= 0.55:
        names = "; ".join(f"{m.label} ({m.where})" for s, m in matches[:4] if s >= 0.55)
        raise PlanError(f"{ref!r} matches several {label}s: {names}", hint="use more title words, or the number")
    return best


# --- 2. style and destination ------------------------------------------------------------------


def kind_dir(ws: Workspace, kind: str) -> str:
    d = ws.config.draft
    return {"poc": d.poc_dir, "article": d.article_dir, "problem": d.problem_dir}[kind]


def choose_guide(ws: Workspace, kind: str, dest: Path, style: str | None = None) -> StyleGuide:
    from authorkit.styleguide import workspace_guide

    name = style or ws.style_for(dest)
    if name == "auto":
        name = ws.config.draft.style if kind == "poc" else DEFAULT_STYLE[kind]
    return workspace_guide(ws, name)


def nav_file_for(ws: Workspace, folder: Path) -> Path | None:
    """The navigation file that lists the pages of `folder`."""
    for rel in ws.config.navigation.files:
        p = ws.path(rel)
        if p.parent == folder.resolve():
            return p
    for name in ("_meta.js", "_meta.ts", "_meta.json"):
        if (folder / name).is_file():
            return folder / name
    return None


def _page_suffix(folder: Path) -> str:
    if not folder.is_dir():
        return ".md"
    mdx = sum(1 for _ in folder.glob("*.mdx"))
    md = sum(1 for _ in folder.glob("*.md"))
    return ".mdx" if mdx > md else ".md"


def destination(ws: Workspace, item: PlanItem, nav: Any | None) -> tuple[Path, str]:
    """(page path, slug). A nav entry already numbered for the item names the slug."""
    from authorkit.nav import child_path, slugify, unique_slug

    folder = ws.path(kind_dir(ws, item.kind))
    category = item.extra.get("Category", "")
    if item.kind == "problem" and category.endswith("/") and category.strip("/").replace("-", "").isalnum():
        folder = folder / category.strip("/")  # `| Hot Partition Problem | scalability/ |`
    suffix = _page_suffix(folder)
    if nav is not None and item.number is not None:
        entry = nav.find_number(item.number)
        if entry is not None:  # a key such as `../x` is refused, not followed
            return child_path(folder, entry.key, ws.root, suffix), entry.key
    base = slugify(item.title) if item.title else f"{item.kind}-{item.number}"
    for existing in (folder / f"{base}.md", folder / f"{base}.mdx"):
        if existing.is_file() and _declares(existing, item):
            return existing, base  # the page for this item exists: the overwrite rules decide
    taken = set(nav.keys) if nav is not None else set()
    if folder.is_dir():
        taken |= {p.stem for p in folder.iterdir() if p.suffix in (".md", ".mdx") or p.is_dir()}
    slug = unique_slug(base, taken)
    return child_path(folder, slug, ws.root, suffix), slug


def existing_page(ws: Workspace, item: PlanItem) -> tuple[Any, str] | None:
    """The page that already exists for this item (by number, H1 title, navigation label or
    file name), and how it was found."""
    from authorkit.plan import PageIndex

    return PageIndex.build(ws).find(item)


def _declares(path: Path, item: PlanItem) -> bool:
    """Whether an existing page is this item's (its title names the number, or no number)."""
    if item.number is None:
        return True
    from authorkit.plan import title_number

    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:4000]
    except OSError:
        return False
    n = title_number(head)
    return n is None or n == item.number


# --- 3. text ----------------------------------------------------------------------------------


def default_provider(ws: Workspace, dry_run: bool = False) -> str:
    """`draft.provider` from the config, else anthropic when credentials are present (or for
    a dry run, which calls nothing)."""
    from authorkit.providers import missing_credentials

    configured = getattr(ws.config.draft, "provider", None)
    if configured:
        return configured
    if dry_run or os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_BASE_URL"):
        return "anthropic"
    raise missing_credentials(OFFLINE)


def check_provider(provider: str, dry_run: bool) -> None:
    """A registered provider (built-in or plugin), with its credentials unless dry-running."""
    from authorkit.providers import is_known, names, require_credentials

    if not is_known(provider):
        raise UsageError(f"unknown provider {provider!r}", hint=f"use one of: {', '.join(names())}")
    if not dry_run:
        require_credentials(provider, OFFLINE)


def produce_text(provider: str, item: PlanItem, guide: StyleGuide, ws: Workspace, context: dict[str, Any], *,
                 model: str | None = None, dest: Path | None = None, dry_run: bool = False,
                 out: Callable[[str], None] = print) -> str:
    """The document text for `item` from `provider`. The single place providers are chosen."""
    if provider == "scaffold":
        from authorkit.scaffold import render_scaffold

        return render_scaffold(item, guide, ws, context)
    check_provider(provider, dry_run)
    # Model-backed: outline, sections in parallel, check, repair (see generate.py).
    from authorkit.generate import draft_with_model

    rel = ws.rel(dest) if dest is not None else f"{item.kind}-{item.number}.md"
    result = draft_with_model(ws, provider, guide, context, rel, model=model, dry_run=dry_run, out=out)
    return result.text if result is not None else ""


# --- 4. safety --------------------------------------------------------------------------------


def uncommitted_reason(path: Path) -> str | None:
    """Why git could not restore `path` if we replaced it (None when it could, or no git)."""
    from authorkit.gitops import uncommitted_reason as reason

    return reason(path)


def refuse_overwrite(ws: Workspace, path: Path, force: bool) -> None:
    if not path.exists():
        return
    rel = ws.rel(path)
    if not force:
        raise WriteRefused("the page already exists", path=rel,
                           hint="use --force to replace it (refused anyway while it has uncommitted edits)")
    reason = uncommitted_reason(path)
    if reason:
        raise WriteRefused(f"will not replace this page: {reason}", path=rel,
                           hint="commit or stash your edits first; --force never overwrites uncommitted work")


# --- 5. the whole pipeline ---------------------------------------------------------------------


def draft(ws: Workspace, kind: str, ref: str, *, provider: str | None = None, model: str | None = None,
          dry_run: bool = False, force: bool = False, style: str | None = None,
          out: Callable[[str], None] = print, plan: Plan | None = None, keep_failed: bool = False) -> DraftResult:
    from authorkit.check import check_text
    from authorkit.findings import Severity
    from authorkit.nav import plan_insert, read_nav
    from authorkit.session import record, record_write
    from authorkit.textio import atomic_write_text, line_count

    kind = normalize_kind(kind)
    provider = provider or default_provider(ws, dry_run)
    check_provider(provider, dry_run)
    plan = plan or load_plan(ws)
    item = find_item(plan, kind, ref)

    folder = ws.path(kind_dir(ws, item.kind))
    nav_path = nav_file_for(ws, folder) if ws.config.navigation.update else None
    nav = read_nav(nav_path, ws.rel(nav_path), root=ws.root) if nav_path is not None else None  # refuses unsafe files up front
    path, slug = destination(ws, item, nav)
    existing = existing_page(ws, item)
    if existing is not None and existing[0].path.resolve() != path.resolve():
        page, how = existing
        if not force:
            # Another file name for the same page would be a second page and a second
            # navigation entry: the existing page is named instead.
            found = {"title": f"its title “{page.title}”", "nav": "its navigation label", "slug": "its file name"}.get(how, how)
            raise WriteRefused(f"{item.label} already exists (found by {found}); no second page is drafted", path=page.rel,
                               hint=f"edit {page.rel}, or add --force to draft over that page")
        path, slug = page.path, page.path.stem
    if nav_path is None and path.parent != folder:
        nav_path = nav_file_for(ws, path.parent) if ws.config.navigation.update else None
        nav = read_nav(nav_path, ws.rel(nav_path), root=ws.root) if nav_path is not None else None
    guide = choose_guide(ws, item.kind, path, style)
    rel = ws.rel(path)
    if not dry_run:
        refuse_overwrite(ws, path, force)

    context = plan.context(item)
    text = produce_text(provider, item, guide, ws, context, model=model, dest=path, dry_run=dry_run, out=out)
    errors = sum(1 for f in check_text(text, guide, rel) if f.severity == Severity.ERROR)

    result = DraftResult(item, path, rel, text, guide.name, provider, written=False)
    insertion = None
    group = None
    if nav is not None:
        if item.series and item.series_range:
            group = (item.series, item.series_range[0], item.series_range[1])
        insertion = plan_insert(nav, slug, item.title or slug, item.number, group)
        result.nav_rel = ws.rel(nav_path)  # type: ignore[arg-type]
        result.nav_changed = insertion.changed
        result.nav_entry = insertion.entry
        result.nav_line = insertion.line
        result.nav_note = insertion.reason

    if dry_run:
        out(f"would draft {item.label} ({item.where}) with the {provider} provider")
        if text:
            out(f"would write {ws.shown(rel)} ({line_count(text)} lines, {guide.name} style, {errors} check errors)")
        else:
            out(f"would write {ws.shown(rel)} ({guide.name} style) once it passes `check`")
        if insertion is not None and insertion.changed:
            out(f"would add to {ws.shown(result.nav_rel)}:{insertion.line}: {insertion.entry}")
        elif insertion is not None:
            out(f"{ws.shown(result.nav_rel)}: unchanged ({insertion.reason})")
        return result

    if errors and provider != "scaffold":
        # A model draft that still fails the check never replaces the target; with
        # --keep-failed it is kept beside it for inspection, and navigation is left alone.
        failed = path.with_name(path.stem + ".failed" + path.suffix)
        if keep_failed:
            atomic_write_text(failed, text, root=ws.root)
            record_write(ws, failed, action="failed-draft", before=None, after=text, title=item.label, style=guide.name, errors=errors)
            out(f"{errors} check errors remain after repair; kept the draft as {ws.shown(failed)} ({ws.shown(rel)} untouched)")
        else:
            out(f"{errors} check errors remain after repair; nothing was written (use --keep-failed to keep it as {ws.shown(failed)})")
        result.errors = errors
        result.path, result.rel = failed, ws.rel(failed)
        result.written = keep_failed
        return result

    # Page, navigation entry and record are one unit. Under the navigation lock the entry is
    # recomputed from the file as it is now (a concurrent draft may have added one); an
    # interrupt or a failure before the record is written undoes the page and the entry.
    from contextlib import nullcontext

    from authorkit.nav import Unit, deferred_interrupts, locked
    from authorkit.plan import _h1

    unit = Unit()
    with locked(nav_path, result.nav_rel) if insertion is not None else nullcontext(), deferred_interrupts() as pending:
        try:
            if insertion is not None:
                nav = read_nav(nav_path, result.nav_rel, root=ws.root)  # type: ignore[arg-type]
                insertion = plan_insert(nav, slug, item.title or slug, item.number, group)
                result.nav_changed, result.nav_entry = insertion.changed, insertion.entry
                result.nav_line, result.nav_note = insertion.line, insertion.reason
            before = path.read_text(encoding="utf-8", errors="replace") if path.exists() else None
            result.replaced = before is not None
            result.lines_before = line_count(before) if before is not None else None
            unit.write(path, text, rel)
            nav_written = insertion is not None and insertion.changed
            if nav_written:
                unit.write(nav_path, insertion.text, result.nav_rel, root=ws.root, nav=True)  # type: ignore[union-attr,arg-type]
            if pending:
                raise KeyboardInterrupt()
            title = _h1(text) or (f"{KIND_LABEL[item.kind]}" + (f" #{item.number}" if item.number is not None else "") + f": {item.title or slug}")
            if record(ws, "draft", item_kind=item.kind, number=item.number, title=item.title, provider=provider,
                      model=model or (provider if provider == "scaffold" else ws.config.model.name),
                      path=rel, style=guide.name, plan_source=item.source, plan_line=item.line) is None:
                raise WriteRefused("cannot write the session record", path=ws.rel(ws.sessions_dir),
                                   hint="make the sessions folder writable; `commit` finds drafted pages through it")
        except BaseException as exc:
            unit.abort(exc, "drafted")
        result.written = True
        result.errors = errors
        record_write(ws, path, action="drafted", before=before, after=text, title=title, style=guide.name, errors=errors)
        if nav_written:
            record_write(ws, nav_path, action="navigation", before=nav.text, after=insertion.text,  # type: ignore[union-attr,arg-type]
                         title=f"navigation: {slug}")

    out(f"{'replaced' if before is not None else 'wrote'} {ws.shown(rel)} ({line_count(text)} lines, {guide.name} style) "
        f"for {item.label}")
    if nav_written:
        where = f" in group “{insertion.group}”" if insertion.group else ""  # type: ignore[union-attr]
        out(f"added {insertion.entry} to {ws.shown(result.nav_rel)}:{insertion.line}{where}")  # type: ignore[union-attr]
    elif insertion is not None:
        out(f"{ws.shown(result.nav_rel)} already lists {slug}")
    else:
        out("no navigation file for this folder; nothing else changed")
    if errors:
        out(f"{errors} check errors remain (the scaffold's TODOs): run `authorkit check {ws.shown(rel)}`"
            if provider == "scaffold" else f"{errors} check errors remain: run `authorkit check {rel}`")
    return result
