"""Check-result cache, keyed like ruff's: a file whose size and mtime are unchanged is not
even read; otherwise its content hash decides. Every key also carries the engine version and a
digest of the style guides and options, so editing a guide invalidates exactly what it should.

The cache is one JSON file per workspace under `.authorkit_cache/` (or $AUTHORKIT_CACHE_DIR),
written atomically; a corrupt or foreign cache file is ignored, never fatal.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

CACHE_FORMAT = 1


def cache_dir(root: Path) -> Path:
    env = os.environ.get("AUTHORKIT_CACHE_DIR")
    return Path(env) if env else root / ".authorkit_cache"


def settings_digest(*parts: Any) -> str:
    h = hashlib.sha1()
    for p in parts:
        h.update(repr(p).encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:16]


def guides_digest(dirs: list[Path]) -> str:
    """Digest of the guide files' bytes: cheap, and needs no YAML parsing on a warm run."""
    h = hashlib.sha1()
    for d in dirs:
        if not d.is_dir():
            continue
        for p in sorted(d.iterdir()):
            if p.suffix in (".yaml", ".yml") and p.is_file():
                h.update(p.name.encode())
                h.update(p.read_bytes())
    return h.hexdigest()[:16]


def file_hash(path: Path) -> str:
    """Same digest as textio.content_hash of the file's bytes (SHA-256, read in pieces)."""
    # Imported here: a warm run whose files are all unchanged never hashes or writes, and
    # textio (the decoding and mojibake tables) is not worth loading for it.
    from authorkit.textio import file_sha256

    return file_sha256(path)


class CheckCache:
    def __init__(self, root: Path, settings: str, enabled: bool = True) -> None:
        self.enabled = enabled
        self.path = cache_dir(root) / "check.json"
        self.settings = settings
        self.entries: dict[str, dict[str, Any]] = {}
        self.dirty = False
        if enabled:
            self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and data.get("format") == CACHE_FORMAT and isinstance(data.get("entries"), dict):
            self.entries = data["entries"]

    @staticmethod
    def _stat(path: Path) -> tuple[int, int] | None:
        try:
            st = path.stat()
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns

    def get(self, path: Path, key: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """(cached result or None, stamp to store with a fresh result)."""
        stamp: dict[str, Any] = {}
        if not self.enabled:
            return None, stamp
        st = self._stat(path)
        if st is None:
            return None, stamp
        stamp = {"size": st[0], "mtime": st[1], "key": key}
        e = self.entries.get(str(path))
        if not e or e.get("key") != key:
            return None, stamp
        if e.get("size") == st[0] and e.get("mtime") == st[1]:
            return e["result"], stamp
        # Touched but maybe unchanged (git checkout, editor save): compare content.
        try:
            digest = file_hash(path)
        except OSError:
            return None, stamp
        stamp["hash"] = digest
        if e.get("hash") == digest:
            e.update(size=st[0], mtime=st[1])
            self.dirty = True
            return e["result"], stamp
        return None, stamp

    def put(self, path: Path, stamp: dict[str, Any], result: dict[str, Any], digest: str | None = None) -> None:
        """Store a result; `digest` is the hash of the content that was checked, when known."""
        if not self.enabled or not stamp:
            return
        if digest:
            stamp["hash"] = digest
        if "hash" not in stamp:
            try:
                stamp["hash"] = file_hash(path)
            except OSError:
                return
        self.entries[str(path)] = {**stamp, "result": result}
        self.dirty = True

    def holds(self, path: Path, stamp: dict[str, Any]) -> bool:
        """Whether a result for `path` as stamped (same key, size and mtime) is stored."""
        e = self.entries.get(str(path))
        return bool(self.enabled and stamp and e and e.get("key") == stamp.get("key")
                    and e.get("size") == stamp.get("size") and e.get("mtime") == stamp.get("mtime"))

    def save(self) -> None:
        if not (self.enabled and self.dirty):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            gi = self.path.parent / ".gitignore"
            if not gi.exists():
                gi.write_text("*\n", encoding="utf-8")
            from authorkit.textio import atomic_write_text

            atomic_write_text(self.path, json.dumps({"format": CACHE_FORMAT, "entries": self.entries}, separators=(",", ":")))
        except OSError:
            pass  # a read-only tree still gets its results, just not cached
