"""Findings: what `check` reports. Stable rule ids, severities, a location and a hint."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Severity(IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, value: str) -> "Severity":
        try:
            return cls[value.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {value!r}: use error, warning or info") from None

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Finding:
    rule: str  # stable id, e.g. "section-missing"
    severity: Severity
    line: int
    message: str
    hint: str | None = None
    column: int = 1
    path: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        # Written out by hand: dataclasses.asdict deep-copies and dominates a warm run's output.
        d: dict[str, Any] = {
            "rule": self.rule, "severity": str(self.severity), "line": self.line, "message": self.message,
            "hint": self.hint, "column": self.column, "path": self.path,
        }
        if self.extra:
            d["extra"] = dict(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Finding":
        d = dict(d)
        d["severity"] = Severity.parse(d["severity"])
        return cls(**d)

    def with_path(self, path: str) -> "Finding":
        return Finding(self.rule, self.severity, self.line, self.message, self.hint, self.column, path, self.extra)


def sort_key(f: Finding) -> tuple[str, int, int, str]:
    return (f.path, f.line, -int(f.severity), f.rule)
