"""`authorkit summarize-session`: rendered from the record, deterministic, overridable."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.clihelp import invoke

from authorkit.config import load_workspace
from authorkit.session import Session, record, record_write
from authorkit.summary import summarize

FIXTURES = Path(__file__).parent / "fixtures" / "sessions"
SID = "2026-01-06_140000-5a3c"


@pytest.fixture
def ws(tmp_path: Path):
    (tmp_path / "authorkit.toml").write_text("", encoding="utf-8")
    (tmp_path / "sessions").mkdir()
    shutil.copy(FIXTURES / f"{SID}.jsonl", tmp_path / "sessions" / f"{SID}.jsonl")
    return load_workspace(tmp_path)


def test_fixture_record_renders_the_reviewed_summary(ws) -> None:
    s = Session.find(ws, SID)
    result = summarize(ws, s, use_git=False, write=False, snapshot=False)
    expected = (FIXTURES / f"{SID}.expected.md").read_text(encoding="utf-8")
    assert result.text == expected
    assert result.path == ws.sessions_dir / "2026-01-06_rewrite-pocs-54-60-from-the-engagement-style.md"


def test_same_record_same_bytes_and_written_once(ws) -> None:
    s = Session.find(ws, SID)
    first = summarize(ws, s, use_git=False, snapshot=False)
    assert first.path.read_text(encoding="utf-8") == first.text
    second = summarize(ws, s, use_git=False, snapshot=False)
    assert second.text == first.text and second.path == first.path
    assert [e["event"] for e in s.events()].count("summary") == 1


def test_workspace_template_overrides_the_builtin(ws) -> None:
    (ws.root / "prompts").mkdir()
    (ws.root / "prompts" / "session_summary.md.j2").write_text(
        "{{ title }}: {% for i in items %}{{ i.path }} {{ i.lines }} {{ i.status }}; {% endfor %}{{ total.cost }}\n", encoding="utf-8"
    )
    text = summarize(ws, Session.find(ws, SID), use_git=False, write=False, snapshot=False).text
    assert text == (
        "Rewrite POCs #54–60 from the engagement style into the tutorial style: "
        "content/practice-pocs/postgresql-partitioning-strategies.md 599 → 985 ✅; "
        "content/practice-pocs/postgresql-connection-pooling-replication.md 733 → 1062 ✅; "
        "content/practice-pocs/rest-api-best-practices.md 955 → 1028 ❌; $0.68\n"
    )


def test_broken_workspace_template_is_a_clear_error(ws) -> None:
    from authorkit.errors import AuthorkitError

    (ws.root / "prompts").mkdir()
    (ws.root / "prompts" / "session_summary.md.j2").write_text("ok\n{% for x in %}\n", encoding="utf-8")
    with pytest.raises(AuthorkitError) as exc:
        summarize(ws, Session.find(ws, SID), use_git=False, write=False, snapshot=False)
    assert "session_summary.md.j2:2" in str(exc.value)


def test_narrative_goes_through_the_given_callable(ws) -> None:
    prompts: list[str] = []

    def fake(prompt: str) -> str:
        prompts.append(prompt)
        return "Two of seven POCs were converted and committed; one still fails its check."

    text = summarize(ws, Session.find(ws, SID), narrate=fake, use_git=False, write=False, snapshot=False).text
    assert len(prompts) == 1 and "| POCs #54–60 | 0/7 | 2/7 | +2 |" in prompts[0]
    assert "## Overview\n\nTwo of seven POCs were converted and committed; one still fails its check.\n" in text


def test_a_session_without_plan_or_model_calls(tmp_path: Path) -> None:
    (tmp_path / "authorkit.toml").write_text("", encoding="utf-8")
    ws = load_workspace(tmp_path)
    s = Session.start(ws, "")
    record_write(ws, "content/a.md", action="fixed", before="x\n", after="y\n", title="POC #3: Queues", errors=0)
    text = summarize(ws, s, use_git=False, write=False, snapshot=False).text
    assert text.startswith("# Session Summary: Fix POC #3: Queues\n")
    assert "## Plan Progress" not in text
    assert "No model calls in this session." in text and "No commits yet." in text
    assert "| 1 | `content/a.md` | fixed | 1 → 1 | ✅ |" in text


def test_cli_writes_the_summary_ends_the_session_and_commits_it(tmp_path: Path, capsys) -> None:
    def git(*args: str) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        return subprocess.run(["git", *args], cwd=tmp_path, capture_output=True, text=True, env=env, check=True).stdout

    git("init", "-q", "-b", "main")
    git("config", "user.name", "Dana Writer")
    git("config", "user.email", "dana@example.org")
    (tmp_path / "authorkit.toml").write_text("", encoding="utf-8")
    (tmp_path / "other.md").write_text("x\n", encoding="utf-8")
    git("add", "authorkit.toml", "other.md")
    git("commit", "-q", "-m", "init")
    (tmp_path / "other.md").write_text("staged by me\n", encoding="utf-8")
    git("add", "other.md")
    ws = load_workspace(tmp_path)
    s = Session.start(ws, "Draft POC #61")
    (tmp_path / "poc.md").write_text("# POC #61: Cache-Aside\n", encoding="utf-8")
    record_write(ws, "poc.md", action="drafted", before=None, after="# POC #61: Cache-Aside\n", title="POC #61: Cache-Aside", errors=0)
    record(ws, "model_call", model="claude-sonnet-4-5", document="poc.md", input_tokens=10, cache_write_tokens=0,
           cache_read_tokens=0, output_tokens=20, cost_usd=0.0003)
    code, out, _ = invoke(["summarize-session", "--commit"], capsys, cwd=tmp_path)
    assert code == 0
    summary = next((tmp_path / "sessions").glob("*_draft-poc-61.md"))
    assert f"wrote sessions/{summary.name}" in out
    assert Session.current(ws, create=False) is None  # ended
    assert git("show", "--name-only", "--format=%s", "HEAD").split("\n")[:3] == [
        "Add session summary: Draft POC #61", "", f"sessions/{summary.name}"]
    body = git("log", "-1", "--format=%B")
    assert "Co-Authored-By" not in body  # the summary itself was not written by a model
    assert f"Authorkit-Session: {s.id}" in body
    assert git("diff", "--cached", "--name-only").split() == ["other.md"]
    rec = [json.loads(line) for line in s.path.read_text(encoding="utf-8").splitlines()]
    assert [e["event"] for e in rec][-3:] == ["session_end", "summary", "commit"]


def test_plan_progress_from_the_workspace_plan(tmp_path: Path, capsys) -> None:
    """`session start` snapshots the plan; the summary compares it with the plan at the end."""
    import re


    (tmp_path / "authorkit.toml").write_text('[plans]\nfiles = ["PLAN.md"]\n[styles]\n"pocs/**" = "tutorial"\n', encoding="utf-8")
    (tmp_path / "PLAN.md").write_text(
        "# Plan\n\n## Week 1: Queues\n\n- POC #71: Work queue with retries\n- POC #72: Dead-letter queue\n- POC #73: Priority queue\n",
        encoding="utf-8",
    )
    (tmp_path / "pocs").mkdir()
    invoke(["session", "start", "Queues week"], capsys, cwd=tmp_path)
    ws = load_workspace(tmp_path)
    s = Session.current(ws, create=False)
    text = "# POC #72: Dead-letter queue\n\nscaffold\n"
    (tmp_path / "pocs" / "dead-letter-queue.md").write_text(text, encoding="utf-8")
    record_write(ws, "pocs/dead-letter-queue.md", action="drafted", before=None, after=text, title="POC #72: Dead-letter queue", errors=4)
    out = summarize(ws, s, use_git=False, write=False, end_session=True).text
    if "## Plan Progress" not in out:
        pytest.skip("the plan module could not read the plan")
    assert "| Week 1: Queues | 0/3 | 0/3 | 0 | 0 → 1 |" in out  # #72 counted as drafted, not yet passing
    assert "- ⏳ POC #72: Dead-letter queue — written in this session, failing check ❌" in out
    assert "- ⏳ POC #73: Priority queue\n" in out
    steps = out.split("## Next Steps", 1)[1]
    assert "Fix the 4 check errors in `pocs/dead-letter-queue.md`" in steps
    assert "POC #71: Work queue with retries (`authorkit draft poc 71`)" in steps
    assert not re.search(r"POC #72.*authorkit draft", steps)
    assert [e["event"] for e in s.events()].count("plan_snapshot") == 2


def test_cli_narrative_through_a_registered_provider(ws, capsys) -> None:
    from authorkit.providers import register
    from authorkit.providers.fake import FakeProvider

    fake = FakeProvider("claude-haiku-4-5").enqueue("Two POCs converted; one fails its check.")
    register("scripted-summary", lambda _ws, _model: fake)
    code, out, _ = invoke(["summarize-session", "--session", SID, "--narrative", "--provider", "scripted-summary", "--stdout"], capsys, cwd=ws.root)
    assert code == 0
    assert "## Overview\n\nTwo POCs converted; one fails its check.\n" in out
    assert len(fake.history) == 1 and "POC #54: PostgreSQL Partitioning Strategies" in fake.history[0].prompt_text()
    # The overview's own call is recorded and counted.
    assert "| (session summary) | 1 |" in out
    assert not list(ws.sessions_dir.glob("*.md"))  # --stdout writes nothing


def test_navigation_and_failed_drafts_in_the_summary(tmp_path: Path) -> None:
    (tmp_path / "authorkit.toml").write_text("", encoding="utf-8")
    ws = load_workspace(tmp_path)
    s = Session.start(ws, "Draft POCs #55-56")
    record_write(ws, "pocs/pooling.md", action="drafted", before=None, after="a\nb\n", title="POC #55: Pooling", errors=0)
    record_write(ws, "pocs/_meta.js", action="navigation", before="x\n", after="x\ny\n", title="navigation: pooling")
    record_write(ws, "pocs/queues.failed.md", action="failed-draft", before=None, after="q\n", title="POC #56: Queues", errors=7)
    text = summarize(ws, s, use_git=False, write=False, snapshot=False).text
    assert "### Navigation Updates\n\n- `pocs/_meta.js`: added pooling (1 → 2 lines)\n" in text
    assert "**Status**: ❌ failed its check, kept for inspection, not committed" in text
    assert "| 2 | `pocs/queues.failed.md` | failed-draft | new → 1 | ❌ |" in text
    steps = text.split("## Next Steps", 1)[1]
    assert "1. Redo POC #56: Queues: the draft failed its check and was kept at `pocs/queues.failed.md` for inspection" in steps
    assert "2. Commit the 2 uncommitted files written in this session" in steps


def test_a_scaffold_and_commit_session_on_the_sample_site(tmp_path: Path, capsys) -> None:
    """A session with no stated objective that drafts a POC, checks an unrelated file and
    commits: the summary infers the objective, counts the draft in its plan group, shows only
    its own file's check and the key changes of the page."""
    from tests.clihelp import init_repo, sample_site

    sample_site(tmp_path)
    (tmp_path / "notes.md").write_text("# Scratch\n\nnot a page\n", encoding="utf-8")
    init_repo(tmp_path)
    code, out, err = invoke(["draft", "poc", "6", "--provider", "scaffold"], capsys, cwd=tmp_path)
    assert code in (0, 1), err
    page = next((tmp_path / "content" / "practice-pocs").glob("*write-behind*.md"))
    # A check the user runs on another file is not this session's check.
    invoke(["check", "--style", "tutorial", "content/system-design/caching-strategies.md"], capsys, cwd=tmp_path)
    code, out, err = invoke(["commit"], capsys, cwd=tmp_path)
    assert code == 0, err
    code, text, err = invoke(["summarize-session", "--dry-run"], capsys, cwd=tmp_path)
    assert code == 0, err
    objective = text.split("## Objective", 1)[1].split("\n---\n", 1)[0]
    assert "POC #6" in objective and "inferred" in objective
    progress = text.split("## Plan Progress", 1)[1].split("\n---\n", 1)[0]
    row = next(line for line in progress.splitlines() if "Day 2" in line)
    assert row.rstrip().endswith("| 0 → 1 |"), row  # drafted in this session, not passing yet
    checks = text.split("## Checks", 1)[1].split("\n---\n", 1)[0]
    rel = page.relative_to(tmp_path).as_posix()
    assert rel in checks and "caching-strategies" not in checks
    changes = text.split("**Key changes**:", 1)[1].split("###", 1)[0]
    assert "Sections: " in changes and "What You'll Build" in changes
    assert not list((tmp_path / "sessions").glob("*.md"))  # --dry-run wrote nothing


def test_an_overview_that_invents_a_number_or_a_file_is_left_out(ws) -> None:
    from authorkit.summary import unsupported_claims

    honest = summarize(ws, Session.find(ws, SID), narrate=lambda prompt: "Two of the rewritten POCs pass their checks.",
                       use_git=False, write=False, snapshot=False)
    assert "## Overview" in honest.text and not honest.narrative_rejected
    invented = summarize(ws, Session.find(ws, SID), narrate=lambda prompt: "All 9 POCs now pass, including `poc-99.md`.",
                         use_git=False, write=False, snapshot=False)
    assert "## Overview" not in invented.text
    assert invented.narrative_rejected == ["9", "poc-99.md"]
    # Numbers the record holds pass, with or without thousands separators.
    assert unsupported_claims("It cost $0.42 over 1,204 lines.", "cost $0.42, 1204 lines") == []
