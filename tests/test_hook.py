"""`authorkit hook` fed Claude Code's documented hook payloads on stdin, in a copy of this
repository's sample site (authorkit.toml + content/) under git."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from authorkit.check import check_paths
from authorkit.config import load_workspace
from authorkit.session import Session
from tests.clihelp import git, sample_site

# Configured as engagement-style in authorkit.toml; written anywhere else under
# practice-pocs/ it breaks the tutorial style the way seed 000's batch did.
ENGAGEMENT_POC = "content/practice-pocs/redis-token-bucket-rate-limiter.md"
TUTORIAL_POC = "content/practice-pocs/redis-cache-aside.md"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return sample_site(tmp_path / "site", commit=True)


def hook(root: Path, payload: str | dict[str, Any]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env["AUTHORKIT_CACHE_DIR"] = str(root / ".cache-test")
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return subprocess.run([sys.executable, "-m", "authorkit", "hook"], input=data, cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def post_tool_use(root: Path, file_path: str | Path, tool: str = "Write", session: str = "claude-1") -> dict[str, Any]:
    """The PostToolUse payload Claude Code sends after a Write (documented fields)."""
    fp = str(file_path if Path(file_path).is_absolute() else root / file_path)
    tool_input: dict[str, Any] = {"file_path": fp}
    if tool == "Write":
        tool_input["content"] = "…"
    elif tool == "Edit":
        tool_input.update(old_string="a", new_string="b")
    else:
        tool_input["edits"] = [{"old_string": "a", "new_string": "b"}]
    return {
        "session_id": session, "transcript_path": str(root / "transcript.jsonl"), "cwd": str(root),
        "permission_mode": "default", "hook_event_name": "PostToolUse", "tool_name": tool,
        "tool_input": tool_input, "tool_response": {"filePath": fp, "success": True},
    }


def stop_event(root: Path, session: str = "claude-1", active: bool = False) -> dict[str, Any]:
    return {"session_id": session, "transcript_path": str(root / "transcript.jsonl"), "cwd": str(root),
            "permission_mode": "default", "hook_event_name": "Stop", "stop_hook_active": active}


def write_engagement_poc(root: Path, name: str = "sliding-window-limiter.md") -> Path:
    """An engagement-style POC written where the tutorial style applies."""
    dest = root / "content" / "practice-pocs" / name
    dest.write_bytes((root / ENGAGEMENT_POC).read_bytes())
    return dest


def hook_events(root: Path) -> list[dict[str, Any]]:
    s = Session.latest(load_workspace(root))
    return [e for e in (s.events() if s else []) if e.get("event") == "hook"]


# --- PostToolUse ------------------------------------------------------------------------------


@pytest.mark.parametrize("tool", ["Write", "Edit", "MultiEdit"])
def test_engagement_poc_in_tutorial_folder_is_blocked_with_its_forbidden_sections(site: Path, tool: str):
    doc = write_engagement_poc(site)
    r = hook(site, post_tool_use(site, doc, tool))
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert answer["decision"] == "block"
    reason = answer["reason"]
    # What `authorkit check` finds is what the model is told: the style, each forbidden
    # section by name, each error's line.
    result = check_paths(load_workspace(site), [str(doc)]).results[0]
    forbidden = [f for f in result.findings if f.rule == "section-forbidden"]
    assert len(forbidden) >= 2
    assert "“tutorial” style" in reason
    for f in forbidden:
        heading = f.message.split("”:")[0].lstrip("“")
        assert heading in reason.split("Errors:")[0], heading  # named up front
        assert f"(line {f.line})" in reason
    assert "content/practice-pocs/sliding-window-limiter.md" in reason
    assert len(reason) <= 2300


def test_clean_tutorial_poc_gets_no_output(site: Path):
    r = hook(site, post_tool_use(site, TUTORIAL_POC))
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    ev = hook_events(site)[-1]
    assert (ev["path"], ev["outcome"], ev["errors"]) == (TUTORIAL_POC, "clean", 0)


def test_javascript_file_gets_no_output_and_no_record(site: Path):
    meta = site / "content" / "practice-pocs" / "_meta.js"
    r = hook(site, post_tool_use(site, meta, "Edit"))
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert hook_events(site) == []


def test_file_outside_the_content_roots_gets_no_output(site: Path):
    notes = site / "notes" / "draft.md"
    notes.parent.mkdir()
    notes.write_bytes((site / ENGAGEMENT_POC).read_bytes())  # would fail any check
    r = hook(site, post_tool_use(site, notes))
    assert (r.returncode, r.stdout) == (0, "")
    # Excluded inside the roots: the plan is read by `plan`, never checked.
    r = hook(site, post_tool_use(site, "content/PLAN.md", "Edit"))
    assert (r.returncode, r.stdout) == (0, "")
    # A file in another directory with no authorkit.toml above it.
    other = site.parent / "elsewhere.md"
    other.write_text("# hi\n", encoding="utf-8")
    r = hook(site, post_tool_use(site, other))
    assert (r.returncode, r.stdout) == (0, "")


def test_relative_file_path_is_resolved_against_the_event_cwd(site: Path):
    write_engagement_poc(site, "relative.md")
    event = post_tool_use(site, "x")
    event["tool_input"]["file_path"] = "content/practice-pocs/relative.md"
    r = hook(site, event)
    assert json.loads(r.stdout)["decision"] == "block"


@pytest.mark.parametrize("payload", ["{not json", "", "[1, 2]"])
def test_malformed_input_is_reported_on_stderr_exits_0_and_is_recorded(site: Path, payload: str):
    r = hook(site, payload)
    assert r.returncode == 0
    assert r.stdout == ""
    assert "authorkit hook:" in r.stderr and "not a JSON object" in r.stderr
    ev = hook_events(site)[-1]
    assert ev["outcome"] == "bad-input"


def test_unhandled_events_and_tools_get_no_output(site: Path):
    write_engagement_poc(site)
    for event in (
        {"session_id": "c", "cwd": str(site), "hook_event_name": "UserPromptSubmit", "prompt": "hi"},
        {**post_tool_use(site, "content/practice-pocs/sliding-window-limiter.md"), "tool_name": "Read"},
        {**post_tool_use(site, "content/practice-pocs/sliding-window-limiter.md"), "hook_event_name": "PreToolUse"},
    ):
        r = hook(site, event)
        assert (r.returncode, r.stdout) == (0, ""), event


def test_a_broken_config_never_stops_the_session(site: Path):
    write_engagement_poc(site)
    (site / "authorkit.toml").write_text("[content\nroots = 1\n", encoding="utf-8")
    r = hook(site, post_tool_use(site, "content/practice-pocs/sliding-window-limiter.md"))
    assert (r.returncode, r.stdout) == (0, "")
    assert "authorkit.toml" in r.stderr


def test_what_the_hook_sees_reaches_the_session_summary(site: Path):
    doc = write_engagement_poc(site)
    hook(site, post_tool_use(site, doc))
    ev = hook_events(site)[-1]
    assert ev["path"] == "content/practice-pocs/sliding-window-limiter.md"
    assert ev["outcome"] == "blocked" and ev["claude_session"] == "claude-1"
    assert ev["errors"] > 0 and ev["findings"] and ev["forbidden"]
    from authorkit.summary import build_context

    ws = load_workspace(site)
    ctx = build_context(ws, Session.latest(ws), use_git=False)
    item = next(i for i in ctx["items"] if i["path"] == ev["path"])
    assert item["errors"] == ev["errors"]
    assert any(i["path"] == ev["path"] for i in ctx["failing"])


# --- Stop -------------------------------------------------------------------------------------


def test_stop_is_blocked_while_a_session_document_fails_then_let_go_after_the_limit(site: Path):
    doc = write_engagement_poc(site)
    git(site, "add", "-A")
    git(site, "commit", "-q", "-m", "written earlier")  # not changed since HEAD: only the record knows it
    hook(site, post_tool_use(site, doc))
    answers = [json.loads(hook(site, stop_event(site, active=i > 0)).stdout) for i in range(4)]
    for i, a in enumerate(answers[:3]):
        assert a["decision"] == "block"
        assert "content/practice-pocs/sliding-window-limiter.md" in a["reason"]
        assert f"refusal {i + 1} of 3" in a["reason"]
    assert "decision" not in answers[3]
    assert "content/practice-pocs/sliding-window-limiter.md" in answers[3]["systemMessage"]
    assert [e["outcome"] for e in hook_events(site) if e["hook_event"] == "Stop"] == ["blocked"] * 3 + ["released"]
    # A new stop (not a continuation of ours) starts counting again.
    assert json.loads(hook(site, stop_event(site, active=False)).stdout)["decision"] == "block"


def test_stop_limit_comes_from_the_config(site: Path):
    with open(site / "authorkit.toml", "a", encoding="utf-8") as fh:
        fh.write("\n[hooks]\nmax_stop_blocks = 1\n")
    doc = write_engagement_poc(site)
    hook(site, post_tool_use(site, doc))
    assert json.loads(hook(site, stop_event(site)).stdout)["decision"] == "block"
    assert "systemMessage" in json.loads(hook(site, stop_event(site, active=True)).stdout)


def test_stop_checks_documents_changed_since_head_too(site: Path):
    (site / TUTORIAL_POC).write_bytes((site / ENGAGEMENT_POC).read_bytes())  # edited outside the hook
    a = json.loads(hook(site, stop_event(site, session="another")).stdout)
    assert a["decision"] == "block" and TUTORIAL_POC in a["reason"]


def test_stop_with_every_document_passing_gets_no_output(site: Path):
    hook(site, post_tool_use(site, TUTORIAL_POC))
    r = hook(site, stop_event(site))
    assert (r.returncode, r.stdout) == (0, "")
    # Fixed (here: removed) documents no longer hold the session.
    doc = write_engagement_poc(site)
    hook(site, post_tool_use(site, doc))
    doc.unlink()
    r = hook(site, stop_event(site))
    assert (r.returncode, r.stdout) == (0, "")


def test_a_turn_that_wrote_nothing_leaves_no_trace(site: Path):
    r = hook(site, stop_event(site, session="chat-only"))
    assert (r.returncode, r.stdout) == (0, "")
    assert not (site / "sessions").exists()


def test_hidden_folders_are_not_checked_as_check_skips_them(site: Path):
    hidden = site / "content" / ".drafts" / "scratch.md"
    hidden.parent.mkdir()
    hidden.write_bytes((site / ENGAGEMENT_POC).read_bytes())
    r = hook(site, post_tool_use(site, hidden))
    assert (r.returncode, r.stdout) == (0, "")


def test_undecodable_bytes_on_stdin_are_bad_input_too(site: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    r = subprocess.run([sys.executable, "-m", "authorkit", "hook"], input=b"\xff\xfe{\x00", cwd=site, env=env,
                       capture_output=True, timeout=120)
    assert (r.returncode, r.stdout) == (0, b"")
    assert b"not a JSON object" in r.stderr
