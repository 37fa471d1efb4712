"""What the terminal may be sent: colour follows `--color`, then NO_COLOR and FORCE_COLOR
(no-color.org, as ruff reads them), then whether the stream is a terminal."""

from __future__ import annotations

import os
import sys
from typing import TextIO

COLOR_MODES = ("auto", "always", "never")
_mode = "auto"


def set_color_mode(mode: str) -> None:
    global _mode
    if mode not in COLOR_MODES:
        raise ValueError(mode)
    _mode = mode


def is_tty(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stdout
    return hasattr(stream, "isatty") and stream.isatty()


def color_enabled(stream: TextIO | None = None) -> bool:
    if _mode != "auto":
        return _mode == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return is_tty(stream) and os.environ.get("TERM") != "dumb"


def live_display(stream: TextIO | None = None) -> bool:
    """Cursor-moving displays (progress bars) only where colour is allowed on a terminal:
    under NO_COLOR a terminal gets plain lines, with no escape codes at all."""
    stream = stream or sys.stderr
    return is_tty(stream) and color_enabled(stream)
