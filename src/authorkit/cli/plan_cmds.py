"""`authorkit init`, `authorkit plan` / `plan show N`, and `authorkit draft`."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer

from authorkit.cli import app
from authorkit.cli.common import ConfigOption, workspace


class PlanFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


class Kind(str, Enum):
    poc = "poc"
    article = "article"
    problem = "problem"


@app.command()
def init(
    directory: Path = typer.Argument(Path("."), help="The site's root directory."),
    force: bool = typer.Option(False, "--force", help="Replace an existing authorkit.toml."),
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Print the config instead of writing it."),
    templates: bool = typer.Option(False, "--templates", help="Also copy the built-in style guides and prompts into style_guides/ and prompts/ to customise."),
    learn: bool = typer.Option(False, "--learn", help="For a folder no style fits but whose documents share a shape, learn a style guide from them (style_guides/NAME.yaml) and map the folder to it."),
    claude_code: bool = typer.Option(False, "--claude-code", help="Also add authorkit's hooks to .claude/settings.json and its MCP server to .mcp.json, merged with what they hold (an existing authorkit.toml is then kept)."),
) -> None:
    """Detect the site's layout and write a commented authorkit.toml."""
    from authorkit.errors import UsageError
    from authorkit.initialize import init_workspace

    if not directory.is_dir():
        raise UsageError(f"not a directory: {directory}", hint="run `authorkit init` at the root of your site")
    if claude_code:
        from authorkit.cli.claude_cmds import plan_claude_code, setup_claude_code

        claude = plan_claude_code(directory)  # a broken settings file refuses before anything is written
        if (directory / "authorkit.toml").exists() and not force:
            setup_claude_code(claude, dry_run=dry_run)
            return
    res = init_workspace(directory, force=force, dry_run=dry_run, learn=learn)
    for note in res.notes:
        print(f"  {note}")
    if dry_run:
        print(res.text, end="")
        if claude_code:
            setup_claude_code(claude, dry_run=True)
        return
    for name, path, _, _ in (res.survey.learned if res.survey else []):
        print(f"wrote {path} (learned style `{name}`; edit it freely)")
    print(f"{'replaced' if res.replaced else 'wrote'} {res.path}")
    if templates:
        from authorkit.initialize import copy_templates

        copied, kept = copy_templates(directory.resolve(), force=force)
        print(f"copied {len(copied)} template(s) to customise: {', '.join(copied) or 'none'}")
        if kept:
            print(f"kept your existing {', '.join(kept)} (use --force to replace them)")
    if claude_code:
        setup_claude_code(claude, dry_run=False)
    print("next: `authorkit plan` to see planned items against your pages, `authorkit check` to check them")


@app.command()
def plan(
    action: Optional[str] = typer.Argument(None, help="`show` to print one item with its context."),
    ref: Optional[str] = typer.Argument(None, help="With `show`: the item's number or title words."),
    kind: Optional[Kind] = typer.Option(None, "--kind", "-k", help="Only this kind of item."),
    pending: bool = typer.Option(False, "--pending", help="Only items not yet written or failing their style."),
    group: Optional[str] = typer.Option(None, "--group", "-g", help="Only groups whose path contains this text (e.g. 'Day 6')."),
    fmt: PlanFormat = typer.Option(PlanFormat.text, "--format", "-f", help="Output format."),
    no_check: bool = typer.Option(False, "--no-check", help="Do not run the style check on the pages found."),
    config: Optional[Path] = ConfigOption,
) -> None:
    """Planned items against existing content: found, passing its style, failing, missing.

    `authorkit plan show 61` prints one item with what a generator is told about it.
    """
    from authorkit.errors import UsageError
    from authorkit.plan import load_plan

    ws = workspace(config)
    if action not in (None, "show"):
        raise UsageError(f"unknown plan action {action!r}", hint="use `authorkit plan` or `authorkit plan show N`")
    the_plan = load_plan(ws)
    if action == "show":
        if not ref:
            raise UsageError("`plan show` needs an item: a number or title words", hint="e.g. `authorkit plan show 61`")
        _show(ws, the_plan, (kind.value if kind else "poc"), ref, fmt)
        return
    if ref is not None:
        raise UsageError(f"unexpected argument {ref!r}", hint="filters are options: --kind, --pending, --group")
    _table(ws, the_plan, kind.value if kind else None, pending, group, fmt, not no_check)


def _show(ws: Any, the_plan: Any, kind: str, ref: str, fmt: PlanFormat) -> None:
    from authorkit.draft import destination, find_item, kind_dir, nav_file_for
    from authorkit.errors import AuthorkitError
    from authorkit.nav import read_nav
    from authorkit.plan import plan_status

    item = find_item(the_plan, kind, ref)
    ctx = the_plan.context(item)
    status = next((s for s in plan_status(ws, _single(the_plan, item), check=True)), None)
    try:
        folder = ws.path(kind_dir(ws, item.kind))
        nav_path = nav_file_for(ws, folder)
        nav = read_nav(nav_path, ws.rel(nav_path), root=ws.root) if nav_path else None
        dest = ws.rel(destination(ws, item, nav)[0])
    except AuthorkitError as exc:
        dest = f"(unknown: {exc.message})"
    ctx["content"] = status.to_dict() if status else None
    ctx["draft_path"] = status.path if status and status.path else dest
    if fmt is PlanFormat.json:
        print(json.dumps(ctx, ensure_ascii=False, indent=2))
        return
    print(item.label)
    print(f"  plan:      {ctx['plan']} ({item.where})")
    for key in ("group", "theme", "tier", "series"):
        if ctx.get(key):
            print(f"  {key + ':':<10} {ctx[key]}")
    if item.status:
        print(f"  {'status:':<10} {item.status} (in the plan)")
    for k, v in item.extra.items():
        print(f"  {k}: {v}")
    if status is not None:
        print(f"  {'content:':<10} {_state_text(status)}" + (f" — {status.path} (by {status.found_by})" if status.path else ""))
    if not (status and status.path):
        print(f"  {'draft to:':<10} {dest}")
    if ctx["siblings"]:
        print("  siblings:")
        for s in ctx["siblings"]:
            print(f"    - {s}")
    if ctx["related"]:
        print("  related:")
        for s in ctx["related"]:
            print(f"    - {s}")
    if ctx["criteria"]:
        print(f"  the plan's success criteria for {item.kind}s:")
        for c in ctx["criteria"]:
            print(f"    - {c}")


def _single(the_plan: Any, item: Any) -> Any:
    from authorkit.plan import Plan

    return Plan(items=[item], sources=the_plan.sources, titles=the_plan.titles)


def _state_text(s: Any) -> str:
    if s.state == "fails":
        return f"fails ({s.errors} error{'s' * (s.errors != 1)})"
    if s.state == "found":
        return "found (not checked)"
    return s.state


def _table(ws: Any, the_plan: Any, kind: str | None, pending: bool, group: str | None, fmt: PlanFormat, check: bool) -> None:
    from authorkit.plan import group_totals, plan_status, snapshot

    statuses = plan_status(ws, the_plan, check=check)
    if ws.config_path is not None and not (kind or pending or group):
        from authorkit.session import record

        record(ws, "plan_snapshot", groups=snapshot(statuses))
    shown = [s for s in statuses
             if (kind is None or s.item.kind == kind)
             and (not pending or s.state in ("missing", "fails"))
             and _in_group(group, s.item.group_path)]
    # Totals describe the filtered selection, but --pending would make every total 0%.
    basis = [s for s in statuses if (kind is None or s.item.kind == kind) and _in_group(group, s.item.group_path)]
    groups = group_totals(basis)
    shown_groups = {s.item.group_path or "(no group)" for s in shown}
    groups = [g for g in groups if g.group in shown_groups]
    totals = _totals(basis)
    if fmt is PlanFormat.json:
        print(json.dumps({
            "plans": the_plan.sources,
            "items": [s.to_dict() for s in shown],
            "groups": [g.to_dict() for g in groups],
            "totals": totals,
            "warnings": [str(w) for w in the_plan.warnings],
            "conflicts": [str(c) for c in the_plan.conflicts],
        }, ensure_ascii=False, indent=2))
        return
    if fmt is PlanFormat.markdown:
        print(_markdown(shown, groups, totals, the_plan))
        return
    print(_text(shown, groups, totals, the_plan))


def _in_group(query: str | None, path: str) -> bool:
    """Case-insensitive substring match; `Day 1` does not match `Day 10`."""
    if not query:
        return True
    import re

    return re.search(re.escape(query.strip()) + (r"(?!\d)" if query.strip()[-1:].isdigit() else ""), path, re.I) is not None


def _totals(statuses: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in ("poc", "article", "problem"):
        sel = [s for s in statuses if s.item.kind == k]
        if sel:
            found = sum(1 for s in sel if s.state != "missing")
            out[k] = {"total": len(sel), "found": found, "passing": sum(1 for s in sel if s.state == "passes"),
                      "failing": sum(1 for s in sel if s.state == "fails"), "percent": round(100.0 * found / len(sel), 1)}
    n = len(statuses)
    found = sum(1 for s in statuses if s.state != "missing")
    out["all"] = {"total": n, "found": found, "passing": sum(1 for s in statuses if s.state == "passes"),
                  "failing": sum(1 for s in statuses if s.state == "fails"), "percent": round(100.0 * found / n, 1) if n else 0.0}
    return out


def _item_name(item: Any) -> str:
    from authorkit.plan import KIND_LABEL

    head = KIND_LABEL[item.kind] + (f" #{item.number}" if item.number is not None else "")
    return head


def _text(shown: list[Any], groups: list[Any], totals: dict[str, Any], the_plan: Any) -> str:
    lines: list[str] = []
    by_group: dict[str, list[Any]] = {}
    for s in shown:
        by_group.setdefault(s.item.group_path or "(no group)", []).append(s)
    gt = {g.group: g for g in groups}
    order = {src: i for i, src in enumerate(the_plan.sources)}
    # Groups in the order the plan lists them (an item's first mention may be in a summary table).
    for name, items in sorted(by_group.items(), key=lambda kv: min((order.get(s.item.source, 0), s.item.line) for s in kv[1])):
        g = gt.get(name)
        head = f"{name}" + (f"  [{g.found}/{g.total} written, {g.percent:.0f}%, {g.passing} passing]" if g else "")
        lines.append(head)
        for s in items:
            title = s.item.title or (f"(untitled; {s.item.series})" if s.item.series else "(untitled)")
            if len(title) > 48:
                title = title[:47] + "…"
            state = _state_text(s)
            lines.append(f"  {_item_name(s.item):<10} {title:<48} {state:<18} {s.path or ''}".rstrip())
        lines.append("")
    if not shown:
        lines.append("no planned items match")
        lines.append("")
    kinds = {"poc": "POCs", "article": "articles", "problem": "problems"}
    parts = [f"{kinds[k]} {v['found']}/{v['total']} ({v['percent']:.0f}%)" for k, v in totals.items() if k in kinds]
    a = totals["all"]
    lines.append(f"total: {a['found']}/{a['total']} written ({a['percent']:.0f}%), {a['passing']} passing, {a['failing']} failing"
                 + (" · " + " · ".join(parts) if parts else ""))
    for w in the_plan.warnings:
        lines.append(f"warning: {w}")
    for c in the_plan.conflicts:
        lines.append(f"conflict: {c}")
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _markdown(shown: list[Any], groups: list[Any], totals: dict[str, Any], the_plan: Any) -> str:
    out = ["## Progress", "", "| Group | Written | Passing | Total | % |", "|---|---|---|---|---|"]
    for g in groups:
        out.append(f"| {_md(g.group)} | {g.found} | {g.passing} | {g.total} | {g.percent:.0f}% |")
    a = totals["all"]
    out.append(f"| **Total** | **{a['found']}** | **{a['passing']}** | **{a['total']}** | **{a['percent']:.0f}%** |")
    out += ["", "## Items", "", "| Item | Title | Group | Status | Page |", "|---|---|---|---|---|"]
    mark = {"passes": "✅ passes", "found": "✅ found", "fails": "❌ fails", "missing": "⏳ missing"}
    for s in shown:
        st = mark[s.state] + (f" ({s.errors} errors)" if s.state == "fails" else "")
        out.append(f"| {_item_name(s.item)} | {_md(s.item.title or '')} | {_md(s.item.group_path)} | {st} | {s.path or ''} |")
    if the_plan.warnings or the_plan.conflicts:
        out += ["", "## Could not read", ""]
        out += [f"- {_md(str(w))}" for w in the_plan.warnings]
        out += [f"- conflict: {_md(str(c))}" for c in the_plan.conflicts]
    return "\n".join(out)


@app.command()
def draft(
    kind: str = typer.Argument(..., help="poc, article or problem."),
    ref: str = typer.Argument(..., help="The plan item: its number (61) or title words (\"cache aside\")."),
    provider: Optional[str] = typer.Option(None, "--provider", "-p", help="anthropic or scaffold (default: [draft] provider, else anthropic when ANTHROPIC_API_KEY/ANTHROPIC_BASE_URL is set)."),
    model: Optional[str] = typer.Option(None, "--model", help="Model name (overrides [model] name)."),
    style: Optional[str] = typer.Option(None, "--style", "-s", help="Style guide (default: from [styles] for the destination)."),
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Show what would be written; write nothing."),
    force: bool = typer.Option(False, "--force", help="Replace an existing page (never one with uncommitted edits)."),
    keep_failed: bool = typer.Option(False, "--keep-failed", help="Keep a model draft that still fails `check` as <slug>.failed.md (never over the target)."),
    config: Optional[Path] = ConfigOption,
) -> None:
    """Draft a planned item into its page, update navigation, record the session."""
    from authorkit.draft import draft as run_draft

    ws = workspace(config)
    res = run_draft(ws, kind, ref, provider=provider, model=model, dry_run=dry_run, force=force, style=style, keep_failed=keep_failed)
    if res.provider != "scaffold" and not dry_run and res.errors:
        raise typer.Exit(1)
    if dry_run and res.provider == "scaffold":
        print("---")
        print(res.text, end="")
