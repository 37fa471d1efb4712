"""Token usage to US dollars, and the one place model calls are recorded.

Prices come from the configuration: `model.model_prices[name]`, then `model.prices` for
`model.name` when the user set them, then the backend's own price list (Claude models on
Anthropic's API). A model with none of these is *unpriced*: its cost is None and shows as
"unpriced", never as $0.

`CallRecorder` turns every attempt a backend reports into one `model_call` event of the
session record, priced, whatever command made the call (draft, convert, batch collect, the
session narrative).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from authorkit.config import Prices
from authorkit.providers.base import Attempt, Usage

if TYPE_CHECKING:
    from authorkit.config import ModelConfig, Workspace
    from authorkit.providers.base import Provider


def prices_for(model_cfg: "ModelConfig", model: str | None = None, provider: "Provider | None" = None) -> Prices | None:
    """The prices configured for `model`, or None when it has none."""
    model = model or model_cfg.name
    if model in model_cfg.model_prices:
        return model_cfg.model_prices[model]
    if model == model_cfg.name and "prices" in model_cfg.model_fields_set:
        return model_cfg.prices
    if provider is not None:
        return provider.default_prices(model)
    return None


def cost(usage: Usage, prices: Prices | None, *, batch: bool = False) -> float | None:
    if prices is None:
        return None
    usd = (
        usage.input_tokens * prices.input
        + usage.cache_write_tokens * prices.cache_write
        + usage.cache_read_tokens * prices.cache_read
        + usage.output_tokens * prices.output
    ) / 1_000_000
    # The Message Batches API bills every token class at half price.
    return usd / 2 if batch else usd


def add_cost(a: float | None, b: float | None) -> float | None:
    """A sum of costs; unpriced (None) only when both are."""
    if a is None:
        return b
    return a if b is None else a + b


def format_usd(usd: float | None) -> str:
    if usd is None:
        return "unpriced"
    return f"${usd:.4f}" if usd < 1 else f"${usd:.2f}"


_OMIT: Any = object()


def format_usage(usage: Usage, usd: Any = _OMIT) -> str:
    """Token counts, then the cost ("unpriced" when `usd` is None; left out when not given)."""
    parts = [
        f"in {usage.input_tokens:,}",
        f"cache write {usage.cache_write_tokens:,}",
        f"cache read {usage.cache_read_tokens:,}",
        f"out {usage.output_tokens:,}",
    ]
    text = "tokens: " + ", ".join(parts)
    if usd is not _OMIT:
        text += f"; cost {format_usd(usd)}"
    return text


@dataclass
class Estimate:
    """What a run is expected to use: tokens by class and, when priced, dollars."""

    usage: Usage
    usd: float | None
    usd_uncached: float | None  # the same run if no prompt were read from the cache


def estimate_run(prices: Prices | None, *, calls: int, prefix_tokens: int, task_tokens: int, output_tokens: int,
                 documents: int = 1) -> Estimate:
    """Each document writes its prefix to the cache once; its other calls read it."""
    writes = prefix_tokens * documents
    usage = Usage(input_tokens=task_tokens * calls, cache_write_tokens=writes,
                  cache_read_tokens=max(0, prefix_tokens * calls - writes), output_tokens=output_tokens)
    uncached = Usage(input_tokens=(task_tokens + prefix_tokens) * calls, output_tokens=output_tokens)
    return Estimate(usage, cost(usage, prices), cost(uncached, prices))


def describe_estimate(e: Estimate) -> str:
    u = e.usage
    text = (f"estimated tokens: ≈{u.cache_write_tokens + u.input_tokens:,} input (≈{u.cache_write_tokens:,} written to the cache), "
            f"≈{u.cache_read_tokens:,} read from the cache, ≈{u.output_tokens:,} output")
    if e.usd is None:
        return text + "; cost: unpriced (no prices configured for this model: set [model.model_prices])"
    return text + f"; cost ≈{format_usd(e.usd)} (≈{format_usd(e.usd_uncached)} if nothing is cached), output included"


class CallRecorder:
    """Prices and records every attempt of every model call, and keeps totals per document.

    `on_attempt` is a `Hooks.on_attempt`; `listener(attempt, usd)` is told each one (the
    progress display). Attempts of an offline backend (`generative = False`) are not calls."""

    def __init__(self, ws: "Workspace | None", provider: "Provider", *, record: bool = True, batch: bool = False,
                 model_cfg: "ModelConfig | None" = None, append: Callable[..., Any] | None = None,
                 listener: Callable[[Attempt, float | None], None] | None = None) -> None:
        from authorkit.config import ModelConfig

        self.ws = ws
        self.provider = provider
        self.model_cfg = model_cfg or (ws.config.model if ws is not None else ModelConfig())
        self.record = record and (ws is not None or append is not None) and provider.generative
        self.batch = batch
        self._append = append
        self.listener = listener
        self._lock = threading.Lock()
        self._prices: dict[str, Prices | None] = {}
        self.usage: dict[str, Usage] = {}
        self.cost_usd: dict[str, float | None] = {}
        self.calls: dict[str, int] = {}
        self.unpriced: set[str] = set()

    def prices(self, model: str) -> Prices | None:
        if model not in self._prices:
            self._prices[model] = prices_for(self.model_cfg, model, self.provider)
        return self._prices[model]

    def on_attempt(self, a: Attempt) -> None:
        if not self.provider.generative:
            return
        # Priced by the model that was asked for: a local server may answer with another name.
        model = self.provider.model or a.model
        usd = cost(a.usage, self.prices(model), batch=self.batch)
        with self._lock:
            doc = a.document
            self.usage[doc] = self.usage.get(doc, Usage()) + a.usage
            self.cost_usd[doc] = add_cost(self.cost_usd.get(doc), usd) if doc in self.cost_usd else usd
            self.calls[doc] = self.calls.get(doc, 0) + 1
            if usd is None:
                self.unpriced.add(model)
        if self.record:
            data: dict[str, Any] = dict(
                model=model, document=a.document, label=a.label, **a.usage.as_dict(),
                cost_usd=round(usd, 6) if usd is not None else None,
                outcome=a.outcome, attempt=a.number,
            )
            if a.model and a.model != model:
                data["served_by"] = a.model
            if usd is None:
                data["priced"] = False
            if not a.usage_reported:
                data["usage_reported"] = False
            if a.stop_reason:
                data["stop_reason"] = a.stop_reason
            if a.error:
                data["error"] = a.error[:300]
            if self.batch:
                data["batch"] = True
            if self._append is not None:
                self._append("model_call", **data)
            else:
                from authorkit.session import record

                record(self.ws, "model_call", **data)  # type: ignore[arg-type]
        if self.listener is not None:
            self.listener(a, usd)

    def totals(self, document: str) -> tuple[Usage, float | None, int]:
        with self._lock:
            return self.usage.get(document, Usage()), self.cost_usd.get(document), self.calls.get(document, 0)
