"""The provider interface: one class, one method.

A backend implements `stream(request, on_text) -> Completion`. Everything else (prompts,
outline, concurrency, validation, repair, cost) lives above this layer, so adding a backend
means writing one class.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Block:
    """One block of prompt text. `cache` marks the end of a cacheable prefix."""

    text: str
    cache: bool = False


@dataclass
class Usage:
    input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(
            self.input_tokens + other.input_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.output_tokens + other.output_tokens,
        )

    @property
    def all_input(self) -> int:
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens

    def as_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "output_tokens": self.output_tokens,
        }


@dataclass
class Request:
    """A single-turn request: system blocks, user blocks (a cached prefix, then the task)."""

    system: list[Block]
    user: list[Block]
    max_tokens: int = 8192
    temperature: float = 0.3
    label: str = ""  # what this call is for, e.g. "outline" or "section:why-this-matters"
    document: str = ""  # the document it belongs to (for records and progress)
    metadata: dict[str, Any] = field(default_factory=dict)

    def prompt_text(self) -> str:
        return "\n\n".join(b.text for b in (*self.system, *self.user))


@dataclass
class Completion:
    text: str
    stop_reason: str
    usage: Usage
    model: str
    calls: int = 1  # API calls made, continuations included


OnText = Callable[[str], None]


class Provider(ABC):
    """A model backend. Implementations must be safe to call from several threads."""

    name: str = "base"
    model: str = ""
    # Whether text comes from a model (False for the offline scaffold).
    generative: bool = True

    @abstractmethod
    def stream(self, request: Request, on_text: OnText | None = None) -> Completion:
        """Run the request, calling `on_text` with each chunk as it arrives.

        Raises ProviderError on refusal, exhausted retries or missing credentials. An
        exception raised by `on_text` (e.g. cancellation) propagates and aborts the call.
        """


def estimate_tokens(text: str) -> int:
    """Rough token count (about four characters per token) for dry runs and progress."""
    return max(1, (len(text) + 3) // 4) if text else 0
