"""The offline provider: fills the style guide's skeleton, no model involved.

It answers whole-document requests only; callers see `generative = False` and ask for the
scaffold directly (request.metadata carries `item`, `guide` and `context`) instead of running
the outline/section flow.
"""

from __future__ import annotations

from typing import Any

from authorkit.errors import ProviderError
from authorkit.providers.base import Completion, OnText, Provider, Request, Usage


class ScaffoldProvider(Provider):
    name = "scaffold"
    model = "scaffold"
    generative = False

    def __init__(self, ws: Any = None, model: str | None = None) -> None:
        self.ws = ws

    def stream(self, request: Request, on_text: OnText | None = None) -> Completion:
        from authorkit.scaffold import render_scaffold  # written alongside the plan commands

        md = request.metadata
        if not all(k in md for k in ("item", "guide", "context")):
            raise ProviderError("the scaffold provider needs a plan item, a style guide and its context",
                                hint="use it through `authorkit draft … --provider scaffold`")
        text = render_scaffold(md["item"], md["guide"], self.ws, md["context"])
        if on_text:
            on_text(text)
        return Completion(text, "end_turn", Usage(), self.model, calls=0)
