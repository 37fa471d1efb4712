"""Helpers shared by the command modules."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from authorkit.config import Workspace

ConfigOption = typer.Option(None, "--config", help="Path to authorkit.toml (default: found by walking up from the current directory).")


def workspace(config: Optional[Path]) -> "Workspace":
    from authorkit.config import load_workspace

    if config is not None and not config.is_file():
        from authorkit.errors import UsageError

        raise UsageError(f"config file not found: {config}", hint="give the path to an existing authorkit.toml, or run `authorkit init`")
    return load_workspace(config_path=config)


def err(msg: str) -> None:
    print(msg, file=sys.stderr)


from authorkit.term import color_enabled, is_tty, live_display  # noqa: E402,F401  (re-exported for the command modules)
