"""The one place that reads, writes and hashes the user's files.

Reads are bounded and safe: only regular files are read (a device, FIFO or socket is reported,
never opened for reading), at most a byte cap is read whatever `st_size` says, and a symlink
that leads out of the workspace is not followed. Reads never raise on bad bytes: a file that is
not UTF-8 is reported (`problem == "encoding"`, `lossless == False`); `decode_strict` is what a
writer uses, and it refuses instead of guessing.

Writes go to a temporary file in the target's directory and are renamed into place, so a failed
or interrupted run leaves the old file or the new one, never a mix. The temporary file is removed
on every exit path; one left by a killed process is named `.<name>.ak<pid>-<random>.tmp` and is
removed by the next write to the same file once that process is gone. A symlink is never
replaced by a write: the write goes to its target, and is refused when the target is outside
the workspace. New files get the permissions the umask gives; an existing file keeps its mode.

Hashes are SHA-256 everywhere (`sha256_bytes`, `sha256_text`, `file_sha256`).
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import stat
import time
from dataclasses import dataclass, replace
from pathlib import Path

from authorkit.errors import InputError, WriteRefused

# Files larger than this are reported, not parsed: a 50 MB "document" is almost always a
# mistake (a dump, a log) and parsing it would stall the whole run.
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024


# --- hashing --------------------------------------------------------------------------------


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    """SHA-256 of text as authorkit writes it (UTF-8, newlines untouched)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: Path | str) -> str:
    """SHA-256 of a file's bytes, read in pieces (raises OSError like open())."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def content_hash(data: bytes) -> str:
    """The digest stored with cached results: the same SHA-256 as `file_sha256`."""
    return sha256_bytes(data)


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadResult:
    text: str | None
    data: bytes | None
    problem: str | None = None
    detail: str | None = None
    encoding: str = "utf-8"
    digest: str | None = None  # content hash of the bytes read (the check cache's key)
    # problem is one of "binary", "encoding", "too-large", "unreadable", "empty"
    lossless: bool = True  # False when `text` is a best-effort reading that must not be written back


class ReadRefused(Exception):
    """A path that must not be read; `problem` is one of ReadResult's codes."""

    def __init__(self, problem: str, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def is_inside(path: Path | str, root: Path | str) -> bool:
    """True when the resolved `path` is `root` or below it (both resolved, symlinks included)."""
    p = os.path.realpath(path)
    r = os.path.realpath(root)
    return p == r or p.startswith(r.rstrip(os.sep) + os.sep)


def resolve_inside(path: Path | str, root: Path | str | None) -> Path:
    """The file a path stands for, symlinks followed; ReadRefused when that leaves `root`."""
    real = Path(os.path.realpath(path))
    if root is not None and not is_inside(real, root):
        if real != Path(os.path.abspath(path)):
            raise ReadRefused("outside-workspace", f"is a symlink to {real}, outside the workspace; not followed")
        raise ReadRefused("outside-workspace", f"is outside the workspace ({os.path.realpath(root)}); not read")
    return real


def read_bytes_safe(path: Path | str, *, root: Path | str | None = None, max_bytes: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The bytes of a regular file, at most `max_bytes` of them. Raises ReadRefused for a path
    outside `root`, a device, FIFO, socket or directory, an oversize file, or an OS error."""
    real = resolve_inside(path, root)
    try:
        st = os.stat(real)
    except OSError as exc:
        raise ReadRefused("unreadable", exc.strerror or str(exc)) from None
    if not stat.S_ISREG(st.st_mode):
        raise ReadRefused("not-a-file", f"is {_kind(st.st_mode)}; only regular files are read")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(real, flags)
    except PermissionError as exc:
        raise ReadRefused("unreadable", f"permission denied ({exc.strerror})") from None
    except OSError as exc:
        raise ReadRefused("unreadable", exc.strerror or str(exc)) from None
    try:
        st = os.fstat(fd)  # what was opened, not what was stat'ed a moment before
        if not stat.S_ISREG(st.st_mode):
            raise ReadRefused("not-a-file", f"is {_kind(st.st_mode)}; only regular files are read")
        chunks: list[bytes] = []
        got = 0
        while got <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        if got > max_bytes:
            raise ReadRefused("too-large", f"over the {max_bytes / 1e6:.0f} MB limit")
        return b"".join(chunks)
    except OSError as exc:
        raise ReadRefused("unreadable", exc.strerror or str(exc)) from None
    finally:
        os.close(fd)


def read_document(path: Path, max_bytes: int = MAX_DOCUMENT_BYTES, *, root: Path | str | None = None) -> ReadResult:
    """Read a document for checking. Never raises: every problem is a ReadResult.problem."""
    try:
        data = read_bytes_safe(path, root=root, max_bytes=max_bytes)
    except ReadRefused as exc:
        # Readers know the codes "too-large" and "unreadable"; a device or an escaping symlink
        # is unreadable as far as they are concerned, and the detail says why.
        problem = exc.problem if exc.problem == "too-large" else "unreadable"
        return ReadResult(None, None, problem, exc.detail, lossless=False)
    res = decode_document(data)
    # Hashed here, from the bytes that were checked, so the cache never pairs a result with
    # content read at another moment (and the file is not read a second time to hash it).
    return replace(res, digest=content_hash(data))


@dataclass(frozen=True)
class DecodeFailure:
    line: int  # 1-based
    column: int  # 1-based, in bytes
    offset: int  # byte offset from the start of the file
    byte: int

    def describe(self, encoding: str) -> str:
        return f"not valid {encoding}: byte 0x{self.byte:02X} at byte offset {self.offset} (line {self.line}, column {self.column})"


def first_bad_byte(data: bytes, exc: UnicodeDecodeError) -> DecodeFailure:
    line_start = data.rfind(b"\n", 0, exc.start) + 1
    return DecodeFailure(data.count(b"\n", 0, exc.start) + 1, exc.start - line_start + 1, exc.start, data[exc.start])


def decode_document(data: bytes) -> ReadResult:
    if not data.strip():
        return ReadResult(data.decode("utf-8", "replace"), data, "empty", "the file is empty")
    if b"\x00" in data[:8192]:
        return ReadResult(None, data, "binary", "the file contains NUL bytes (binary, not Markdown)", lossless=False)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return ReadResult(data.decode("utf-8"), data)
    except UnicodeDecodeError as exc:
        bad = first_bad_byte(data, exc)
        # A best-effort reading so the rest can still be checked; never written back.
        text = data.decode("cp1252", "replace")
        where = f"byte 0x{bad.byte:02X} at byte offset {bad.offset} (line {bad.line}, column {bad.column})"
        return ReadResult(text, data, "encoding", where + "; read as cp1252 for checking only", "cp1252", lossless=False)


def decode_strict(data: bytes, path: str | Path, encoding: str | None = None) -> str:
    """Decode every byte or refuse: InputError naming the file, line and byte offset.

    `encoding=None` means UTF-8 (a UTF-8 byte-order mark is dropped). Nothing is ever replaced
    by U+FFFD, so writing the result back can only change what the caller changed."""
    enc = encoding or "utf-8"
    try:
        import codecs

        enc = codecs.lookup(enc).name
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}", path=path, hint="give a Python codec name such as cp1252, latin-1, shift_jis or utf-16") from None
    if b"\x00" in data[:8192] and not enc.startswith("utf-16") and not enc.startswith("utf-32"):
        raise InputError("the file contains NUL bytes (binary, not text); not changed", path=path)
    if enc in ("utf-8", "utf_8") and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode(enc)
    except UnicodeDecodeError as exc:
        bad = first_bad_byte(data, exc)
        label = "UTF-8" if enc == "utf-8" else enc
        hint = ("if you know the file's encoding, pass it (for example --encoding cp1252); authorkit does not guess"
                if encoding is None else "check the encoding name; the file was not changed")
        raise InputError(bad.describe(label) + "; the file was not changed", path=path, line=bad.line, hint=hint) from None


# --- writing --------------------------------------------------------------------------------

_TMP_RE = re.compile(r"^\.(?P<name>.+)\.ak(?P<pid>\d+)-[0-9a-f]{8}\.tmp$")
# Written by earlier versions (tempfile.mkstemp): no pid, so only removed once clearly stale.
_OLD_TMP_RE = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp$")
_OLD_TMP_AGE = 3600.0


def temp_name(name: str) -> str:
    return f".{name}.ak{os.getpid()}-{secrets.token_hex(4)}.tmp"


def is_temp_file(name: str) -> bool:
    """True for the temporary files authorkit's writes use (never a document)."""
    return bool(_TMP_RE.match(name) or _OLD_TMP_RE.match(name))


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return True
    return True


def stale_temp_files(directory: Path, name: str | None = None) -> list[Path]:
    """Temporary files left in `directory` by a killed write (of `name` only, when given)."""
    out = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return out
    now = time.time()
    for e in entries:
        m = _TMP_RE.match(e.name)
        if m:
            if (name is None or m.group("name") == name) and not _pid_alive(int(m.group("pid"))):
                out.append(Path(e.path))
            continue
        m = _OLD_TMP_RE.match(e.name)
        if m and (name is None or m.group("name") == name):
            try:
                if now - e.stat(follow_symlinks=False).st_mtime > _OLD_TMP_AGE:
                    out.append(Path(e.path))
            except OSError:
                pass
    return out


def clean_stale_temp_files(directory: Path, name: str | None = None) -> list[Path]:
    removed = []
    for p in stale_temp_files(directory, name):
        try:
            if p.is_symlink() or p.is_file():
                p.unlink()
                removed.append(p)
        except OSError:
            pass
    return removed


def current_umask() -> int:
    # /proc avoids os.umask(0), which would briefly change the mask for every thread.
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_target(path: Path | str, root: Path | str | None = None) -> Path:
    """The file a write to `path` must change: `path` itself, or a symlink's final target.

    WriteRefused when the target is outside `root`, or is not a regular file."""
    path = Path(os.path.abspath(path))
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    if root is not None and not is_inside(target, root):
        if target != path:
            raise WriteRefused(f"is a symlink to {target}, outside the workspace; not written", path=path,
                               hint="replace the link with the file itself, or work on the target where it lives")
        raise WriteRefused("is outside the workspace; not written", path=path)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        if target != path and not target.parent.is_dir():
            raise WriteRefused(f"is a broken symlink (to {target}); not written", path=path) from None
        return target
    except OSError as exc:
        raise WriteRefused(f"cannot be written ({exc.strerror})", path=path) from None
    if not stat.S_ISREG(st.st_mode):
        raise WriteRefused(f"is {_kind(st.st_mode)}; only regular files are written", path=path)
    return target


def atomic_write_bytes(path: Path | str, data: bytes, *, root: Path | str | None = None) -> Path:
    """Write `data` via a temporary file and rename; returns the file actually written.

    A symlink is written through (the link stays a link); see write_target for refusals."""
    target = write_target(path, root)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temp_files(target.parent, target.name)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~current_umask()
    tmp = target.parent / temp_name(target.name)
    fd = -1
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        os.fsync(fd)
        os.fchmod(fd, mode)
        os.close(fd)
        fd = -1
        os.replace(tmp, target)
    except BaseException as exc:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT):
            raise WriteRefused(f"cannot be written ({exc.strerror}); the file is unchanged", path=path) from None
        raise
    try:  # make the rename durable; not every filesystem allows fsync on a directory
        dfd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return target


def atomic_write_text(path: Path | str, text: str, *, encoding: str = "utf-8", root: Path | str | None = None) -> Path:
    """Write `text` atomically (see atomic_write_bytes). Text that cannot be encoded is refused
    before anything is written."""
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise WriteRefused(f"the text cannot be written as {encoding} ({exc.reason} at character {exc.start}); nothing written", path=path) from None
    return atomic_write_bytes(path, data, root=root)


def line_count(text: str) -> int:
    """Lines as an editor shows them: a trailing newline does not start a new line."""
    if not text:
        return 0
    return text.count("\n") + (0 if text.endswith("\n") else 1)
