"""Turn the paths a user gives (files, directories, globs) into the documents to check.

Directory walks never follow symlinked directories (no loops); a symlinked file is kept and a
broken or looping one is reported by the checker as unreadable, so one bad entry never stops
the run.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path

from authorkit.config import Workspace, _glob_regex

DOC_SUFFIXES = (".md", ".mdx", ".markdown")


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # arguments that matched nothing


def discover(ws: Workspace, args: list[str] | None) -> Discovery:
    out = Discovery()
    seen: set[str] = set()
    includes = [_glob_regex(g) for g in ws.config.content.include]

    def add(p: Path | str, explicit: bool) -> None:
        # os.walk below yields absolute, normal paths: abspath is for what the user typed.
        key = p if isinstance(p, str) else os.path.abspath(p)
        if key in seen:
            return
        if not explicit:
            rel = ws.rel(key)
            if ws.is_excluded(key) or not any(rx.search(rel) for rx in includes):
                return
        seen.add(key)
        out.files.append(Path(key))

    def walk(d: Path) -> None:
        for dirpath, dirnames, filenames in os.walk(os.path.abspath(d), followlinks=False):
            dirnames[:] = sorted(x for x in dirnames if not x.startswith(".") and x != "node_modules")
            for name in sorted(filenames):
                if name.endswith(DOC_SUFFIXES):
                    add(os.path.join(dirpath, name), explicit=False)

    targets = args or [str(r) for r in ws.content_roots]
    for a in targets:
        p = Path(a)
        if p.is_dir():
            walk(p)
        elif p.exists() or p.is_symlink():
            add(p, explicit=True)
        elif any(ch in a for ch in "*?["):
            hits = sorted(glob.glob(a, recursive=True))
            if not hits:
                out.missing.append(a)
            for h in hits:
                hp = Path(h)
                if hp.is_dir():
                    walk(hp)
                elif hp.name.endswith(DOC_SUFFIXES):
                    add(hp, explicit=True)
        else:
            out.missing.append(a)
    return out
