"""The Anthropic provider: the official `anthropic` SDK, every call streamed.

- `stop_reason == "max_tokens"`: the text so far is sent back as the start of the assistant
  turn and the model continues from there, at most `model.max_continuations` times.
- `refusal`: ProviderError; nothing is written.
- 429/529/5xx and dropped connections before the stream opens are retried by the SDK with its
  backoff (`model.max_retries`, honouring `retry-after`); an error that arrives after the
  stream opened (an `error` event, a cut connection) is retried here, as often.
- The API key is read by the SDK from ANTHROPIC_API_KEY and never appears in a message.
"""

from __future__ import annotations

import os
import random
import time
from typing import TYPE_CHECKING, Any

from authorkit.errors import ProviderError
from authorkit.providers.base import Block, Completion, OnText, Provider, Request, Usage

if TYPE_CHECKING:
    from authorkit.config import Workspace

RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504, 529}
NO_KEY_HINT = (
    "set it with `export ANTHROPIC_API_KEY=sk-ant-...` (or point ANTHROPIC_BASE_URL at a local "
    "Anthropic-compatible server); `--provider scaffold` works offline without a model"
)


_TEMPERATURE: bool | None = None
RETRYABLE_TYPES = {"overloaded_error", "api_error", "rate_limit_error", "timeout_error"}


def _error_type(exc: Any) -> str | None:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            return err.get("type")
    return None


def _redact(text: str) -> str:
    from authorkit.session import redact

    return str(redact(text))


def _blocks(blocks: list[Block]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for b in blocks:
        d: dict[str, Any] = {"type": "text", "text": b.text}
        if b.cache:
            d["cache_control"] = {"type": "ephemeral"}
        out.append(d)
    return out


def _sdk_takes_temperature() -> bool:
    """Recent SDKs dropped `temperature` (current models fix it); send it only where accepted."""
    import inspect

    from anthropic.resources.messages import Messages

    return "temperature" in inspect.signature(Messages.create).parameters


def build_params(request: Request, model: str) -> dict[str, Any]:
    """Messages API parameters for a request (also used by the batch flow)."""
    params: dict[str, Any] = {
        "model": model,
        "max_tokens": request.max_tokens,
        "messages": [{"role": "user", "content": _blocks(request.user)}],
    }
    if _TEMPERATURE:
        params["temperature"] = request.temperature
    if request.system:
        params["system"] = _blocks(request.system)
    return params


def usage_from(u: Any) -> Usage:
    if u is None:
        return Usage()
    return Usage(
        input_tokens=int(getattr(u, "input_tokens", 0) or 0),
        cache_write_tokens=int(getattr(u, "cache_creation_input_tokens", 0) or 0),
        cache_read_tokens=int(getattr(u, "cache_read_input_tokens", 0) or 0),
        output_tokens=int(getattr(u, "output_tokens", 0) or 0),
    )


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
        http_client: Any = None,
        retry_delay: float = 0.5,
    ) -> None:
        import anthropic  # imported here: the SDK is slow to import and not needed offline

        api_key = api_key if api_key is not None else os.environ.get("ANTHROPIC_API_KEY")
        base_url = base_url if base_url is not None else os.environ.get("ANTHROPIC_BASE_URL")
        if not api_key and not base_url:
            raise ProviderError("no API key: ANTHROPIC_API_KEY is not set", hint=NO_KEY_HINT)
        self.model = model
        self.max_continuations = max_continuations
        self.stream_retries = max_retries
        self.retry_delay = retry_delay
        self._anthropic = anthropic
        global _TEMPERATURE
        if _TEMPERATURE is None:
            _TEMPERATURE = _sdk_takes_temperature()
        kwargs: dict[str, Any] = {
            # Local servers ignore the key, but the SDK insists on one.
            "api_key": api_key or "local-server",
            "max_retries": max_retries,
            "timeout": timeout,
        }
        if base_url:
            kwargs["base_url"] = base_url
        if http_client is not None:
            kwargs["http_client"] = http_client
        self.client = anthropic.Anthropic(**kwargs)
        import anthropic._base_client as _bc

        self._transport_errors: tuple[type[BaseException], ...] = (getattr(_bc, "httpx2", None) or getattr(_bc, "httpx")).TransportError,

    @classmethod
    def from_workspace(cls, ws: "Workspace", model: str | None = None, **kw: Any) -> "AnthropicProvider":
        m = ws.config.model
        return cls(
            model or m.name,
            max_retries=m.max_retries,
            max_continuations=m.max_continuations,
            timeout=m.timeout,
            **kw,
        )

    # -- one streamed request, with continuation ---------------------------------------

    def stream(self, request: Request, on_text: OnText | None = None) -> Completion:
        params = build_params(request, self.model)
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
            piece, stop, u = self._call(p, request, on_text)
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
                return Completion(text, stop or "end_turn", usage, self.model, calls)
        raise ProviderError(
            f"{request.label or 'the reply'} was still cut at max_tokens after {self.max_continuations} continuations; nothing was written",
            hint="raise model.max_tokens or model.max_continuations in authorkit.toml",
        )

    def _call(self, params: dict[str, Any], request: Request, on_text: OnText | None) -> tuple[str, str | None, Usage]:
        anthropic = self._anthropic
        last: BaseException | None = None
        for attempt in range(self.stream_retries + 1):
            opened = False
            parts: list[str] = []
            try:
                with self.client.messages.stream(**params) as s:
                    opened = True
                    for event in s:
                        if event.type == "text":
                            parts.append(event.text)
                            if on_text:
                                on_text(event.text)
                    msg = s.get_final_message()
                return "".join(parts), msg.stop_reason, usage_from(msg.usage)
            except anthropic.APIStatusError as exc:
                status = exc.status_code
                if opened and _error_type(exc) in RETRYABLE_TYPES:
                    status = 529  # an `error` event inside a 200 stream
                if not opened or status not in RETRYABLE_STATUS:
                    # The SDK already retried a retryable status with its own backoff.
                    raise self._status_error(exc, request, exhausted=status in RETRYABLE_STATUS) from None
                last = exc
            except anthropic.APIConnectionError as exc:
                if not opened:
                    raise ProviderError(
                        f"cannot reach the model API ({type(exc).__name__}) after {self.stream_retries} retries; nothing was written",
                        hint="check the network or ANTHROPIC_BASE_URL",
                    ) from None
                last = exc
            except self._transport_errors as exc:  # connection cut while streaming
                last = exc
            if attempt < self.stream_retries:
                time.sleep(min(self.retry_delay * 2**attempt, 8.0) * (1 - 0.25 * random.random()))
        raise ProviderError(
            f"{request.label or 'the request'} failed mid-stream {self.stream_retries + 1} times "
            f"({_redact(type(last).__name__ + ': ' + str(last))[:200]}); nothing was written",
            hint="the API may be overloaded; try again later or lower model.concurrency",
        )

    def _status_error(self, exc: Any, request: Request, *, exhausted: bool) -> ProviderError:
        status = exc.status_code
        detail = _redact(str(getattr(exc, "message", "") or exc))[:300]
        what = request.label or "the request"
        if status == 401:
            return ProviderError("the API rejected the key (401)", hint="check ANTHROPIC_API_KEY; " + NO_KEY_HINT)
        if status == 404:
            return ProviderError(f"model {self.model!r} not found (404): {detail}", hint="set model.name in authorkit.toml or pass --model")
        if exhausted:
            return ProviderError(
                f"{what} failed with HTTP {status} after {self.stream_retries} retries; nothing was written",
                hint="the API is rate-limited or overloaded; try again later, lower model.concurrency, or raise model.max_retries",
            )
        return ProviderError(f"{what} failed with HTTP {status}: {detail}; nothing was written")
