"""`authorkit hook`: Claude Code's hook protocol, answered with `check`.

Claude Code runs the hook command with one event as JSON on stdin (`hook_event_name`,
`session_id`, `cwd`, and for tool events `tool_name` and `tool_input`) and reads the answer
from the exit code and stdout. Two events are handled:

- `PostToolUse` after Write, Edit or MultiEdit of a document the workspace checks: the file is
  checked (result cache, code checks included) and, when it has errors,
  `{"decision": "block", "reason": ...}` tells the model what to fix. Anything else (a clean
  file, a file outside the content roots, a non-Markdown file) gets no output at all.
- `Stop`: every document written in this Claude session (as the record shows) or changed
  since HEAD is checked; while any has errors, stopping is blocked with the list, at most
  `[hooks] max_stop_blocks` times in a row, after which the model is let go with the list
  shown to the author.

The hook always exits 0: a broken hook must never stop the author's session, so every
problem (bad JSON, a broken authorkit.toml) is a message on stderr. What it sees is recorded
in the session record (`hook` events, and a `write` per document written), so
`summarize-session` covers sessions driven from Claude Code.

This module is imported on every tool call Claude makes, so it imports only the standard
library at module level; the checker is loaded once a document is known to need it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from authorkit.check import FileResult
    from authorkit.config import Workspace

DOC_SUFFIXES = (".md", ".mdx")
EDIT_TOOLS = frozenset({"Write", "Edit", "MultiEdit"})
DEFAULT_MAX_STOP_BLOCKS = 3
MAX_LISTED = 10  # errors listed in one answer; the rest are counted
MAX_REASON = 2000  # characters: a reason the model reads in full
MAX_MESSAGE = 220  # characters of one finding's message and hint
_FORBIDDEN_HEADING = re.compile(r"^“(.+?)”:")


def run(stdin: IO[str] | None = None, stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
    """Answer one event. Always returns 0 (see the module docstring)."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    # Bytes, decoded leniently: a stray invalid byte must not raise before we can answer.
    buf = getattr(stdin, "buffer", None)
    raw = buf.read().decode("utf-8", "replace") if buf is not None else stdin.read()
    try:
        event = json.loads(raw)
        if not isinstance(event, dict):
            raise ValueError(f"expected a JSON object, got {type(event).__name__}")
    except ValueError as exc:  # JSONDecodeError is a ValueError
        msg = f"the event on stdin is not a JSON object ({exc}); nothing was checked"
        print(f"authorkit hook: {msg}", file=stderr)
        _record_bad_input(msg, raw)
        return 0
    try:
        answer = handle(event)
    except Exception as exc:  # noqa: BLE001 - the author's session must go on whatever happens here
        from authorkit.errors import AuthorkitError

        text = str(exc) if isinstance(exc, AuthorkitError) else f"{type(exc).__name__}: {exc}"
        print(f"authorkit hook: {text}", file=stderr)
        return 0
    if answer:
        stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
        stdout.flush()
    return 0


def handle(event: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON answer to an event, or None for no output."""
    name = event.get("hook_event_name")
    if name == "PostToolUse":
        return post_tool_use(event)
    if name == "Stop":
        return stop(event)
    return None


# --- PostToolUse -----------------------------------------------------------------------------


def edited_path(event: dict[str, Any]) -> Path | None:
    """The file a Write/Edit/MultiEdit event wrote, absolute, or None."""
    if event.get("tool_name") not in EDIT_TOOLS:
        return None
    tool_input = event.get("tool_input")
    raw = tool_input.get("file_path") if isinstance(tool_input, dict) else None
    if not isinstance(raw, str) or not raw:
        return None
    p = Path(raw)
    if not p.is_absolute():
        p = Path(str(event.get("cwd") or os.getcwd())) / p
    return Path(os.path.realpath(p))


def post_tool_use(event: dict[str, Any]) -> dict[str, Any] | None:
    path = edited_path(event)
    if path is None or not path.name.lower().endswith(DOC_SUFFIXES) or not path.is_file():
        return None
    ws = _workspace_for(path.parent)
    if ws is None or not is_checked(ws, path):
        return None
    from authorkit.check import check_paths

    result = check_paths(ws, [str(path)]).results[0]
    errors = _errors(result)
    outcome = "blocked" if errors else "clean"
    _record_post(ws, event, path, result, outcome)
    if not errors:
        return None
    return {"decision": "block", "reason": block_reason(result)}


def is_checked(ws: "Workspace", path: Path) -> bool:
    """Whether `authorkit check` with no arguments would check `path`."""
    from authorkit.config import _glob_regex

    ap = os.path.realpath(path)
    root = next((str(r) for r in ws.content_roots if ap.startswith(str(r) + os.sep)), None)
    if root is None or ws.is_excluded(ap):
        return False
    # The walk of `check` skips hidden folders (.claude/, .github/) and node_modules.
    if any(d.startswith(".") or d == "node_modules" for d in Path(ap[len(root) + 1:]).parts[:-1]):
        return False
    rel = ws.rel(ap)
    return any(_glob_regex(g).search(rel) for g in ws.config.content.include)


def _errors(result: "FileResult") -> list[Any]:
    return [f for f in result.findings if str(f.severity) == "error"]


def forbidden_sections(result: "FileResult") -> list[tuple[str, int]]:
    """(heading, line) of each section the style forbids."""
    out = []
    for f in result.findings:
        if f.rule == "section-forbidden":
            m = _FORBIDDEN_HEADING.match(f.message)
            out.append((m.group(1) if m else f.message, f.line))
    return out


def _clip(text: str, n: int = MAX_MESSAGE) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def block_reason(result: "FileResult") -> str:
    """What the model reads: the style, the forbidden sections by name, each error with its
    line and hint; capped so it stays readable."""
    errors = _errors(result)
    style = result.style or "no"
    n = len(errors)
    head = (f"authorkit check: {result.path} does not follow the “{style}” style "
            f"({n} error{'s' * (n != 1)}). Fix every error below, then save the file again.")
    lines = [head]
    forbidden = forbidden_sections(result)
    if forbidden:
        names = ", ".join(f"“{h}” (line {ln})" for h, ln in forbidden)
        lines.append(f"Forbidden sections in the {style} style: {names}. Remove them, or fold what is worth "
                     f"keeping into the sections the style has.")
    lines.append("Errors:")
    shown = 0
    listed = [f for f in errors if f.rule != "section-forbidden"]  # named with their lines above
    for f in listed:
        item = f"- line {f.line}: {_clip(f.message)} [{f.rule}]"
        if f.hint:
            item += f" → {_clip(f.hint)}"
        if len("\n".join(lines)) + len(item) + 120 > MAX_REASON or shown >= MAX_LISTED:
            break
        lines.append(item)
        shown += 1
    if shown < len(listed):
        lines.append(f"- … and {len(listed) - shown} more: run `authorkit check {result.path}` to see them all.")
    lines.append(f"The {style} style's full instructions: the authorkit MCP tool `style_guide` "
                 f"(path {result.path}), or `authorkit check --explain {result.path}`.")
    return "\n".join(lines)


# --- Stop ------------------------------------------------------------------------------------


def stop(event: dict[str, Any]) -> dict[str, Any] | None:
    ws = _workspace_for(Path(str(event.get("cwd") or os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd())))
    if ws is None:
        return None
    claude_session = str(event.get("session_id") or "")
    events = _record_events(ws)
    paths = [p for p in _session_documents(ws, events, claude_session) + _changed_since_head(ws) if p.is_file()]
    paths = list(dict.fromkeys(p for p in paths if is_checked(ws, p)))
    failing: list[FileResult] = []
    if paths:
        from authorkit.check import check_paths

        failing = [r for r in check_paths(ws, [str(p) for p in paths]).results if _errors(r)]
    limit = _max_stop_blocks(ws)
    # Blocks in a row: a Stop that Claude Code did not reach through our own block
    # (stop_hook_active false) starts a new count.
    done = _blocks_in_a_row(events, claude_session) if event.get("stop_hook_active") else 0
    if not failing:
        if paths:  # Stop ends every turn: a turn that wrote nothing leaves no trace
            _record(ws, "hook", hook_event="Stop", claude_session=claude_session, checked=[ws.rel(p) for p in paths],
                    failing=[], outcome="clean")
        return None
    failing_rel = [{"path": r.path, "style": r.style, "errors": len(_errors(r))} for r in failing]
    if done >= limit:
        text = stop_list(failing, released=True, tries=done)
        _record(ws, "hook", hook_event="Stop", claude_session=claude_session, checked=[ws.rel(p) for p in paths],
                failing=failing_rel, outcome="released", blocks=done)
        print(text, file=sys.stderr)
        return {"systemMessage": text}
    _record(ws, "hook", hook_event="Stop", claude_session=claude_session, checked=[ws.rel(p) for p in paths],
            failing=failing_rel, outcome="blocked", blocks=done + 1)
    return {"decision": "block", "reason": stop_list(failing, released=False, tries=done + 1, limit=limit)}


def stop_list(failing: list["FileResult"], *, released: bool, tries: int, limit: int = 0) -> str:
    n = len(failing)
    docs = f"{n} document{'s' * (n != 1)}"
    if released:
        head = (f"authorkit: stopping with {docs} still failing the style check "
                f"(stopping was refused {tries} time{'s' * (tries != 1)}):")
    else:
        verb = "fails its" if n == 1 else "fail their"
        head = (f"authorkit: {docs} written in this session {verb} style check; fix "
                f"{'it' if n == 1 else 'them'} before stopping (refusal {tries} of {limit}; "
                f"after that the session stops with this list):")
    lines = [head]
    per_file = max(1, (MAX_LISTED // max(n, 1)))
    for r in failing:
        errors = _errors(r)
        lines.append(f"- {r.path} ({r.style or 'no'} style): {len(errors)} error{'s' * (len(errors) != 1)}")
        forbidden = forbidden_sections(r)
        if forbidden:
            lines.append("    forbidden sections: " + ", ".join(f"“{h}”" for h, _ in forbidden))
        for f in errors[:per_file]:
            lines.append(f"    line {f.line}: {_clip(f.message, 160)}")
        if len("\n".join(lines)) > MAX_REASON:
            lines.append("- … (run `authorkit check` for the full list)")
            break
    lines.append("Run `authorkit check <path>` for every finding with its hint.")
    return "\n".join(lines)


def _max_stop_blocks(ws: "Workspace") -> int:
    hooks = getattr(ws.config, "hooks", None)
    return int(getattr(hooks, "max_stop_blocks", DEFAULT_MAX_STOP_BLOCKS))


def _blocks_in_a_row(events: list[dict[str, Any]], claude_session: str) -> int:
    n = 0
    for ev in events:
        if ev.get("event") == "hook" and ev.get("hook_event") == "Stop" and ev.get("claude_session") == claude_session:
            n = n + 1 if ev.get("outcome") == "blocked" else 0
    return n


def _session_documents(ws: "Workspace", events: list[dict[str, Any]], claude_session: str) -> list[Path]:
    """Documents this Claude session wrote, as PostToolUse recorded them."""
    out = []
    for ev in events:
        if (ev.get("event") == "hook" and ev.get("hook_event") == "PostToolUse"
                and ev.get("claude_session") == claude_session and ev.get("path")):
            out.append(ws.root / str(ev["path"]))
    return out


def _changed_since_head(ws: "Workspace") -> list[Path]:
    """Files under the content roots that differ from HEAD, or are new and not ignored."""
    roots = [str(r) for r in ws.content_roots if r.exists()]
    if not roots:
        return []
    out: list[Path] = []
    for args in (["diff", "--name-only", "-z", "--relative", "HEAD", "--"], ["ls-files", "--others", "--exclude-standard", "-z", "--"]):
        try:
            proc = subprocess.run(["git", *args, *roots], cwd=ws.root, capture_output=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return out
        if proc.returncode == 0:
            out.extend(ws.root / p for p in proc.stdout.decode("utf-8", "replace").split("\0") if p)
    return out


# --- workspace and record --------------------------------------------------------------------


def _workspace_for(start: Path) -> "Workspace | None":
    from authorkit.config import find_config, load_workspace

    cfg = find_config(start)
    return load_workspace(config_path=cfg) if cfg is not None else None


def _record_events(ws: "Workspace") -> list[dict[str, Any]]:
    from authorkit.session import Session

    s = Session.current(ws, create=False)
    return s.events() if s is not None else []


def _record(ws: "Workspace", kind: str, **data: Any) -> None:
    from authorkit.session import record

    record(ws, kind, **data)


def _record_post(ws: "Workspace", event: dict[str, Any], path: Path, result: "FileResult", outcome: str) -> None:
    from authorkit.session import record_write

    errors = _errors(result)
    _record(ws, "hook", hook_event="PostToolUse", tool=event.get("tool_name"), claude_session=str(event.get("session_id") or ""),
            path=result.path, style=result.style, errors=len(errors),
            warnings=sum(1 for f in result.findings if str(f.severity) == "warning"),
            findings=[{"rule": f.rule, "line": f.line, "message": _clip(f.message, 160)} for f in errors[:MAX_LISTED]],
            forbidden=[h for h, _ in forbidden_sections(result)], outcome=outcome)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    record_write(ws, path, action="written", before=_head_text(ws, result.path), after=text,
                 title=_h1(text) or path.stem, style=result.style or "", errors=len(errors))


def _head_text(ws: "Workspace", rel: str) -> str | None:
    """The file as HEAD has it (None when new), so the summary shows what changed."""
    try:
        proc = subprocess.run(["git", "show", f"HEAD:./{rel}"], cwd=ws.root, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else None


def _h1(text: str) -> str | None:
    # plan._h1 does the same, but importing the plan parser costs this hook 60 ms.
    for line in text.split("\n", 200)[:200]:
        if line.startswith("# "):
            return line[2:].strip()
    return None


def _record_bad_input(message: str, raw: str) -> None:
    try:
        ws = _workspace_for(Path(os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd()))
        if ws is not None:
            _record(ws, "hook", hook_event=None, outcome="bad-input", error=message, input_bytes=len(raw.encode("utf-8", "replace")))
    except Exception:  # noqa: BLE001 - reporting bad input must not fail either
        pass
