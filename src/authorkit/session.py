"""The session record: an append-only JSON-lines log under `sessions/`.

Each command appends events (what it read, wrote, checked, spent, committed). One event is
one line written with a single `write()` on a file opened with O_APPEND while holding an
exclusive lock on `sessions/.lock`; the same lock covers starting a session and the `current`
marker, so concurrent runs join one session and keep every event. A crash can at worst leave
a torn last line, which readers skip; earlier entries are never rewritten. Nothing is recorded
for a directory without `authorkit.toml`. Every value passes through `redact`
before it is written, so credentials never reach the record.

Every event has `ts` (UTC, ISO 8601) and `event` (its kind). The kinds and their fields:

- `session_start` {objective}
- `session_end` {}
- `command` {argv}: a command line as the user typed it (redacted)
- `read` {path, lines, sha}: a document read as input (e.g. the source of a conversion)
- `write` {path, action, title, lines_before, lines_after, sha_before, sha_after, style, errors}:
  a file written. `path` is workspace-relative (POSIX); `action` is drafted | converted |
  fixed for documents, `navigation` for a `_meta.js` entry (title `navigation: <slug>`), or
  `failed-draft` for a draft kept despite failing its check (never committed by default);
  `lines_before`/`sha_before` are 0/None for a new file; `sha_*` are SHA-256 of the file's
  bytes; `errors` is the number of check errors of the written text.
- `check` {paths, files, errors, warnings}: a check run and its totals
- `model_call` {model, document, input_tokens, cache_write_tokens, cache_read_tokens,
  output_tokens, cost_usd}: one model request; `document` is the workspace-relative path (or
  plan item) it was for
- `commit` {sha, paths, message_subject}: a commit made by `authorkit commit`; `paths` are
  workspace-relative
- `undo` {sha, head}: that commit was undone; `head` is the commit HEAD points to afterwards
- `summary` {path}: a session summary was written
- `plan_snapshot` {groups: [{name, total, done, pending: [{number, title}]}]}: the plan's
  progress at a point in the session (optional; the summary compares the first and the last)

Writers use `record(ws, kind, **fields)`; `record_write` / `record_read` compute line counts
and hashes so every writer stores them the same way.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from authorkit.config import Workspace
from authorkit.textio import atomic_write_text, line_count, sha256_text
from authorkit.textio import file_sha256 as _file_sha256

CURRENT = "current"  # file in sessions/ naming the open session id
LOCK = ".lock"  # sidecar lock file in sessions/ taken by every writer of the record
_SECRET_RX = re.compile(
    r"(sk-ant-[A-Za-z0-9_\-]{8,}|sk-[A-Za-z0-9]{16,}|(?i:api[_-]?key|token|secret|password)\s*[=:]\s*\S+)"
)


def redact(value: Any) -> Any:
    """Remove anything that looks like a credential, recursively."""
    if isinstance(value, str):
        key = os.environ.get("ANTHROPIC_API_KEY")
        if key and key in value:
            value = value.replace(key, "[redacted]")
        return _SECRET_RX.sub("[redacted]", value)
    if isinstance(value, dict):
        return {k: ("[redacted]" if re.search(r"(?i)api[_-]?key|secret|password|authorization", str(k)) else redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# flock excludes other processes; threads of this one share a lock and count nesting, so a
# writer holding the lock (starting a session) can append without deadlocking on itself.
_THREAD_LOCK = threading.RLock()
_DEPTH = threading.local()


@contextlib.contextmanager
def record_lock(sessions_dir: Path) -> Iterator[None]:
    """Exclusive lock on the session record of one workspace, across processes."""
    with _THREAD_LOCK:
        depth = getattr(_DEPTH, "n", 0)
        if depth:
            _DEPTH.n = depth + 1
            try:
                yield
            finally:
                _DEPTH.n = depth
            return
        sessions_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(sessions_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _DEPTH.n = 1
            try:
                yield
            finally:
                _DEPTH.n = 0
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


class Session:
    def __init__(self, ws: Workspace, session_id: str) -> None:
        self.ws = ws
        self.id = session_id
        self.path = ws.sessions_dir / f"{session_id}.jsonl"

    # -- lifecycle ---------------------------------------------------------------------

    @classmethod
    def current(cls, ws: Workspace, *, create: bool = True, objective: str | None = None) -> "Session | None":
        """The open session of this workspace, started on first use."""
        found = cls._open_one(ws)
        if found is not None or not create:
            return found
        # Checked again under the lock: two commands starting at once must join one session.
        with record_lock(ws.sessions_dir):
            return cls._open_one(ws) or cls.start(ws, objective)

    @classmethod
    def _open_one(cls, ws: Workspace) -> "Session | None":
        try:
            sid = (ws.sessions_dir / CURRENT).read_text(encoding="utf-8").strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if sid and (ws.sessions_dir / f"{sid}.jsonl").exists():
            return cls(ws, sid)
        return None

    @classmethod
    def start(cls, ws: Workspace, objective: str | None = None) -> "Session":
        with record_lock(ws.sessions_dir):
            stamp = _dt.datetime.now().strftime("%Y-%m-%d_%H%M%S")
            sid = f"{stamp}-{secrets.token_hex(2)}"
            s = cls(ws, sid)
            s.append("session_start", objective=objective or "")
            atomic_write_text(ws.sessions_dir / CURRENT, sid + "\n", root=ws.root)
            return s

    def end(self) -> None:
        with record_lock(self.ws.sessions_dir):
            self.append("session_end")
            marker = self.ws.sessions_dir / CURRENT
            try:
                if marker.read_text(encoding="utf-8").strip() == self.id:
                    marker.unlink()
            except FileNotFoundError:
                pass

    # -- events ------------------------------------------------------------------------

    def append(self, kind: str, **data: Any) -> dict[str, Any]:
        if kind != "session_start":
            _flush_pending(self)
        return self._append({"ts": _now(), "event": kind, **redact(data)})

    def _append(self, event: dict[str, Any]) -> dict[str, Any]:
        line = (json.dumps(event, ensure_ascii=False, sort_keys=False, default=str) + "\n").encode("utf-8")
        with record_lock(self.path.parent):
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    # A crash left a torn last line: end it, so this event starts a line of its own.
                    line = b"\n" + line
                view = memoryview(line)
                while view:  # a short write (a full disk, a signal) must not leave half an event
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
        return event

    def events(self) -> list[dict[str, Any]]:
        return list(read_events(self.path))

    # -- views over the record -----------------------------------------------------------

    @classmethod
    def find(cls, ws: Workspace, session_id: str) -> "Session | None":
        """A session by id (or unique id prefix), open or ended."""
        direct = ws.sessions_dir / f"{session_id}.jsonl"
        if direct.is_file():
            return cls(ws, session_id)
        matches = [p.stem for p in _session_files(ws) if p.stem.startswith(session_id)]
        return cls(ws, matches[0]) if len(matches) == 1 else None

    @classmethod
    def latest(cls, ws: Workspace) -> "Session | None":
        """The open session, else the most recently started one."""
        cur = cls.current(ws, create=False)
        if cur is not None:
            return cur
        files = _session_files(ws)
        return cls(ws, files[-1].stem) if files else None

    @property
    def is_open(self) -> bool:
        try:
            return (self.ws.sessions_dir / CURRENT).read_text(encoding="utf-8").strip() == self.id
        except FileNotFoundError:
            return False

    @property
    def objective(self) -> str:
        for ev in self.events():
            if ev.get("event") == "session_start":
                return str(ev.get("objective") or "")
        return ""

    def writes(self) -> dict[str, "WriteSummary"]:
        return summarize_writes(self.events())


@dataclass
class WriteSummary:
    """Everything written to one path in a session: first "before", last "after"."""

    path: str
    action: str
    title: str
    lines_before: int
    lines_after: int
    sha_before: str | None
    sha_after: str | None
    style: str
    errors: int | None
    writes: int = 1

    @property
    def is_new(self) -> bool:
        # Writers that do not hash the old text still give its line count.
        return self.sha_before is None and self.lines_before == 0


def summarize_writes(events: list[dict[str, Any]]) -> dict[str, WriteSummary]:
    """Collapse the `write` events per path, in order of first write.

    A later `fixed` pass does not hide that the file was drafted or converted: the action is
    the first write's unless every write was a fix.
    """
    out: dict[str, WriteSummary] = {}
    for ev in events:
        if ev.get("event") != "write" or not ev.get("path"):
            continue
        path = str(ev["path"])
        cur = out.get(path)
        if cur is None:
            out[path] = WriteSummary(
                path=path,
                action=str(ev.get("action") or "written"),
                title=str(ev.get("title") or ""),
                lines_before=int(ev.get("lines_before") or 0),
                lines_after=int(ev.get("lines_after") or 0),
                sha_before=ev.get("sha_before"),
                sha_after=ev.get("sha_after"),
                style=str(ev.get("style") or ""),
                errors=ev.get("errors"),
            )
            continue
        cur.writes += 1
        if cur.action == "fixed" and ev.get("action") and ev.get("action") != "fixed":
            cur.action = str(ev["action"])
        title = str(ev.get("title") or "")
        if cur.action == "navigation" and title.startswith("navigation: ") and cur.title.startswith("navigation: "):
            # One navigation file gains an entry per page: list them all.
            added = title.removeprefix("navigation: ")
            if added not in cur.title.removeprefix("navigation: ").split(", "):
                cur.title += ", " + added
        else:
            cur.title = title or cur.title
        cur.lines_after = int(ev.get("lines_after") or 0)
        cur.sha_after = ev.get("sha_after")
        cur.style = str(ev.get("style") or cur.style)
        cur.errors = ev.get("errors", cur.errors)
    return out


def _session_files(ws: Workspace) -> list[Path]:
    d = ws.sessions_dir
    if not d.is_dir():
        return []
    # Ids start with a sortable timestamp, so name order is start order.
    return sorted(p for p in d.glob("*.jsonl") if not p.name.startswith("."))


# -- hashing helpers shared by every writer ------------------------------------------------


def text_sha256(text: str) -> str:
    """SHA-256 of text as authorkit writes it (UTF-8, newlines untouched): textio's hash."""
    return sha256_text(text)


def file_sha256(path: Path) -> str | None:
    """textio's SHA-256 of a file's bytes; None when there is no such file."""
    try:
        return _file_sha256(path)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _lines(text: str | None) -> int:
    return line_count(text) if text else 0


def read_events(path: Path) -> Iterator[dict[str, Any]]:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    for line in raw.splitlines():
        if not line.strip():
            continue
        try:
            ev = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line from a crash; earlier lines are intact
        if isinstance(ev, dict):
            yield ev


def record_write(
    ws: Workspace,
    path: Path | str,
    *,
    action: str,
    before: str | None,
    after: str,
    title: str = "",
    style: str = "",
    errors: int | None = None,
) -> dict[str, Any] | None:
    """Record a document write; `before` is the previous text (None for a new file)."""
    return record(
        ws,
        "write",
        path=ws.rel(Path(ws.root / path) if not Path(path).is_absolute() else Path(path)),
        action=action,
        title=title,
        lines_before=_lines(before),
        lines_after=_lines(after),
        sha_before=text_sha256(before) if before is not None else None,
        sha_after=text_sha256(after),
        style=style,
        errors=errors,
    )


# A command line waiting for its command's first event: (sessions folder, event).
_PENDING: list[tuple[Path, dict[str, Any]]] = []


def record_command(ws: Workspace, argv: list[str]) -> dict[str, Any] | None:
    """Record a command line as typed (credentials in it are redacted).

    Into the open session at once; with no session open, it waits for the command's first
    event and goes in just before it, so a command refused before doing anything starts no
    session and leaves no `sessions/` folder behind."""
    if ws.config_path is None:
        return None
    event = {"ts": _now(), "event": "command", "argv": redact([str(a) for a in argv])}
    try:
        s = Session.current(ws, create=False)
        if s is not None:
            return s._append(event)
    except OSError:
        return None
    _PENDING[:] = [(ws.sessions_dir, event)]
    return None


def _flush_pending(session: Session) -> None:
    if not _PENDING:
        return
    with _THREAD_LOCK:  # threads of one command (convert) record at once: flush it once
        if _PENDING and _PENDING[0][0] == session.path.parent:
            _, event = _PENDING.pop()
            session._append(event)


def record_read(ws: Workspace, path: Path | str, text: str) -> dict[str, Any] | None:
    p = Path(path) if Path(path).is_absolute() else ws.root / path
    return record(ws, "read", path=ws.rel(p), lines=_lines(text), sha=text_sha256(text))


def record(ws: Workspace, kind: str, **data: Any) -> dict[str, Any] | None:
    """Append to the current session of `ws` (starting one if needed). Never fails the
    command. Outside a workspace (no authorkit.toml) nothing is recorded and nothing created:
    a `sessions/` folder must not appear in whatever directory a command ran in."""
    if ws.config_path is None:
        return None
    try:
        s = Session.current(ws, create=True)
        assert s is not None
        return s.append(kind, **data)
    except OSError:
        return None
