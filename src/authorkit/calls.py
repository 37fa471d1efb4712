"""Running model calls for a generation run: limits, cache warming, deadlines, records.

`CallRunner.call(document, request, failed)` is the only way the generation engine reaches a
model. It keeps at most `concurrency` calls in flight across every document of a run, waits
(when the backend shares one prompt cache) for the first call with a given prefix to start
answering so the prefix is written once, stops a document at its deadline, sends nothing more
for a document whose `failed` event is set, and records and prices every attempt through
`CallRecorder`. Events for the progress display go to `on_event`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import TYPE_CHECKING, Any, Callable

from authorkit.costs import CallRecorder
from authorkit.providers.base import Attempt, Cancelled, Fatal, Hooks, Provider, Request, context_advice, request_tokens

if TYPE_CHECKING:
    from authorkit.config import ModelConfig, Workspace

EventSink = Callable[..., None]


def _noop(*_a: Any, **_k: Any) -> None:
    pass


def default_concurrency(model_cfg: "ModelConfig", provider: Provider) -> int:
    """`model.concurrency` when the user set it, else what suits the backend (one call at a
    time for a local server, whose slots each keep their own prompt cache)."""
    if "concurrency" in model_cfg.model_fields_set:
        return model_cfg.concurrency
    return int(getattr(provider, "default_concurrency", model_cfg.concurrency) or model_cfg.concurrency)


class CallRunner:
    def __init__(self, ws: "Workspace | None", provider: Provider, model_cfg: "ModelConfig", *,
                 concurrency: int | None = None, on_event: EventSink | None = None, record: bool = True) -> None:
        self.ws = ws
        self.provider = provider
        self.model_cfg = model_cfg
        self.concurrency = concurrency or default_concurrency(model_cfg, provider)
        self.on_event = on_event or _noop
        self.cancel = threading.Event()
        self.recorder = CallRecorder(ws, provider, record=record, model_cfg=model_cfg, listener=self._attempted)
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._warm: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._deadlines: dict[str, float] = {}
        self._checked_context = False
        self._context_error: Fatal | None = None  # every document of the run is refused alike
        self._preflight_lock = threading.Lock()  # held while the server is asked: others wait

    # -- per document --------------------------------------------------------------------------

    def deadline(self, document: str) -> float | None:
        limit = getattr(self.model_cfg, "document_deadline", 0) or 0
        if not limit:
            return None
        with self._lock:
            return self._deadlines.setdefault(document, time.monotonic() + limit)

    def past_deadline(self, document: str) -> bool:
        d = self.deadline(document)
        return d is not None and time.monotonic() >= d

    def totals(self, document: str) -> tuple[Any, float | None, int]:
        return self.recorder.totals(document)

    # -- before the first call -----------------------------------------------------------------

    def preflight(self, request: Request) -> None:
        """Once per run: the prompt size against the server's context. On an endpoint that is
        not Anthropic's, say what context the run needs; refuse when the server's is smaller."""
        with self._preflight_lock:
            self._preflight(request)

    def _preflight(self, request: Request) -> None:
        with self._lock:
            if self._checked_context:
                if self._context_error is not None:
                    raise self._context_error
                return
            self._checked_context = True
        if not self.provider.generative:
            return
        prompt = request_tokens(request)
        # Sections carry the outline and their own task on top of the shared prefix.
        prompt_max = prompt + 1500
        need = prompt_max + request.max_tokens
        known = getattr(self.provider, "server_context", lambda: None)()
        if getattr(self.provider, "endpoint", None) and not getattr(self.provider, "official", True):
            self.on_event("notice", document=request.document,
                          message=f"prompts are about {prompt:,}–{prompt_max:,} tokens and replies up to {request.max_tokens:,}: "
                                  f"the server needs a context of at least {need:,} tokens per request"
                                  + (f" (it reports {known:,})" if known else f"; {context_advice(need)}"))
        if known and prompt_max + 256 > known:
            self._context_error = Fatal(
                f"the prompts of this run are about {prompt_max:,} tokens, more than the server's context of {known:,} tokens; "
                "nothing was sent",
                hint=context_advice(need) + " (or set model.context_tokens if the server reports it wrongly)",
            )
            raise self._context_error

    # -- one call ------------------------------------------------------------------------------

    def _attempted(self, a: Attempt, usd: float | None) -> None:
        self.on_event("attempt", document=a.document, label=a.label, attempt=a, cost=usd)

    def call(self, document: str, request: Request, failed: threading.Event, *, fail_document: bool = False) -> str:
        """Run one request; raises Cancelled when the run was interrupted, the document has
        already failed or its deadline passed, before anything is sent. `fail_document`: an
        error of this call fails the document (set before the next call may start)."""

        def stopped() -> bool:
            return self.cancel.is_set() or failed.is_set() or self.past_deadline(document)

        if stopped():
            raise Cancelled()
        self.preflight(request)
        warm: threading.Event | None = None
        first = False
        if self.provider.cache_warming == "first":
            # Calls sharing a prefix wait for the first one to start answering, so the prefix
            # is written to the cache once and read by the others. The shared part is
            # everything before the per-document context block and the task.
            key = hashlib.sha1("\0".join(b.text for b in (*request.system, *request.user[:-2])).encode()).hexdigest()
            with self._lock:
                warm = self._warm.get(key)
                first = warm is None
                if first:
                    warm = self._warm[key] = threading.Event()
            assert warm is not None
            if not first:
                while not warm.wait(0.2):
                    if stopped():
                        raise Cancelled()

        def on_text(chunk: str) -> None:
            # A call already streaming finishes even when a sibling failed (its text is kept);
            # an interruption or the document's deadline stops it.
            if self.cancel.is_set() or self.past_deadline(document):
                raise Cancelled()
            if first and warm is not None and not warm.is_set():
                warm.set()
            self.on_event("text", document=document, label=request.label, chars=len(chunk))

        hooks = Hooks(
            on_text=on_text,
            on_attempt=self.recorder.on_attempt,
            on_retry=lambda message: self.on_event("retry", document=document, label=request.label, message=message),
            on_tokens=lambda n: self.on_event("tokens", document=document, label=request.label, tokens=n),
            should_stop=stopped,
            deadline=self.deadline(document),
        )
        with self._slots:
            if stopped():
                raise Cancelled()
            self.on_event("call_start", document=document, label=request.label)
            t0 = time.monotonic()
            try:
                completion = self.provider.run(request, hooks)
            except BaseException as exc:
                if isinstance(exc, Fatal) or (fail_document and not isinstance(exc, Cancelled)):
                    failed.set()  # nothing else for this document can succeed
                self.on_event("call_failed", document=document, label=request.label,
                              error=getattr(exc, "message", None) or type(exc).__name__, cancelled=isinstance(exc, Cancelled))
                raise
            finally:
                if first and warm is not None:
                    warm.set()
        self.on_event("call_end", document=document, label=request.label, usage=completion.usage,
                      seconds=time.monotonic() - t0, stop_reason=completion.stop_reason)
        return completion.text
