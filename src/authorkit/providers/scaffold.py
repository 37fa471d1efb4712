"""The offline provider: fills the style guide's skeleton, no model involved.

It answers whole-document requests only; the generator sees `generative = False` and asks
for the scaffold directly instead of running the outline/section flow.
"""

from __future__ import annotations

from typing import Any

from authorkit.providers.base import Completion, OnText, Provider, Request, Usage


class ScaffoldProvider(Provider):
    name = "scaffold"
    model = "scaffold"
    generative = False

    def __init__(self, ws: Any = None, model: str | None = None) -> None:
        self.ws = ws

    def stream(self, request: Request, on_text: OnText | None = None) -> Completion:
        from authorkit.scaffold import render_scaffold  # written alongside the plan commands

        kwargs = dict(request.metadata.get("scaffold", {}))
        text = render_scaffold(**kwargs)
        if on_text:
            on_text(text)
        return Completion(text, "end_turn", Usage(), self.model, calls=0)
