"""`authorkit convert` and `authorkit batch`: rewriting documents with a model."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from authorkit.cli import app
from authorkit.cli.common import ConfigOption, is_tty, workspace

class Format(str, Enum):
    text = "text"
    json = "json"


batch_app = typer.Typer(help="Follow and collect conversions submitted with `convert --batch`.", no_args_is_help=True)
app.add_typer(batch_app, name="batch")


@app.command()
def convert(
    files: List[Path] = typer.Argument(..., help="Markdown files to rewrite in place."),
    to: str = typer.Option(..., "--to", help="Target style (tutorial, engagement, article, problem, or your own)."),
    concurrency: Optional[int] = typer.Option(None, "--concurrency", min=1, max=64, help="Model calls in flight at once (default: model.concurrency)."),
    provider: str = typer.Option("anthropic", "--provider", "-p", help="anthropic, or another registered provider."),
    model: Optional[str] = typer.Option(None, "--model", help="Override model.name."),
    allow_dirty: bool = typer.Option(False, "--allow-dirty", help="Rewrite files even when they have uncommitted edits (those edits are then only in the rewrite's history)."),
    keep_failed: bool = typer.Option(False, "--keep-failed", help="Write a result that still has errors to <name>.failed.md (never over the source)."),
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Render the prompts, estimate tokens and list the planned calls; call nothing."),
    batch: bool = typer.Option(False, "--batch", help="Submit through the Message Batches API (half price); collect with `authorkit batch collect`."),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="Output format of the per-document report (json: one object at the end)."),
    config: Optional[Path] = ConfigOption,
) -> None:
    """Rewrite documents into another style, keeping their code, numbers and names."""
    from authorkit.providers import require_credentials

    if not dry_run:
        # First, before anything slow: without credentials only the dry run works.
        require_credentials(provider, offline="`authorkit convert FILES --to STYLE --dry-run` shows the prompts and the cost estimate")
    from authorkit import convert as conv
    from authorkit.errors import UsageError
    from authorkit.styleguide import workspace_guide

    ws = workspace(config)
    if batch and dry_run:
        raise UsageError("--batch and --dry-run cannot be combined", hint="use --dry-run alone to see the prompts")
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise UsageError(f"no such file: {missing[0]}", hint="give existing Markdown files")
    guide = workspace_guide(ws, to)
    sources = conv.preflight(ws, [f.resolve() for f in files], allow_dirty or dry_run)

    if dry_run:
        _convert_dry_run(ws, guide, sources, provider, model, concurrency)
        return

    from authorkit.providers import get_provider

    prov = get_provider(provider, ws, model)
    if batch:
        from authorkit import batch as batch_mod

        info = batch_mod.submit(ws, prov, guide, sources)
        print(f"submitted batch {info['batch_id']} with {len(sources)} document(s) to the Message Batches API")
        print("follow it with `authorkit batch status`, write the results with `authorkit batch collect`")
        return
    _convert_run(ws, guide, sources, prov, concurrency, keep_failed, as_json=fmt is Format.json)


def _convert_dry_run(ws, guide, sources, provider: str, model: Optional[str], concurrency: Optional[int]) -> None:
    from authorkit import convert as conv
    from authorkit.costs import describe_estimate, estimate_run, prices_for
    from authorkit.generate import Generator
    from authorkit.providers import price_list

    # No provider: the prompts are rendered and their tokens estimated; nothing is called.
    gen = Generator(ws, None, guide, concurrency=concurrency, reference=_reference(ws), record=False)
    name = model or ws.config.model.name
    prices = prices_for(ws.config.model, name) or price_list(provider, name)
    calls = prefix = task = output = 0
    for i, (path, text) in enumerate(sources):
        job, sections = conv.convert_job(ws, guide, text, ws.rel(path))
        plan = conv.describe_plan(gen, job, guide)
        if i == 0:
            print("=== system prompt (cached) ===")
            print(plan["system"])
            print("=== outline prompt for " + ws.rel(path) + " ===")
            print(plan["outline_prompt"])
        n = plan["calls"]
        calls += n
        prefix += plan["prefix_tokens"] * n
        task += plan.get("task_tokens", plan["outline_task_tokens"]) * n
        # A conversion writes about as much as its source, plus the outline.
        output += plan.get("output_tokens", 0) or (1500 + len(text) // 4)
        blocks = sum(len(s.code_blocks) for s in sections)
        print(f"{ws.shown(path)}: {n} calls planned (1 outline + {n - 1} sections), "
              f"{len(sections)} source sections, {blocks} code blocks, prefix ≈{plan['prefix_tokens']:,} tokens (cached), "
              f"outline task ≈{plan['outline_task_tokens']:,} tokens")
    est = estimate_run(prices, calls=calls, prefix_tokens=prefix // max(1, calls), task_tokens=task // max(1, calls),
                       output_tokens=output, documents=len(sources))
    print(f"provider {provider}, model {name}, {calls} calls: " + describe_estimate(est) + "; no call was made")


def _reference(ws) -> Optional[str]:
    from authorkit.generate import load_reference

    return load_reference(ws)


def _convert_run(ws, guide, sources, prov, concurrency: Optional[int], keep_failed: bool, as_json: bool = False) -> None:
    from authorkit import convert as conv
    from authorkit.costs import add_cost, format_usage
    from authorkit.generate import Generator
    from authorkit.progress import ProgressDisplay
    from authorkit.providers.base import Usage

    docs = [ws.rel(p) for p, _ in sources]
    tty = is_tty()
    display = ProgressDisplay(docs, tty=tty)
    gen = Generator(ws, prov, guide, concurrency=concurrency, reference=_reference(ws), on_event=display.event)
    reports: list[str] = []

    def on_done(o: "conv.FileOutcome") -> None:
        display.document_done(ws.rel(o.path), o.status)
        line = _outcome_line(ws, o)
        if not tty and not as_json:
            print(line, flush=True)
        reports.append(line)

    with display:
        outcomes = conv.convert_files(
            ws, sources, guide, gen, keep_failed=keep_failed, on_done=on_done,
            source_style=lambda p, t: (lambda s: None if s == "auto" else s)(ws.style_for(p)),
        )
    if as_json:
        print(json.dumps([_outcome_dict(ws, o) for o in outcomes], ensure_ascii=False, indent=2))
    elif tty:
        for line in reports:
            print(line)
    total = Usage()
    usd = None
    for o in outcomes:
        if o.result:
            total = total + o.result.usage
            usd = add_cost(usd, o.result.cost_usd)
        if as_json:
            continue
        for f in (o.result.errors if o.result else []):
            print(f"  {f.path}:{f.line}: {f.rule}: {f.message}")
        for note in conv.describe_dropped(o):
            print(f"  {ws.shown(o.path)}: {note}")
    # Every attempt the server answered counts, failed documents and retried calls included.
    rec = gen.runner.recorder
    total, usd = Usage(), None
    for doc in rec.usage:
        u, c, _ = rec.totals(doc)
        total, usd = total + u, add_cost(usd, c)
    print(format_usage(total, usd), file=sys.stderr if as_json else sys.stdout)
    if any(o.status == "error" for o in outcomes):
        raise typer.Exit(2)
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(1)


def _outcome_dict(ws, o) -> dict:
    from authorkit import convert as conv

    r = o.result
    return {
        "path": ws.rel(o.path), "status": o.status, "message": o.message or None,
        "lines_before": o.lines_before, "lines_after": o.lines_after,
        "written": ws.rel(o.written) if o.written else None,
        "rounds": r.rounds if r else None, "calls": r.calls if r else 0, "cost_usd": r.cost_usd if r else None,
        "errors": [f.to_dict() for f in (r.errors if r else [])],
        "notes": list(conv.describe_dropped(o)),
    }


def _outcome_line(ws, o) -> str:
    from authorkit.costs import format_usd

    rel = ws.shown(o.path)
    if o.status == "error":
        return f"✗ {rel}: {o.message}"
    r = o.result
    cost = f", {r.calls} calls, {format_usd(r.cost_usd)}" if r else ""
    if o.status == "failed":
        where = f"; kept as {ws.shown(o.written)}" if o.written else "; rerun with --keep-failed to keep the attempt"
        return f"✗ {rel}: {o.message}{where}{cost}"
    extra = f", {len(o.dropped_code)} code block(s) dropped" if o.dropped_code else ""
    return f"✓ {rel}: converted, {o.lines_before} → {o.lines_after} lines, {r.rounds} repair round(s){extra}{cost}"


# --- batch --------------------------------------------------------------------------------------


@batch_app.command("status")
def batch_status(
    batch_id: Optional[str] = typer.Argument(None, help="Batch id (default: the latest of this session)."),
    provider: str = typer.Option("anthropic", "--provider", "-p", help="anthropic, or another registered provider."),
    config: Optional[Path] = ConfigOption,
) -> None:
    """Show whether a submitted batch has finished."""
    from authorkit.providers import require_credentials

    require_credentials(provider)
    from authorkit import batch as batch_mod
    from authorkit.providers import get_provider

    ws = workspace(config)
    info = batch_mod.find_batch(ws, batch_id)
    status = batch_mod.status(get_provider(provider, ws), info["batch_id"])
    counts = ", ".join(f"{k} {v}" for k, v in status["counts"].items() if v)
    print(f"batch {info['batch_id']}: {status['processing_status']} ({counts or 'no requests'}); {len(info['documents'])} document(s)")


@batch_app.command("collect")
def batch_collect(
    batch_id: Optional[str] = typer.Argument(None, help="Batch id (default: the latest of this session)."),
    retry: bool = typer.Option(False, "--retry", help="Resubmit errored or expired requests as a new batch."),
    keep_failed: bool = typer.Option(False, "--keep-failed", help="Write results that fail the check to <name>.failed.md."),
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Validate the results and say what would be written; write, record and resubmit nothing."),
    provider: str = typer.Option("anthropic", "--provider", "-p", help="anthropic, or another registered provider."),
    config: Optional[Path] = ConfigOption,
) -> None:
    """Validate and write the results of a finished batch."""
    from authorkit.providers import require_credentials

    require_credentials(provider)
    from authorkit import batch as batch_mod
    from authorkit.providers import get_provider

    ws = workspace(config)
    info = batch_mod.find_batch(ws, batch_id)
    prov = get_provider(provider, ws)
    report = batch_mod.collect(ws, prov, info, keep_failed=keep_failed, retry=retry, dry_run=dry_run)
    for line in report.lines:
        print(line)
    if report.exit_code:
        raise typer.Exit(report.exit_code)
