"""A scripted provider for tests: queue replies with `enqueue`, inspect `history`."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Callable

from authorkit.errors import ProviderError
from authorkit.providers.base import Completion, OnText, Provider, Request, Usage, estimate_tokens


@dataclass
class Reply:
    text: str = ""
    stop_reason: str = "end_turn"
    error: str | None = None  # raise ProviderError with this message instead


class FakeProvider(Provider):
    name = "fake"

    def __init__(self, model: str = "fake-model", responder: Callable[[Request], str | Reply] | None = None) -> None:
        self.model = model
        self.responder = responder
        self.history: list[Request] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()

    def enqueue(self, *replies: str | Reply) -> "FakeProvider":
        with self._lock:
            for r in replies:
                self._queue.append(r if isinstance(r, Reply) else Reply(r))
        return self

    def stream(self, request: Request, on_text: OnText | None = None) -> Completion:
        with self._lock:
            self.history.append(request)
            reply = self._queue.popleft() if self._queue else None
        if reply is None:
            if self.responder is None:
                raise ProviderError(f"fake provider has no reply queued for call {len(self.history)} ({request.label})")
            r = self.responder(request)
            reply = r if isinstance(r, Reply) else Reply(r)
        if reply.error:
            raise ProviderError(reply.error)
        if on_text and reply.text:
            on_text(reply.text)
        prefix = sum(estimate_tokens(b.text) for b in (*request.system, *request.user) if True)
        return Completion(reply.text, reply.stop_reason, Usage(input_tokens=prefix, output_tokens=estimate_tokens(reply.text)), self.model)
