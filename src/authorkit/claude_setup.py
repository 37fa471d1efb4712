"""`authorkit init --claude-code`: register the hook in `.claude/settings.json` and the MCP
server in `.mcp.json`, merged into whatever the files already hold.

The user's other hooks, servers and settings are kept as they are; an entry that already runs
`authorkit hook` or serves `authorkit` is left alone, so running it again changes nothing. A
file that is not valid JSON (or not shaped as Claude Code expects) is refused with its line
before either file is written.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from authorkit.errors import ConfigError

HOOK_COMMAND = "authorkit hook"
SERVER_NAME = "authorkit"
EDIT_MATCHER = "Write|Edit|MultiEdit"
SETTINGS = ".claude/settings.json"
MCP_FILE = ".mcp.json"

# event -> the matcher group added for it (Stop takes no matcher).
HOOKS: dict[str, dict[str, Any]] = {
    "PostToolUse": {"matcher": EDIT_MATCHER, "hooks": [{"type": "command", "command": HOOK_COMMAND, "timeout": 60}]},
    "Stop": {"hooks": [{"type": "command", "command": HOOK_COMMAND, "timeout": 120}]},
}
SERVER: dict[str, Any] = {"type": "stdio", "command": "authorkit", "args": ["mcp"], "env": {}}

# A command that runs `authorkit hook`, however authorkit is reached (a path, `uv run`, …).
_OUR_HOOK = re.compile(r"(?:^|[\s/])authorkit(?:\s+--?\S+)*\s+hook(?:\s|$)")


@dataclass
class FileChange:
    rel: str
    path: Path
    before: str | None  # None: the file does not exist yet
    after: str
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added)


def _load(path: Path, rel: str) -> tuple[str | None, dict[str, Any]]:
    if not path.exists():
        return None, {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {rel}: {exc}", path=rel, hint="fix the file's permissions or encoding; nothing was changed") from None
    if not text.strip():
        return text, {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON: {exc.msg}", path=rel, line=exc.lineno,
                          hint="fix it (or move it away) and run again; neither file was changed") from None
    if not isinstance(data, dict):
        raise ConfigError(f"expected a JSON object at the top, found {type(data).__name__}", path=rel, line=1,
                          hint="fix it (or move it away) and run again; neither file was changed")
    return text, data


def _shape_error(rel: str, text: str | None, key: str, want: str) -> ConfigError:
    line = next((i + 1 for i, ln in enumerate((text or "").splitlines()) if f'"{key}"' in ln), None)
    return ConfigError(f"`{key}` should be {want}", path=rel, line=line,
                       hint="Claude Code would not read it either: fix it and run again; neither file was changed")


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def runs_our_hook(group: Any) -> bool:
    hooks = group.get("hooks") if isinstance(group, dict) else None
    return any(isinstance(h, dict) and isinstance(h.get("command"), str) and _OUR_HOOK.search(h["command"].strip())
               for h in (hooks if isinstance(hooks, list) else []))


def plan_settings(root: Path) -> FileChange:
    path = root / SETTINGS
    text, data = _load(path, SETTINGS)
    data = copy.deepcopy(data)
    change = FileChange(SETTINGS, path, text, "")
    hooks = data.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise _shape_error(SETTINGS, text, "hooks", "an object of hook events")
    for event, group in HOOKS.items():
        groups = hooks.setdefault(event, [])
        if not isinstance(groups, list):
            raise _shape_error(SETTINGS, text, event, "a list of matcher groups")
        what = f"{event} hook `{HOOK_COMMAND}`" + (f" after {group['matcher']}" if "matcher" in group else "")
        if any(runs_our_hook(g) for g in groups):
            change.kept.append(f"{event} hook (already runs authorkit hook)")
            continue
        groups.append(copy.deepcopy(group))
        change.added.append(what)
    change.after = _dump(data) if change.added else (text or "")
    return change


def plan_mcp(root: Path) -> FileChange:
    path = root / MCP_FILE
    text, data = _load(path, MCP_FILE)
    data = copy.deepcopy(data)
    change = FileChange(MCP_FILE, path, text, "")
    servers = data.setdefault("mcpServers", {})
    if not isinstance(servers, dict):
        raise _shape_error(MCP_FILE, text, "mcpServers", "an object of servers")
    if SERVER_NAME in servers:
        change.kept.append(f"MCP server `{SERVER_NAME}` (already configured; left as it is)")
    else:
        servers[SERVER_NAME] = copy.deepcopy(SERVER)
        change.added.append(f"MCP server `{SERVER_NAME}`: `authorkit mcp` over stdio")
    change.after = _dump(data) if change.added else (text or "")
    return change


def plan_setup(root: Path) -> list[FileChange]:
    """Both files' merged text; raises ConfigError before anything is written."""
    return [plan_settings(root), plan_mcp(root)]


def apply_setup(changes: list[FileChange]) -> None:
    from authorkit.textio import atomic_write_text

    for c in changes:
        if c.changed:
            c.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(c.path, c.after)


def report(changes: list[FileChange], *, dry_run: bool) -> list[str]:
    """Lines telling what was (or would be) added and kept, and the resulting JSON on a dry run."""
    out: list[str] = []
    verb = "would add to" if dry_run else "added to"
    for c in changes:
        for a in c.added:
            out.append(f"{verb} {c.rel}: {a}")
        for k in c.kept:
            out.append(f"kept in {c.rel}: {k}")
    if dry_run:
        for c in changes:
            if c.changed:
                out.append(f"--- {c.rel} ({'new file' if c.before is None else 'merged'})")
                out.extend(c.after.rstrip("\n").split("\n"))
    if not any(c.changed for c in changes):
        out.append("Claude Code is already set up: nothing to change")
    return out
