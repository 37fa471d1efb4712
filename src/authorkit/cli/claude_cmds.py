"""`authorkit hook` and `authorkit mcp`: authorkit inside Claude Code sessions."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from authorkit.cli import app
from authorkit.cli.common import ConfigOption


@app.command()
def hook() -> None:
    """Answer a Claude Code hook event (JSON on stdin): check the document just written.

    PostToolUse after Write/Edit/MultiEdit of a checked document: `{"decision": "block"}` with
    the errors when it fails its style, nothing when it passes. Stop: block stopping while
    documents written in the session fail (at most [hooks] max_stop_blocks times in a row).
    Always exits 0; problems go to stderr. `authorkit init --claude-code` installs it.
    """
    from authorkit.hook import run

    raise typer.Exit(run())


@app.command()
def mcp(config: Optional[Path] = ConfigOption) -> None:
    """Serve the plan, style guides, check, scaffold and navigation to Claude Code (MCP over stdio).

    Tools: plan_item, plan_progress, style_guide, check, scaffold, nav_insert. Resources: the
    style guides and the reference document. `authorkit init --claude-code` registers it in .mcp.json.
    """
    from authorkit.mcp_server import serve

    serve(config)


def plan_claude_code(directory: Path) -> list:
    """What `init --claude-code` would change; refuses (nothing written) on a broken file."""
    from authorkit.claude_setup import plan_setup

    return plan_setup(directory.resolve())


def setup_claude_code(changes: list, *, dry_run: bool) -> None:
    """Write (unless `dry_run`) and report the Claude Code set-up planned by `plan_claude_code`."""
    import shutil

    from authorkit.claude_setup import apply_setup, report

    if not dry_run:
        apply_setup(changes)
    for line in report(changes, dry_run=dry_run):
        print(line)
    if shutil.which("authorkit") is None:
        print("note: `authorkit` is not on PATH here; Claude Code runs `authorkit hook` and `authorkit mcp` "
              "by that name, so put it on the PATH Claude Code starts with")
