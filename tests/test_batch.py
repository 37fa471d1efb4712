"""`convert --batch`, `batch status`, `batch collect` against the fake server's Batches API."""

from __future__ import annotations

import pytest

from fake_anthropic import FakeAnthropic, FakeAnthropicServer, task_of
from test_convert import code_blocks, events, run_cli, source_doc, ws_dir  # noqa: F401


def whole_document(body) -> str:
    """A one-shot conversion: the whole tutorial, with the source's code blocks."""
    from fake_anthropic import write_from_task

    task = task_of(body)
    src = body["messages"][0]["content"][0]["text"]
    import re

    n = re.search(r"# POC #(\d+)", src).group(1)
    parts = [f"# POC #{n}: Token Bucket Rate Limiting", ""]
    for heading, extra in (
        ("What You'll Build", "It must contain:\n- a list of at least 3 items, each starting with ✅\n- a line `**Time to complete**: <value>`\n- a line `**Difficulty**: <value>`\n\n"),
        ("Why This Matters", "It must contain:\n- a Markdown table whose header has a `Company` column with at least 2 rows\n\n"),
        ("The Problem", ""),
        ("Key Takeaways", ""), ("How This Fits Larger Systems", ""), ("What's Next", ""),
    ):
        parts.append(write_from_task(f"Write only the section `{heading}` (section id: x),\n\n{extra}Aim for about 8 lines."))
        if heading == "The Problem":
            parts.append("## Step-by-Step Build\n")
            for i in (1, 2, 3):
                parts.append(write_from_task(f"start with the line\n`### Step {i}: Part {i}` and\n\nAim for about 6 lines."))
            blocks = re.findall(r"```[^\n]*\n.*?```", src, re.S)
            parts.append("\n\n".join(blocks) + "\n")
    assert "Rewrite the document above" in task
    return "\n".join(parts)


def test_batch_submit_status_collect_and_retry(ws_dir, monkeypatch, capsys) -> None:  # noqa: F811
    fake = FakeAnthropic(whole_document)
    fake.batch_fail = {"doc1-poc-55"}
    before55 = (ws_dir / "content/poc-55.md").read_bytes()
    with FakeAnthropicServer(fake) as srv:
        env = {"ANTHROPIC_BASE_URL": srv.base_url}
        code, out, err = run_cli(ws_dir, "convert", "content/poc-54.md", "content/poc-55.md", "--to", "tutorial", "--batch", env=env, monkeypatch=monkeypatch, capsys=capsys)
        assert code == 0, err
        assert "submitted batch msgbatch_" in out
        batch_id = out.split("submitted batch ")[1].split()[0]
        sub = [e for e in events(ws_dir) if e["event"] == "batch_submit"]
        assert sub and sub[0]["batch_id"] == batch_id
        assert [d["path"] for d in sub[0]["documents"]] == ["content/poc-54.md", "content/poc-55.md"]
        # Nothing written yet.
        assert (ws_dir / "content/poc-54.md").read_text() == source_doc(54)

        code, out, _ = run_cli(ws_dir, "batch", "status", env=env, monkeypatch=monkeypatch, capsys=capsys)
        assert code == 0 and f"batch {batch_id}: in_progress" in out

        # A dry run validates and says what it would write; it writes and records nothing.
        recorded = len(events(ws_dir))
        code, out, _ = run_cli(ws_dir, "batch", "collect", "--dry-run", env=env, monkeypatch=monkeypatch, capsys=capsys)
        assert code == 1 and "✓ content/poc-54.md: passes; would write" in out
        assert (ws_dir / "content/poc-54.md").read_text() == source_doc(54)
        assert len(events(ws_dir)) == recorded

        code, out, _ = run_cli(ws_dir, "batch", "collect", env=env, monkeypatch=monkeypatch, capsys=capsys)
        assert code == 1
        assert "✓ content/poc-54.md: converted" in out and "(batch price)" in out
        assert "✗ content/poc-55.md: request errored (rerun with --retry to resubmit)" in out
        converted = (ws_dir / "content/poc-54.md").read_text()
        for block in code_blocks(source_doc(54)):
            assert block in code_blocks(converted)
        assert (ws_dir / "content/poc-55.md").read_bytes() == before55

        # Collecting again does not write twice; --retry resubmits the errored request.
        code, out, _ = run_cli(ws_dir, "batch", "collect", batch_id, "--retry", env=env, monkeypatch=monkeypatch, capsys=capsys)
        assert "already written" in out and "resubmitted 1 request(s) as batch" in out
        new_id = out.split("as batch ")[1].split()[0]
        run_cli(ws_dir, "batch", "status", new_id, env=env, monkeypatch=monkeypatch, capsys=capsys)
        code, out, _ = run_cli(ws_dir, "batch", "collect", new_id, env=env, monkeypatch=monkeypatch, capsys=capsys)
        assert code == 0, out
        assert "✓ content/poc-55.md: converted" in out
    calls = [e for e in events(ws_dir) if e["event"] == "model_call" and e.get("batch")]
    assert len(calls) == 2


def test_collect_without_a_batch_is_a_usage_error(ws_dir, monkeypatch, capsys) -> None:  # noqa: F811
    code, _, err = run_cli(ws_dir, "batch", "collect", env={"ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and "no batch has been submitted" in err
