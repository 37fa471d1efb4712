"""Patterns a style guide supplies, run with a time bound.

A guide's own regex can backtrack without end on some text (`(a+)+$`, `(\\w+\\s?)*x`). Python's
`re` cannot be interrupted, so guide patterns run on the `regex` module (compatible with `re`
syntax in its VERSION0 mode) with a timeout; a pattern that runs out of time raises
PatternTimeout, which the checker reports as a finding instead of hanging.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Any

import regex

# Seconds one search may take. Ordinary guide patterns take microseconds on a whole document;
# the bound only stops a runaway one. AUTHORKIT_REGEX_TIMEOUT overrides it.
DEFAULT_TIMEOUT = 1.0


def timeout() -> float:
    try:
        return max(float(os.environ.get("AUTHORKIT_REGEX_TIMEOUT", DEFAULT_TIMEOUT)), 0.001)
    except ValueError:
        return DEFAULT_TIMEOUT


class PatternTimeout(Exception):
    """A guide pattern ran longer than the bound on some text."""

    def __init__(self, pattern: str, seconds: float) -> None:
        super().__init__(f"/{pattern}/ ran for over {seconds:g} s")
        self.pattern = pattern
        self.seconds = seconds


_FLAGS = ((re.I, regex.I), (re.M, regex.M), (re.S, regex.S), (re.X, regex.X), (re.A, regex.A))


@lru_cache(maxsize=512)
def compile(pattern: str, flags: int = 0) -> Any:
    """The pattern compiled by `regex` (re's flags accepted); `re` when `regex` reads the
    pattern differently (it then runs unbounded, as before)."""
    rflags = regex.V0
    for re_flag, rx_flag in _FLAGS:
        if flags & re_flag:
            rflags |= rx_flag
    try:
        return regex.compile(pattern, rflags)
    except regex.error:
        return re.compile(pattern, flags)


def search(rx: Any, text: str, pattern: str | None = None) -> Any:
    """`rx.search(text)` within the time bound; raises PatternTimeout."""
    if isinstance(rx, re.Pattern):
        return rx.search(text)
    limit = timeout()
    try:
        return rx.search(text, timeout=limit)
    except TimeoutError:
        raise PatternTimeout(pattern or rx.pattern, limit) from None


# Patterns that ran out of time in this process. Heading patterns are tried on every heading;
# one that ran away once is not tried again, and `check` reports it (see rules.py).
RUNAWAY: set[str] = set()


def search_quietly(rx: Any, text: str) -> Any:
    """`search`, but a pattern out of time counts as no match (and is remembered in RUNAWAY)."""
    if rx.pattern in RUNAWAY:
        return None
    try:
        return search(rx, text)
    except PatternTimeout:
        RUNAWAY.add(rx.pattern)
        return None
