"""Model providers, registered by name. A new backend is one `Provider` subclass plus a
line in `_REGISTRY`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from authorkit.errors import UsageError
from authorkit.providers.base import Block, Completion, Provider, Request, Usage, estimate_tokens

if TYPE_CHECKING:
    from authorkit.config import Workspace

__all__ = ["Block", "Completion", "Provider", "Request", "Usage", "estimate_tokens", "get_provider", "register", "names"]


def _anthropic(ws: "Workspace", model: str | None) -> Provider:
    from authorkit.providers.anthropic import AnthropicProvider

    return AnthropicProvider.from_workspace(ws, model=model)


def _scaffold(ws: "Workspace", model: str | None) -> Provider:
    from authorkit.providers.scaffold import ScaffoldProvider

    return ScaffoldProvider(ws, model)


def _fake(ws: "Workspace", model: str | None) -> Provider:
    from authorkit.providers.fake import FakeProvider

    return FakeProvider(model or "fake-model")


_REGISTRY: dict[str, Callable[["Workspace", str | None], Provider]] = {
    "anthropic": _anthropic,
    "scaffold": _scaffold,
    "fake": _fake,
}


def register(name: str, factory: Callable[["Workspace", str | None], Provider]) -> None:
    _REGISTRY[name] = factory


def names() -> list[str]:
    return sorted(_REGISTRY)


def get_provider(name: str, ws: "Workspace", model: str | None = None) -> Provider:
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise UsageError(f"unknown provider {name!r}", hint=f"use one of: {', '.join(names())}") from None
    return factory(ws, model)
