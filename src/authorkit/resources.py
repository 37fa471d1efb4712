"""Where the built-in style guides and prompts are: inside the installed package (wheels carry
them as `authorkit/_data/...`) or, in an editable install, at the top of the source tree."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=None)
def data_dir(kind: str) -> Path:
    """`kind` is "style_guides" or "prompts"."""
    here = Path(__file__).resolve().parent
    packaged = here / "_data" / kind
    return packaged if packaged.is_dir() else here.parents[1] / kind
