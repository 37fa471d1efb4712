"""`authorkit init`, `authorkit plan` / `plan show N`, and `authorkit draft`."""

from __future__ import annotations

import json
import sys
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
    from authorkit.plan_report import item_report  # the drafting stack: not for every command's start-up

    ctx, text = item_report(ws, the_plan, kind, ref)
    if fmt is PlanFormat.json:
        print(json.dumps(ctx, ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(text)


def _table(ws: Any, the_plan: Any, kind: str | None, pending: bool, group: str | None, fmt: PlanFormat, check: bool) -> None:
    from authorkit.plan import group_totals, plan_status, snapshot
    from authorkit.plan_report import in_group, progress_markdown, progress_text, totals as count_totals

    statuses = plan_status(ws, the_plan, check=check)
    if ws.config_path is not None and not (kind or pending or group):
        from authorkit.session import record

        record(ws, "plan_snapshot", groups=snapshot(statuses))
    shown = [s for s in statuses
             if (kind is None or s.item.kind == kind)
             and (not pending or s.state in ("missing", "fails"))
             and in_group(group, s.item.group_path)]
    # Totals describe the filtered selection, but --pending would make every total 0%.
    basis = [s for s in statuses if (kind is None or s.item.kind == kind) and in_group(group, s.item.group_path)]
    groups = group_totals(basis)
    shown_groups = {s.item.group_path or "(no group)" for s in shown}
    groups = [g for g in groups if g.group in shown_groups]
    totals = count_totals(basis)
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
        print(progress_markdown(shown, groups, totals, the_plan))
        return
    print(progress_text(shown, groups, totals, the_plan))


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
