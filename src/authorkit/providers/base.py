"""The provider interface: one class, one method.

A backend implements `stream(request, on_text) -> Completion`. Everything else (prompts,
outline, concurrency, validation, repair, recording and pricing) lives above this layer, so
adding a backend means writing one class. A backend that knows more about its calls (each HTTP
attempt, its retries, the server's token counts) overrides `run(request, hooks)` as well.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable

from authorkit.errors import ProviderError


class Cancelled(Exception):
    """Raised inside a call when the run is interrupted or its document has already failed."""


class Fatal(ProviderError):
    """An error that no retry can fix (bad key, unknown model, prompt larger than the server's
    context): every other call of the document stops too."""


class Truncated(ProviderError):
    """The reply was still cut at max_tokens after every continuation; `text` holds what came."""

    def __init__(self, message: str, *, text: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.text = text


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
    temperature: float | None = 0.3
    label: str = ""  # what this call is for, e.g. "outline" or "section:why-this-matters"
    document: str = ""  # the document it belongs to (for records and progress)
    metadata: dict[str, Any] = field(default_factory=dict)
    # Other sampling settings from the config (top_p, top_k, stop_sequences): sent as given.
    sampling: dict[str, Any] = field(default_factory=dict)

    def prompt_text(self) -> str:
        return "\n\n".join(b.text for b in (*self.system, *self.user))


@dataclass
class Completion:
    text: str
    stop_reason: str
    usage: Usage
    model: str
    calls: int = 1  # API calls made, continuations included


@dataclass
class Attempt:
    """One request sent to the model, as the server reported it.

    `outcome`: "ok" (a complete reply, or one part of a continued reply), "retried" (failed,
    and tried again), "failed" (failed for good). `usage` holds the tokens the server reported
    for this attempt (a cut stream still reports its prompt tokens); `usage_reported` is False
    when the server said nothing (an HTTP error before the stream opened)."""

    label: str
    document: str
    model: str
    usage: Usage
    outcome: str = "ok"
    number: int = 1  # 1 for the first try of a request, 2 for its first retry, …
    stop_reason: str | None = None
    error: str | None = None
    seconds: float = 0.0
    usage_reported: bool = True


OnText = Callable[[str], None]


def _nothing(*_a: Any, **_k: Any) -> None:
    pass


@dataclass
class Hooks:
    """What the caller learns during a call, and how it stops one.

    - `on_text(chunk)`: each piece of text as it arrives (may raise Cancelled);
    - `on_attempt(attempt)`: after each request, complete or not (records and prices it);
    - `on_retry(message)`: before waiting to retry, e.g. "retrying in 4 s after …";
    - `on_tokens(n)`: output tokens as the server counts them, when it reports them;
    - `should_stop()`: True when no further request may be sent (checked before each one);
    - `deadline`: a time.monotonic() instant after which the call gives up.
    """

    on_text: OnText = _nothing
    on_attempt: Callable[[Attempt], None] = _nothing
    on_retry: Callable[[str], None] = _nothing
    on_tokens: Callable[[int], None] = _nothing
    should_stop: Callable[[], bool] = lambda: False
    deadline: float | None = None

    def check(self) -> None:
        if self.should_stop():
            raise Cancelled()

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()


class Provider(ABC):
    """A model backend. Implementations must be safe to call from several threads."""

    name: str = "base"
    model: str = ""
    # Whether text comes from a model (False for the offline scaffold).
    generative: bool = True
    # Where requests go (None: the backend's own service). Shown with context-size advice.
    endpoint: str | None = None
    # Whether calls sharing a prompt prefix should wait for the first one to fill a shared
    # cache ("first"), or run at once ("none": each server slot keeps its own cache).
    cache_warming: str = "first"
    # Whether the backend has an asynchronous batch API (batch_submit / batch_status /
    # batch_results, see AnthropicProvider); `convert --batch` needs one.
    supports_batch: bool = False

    @abstractmethod
    def stream(self, request: Request, on_text: OnText | None = None) -> Completion:
        """Run the request, calling `on_text` with each chunk as it arrives.

        Raises ProviderError on refusal, exhausted retries or missing credentials. An
        exception raised by `on_text` (e.g. cancellation) propagates and aborts the call.
        """

    def run(self, request: Request, hooks: Hooks) -> Completion:
        """`stream`, reporting the call as one attempt. Backends that see their individual
        HTTP attempts override this to report each of them."""
        hooks.check()
        t0 = time.monotonic()
        try:
            done = self.stream(request, hooks.on_text)
        except Cancelled:
            raise
        except ProviderError as exc:
            hooks.on_attempt(Attempt(request.label, request.document, self.model, Usage(), "failed",
                                     error=exc.message, seconds=time.monotonic() - t0, usage_reported=False))
            raise
        hooks.on_attempt(Attempt(request.label, request.document, done.model, done.usage, "ok",
                                 stop_reason=done.stop_reason, seconds=time.monotonic() - t0))
        if done.usage.output_tokens:
            hooks.on_tokens(done.usage.output_tokens)
        return done

    def default_prices(self, model: str) -> Any:
        """The backend's own price list for `model` (a config.Prices), or None: unpriced
        unless the user configures prices for it."""
        return None


def estimate_tokens(text: str) -> int:
    """Rough token count (about four characters per token) for dry runs and context advice."""
    return max(1, (len(text) + 3) // 4) if text else 0


def request_tokens(request: Request) -> int:
    """Estimated prompt tokens of a request (every block, the task included)."""
    return sum(estimate_tokens(b.text) for b in (*request.system, *request.user))


def context_advice(needed: int) -> str:
    """How to start the two common local servers with enough context for `needed` tokens."""
    size = -(-needed // 1024) * 1024
    return (f"start llama-server with `-c {size}` (times --parallel: each slot gets an equal share), "
            f"or set OLLAMA_CONTEXT_LENGTH={size} for Ollama")
