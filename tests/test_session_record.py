"""The session record: append-only, safe under concurrency and crashes, free of secrets."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from pathlib import Path

import pytest

from tests.clihelp import invoke

from authorkit.config import load_workspace
from authorkit.session import Session, read_events, record, record_write, summarize_writes


@pytest.fixture
def ws(tmp_path: Path):
    (tmp_path / "authorkit.toml").write_text("", encoding="utf-8")
    return load_workspace(tmp_path)


def test_first_record_starts_a_session_and_later_ones_join_it(ws) -> None:
    record(ws, "command", argv=["authorkit", "check"])
    record(ws, "command", argv=["authorkit", "plan"])
    s = Session.current(ws, create=False)
    assert s is not None
    assert [e["event"] for e in s.events()] == ["session_start", "command", "command"]
    s.end()
    assert Session.current(ws, create=False) is None
    assert Session.latest(ws).id == s.id  # an ended session can still be found


def test_record_write_stores_line_counts_and_hashes(ws) -> None:
    before, after = "# A\n\nold\n", "# A\n\nnew\nmore\n"
    ev = record_write(ws, ws.root / "docs" / "a.md", action="converted", before=before, after=after, title="A", style="tutorial", errors=1)
    assert ev is not None
    assert ev["path"] == "docs/a.md"
    assert (ev["lines_before"], ev["lines_after"]) == (3, 4)
    assert ev["sha_before"] == hashlib.sha256(before.encode()).hexdigest()
    assert ev["sha_after"] == hashlib.sha256(after.encode()).hexdigest()
    new = record_write(ws, "docs/b.md", action="drafted", before=None, after="x\n")
    assert new["sha_before"] is None and new["lines_before"] == 0


def test_writes_collapse_per_path(ws) -> None:
    s = Session.start(ws, "x")
    record_write(ws, "a.md", action="drafted", before=None, after="1\n", title="First title", errors=3)
    record_write(ws, "b.md", action="converted", before="b\n", after="bb\nbb\n", title="B", errors=0)
    record_write(ws, "a.md", action="fixed", before="1\n", after="1\n2\n", title="Final title", errors=0)
    w = summarize_writes(s.events())
    assert list(w) == ["a.md", "b.md"]
    a = w["a.md"]
    assert (a.action, a.title, a.lines_before, a.lines_after, a.errors, a.writes, a.is_new) == ("drafted", "Final title", 0, 2, 0, 2, True)
    assert w["b.md"].is_new is False


def _writer(root: str, n: int, tag: str) -> None:
    ws = load_workspace(Path(root))
    for i in range(n):
        record(ws, "model_call", document=f"{tag}-{i}", padding="x" * 3000)


def test_concurrent_writers_never_interleave(ws) -> None:
    Session.start(ws, "parallel")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(ws.root), 60, f"p{k}")) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    s = Session.current(ws, create=False)
    raw = s.path.read_text(encoding="utf-8").splitlines()
    assert len(raw) == 1 + 240
    assert all(json.loads(line) for line in raw)  # every line is a whole event
    docs = {e["document"] for e in s.events() if e["event"] == "model_call"}
    assert len(docs) == 240


def test_a_torn_last_line_loses_nothing_before_or_after_it(ws) -> None:
    s = Session.start(ws, "crash")
    s.append("command", argv=["one"])
    with open(s.path, "ab") as fh:
        fh.write(b'{"ts": "2026-01-01T00:00:00+00:00", "event": "wri')  # a crash mid-write
    s.append("command", argv=["two"])
    events = list(read_events(s.path))
    assert [e.get("argv") for e in events if e["event"] == "command"] == [["one"], ["two"]]


def test_secrets_never_reach_the_record(ws, monkeypatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-SECRETSECRETSECRET")
    s = Session.start(ws, "x")
    s.append("command", argv=["authorkit", "draft", "--api-key=sk-ant-api03-SECRETSECRETSECRET"], headers={"x-api-key": "abc", "authorization": "Bearer t"})
    s.append("model_call", error="401 for key sk-ant-api03-SECRETSECRETSECRET", password="hunter2")
    text = s.path.read_text(encoding="utf-8")
    assert "SECRETSECRET" not in text and "hunter2" not in text and "Bearer t" not in text
    assert "[redacted]" in text


def test_find_by_unique_prefix(ws) -> None:
    s = Session.start(ws, "one")
    assert Session.find(ws, s.id[:-2]).id == s.id
    assert Session.find(ws, "1999") is None


def test_session_commands(ws, capsys) -> None:
    out = ""
    for argv in (["session", "start", "Draft POCs #61-65"], ["session", "show"], ["session", "end"]):
        code, printed, _ = invoke(argv, capsys, cwd=ws.root)
        assert code == 0
        out += printed
    assert "started session" in out and "objective: Draft POCs #61-65" in out and "ended session" in out
    assert Session.current(ws, create=False) is None
