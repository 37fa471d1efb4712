"""textio: bounded, safe reads; strict decoding; atomic writes that clean up after themselves."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from authorkit.errors import InputError, WriteRefused
from authorkit.textio import (
    ReadRefused,
    atomic_write_text,
    decode_strict,
    file_sha256,
    is_temp_file,
    read_bytes_safe,
    read_document,
    sha256_bytes,
    sha256_text,
    stale_temp_files,
)


def test_one_hash_everywhere(tmp_path: Path) -> None:
    p = tmp_path / "a.md"
    p.write_bytes("✅ x\n".encode())
    assert file_sha256(p) == sha256_bytes(p.read_bytes()) == sha256_text("✅ x\n")
    assert read_document(p).digest == file_sha256(p)
    assert len(file_sha256(p)) == 64


def test_a_symlink_to_dev_zero_is_never_read(tmp_path: Path) -> None:
    link = tmp_path / "z.md"
    link.symlink_to("/dev/zero")
    with pytest.raises(ReadRefused) as exc:
        read_bytes_safe(link)
    assert exc.value.problem == "not-a-file" and "device" in exc.value.detail
    res = read_document(link)
    assert res.text is None and res.problem == "unreadable" and "device" in (res.detail or "")


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "p.md"
    os.mkfifo(fifo)
    with pytest.raises(ReadRefused) as exc:
        read_bytes_safe(fifo)
    assert "FIFO" in exc.value.detail


def test_the_cap_holds_whatever_the_size_says(tmp_path: Path) -> None:
    p = tmp_path / "big.md"
    p.write_bytes(b"x" * 101)
    assert read_bytes_safe(p, max_bytes=101) == b"x" * 101
    with pytest.raises(ReadRefused) as exc:
        read_bytes_safe(p, max_bytes=100)
    assert exc.value.problem == "too-large"


def test_symlinks_out_of_the_root_are_not_followed(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("s")
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "l.md").symlink_to(tmp_path / "secret")
    with pytest.raises(ReadRefused) as exc:
        read_bytes_safe(ws / "l.md", root=ws)
    assert exc.value.problem == "outside-workspace"
    with pytest.raises(WriteRefused):
        atomic_write_text(ws / "l.md", "x", root=ws)
    assert (ws / "l.md").is_symlink() and (tmp_path / "secret").read_text() == "s"


def test_decode_strict_names_line_and_offset_and_never_replaces() -> None:
    data = "ok\n✅ then \xff\n".encode("utf-8").replace(b"\xc3\xbf", b"\xff")
    with pytest.raises(InputError) as exc:
        decode_strict(data, "d.md")
    msg = str(exc.value)
    assert msg.startswith("d.md:2: not valid UTF-8: byte 0xFF at byte offset 12") and "--encoding" in msg
    assert decode_strict(b"caf\xe9", "d.md", "cp1252") == "café"
    assert "\ufffd" not in decode_strict(b"\xef\xbb\xbfhi", "d.md")


def test_write_keeps_mode_and_new_files_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        new = tmp_path / "new.md"
        atomic_write_text(new, "x")
        assert stat.S_IMODE(new.stat().st_mode) == 0o644
        os.umask(0o077)
        atomic_write_text(tmp_path / "private.md", "x")
        assert stat.S_IMODE((tmp_path / "private.md").stat().st_mode) == 0o600
        os.chmod(new, 0o604)
        atomic_write_text(new, "y")
        assert stat.S_IMODE(new.stat().st_mode) == 0o604 and new.read_text() == "y"
    finally:
        os.umask(old)


def test_the_temporary_file_goes_on_every_exit_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "a.md"
    p.write_text("old")
    for exc in (KeyboardInterrupt(), OSError(5, "I/O error")):
        def boom(*a, _exc=exc):  # noqa: ANN001
            raise _exc

        monkeypatch.setattr(os, "replace", boom)
        with pytest.raises((KeyboardInterrupt, OSError)):
            atomic_write_text(p, "new")
        monkeypatch.undo()
        assert p.read_text() == "old"
        assert [x.name for x in tmp_path.iterdir()] == ["a.md"]


def test_unencodable_text_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    p = tmp_path / "a.md"
    p.write_text("old")
    with pytest.raises(WriteRefused):
        atomic_write_text(p, "bad \udcff surrogate")
    assert p.read_text() == "old" and [x.name for x in tmp_path.iterdir()] == ["a.md"]


def test_stale_temporaries_are_recognised_and_only_when_their_writer_is_gone(tmp_path: Path) -> None:
    mine = tmp_path / f".a.md.ak{os.getpid()}-0123abcd.tmp"
    mine.write_text("in progress")
    gone = tmp_path / ".a.md.ak999999999-0123abcd.tmp"
    gone.write_text("left by a kill")
    assert is_temp_file(mine.name) and is_temp_file(gone.name) and not is_temp_file("a.md")
    assert stale_temp_files(tmp_path, "a.md") == [gone]
    atomic_write_text(tmp_path / "a.md", "x")
    assert not gone.exists() and mine.exists()


def test_temporaries_from_earlier_versions_are_removed_only_when_old(tmp_path: Path) -> None:
    old = tmp_path / ".a.md.k3j_x9q2.tmp"
    old.write_text("x")
    young = tmp_path / ".a.md.zz9_abcd.tmp"
    young.write_text("x")
    two_hours_ago = os.path.getmtime(old) - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    atomic_write_text(tmp_path / "a.md", "x")
    assert not old.exists() and young.exists()


def test_a_file_outside_the_root_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "out.md").write_text("x")
    ws = tmp_path / "ws"
    ws.mkdir()
    with pytest.raises(ReadRefused) as exc:
        read_bytes_safe(tmp_path / "out.md", root=ws)
    assert "outside the workspace" in exc.value.detail
