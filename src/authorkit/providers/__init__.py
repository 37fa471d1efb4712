"""Model providers, registered by name.

A backend is one `Provider` subclass. Built-in ones are listed in `_BUILTIN`; a third-party
package adds its own through the `authorkit.providers` entry-point group, e.g. in its
pyproject.toml:

    [project.entry-points."authorkit.providers"]
    mybackend = "mypackage:MyProvider"

The entry point names a `Provider` subclass (built with `from_workspace(ws, model)` when it
has one, else `Cls(model)`) or a factory `(ws, model) -> Provider`.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, Callable

from authorkit.errors import ProviderError, UsageError
from authorkit.providers.base import (
    Attempt,
    Block,
    Cancelled,
    Completion,
    Fatal,
    Hooks,
    Provider,
    Request,
    Truncated,
    Usage,
    estimate_tokens,
    request_tokens,
)

if TYPE_CHECKING:
    from authorkit.config import Workspace

__all__ = [
    "Attempt", "Block", "Cancelled", "Completion", "Fatal", "Hooks", "Provider", "Request", "Truncated", "Usage",
    "estimate_tokens", "request_tokens", "get_provider", "register", "names", "missing_credentials",
    "require_credentials", "NO_KEY_HINT",
]

Factory = Callable[["Workspace", "str | None"], Provider]

NO_KEY_HINT = (
    "export ANTHROPIC_API_KEY=sk-ant-… for Anthropic's API, or point ANTHROPIC_BASE_URL at an "
    "Anthropic-compatible server (llama.cpp's llama-server, Ollama; no key needed)"
)


def missing_credentials(offline: str | None = None) -> ProviderError:
    """The one message every model command gives without credentials. `offline` says what
    works without a model for that command."""
    hint = NO_KEY_HINT + (f"; offline: {offline}" if offline else "")
    return ProviderError("no model credentials: neither ANTHROPIC_API_KEY nor ANTHROPIC_BASE_URL is set", hint=hint)


def require_credentials(provider: str, offline: str | None = None) -> None:
    """Fail fast (before the SDK is imported) when `provider` needs credentials that are absent."""
    if provider == "anthropic" and not (os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_BASE_URL")):
        raise missing_credentials(offline)


def _anthropic(ws: "Workspace", model: str | None) -> Provider:
    from authorkit.providers.anthropic import AnthropicProvider

    return AnthropicProvider.from_workspace(ws, model=model)


def _scaffold(ws: "Workspace", model: str | None) -> Provider:
    from authorkit.providers.scaffold import ScaffoldProvider

    return ScaffoldProvider(ws, model)


def _fake(ws: "Workspace", model: str | None) -> Provider:
    from authorkit.providers.fake import FakeProvider

    return FakeProvider(model or "fake-model")


_BUILTIN: dict[str, Factory] = {
    "anthropic": _anthropic,
    "scaffold": _scaffold,
    "fake": _fake,
}
_REGISTRY: dict[str, Factory] = dict(_BUILTIN)
_loaded = False
_lock = threading.Lock()


def _factory_of(obj: Any) -> Factory:
    if isinstance(obj, type) and issubclass(obj, Provider):
        cls = obj
        if hasattr(cls, "from_workspace"):
            return lambda ws, model: cls.from_workspace(ws, model)  # type: ignore[attr-defined]
        return lambda ws, model: cls(model) if model else cls()
    if callable(obj):
        return obj
    raise TypeError(f"{obj!r} is neither a Provider subclass nor a factory")


def _load_entry_points() -> None:
    """Third-party backends from the `authorkit.providers` entry-point group (once)."""
    global _loaded
    with _lock:
        if _loaded:
            return
        _loaded = True
        from importlib.metadata import entry_points

        for ep in entry_points(group="authorkit.providers"):
            if ep.name in _BUILTIN:
                continue  # a plugin never replaces a built-in backend
            _REGISTRY.setdefault(ep.name, _lazy(ep))


def _lazy(ep: Any) -> Factory:
    def factory(ws: "Workspace", model: str | None) -> Provider:
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin is the user's to fix, not a traceback
            raise ProviderError(f"provider {ep.name!r} ({ep.value}) could not be loaded: {type(exc).__name__}: {exc}",
                                hint="reinstall the package that provides it, or choose another --provider") from None
        return _factory_of(obj)(ws, model)

    return factory


def register(name: str, factory: Factory | type[Provider]) -> None:
    _REGISTRY[name] = _factory_of(factory)


def names() -> list[str]:
    _load_entry_points()
    return sorted(_REGISTRY)


def is_known(name: str) -> bool:
    if name not in _REGISTRY:
        _load_entry_points()  # only then: scanning installed packages takes a moment
    return name in _REGISTRY


def price_list(name: str, model: str) -> Any:
    """A built-in backend's own prices for `model` (a config.Prices) without building the
    backend (dry runs): Claude prices for `anthropic` on Anthropic's API, else None."""
    if name == "anthropic":
        from authorkit.providers.anthropic import claude_prices, is_official

        return claude_prices(model) if is_official(os.environ.get("ANTHROPIC_BASE_URL")) else None
    return None


def get_provider(name: str, ws: "Workspace", model: str | None = None) -> Provider:
    if name not in _REGISTRY:
        _load_entry_points()
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise UsageError(f"unknown provider {name!r}", hint=f"use one of: {', '.join(names())}") from None
    return factory(ws, model)
