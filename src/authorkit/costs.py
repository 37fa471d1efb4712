"""Token usage to US dollars, with the prices configured in authorkit.toml (per million)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from authorkit.config import Prices
from authorkit.providers.base import Usage

if TYPE_CHECKING:
    from authorkit.config import ModelConfig


def prices_for(model_cfg: "ModelConfig", model: str | None = None) -> Prices:
    """`model.model_prices[model]` when the user priced that model, else `model.prices`."""
    if model and model in model_cfg.model_prices:
        return model_cfg.model_prices[model]
    return model_cfg.prices


def cost(usage: Usage, prices: Prices, *, batch: bool = False) -> float:
    usd = (
        usage.input_tokens * prices.input
        + usage.cache_write_tokens * prices.cache_write
        + usage.cache_read_tokens * prices.cache_read
        + usage.output_tokens * prices.output
    ) / 1_000_000
    # The Message Batches API bills every token class at half price.
    return usd / 2 if batch else usd


def format_usd(usd: float) -> str:
    return f"${usd:.4f}" if usd < 1 else f"${usd:.2f}"


def format_usage(usage: Usage, usd: float | None = None) -> str:
    parts = [
        f"in {usage.input_tokens:,}",
        f"cache write {usage.cache_write_tokens:,}",
        f"cache read {usage.cache_read_tokens:,}",
        f"out {usage.output_tokens:,}",
    ]
    text = "tokens: " + ", ".join(parts)
    if usd is not None:
        text += f"; cost {format_usd(usd)}"
    return text
