"""Reading documents robustly and writing them atomically.

Reads never raise on bad bytes: a file that is not UTF-8 is decoded with a fallback and the
problem is reported by the caller as a finding. Writes go to a temporary file in the same
directory and are renamed into place, so a failed or interrupted run leaves nothing partial.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

# Files larger than this are reported, not parsed: a 50 MB "document" is almost always a
# mistake (a dump, a log) and parsing it would stall the whole run.
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class ReadResult:
    text: str | None
    data: bytes | None
    problem: str | None = None  # "binary", "encoding", "too-large", "unreadable", "empty"
    detail: str | None = None
    encoding: str = "utf-8"
    digest: str | None = None  # content hash of the bytes read (the check cache's key)


def read_document(path: Path, max_bytes: int = MAX_DOCUMENT_BYTES) -> ReadResult:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return ReadResult(None, None, "too-large", f"{size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit")
        data = path.read_bytes()
    except PermissionError as exc:
        return ReadResult(None, None, "unreadable", f"permission denied ({exc.strerror})")
    except OSError as exc:
        return ReadResult(None, None, "unreadable", exc.strerror or str(exc))
    res = decode_document(data)
    # Hashed here, from the bytes that were checked, so the cache never pairs a result with
    # content read at another moment (and the file is not read a second time to hash it).
    return replace(res, digest=content_hash(data))


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def decode_document(data: bytes) -> ReadResult:
    if not data.strip():
        return ReadResult(data.decode("utf-8", "replace"), data, "empty", "the file is empty")
    if b"\x00" in data[:8192]:
        return ReadResult(None, data, "binary", "the file contains NUL bytes (binary, not Markdown)")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return ReadResult(data.decode("utf-8"), data)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        # cp1252 is what such files almost always are; decode so the rest can still be checked.
        text = data.decode("cp1252", "replace")
        return ReadResult(text, data, "encoding", f"not valid UTF-8 (first bad byte on line {line}); read as cp1252", "cp1252")


def atomic_write_text(path: Path, text: str, *, encoding: str = "utf-8") -> None:
    """Write `text` to `path` via a temporary file and rename; keeps the file's mode."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = None
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def line_count(text: str) -> int:
    """Lines as an editor shows them: a trailing newline does not start a new line."""
    if not text:
        return 0
    return text.count("\n") + (0 if text.endswith("\n") else 1)
