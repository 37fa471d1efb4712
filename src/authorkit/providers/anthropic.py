"""The Anthropic backend: the Messages API through the official `anthropic` SDK, streamed.

Every HTTP attempt is reported (`Hooks.on_attempt`) with the usage the server sent for it, so
retried and failed attempts are recorded and priced too. The rules:

- A reply is complete only when the stream ends with `message_stop` after a `message_delta`
  carrying a stop reason. A stream that ends earlier (a cut connection, a server restart, a
  body that stops) is a retryable error, and its text is never used.
- Reading stops at `message_stop`: a server that keeps the body open afterwards costs nothing.
- Retries are done here, not by the SDK, so each one is announced ("retrying in 4 s after
  connection reset, attempt 2/5") and honours `retry-after`: 408/409/429/5xx/529, `error`
  events inside the stream, refused or reset connections, timeouts.
- Timeouts: `connect_timeout` to connect; `first_byte_timeout` until the response starts (a
  local server may process the whole prompt first); `idle_timeout` between two pieces of an
  open stream; `call_deadline` for the whole call, retries and continuations included.
- `stop_reason == "max_tokens"`: the text so far is sent back as the start of the assistant
  turn and the model continues, at most `max_continuations` times (then `Truncated`).
- 400 "context" errors, 401, 403 and 404 are `Fatal`: retrying cannot help.
- The API key is read by the SDK from ANTHROPIC_API_KEY and never appears in a message.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from authorkit.errors import ProviderError
from authorkit.providers.base import (
    Attempt,
    Block,
    Cancelled,
    Completion,
    Fatal,
    Hooks,
    OnText,
    Provider,
    Request,
    Truncated,
    Usage,
    context_advice,
    request_tokens,
)

if TYPE_CHECKING:
    from authorkit.config import Workspace

RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504, 529}
RETRYABLE_TYPES = {"overloaded_error", "api_error", "rate_limit_error", "timeout_error"}
OFFICIAL_HOST = "api.anthropic.com"

# US dollars per million tokens (input, cache write, cache read, output), by model name prefix.
# Used only on Anthropic's own endpoint; a model served elsewhere is priced by the config alone.
_CLAUDE_PRICES: list[tuple[str, tuple[float, float, float, float]]] = [
    ("claude-opus-4-5", (5.0, 6.25, 0.50, 25.0)),
    ("claude-opus-4", (15.0, 18.75, 1.50, 75.0)),
    ("claude-sonnet-4", (3.0, 3.75, 0.30, 15.0)),
    ("claude-3-7-sonnet", (3.0, 3.75, 0.30, 15.0)),
    ("claude-haiku-4", (1.0, 1.25, 0.10, 5.0)),
    ("claude-3-5-haiku", (0.80, 1.0, 0.08, 4.0)),
]

_KEY_RE = re.compile(r"sk-ant-[A-Za-z0-9_\-]+")


def _redact(text: str) -> str:
    return _KEY_RE.sub("sk-ant-…", text)


def is_official(base_url: str | None) -> bool:
    return not base_url or (urlparse(base_url).hostname or "") == OFFICIAL_HOST


def claude_prices(model: str) -> Any:
    """Anthropic's list prices for a Claude model (a config.Prices), or None."""
    from authorkit.config import Prices

    for prefix, (i, cw, cr, o) in _CLAUDE_PRICES:
        if model.startswith(prefix):
            return Prices(input=i, cache_write=cw, cache_read=cr, output=o)
    return None


def _blocks(blocks: list[Block]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for b in blocks:
        d: dict[str, Any] = {"type": "text", "text": b.text}
        if b.cache:
            d["cache_control"] = {"type": "ephemeral"}
        out.append(d)
    return out


def sampling_of(request: Request) -> dict[str, Any]:
    """Every sampling setting of a request, as Messages API fields."""
    out: dict[str, Any] = {}
    if request.temperature is not None:
        out["temperature"] = request.temperature
    out.update({k: v for k, v in request.sampling.items() if v is not None})
    return out


def build_params(request: Request, model: str) -> dict[str, Any]:
    """The Messages API body for a request (also what a batch request carries)."""
    params: dict[str, Any] = {
        "model": model,
        "max_tokens": request.max_tokens,
        "messages": [{"role": "user", "content": _blocks(request.user)}],
    }
    if request.system:
        params["system"] = _blocks(request.system)
    params.update(sampling_of(request))
    return params


def _sdk_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """`build_params` split for the SDK: fields its method does not name (temperature, top_p
    and top_k in recent SDKs) travel in `extra_body`, so none is dropped on the way."""
    import inspect

    from anthropic.resources.messages import Messages

    known = set(inspect.signature(Messages.create).parameters)
    kw = {k: v for k, v in params.items() if k in known}
    extra = {k: v for k, v in params.items() if k not in known}
    if extra:
        kw["extra_body"] = extra
    return kw


def usage_from(u: Any) -> Usage:
    if u is None:
        return Usage()
    return Usage(
        input_tokens=int(getattr(u, "input_tokens", 0) or 0),
        cache_write_tokens=int(getattr(u, "cache_creation_input_tokens", 0) or 0),
        cache_read_tokens=int(getattr(u, "cache_read_input_tokens", 0) or 0),
        output_tokens=int(getattr(u, "output_tokens", 0) or 0),
    )


def _merge_usage(usage: Usage, u: Any) -> Usage:
    """A message_delta's usage over message_start's: the output count it reports replaces
    the start's; an input count replaces it when given (a server that leaves it 0 or out of
    the delta keeps the count message_start reported)."""
    if u is None:
        return usage
    out = Usage(**usage.as_dict())
    for attr, name in (("input_tokens", "input_tokens"), ("cache_creation_input_tokens", "cache_write_tokens"),
                       ("cache_read_input_tokens", "cache_read_tokens"), ("output_tokens", "output_tokens")):
        v = getattr(u, attr, None)
        if v is not None and (v or name == "output_tokens"):
            setattr(out, name, int(v))
    return out


class _Retry(Exception):
    """One attempt failed in a way another attempt may fix."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


_CONTEXT_WORDS = re.compile(r"context|too long|too large|exceed", re.I)
_CONTEXT_NUMBER = re.compile(
    r"(?:n_ctx|context(?: size| length| window)?)\D{0,40}?(\d[\d,]*)|maximum context length is (\d[\d,]*)|> ?(\d[\d,]*) maximum",
    re.I,
)


def context_limit(body: Any, message: str) -> tuple[bool, int | None]:
    """Whether an HTTP 400 says the prompt does not fit, and the context size it names."""
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        n = err.get("n_ctx")
        if isinstance(n, int):
            return True, n
        message = message + " " + str(err.get("message", "")) + " " + str(err.get("type", ""))
    if not _CONTEXT_WORDS.search(message) or "context" not in message.lower() and "prompt is too long" not in message.lower():
        return False, None
    for m in _CONTEXT_NUMBER.finditer(message):
        value = next(g for g in m.groups() if g)
        return True, int(value.replace(",", ""))
    return True, None


class AnthropicProvider(Provider):
    name = "anthropic"

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        max_retries: int = 4,
        max_continuations: int = 3,
        timeout: float = 600.0,
        connect_timeout: float = 30.0,
        idle_timeout: float = 120.0,
        call_deadline: float | None = None,
        http_client: Any = None,
        retry_delay: float = 1.0,
        context_tokens: int | None = None,
        cache_warming: str = "auto",
    ) -> None:
        api_key = api_key if api_key is not None else os.environ.get("ANTHROPIC_API_KEY")
        base_url = base_url if base_url is not None else os.environ.get("ANTHROPIC_BASE_URL")
        if not api_key and not base_url:
            from authorkit.providers import missing_credentials

            raise missing_credentials()
        import anthropic  # here, after the key check: the SDK takes seconds to import

        self.model = model
        self.max_continuations = max_continuations
        self.retries = max_retries
        self.retry_delay = retry_delay
        self.first_byte_timeout = timeout
        self.connect_timeout = connect_timeout
        self.idle_timeout = idle_timeout
        self.call_deadline = call_deadline
        self.endpoint = base_url or None
        self.official = is_official(base_url)
        self._context_tokens = context_tokens
        self._probed = context_tokens is not None
        # Anthropic's cache is shared by every request; a local server's slots each keep their own.
        self.cache_warming = cache_warming if cache_warming != "auto" else ("first" if self.official else "none")
        self.default_concurrency = 4 if self.official else 1
        self._anthropic = anthropic
        kwargs: dict[str, Any] = {
            # Local servers ignore the key, but the SDK insists on one.
            "api_key": api_key or "local-server",
            "max_retries": 0,  # retried here, visibly
            "timeout": self._timeout(timeout),
        }
        if base_url:
            kwargs["base_url"] = base_url
        if http_client is not None:
            kwargs["http_client"] = http_client
        self.client = anthropic.Anthropic(**kwargs)
        import anthropic._base_client as _bc

        self._httpx = getattr(_bc, "httpx2", None) or getattr(_bc, "httpx")

    def _timeout(self, read: float) -> Any:
        import anthropic._base_client as _bc

        httpx = getattr(_bc, "httpx2", None) or getattr(_bc, "httpx")
        return httpx.Timeout(read, connect=min(self.connect_timeout, read))

    @classmethod
    def from_workspace(cls, ws: "Workspace", model: str | None = None, **kw: Any) -> "AnthropicProvider":
        m = ws.config.model
        opts: dict[str, Any] = dict(
            max_retries=m.max_retries, max_continuations=m.max_continuations, timeout=m.timeout,
        )
        for name in ("connect_timeout", "idle_timeout", "call_deadline", "context_tokens", "cache_warming"):
            if hasattr(m, name):
                opts[name] = getattr(m, name)
        opts.update(kw)
        return cls(model or m.name, **opts)

    def default_prices(self, model: str) -> Any:
        return claude_prices(model) if self.official else None

    def server_context(self) -> int | None:
        """The context size a local server reports (llama.cpp's /props), probed once."""
        if self._probed:
            return self._context_tokens
        self._probed = True
        if self.official or not self.endpoint:
            return None
        try:
            with urllib.request.urlopen(self.endpoint.rstrip("/") + "/props", timeout=3) as r:  # noqa: S310 - the user's own server
                data = json.loads(r.read(200_000))
            n = (data.get("default_generation_settings") or {}).get("n_ctx") or data.get("n_ctx")
            self._context_tokens = int(n) if n else None
        except (OSError, ValueError, AttributeError, TypeError):
            self._context_tokens = None
        return self._context_tokens

    # -- the Message Batches API (half price, asynchronous) ------------------------------------

    supports_batch = True

    def batch_submit(self, requests: list[tuple[str, Request]]) -> str:
        """Submit (custom_id, request) pairs; returns the batch id."""
        body = [{"custom_id": cid, "params": build_params(req, self.model)} for cid, req in requests]
        try:
            return self.client.messages.batches.create(requests=body).id
        except Exception as exc:  # the SDK's errors, named without any credential
            raise ProviderError(f"submitting the batch failed: {type(exc).__name__}",
                                hint="check the key and ANTHROPIC_BASE_URL; nothing was written") from None

    def batch_status(self, batch_id: str) -> dict[str, Any]:
        b = self.client.messages.batches.retrieve(batch_id)
        counts = b.request_counts
        return {
            "processing_status": b.processing_status,
            "counts": {k: getattr(counts, k, 0) for k in ("processing", "succeeded", "errored", "canceled", "expired")},
        }

    def batch_results(self, batch_id: str) -> Any:
        """(custom_id, result kind, text, usage, model) for each request of an ended batch."""
        for entry in self.client.messages.batches.results(batch_id):
            kind = entry.result.type
            if kind != "succeeded":
                yield entry.custom_id, kind, "", Usage(), self.model
                continue
            msg = entry.result.message
            text = "".join(getattr(b, "text", "") for b in msg.content)
            yield entry.custom_id, kind, text, usage_from(msg.usage), msg.model or self.model

    # -- a whole call: continuations, each with its retries --------------------------------------

    def stream(self, request: Request, on_text: OnText | None = None) -> Completion:
        return self.run(request, Hooks(on_text=on_text or (lambda _t: None)))

    def run(self, request: Request, hooks: Hooks) -> Completion:
        params = build_params(request, self.model)
        deadline = hooks.deadline
        if self.call_deadline:
            mine = time.monotonic() + self.call_deadline
            deadline = mine if deadline is None else min(deadline, mine)
        text = ""
        usage = Usage()
        calls = 0
        for _ in range(self.max_continuations + 1):
            p = dict(params)
            if text:
                # The API rejects an assistant turn ending in whitespace; the model continues
                # from the stripped text, and its reply starts with whatever whitespace follows.
                text = text.rstrip()
                p["messages"] = [*params["messages"], {"role": "assistant", "content": text}]
            piece, stop, u = self._with_retries(p, request, hooks, deadline)
            calls += 1
            usage = usage + u
            text += piece
            if stop == "refusal":
                raise ProviderError(
                    f"the model refused to write {request.label or 'the request'}"
                    + (f" of {request.document}" if request.document else "")
                    + "; nothing was written",
                    hint="rephrase the plan item or prompt, or try another --model",
                )
            if stop != "max_tokens":
                return Completion(text, stop, usage, self.model, calls)
        raise Truncated(
            f"{request.label or 'the reply'} was still cut at max_tokens after {self.max_continuations} continuations",
            text=text,
            hint="raise model.max_tokens or model.max_continuations in authorkit.toml",
        )

    def _with_retries(self, params: dict[str, Any], request: Request, hooks: Hooks, deadline: float | None) -> tuple[str, str, Usage]:
        what = request.label or "the request"
        for number in range(1, self.retries + 2):
            hooks.check()  # no request after the document failed or the run was interrupted
            if deadline is not None and time.monotonic() >= deadline:
                raise ProviderError(f"{what} ran past its deadline after {number - 1} attempt(s); nothing was written",
                                    hint="raise model.call_deadline or model.document_deadline in authorkit.toml")
            t0 = time.monotonic()
            state: dict[str, Any] = {"usage": Usage(), "reported": False, "model": self.model}
            try:
                piece, stop = self._attempt(params, request, hooks, deadline, state)
            except _Retry as exc:
                last = number > self.retries
                hooks.on_attempt(self._attempt_record(request, state, "failed" if last else "retried", number, t0, exc.reason))
                if last:
                    raise ProviderError(
                        f"{what} failed {number} times, last after {exc.reason}; nothing was written",
                        hint="the server may be overloaded or restarting; try again later, lower model.concurrency, or raise model.max_retries",
                    ) from None
                # A refused connection is a server starting (a local one loads its model first):
                # wait twice as long between those.
                base = self.retry_delay * (2 if exc.reason == "connection refused" else 1)
                wait = exc.wait if exc.wait is not None else min(base * 2 ** (number - 1), 30.0) * (1 - 0.25 * random.random())
                if deadline is not None:
                    wait = max(0.0, min(wait, deadline - time.monotonic()))
                hooks.on_retry(f"{request.document + ': ' if request.document else ''}{what}: retrying in {wait:.0f} s after {exc.reason}, attempt {number + 1}/{self.retries + 1}")
                end = time.monotonic() + wait
                while time.monotonic() < end:
                    hooks.check()
                    time.sleep(min(0.2, max(0.0, end - time.monotonic())))
                continue
            except (ProviderError, Cancelled) as exc:
                outcome = "failed"
                hooks.on_attempt(self._attempt_record(request, state, outcome, number, t0,
                                                      "cancelled" if isinstance(exc, Cancelled) else exc.message))
                raise
            hooks.on_attempt(self._attempt_record(request, state, "ok", number, t0, None, stop))
            return piece, stop, state["usage"]
        raise AssertionError("unreachable")

    def _attempt_record(self, request: Request, state: dict[str, Any], outcome: str, number: int, t0: float,
                        error: str | None, stop: str | None = None) -> Attempt:
        return Attempt(request.label, request.document, state["model"], state["usage"], outcome, number, stop,
                       error, time.monotonic() - t0, state["reported"])

    def _attempt(self, params: dict[str, Any], request: Request, hooks: Hooks, deadline: float | None,
                 state: dict[str, Any]) -> tuple[str, str]:
        """One HTTP request. Returns (text, stop reason) only for a stream that reached
        message_stop; raises _Retry, Fatal or ProviderError otherwise."""
        anthropic = self._anthropic
        httpx = self._httpx
        first_byte = self.first_byte_timeout
        if deadline is not None:
            first_byte = max(0.1, min(first_byte, deadline - time.monotonic()))
        try:
            stream = self.client.messages.create(**_sdk_kwargs(params), stream=True, timeout=self._timeout(first_byte))
        except anthropic.APIStatusError as exc:
            raise self._status_error(exc, request) from None
        except anthropic.APITimeoutError:
            raise _Retry(f"no response within {first_byte:.0f} s (model.timeout)") from None
        except anthropic.APIConnectionError as exc:
            raise _Retry(self._connection_reason(exc)) from None
        # The response has started: from here a gap between two pieces longer than the idle
        # timeout means a stalled stream (httpcore reads this value when the body is read).
        try:
            stream.response.request.extensions["timeout"]["read"] = self.idle_timeout
        except (AttributeError, KeyError, TypeError):
            pass
        parts: list[str] = []
        stop: str | None = None
        out_tokens = 0
        try:
            for event in stream:
                kind = event.type
                if kind == "message_start":
                    state["usage"] = usage_from(event.message.usage)
                    state["reported"] = True
                    state["model"] = getattr(event.message, "model", None) or self.model
                elif kind == "content_block_delta":
                    delta = event.delta
                    if getattr(delta, "type", "") == "text_delta":
                        parts.append(delta.text)
                        hooks.on_text(delta.text)
                elif kind == "message_delta":
                    stop = event.delta.stop_reason
                    state["usage"] = _merge_usage(state["usage"], event.usage)
                    state["reported"] = True
                    if state["usage"].output_tokens > out_tokens:
                        hooks.on_tokens(state["usage"].output_tokens - out_tokens)
                        out_tokens = state["usage"].output_tokens
                elif kind == "message_stop":
                    if not stop:
                        raise _Retry("a stream that stopped without a stop reason")
                    return "".join(parts), stop
                if deadline is not None and time.monotonic() > deadline:
                    raise ProviderError(f"{request.label or 'the request'} ran past its deadline while streaming; nothing was written",
                                        hint="raise model.call_deadline or model.document_deadline in authorkit.toml")
            raise _Retry("a stream that ended before message_stop")
        except anthropic.APIStatusError as exc:  # an `error` event inside the stream
            etype = _error_type(exc)
            if etype in RETRYABLE_TYPES or exc.status_code in RETRYABLE_STATUS:
                raise _Retry(f"an {etype or 'error'} event mid-stream") from None
            raise self._status_error(exc, request) from None
        except httpx.TimeoutException:
            raise _Retry(f"no data for {self.idle_timeout:.0f} s (model.idle_timeout)") from None
        except (httpx.TransportError, anthropic.APIConnectionError) as exc:
            raise _Retry(self._connection_reason(exc)) from None
        finally:
            stream.close()  # also after message_stop: a body held open is not waited for

    @staticmethod
    def _connection_reason(exc: BaseException) -> str:
        text = f"{type(exc).__name__} {exc} {exc.__cause__ or ''}".lower()
        if "refused" in text:
            return "connection refused"
        if "reset" in text or "peer closed" in text or "incomplete" in text or "remoteprotocol" in text:
            return "connection reset"
        if "timeout" in text or "timed out" in text:
            return "a timeout"
        return f"a connection error ({type(exc).__name__})"

    def _status_error(self, exc: Any, request: Request) -> Exception:
        status = exc.status_code
        detail = _redact(str(getattr(exc, "message", "") or exc))[:300]
        what = request.label or "the request"
        should = _header(exc, "x-should-retry")
        if should != "false" and (status in RETRYABLE_STATUS or should == "true"):
            return _Retry(f"HTTP {status}", _retry_after(exc))
        if status == 401:
            from authorkit.providers import NO_KEY_HINT

            return Fatal("the API rejected the key (401)", hint="check ANTHROPIC_API_KEY; " + NO_KEY_HINT)
        if status == 404:
            return Fatal(f"model {self.model!r} not found (404): {detail}", hint="set model.name in authorkit.toml or pass --model")
        if status == 400:
            is_ctx, n_ctx = context_limit(getattr(exc, "body", None), detail)
            if is_ctx:
                need = request_tokens(request) + request.max_tokens
                size = f"its context of {n_ctx:,} tokens" if n_ctx else "its context"
                return Fatal(
                    f"the server refused {what}: the prompt (≈{request_tokens(request):,} tokens, plus up to "
                    f"{request.max_tokens:,} for the reply) does not fit {size}; nothing was written",
                    hint=context_advice(need) + "; or lower model.max_tokens",
                )
        if status == 403:
            return Fatal(f"{what} was refused (HTTP 403): {detail}", hint="check the key's permissions")
        return ProviderError(f"{what} failed with HTTP {status}: {detail}; nothing was written")


def _error_type(exc: Any) -> str | None:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            return err.get("type")
    return None


def _header(exc: Any, name: str) -> str | None:
    resp = getattr(exc, "response", None)
    try:
        return resp.headers.get(name) if resp is not None else None
    except AttributeError:
        return None


def _retry_after(exc: Any) -> float | None:
    """Seconds from `retry-after-ms` / `retry-after` (capped at a minute)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        v = _header(exc, name)
        if v:
            try:
                return min(60.0, max(0.0, float(v) * scale))
            except ValueError:
                continue
    return None
