"""Typed errors. The CLI turns each into one clear message and an exit code.

Every error that comes from bad input names the file, the line (when there is one) and
what to do about it; `ExitCode.USAGE` (2) is used for all of them.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2


class AuthorkitError(Exception):
    """Base class: a problem the user can fix. Never carries a traceback to the terminal."""

    exit_code: int = ExitCode.USAGE

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.hint = hint

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = self.path + (f":{self.line}" if self.line else "") + ": "
        text = where + self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class UsageError(AuthorkitError):
    """Conflicting or invalid command-line arguments."""


class ConfigError(AuthorkitError):
    """authorkit.toml is missing a value, has a wrong type, or cannot be parsed."""


class StyleGuideError(AuthorkitError):
    """A style guide file is invalid."""


class InputError(AuthorkitError):
    """An input document or plan cannot be used."""


class NavigationError(AuthorkitError):
    """A navigation file (_meta.js / _meta.json) cannot be parsed or updated safely."""


class PlanError(AuthorkitError):
    """A plan item cannot be found or a plan cannot be read."""


class WriteRefused(AuthorkitError):
    """A write would overwrite the user's work (uncommitted edits, existing page)."""


class ProviderError(AuthorkitError):
    """A model provider failed: no credentials, refusal, exhausted retries."""


class GitError(AuthorkitError):
    """The git step refused or failed; the repository is unchanged."""


class Interrupted(AuthorkitError):
    """Ctrl-C, with what was finished before it. Not a KeyboardInterrupt: the command-line
    layer turns those into a bare exit 130, and this one carries its message out."""

    exit_code = 130
