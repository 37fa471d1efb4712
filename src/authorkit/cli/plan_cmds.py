"""Commands registered on the authorkit app."""

from authorkit.cli import app  # noqa: F401
