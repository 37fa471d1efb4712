"""`authorkit check` and `authorkit fix`."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from authorkit.cli import app
from authorkit.cli.common import ConfigOption, color_enabled, is_tty, live_display, workspace


class Format(str, Enum):
    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"


class Level(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"


@app.command()
def check(
    paths: Optional[List[str]] = typer.Argument(None, help="Files, directories or globs (default: the content roots in authorkit.toml)."),
    style: Optional[str] = typer.Option(None, "--style", "-s", help="Style guide to check against, or 'auto' to detect (default: from authorkit.toml [styles], else auto)."),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="Output format."),
    fail_on: Optional[Level] = typer.Option(None, "--fail-on", help="Exit 1 when a finding is at or above this severity (default: error, or [check] fail_on)."),
    explain_: bool = typer.Option(False, "--explain", help="Show how each style scores the given file(s) and which headings matched which sections."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Ignore and do not update the result cache."),
    no_code: bool = typer.Option(False, "--no-code", help="Skip the syntax checks of code blocks."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=0, help="Worker processes (0 = one per core)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Text format: show errors only."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Text format: list clean files too, and code blocks skipped by language."),
    config: Optional[Path] = ConfigOption,
) -> None:
    """Check documents' structure, length and content against their style guides.

    Exit 0 when clean, 1 when a finding is at or above --fail-on, 2 on bad usage or config.
    """
    from authorkit.errors import ExitCode
    from authorkit.findings import Severity

    ws = workspace(config)
    if explain_:
        _explain(ws, paths or [], fmt)
        return
    from authorkit.check import check_paths
    from authorkit.report import render

    with _Progress() as progress:
        run = check_paths(ws, paths, style=style, code_checks=False if no_code else None, use_cache=False if no_cache else None,
                          jobs=jobs, on_start=progress.start, on_result=progress.advance)
    if not run.results and run.missing:
        from authorkit.errors import UsageError

        raise UsageError(f"nothing to check: {', '.join(run.missing)} matched no file", hint="give Markdown files, directories or quoted globs")
    min_sev = Severity.ERROR if quiet else Severity.INFO
    tty = is_tty()
    text = render(run, fmt.value, color=color_enabled(sys.stdout) and fmt is Format.text, pretty=tty, min_severity=min_sev, verbose=verbose,
                  show_path=ws.shown)
    if text:
        print(text)
    if verbose and fmt is Format.text:
        _print_code_stats(run)
    from authorkit.session import record

    if ws.config_path is not None:
        t = run.totals()
        record(ws, "check", paths=paths or [], files=t["files"], errors=t["error"], warnings=t["warning"],
               failing=[r.path for r in run.results if r.counts()["error"]])
    threshold = Severity.parse((fail_on.value if fail_on else ws.config.check.fail_on))
    worst = run.worst()
    if worst is not None and worst >= threshold:
        raise typer.Exit(ExitCode.FINDINGS)


class _Progress:
    """Progress on stderr for long runs on a terminal: a bar where colour is allowed, a plain
    line rewritten in place (no escape codes) under NO_COLOR or --color never."""

    MIN_FILES = 50

    def __init__(self) -> None:
        self.enabled = is_tty(sys.stderr)
        self.bar = None
        self.task = None
        self.total = 0
        self.done = 0

    def __enter__(self) -> "_Progress":
        return self

    def start(self, total: int) -> None:
        if not self.enabled or total < self.MIN_FILES:
            self.enabled = False
            return
        self.total = total
        if not live_display(sys.stderr):
            self._plain()
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("checking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=Console(stderr=True), transient=True)
        self.bar.start()
        self.task = self.bar.add_task("check", total=total)

    def _plain(self) -> None:
        sys.stderr.write(f"\rchecking: {self.done}/{self.total} files")
        sys.stderr.flush()

    def advance(self, result: object) -> None:
        if not self.enabled or getattr(result, "cached", False):
            return
        self.done += 1
        if self.bar is not None:
            self.bar.advance(self.task)
        else:
            self._plain()

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
        elif self.enabled:
            sys.stderr.write("\r" + " " * (30 + 2 * len(str(self.total))) + "\r")
            sys.stderr.flush()


def _print_code_stats(run) -> None:
    from authorkit.codecheck import CodeStats

    with_code = [r for r in run.results if r.code]
    if not with_code:
        return
    stats = CodeStats.merge([r.code for r in with_code])
    print(f"code blocks: {stats}", file=sys.stderr)
    for line in stats.skipped_lines([r.path for r in with_code]):
        print(f"  {line}", file=sys.stderr)


def _explain(ws, paths: list[str], fmt: Format) -> None:
    from authorkit.check import explain
    from authorkit.discover import discover
    from authorkit.document import parse
    from authorkit.errors import UsageError
    from authorkit.styleguide import load_guides
    from authorkit.textio import read_document

    found = discover(ws, paths)
    if not found.files:
        raise UsageError("--explain needs a file to explain", hint="authorkit check --explain path/to/doc.md")
    guides = load_guides(ws.style_guides_dir)
    report = []
    for p in found.files:
        res = read_document(p)
        doc = parse(res.text or "")
        report.append({"path": ws.rel(p), "configured_style": ws.style_for(p), "scores": explain(doc, guides)})
    if fmt is Format.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for item in report:
        print(f"{item['path']}  (configured: {item['configured_style']})")
        w = max(12, *(len(s["style"]) for s in item["scores"]))
        for s in item["scores"]:
            print(f"  {s['style']:<{w}} score {s['score']:.2f}   matched {len(s['matched'])}, missing {len(s['missing'])}, forbidden {len(s['forbidden'])}")
        best = item["scores"][0]
        print(f"\n  best: {best['style']}")
        for m in best["matched"]:
            print(f"    line {m['line']:>5}  {m['section']:<20} ← “{m['heading']}” ({m['score']:.2f})")
        for u in best["unmatched_headings"]:
            print(f"    line {u['line']:>5}  {'(no section)':<20}   “{u['heading']}”")
        if best["missing"]:
            print(f"    missing: {', '.join(best['missing'])}")
        if best["forbidden"]:
            print(f"    forbidden: {', '.join(best['forbidden'])}")
        print()


@app.command()
def fix(
    paths: Optional[List[str]] = typer.Argument(None, help="Files, directories or globs (default: the content roots)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; write nothing."),
    allow_dirty: bool = typer.Option(False, "--allow-dirty", help="Also fix files with uncommitted edits (or untracked or ignored by git)."),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="Read the files in this encoding (e.g. cp1252) and write them as UTF-8; without it a file that is not UTF-8 is refused."),
    config: Optional[Path] = ConfigOption,
) -> None:
    """Apply safe mechanical fixes: mojibake, trailing whitespace, CRLF line endings, a missing
    final newline. Each file is rewritten atomically.

    Exit 0 when everything is fixed or clean; 1 when a file was refused (uncommitted edits, a
    symlink out of the workspace, not a regular file, too large) or a line needs a human; 2 when
    a file is not valid UTF-8 (or not valid in --encoding)."""
    from authorkit.fix_files import run_fix

    code = run_fix(workspace(config), paths, dry_run=dry_run, allow_dirty=allow_dirty, encoding=encoding)
    if code:
        raise typer.Exit(code)
