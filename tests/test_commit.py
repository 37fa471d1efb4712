"""`authorkit commit` / `undo` against temporary git repositories built here."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clihelp import git, init_repo, invoke

from authorkit import gitops
from authorkit.config import load_workspace
from authorkit.errors import GitError
from authorkit.session import Session, record, record_write

OLD54 = "# POC #54: Table Partitioning\n\n## The $1M Problem\n\nold text\n"
NEW54 = "# POC #54: Table Partitioning\n\n## What You'll Build\n\n" + "".join(f"line {i}\n" for i in range(12))
NEW55 = "# POC #55: Pooling Connections\n\n## What You'll Build\n\nnew page\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "site"
    r.mkdir()
    (r / "authorkit.toml").write_text('[commit]\nco_authors = ["{model} <noreply@anthropic.com>"]\n', encoding="utf-8")
    (r / "content").mkdir()
    (r / "content" / "partitioning.md").write_text(OLD54, encoding="utf-8")
    (r / "notes.md").write_text("my notes\n", encoding="utf-8")
    (r / "todo.md").write_text("todo\n", encoding="utf-8")
    (r / ".gitignore").write_text("sessions/\n", encoding="utf-8")
    return init_repo(r)


def _session_with_writes(r: Path, *, errors55: int = 0) -> Session:
    ws = load_workspace(r)
    s = Session.start(ws, "Convert POCs #54-55")
    (r / "content" / "partitioning.md").write_text(NEW54, encoding="utf-8")
    record_write(ws, "content/partitioning.md", action="converted", before=OLD54, after=NEW54,
                 title="POC #54: Table Partitioning", style="tutorial", errors=0)
    (r / "content" / "pooling.md").write_text(NEW55, encoding="utf-8")
    record_write(ws, "content/pooling.md", action="converted", before=None, after=NEW55,
                 title="POC #55: Pooling Connections", style="tutorial", errors=errors55)
    record(ws, "model_call", model="claude-sonnet-4-5-20250929", document="content/partitioning.md",
           input_tokens=100, cache_write_tokens=0, cache_read_tokens=0, output_tokens=50, cost_usd=0.001)
    return s


def _state(r: Path) -> tuple[str, str, str, str]:
    """HEAD, the real index, porcelain status and the working files, for before/after equality."""
    files = "".join(f"{p}:{p.read_bytes()!r}\n" for p in sorted(r.rglob("*")) if p.is_file() and ".git" not in p.parts and "sessions" not in p.parts)
    return git(r, "rev-parse", "HEAD"), git(r, "ls-files", "-s"), git(r, "status", "--porcelain"), files


def test_commit_message_and_trailers_exact(repo: Path) -> None:
    s = _session_with_writes(repo, errors55=2)
    ws = load_workspace(repo)
    result = gitops.commit_paths(ws, s)
    message = git(repo, "log", "-1", "--format=%B")
    assert message == (
        "Convert POCs #54–55 to tutorial style\n"
        "\n"
        "Converted to tutorial:\n"
        "- #54: Table Partitioning (5→16 lines)\n"
        "  content/partitioning.md\n"
        "- #55: Pooling Connections (new, 5 lines, 2 check errors)\n"
        "  content/pooling.md\n"
        "\n"
        "Check: 1 of 2 files pass (2 errors)\n"
        "\n"
        "Co-Authored-By: Claude Sonnet 4.5 <noreply@anthropic.com>\n"
        f"Authorkit-Session: {s.id}\n"
        "\n"
    )
    # The repository's user is author and committer; the model only appears in the trailer.
    assert git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>").strip() == "Dana Writer <dana@example.org>|Dana Writer <dana@example.org>"
    assert sorted(git(repo, "show", "--name-only", "--format=", "HEAD").split()) == ["content/partitioning.md", "content/pooling.md"]
    assert git(repo, "status", "--porcelain") == ""
    commits = [e for e in s.events() if e["event"] == "commit"]
    assert commits == [commits[0]] and commits[0]["sha"] == result.sha
    assert commits[0]["paths"] == ["content/partitioning.md", "content/pooling.md"]
    assert len(message.split("\n", 1)[0]) < 72


def test_user_staged_and_unstaged_work_is_untouched(repo: Path) -> None:
    s = _session_with_writes(repo)
    (repo / "notes.md").write_text("my notes, staged edit\n", encoding="utf-8")
    git(repo, "add", "notes.md")
    (repo / "todo.md").write_text("todo, unstaged edit\n", encoding="utf-8")
    (repo / "scratch.md").write_text("untracked\n", encoding="utf-8")
    plan = gitops.plan_commit(load_workspace(repo), s)
    assert plan.other_staged == ["notes.md"]
    gitops.execute_commit(load_workspace(repo), s, plan)
    assert "notes.md" not in git(repo, "show", "--name-only", "--format=", "HEAD")
    status = git(repo, "status", "--porcelain").splitlines()
    assert sorted(status) == sorted(["?? scratch.md", "M  notes.md", " M todo.md"])
    assert git(repo, "diff", "--cached", "notes.md").count("+my notes, staged edit") == 1
    assert (repo / "todo.md").read_text() == "todo, unstaged edit\n"


def test_dry_run_touches_nothing_and_shows_everything(repo: Path, capsys) -> None:
    s = _session_with_writes(repo)
    before = _state(repo)
    events_before = len(s.events())
    code, out, _ = invoke(["commit", "--dry-run"], capsys, cwd=repo)
    assert code == 0
    assert "content/partitioning.md | 15 " in out and "content/pooling.md      |  5 " in out
    assert "2 files changed, 18 insertions(+), 2 deletions(-)" in out
    assert "Convert POCs #54–55 to tutorial style" in out and f"Authorkit-Session: {s.id}" in out
    assert _state(repo) == before
    assert len(s.events()) == events_before


def test_trailers_can_be_turned_off(repo: Path) -> None:
    (repo / "authorkit.toml").write_text("[commit]\ntrailers = false\n", encoding="utf-8")
    s = _session_with_writes(repo)
    gitops.commit_paths(load_workspace(repo), s)
    body = git(repo, "log", "-1", "--format=%B")
    assert "Co-Authored-By" not in body and "Authorkit-Session" not in body
    assert body.startswith("Convert POCs #54–55 to tutorial style\n\nConverted to tutorial:\n")


def test_no_model_call_means_no_co_author(repo: Path) -> None:
    ws = load_workspace(repo)
    s = Session.start(ws, "hand edits")
    (repo / "notes.md").write_text("edited by hand\n", encoding="utf-8")
    gitops.commit_paths(ws, s, [repo / "notes.md"])
    body = git(repo, "log", "-1", "--format=%B")
    assert "Co-Authored-By" not in body
    assert f"Authorkit-Session: {s.id}" in body
    assert body.startswith("Update notes.md\n\nUpdated:\n- notes.md (1→1 lines)\n  notes.md\n\nCheck: 1 file not checked\n")


def test_refuses_outside_a_git_repository(tmp_path: Path) -> None:
    (tmp_path / "authorkit.toml").write_text("", encoding="utf-8")
    ws = load_workspace(tmp_path)
    s = Session.start(ws, "x")
    (tmp_path / "a.md").write_text("# A\n", encoding="utf-8")
    record_write(ws, "a.md", action="drafted", before=None, after="# A\n", title="A")
    with pytest.raises(GitError, match="not a git repository"):
        gitops.plan_commit(ws, s)
    assert not (tmp_path / ".git").exists()


def test_refuses_during_a_merge(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "notes.md").write_text("other side\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "other")
    git(repo, "checkout", "-q", "main")
    (repo / "notes.md").write_text("main side\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "main")
    git(repo, "merge", "other", check=False)  # conflicts: MERGE_HEAD is left behind
    assert (repo / ".git" / "MERGE_HEAD").exists()
    s = _session_with_writes(repo)
    before = _state(repo)
    with pytest.raises(GitError, match="a merge is in progress"):
        gitops.commit_paths(load_workspace(repo), s)
    assert _state(repo) == before


def test_refuses_during_a_rebase(repo: Path) -> None:
    s = _session_with_writes(repo)
    (repo / ".git" / "rebase-merge").mkdir()
    with pytest.raises(GitError, match="rebase"):
        gitops.plan_commit(load_workspace(repo), s)


def test_refuses_a_file_changed_since_it_was_written(repo: Path) -> None:
    s = _session_with_writes(repo)
    (repo / "content" / "pooling.md").write_text(NEW55 + "hand edit\n", encoding="utf-8")
    before = _state(repo)
    with pytest.raises(GitError) as exc:
        gitops.commit_paths(load_workspace(repo), s)
    assert "changed by someone else since authorkit wrote them: content/pooling.md" in str(exc.value)
    assert _state(repo) == before
    # Naming the file explicitly commits it as it is now.
    gitops.commit_paths(load_workspace(repo), s, [repo / "content" / "pooling.md"])
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == ["content/pooling.md"]


def test_refuses_when_our_path_has_different_staged_content(repo: Path) -> None:
    s = _session_with_writes(repo)
    ws = load_workspace(repo)
    # The user staged an intermediate version of the file, then authorkit rewrote it.
    staged = "# POC #54: Table Partitioning\n\nuser's staged draft\n"
    (repo / "content" / "partitioning.md").write_text(staged, encoding="utf-8")
    git(repo, "add", "content/partitioning.md")
    (repo / "content" / "partitioning.md").write_text(NEW54, encoding="utf-8")
    before = _state(repo)
    with pytest.raises(GitError, match="staged changes that differ from the file on disk: content/partitioning.md"):
        gitops.commit_paths(ws, s)
    assert _state(repo) == before


def test_nothing_to_commit(repo: Path) -> None:
    s = _session_with_writes(repo)
    gitops.commit_paths(load_workspace(repo), s)
    with pytest.raises(GitError, match="nothing to commit"):
        gitops.plan_commit(load_workspace(repo), s)


def test_failing_hook_leaves_everything_as_it_was(repo: Path, capsys) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'lint: trailing whitespace in content/pooling.md' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    s = _session_with_writes(repo)
    (repo / "notes.md").write_text("staged by me\n", encoding="utf-8")
    git(repo, "add", "notes.md")
    before = _state(repo)
    code, _, err = invoke(["commit"], capsys, cwd=repo)
    assert code == 2
    assert "lint: trailing whitespace in content/pooling.md" in err
    assert "nothing was committed" in err
    assert _state(repo) == before
    assert not [e for e in s.events() if e["event"] == "commit"]


def test_passing_hook_runs_and_sees_only_our_paths(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    log = repo.parent / "hook.log"
    hook.write_text(f"#!/bin/sh\ngit diff --cached --name-only > {log}\n", encoding="utf-8")
    hook.chmod(0o755)
    s = _session_with_writes(repo)
    (repo / "notes.md").write_text("staged by me\n", encoding="utf-8")
    git(repo, "add", "notes.md")
    gitops.commit_paths(load_workspace(repo), s)
    assert log.read_text().split() == ["content/partitioning.md", "content/pooling.md"]


# --- undo --------------------------------------------------------------------------------


def test_undo_restores_the_state_before_the_commit(repo: Path) -> None:
    s = _session_with_writes(repo)
    (repo / "notes.md").write_text("staged by me\n", encoding="utf-8")
    git(repo, "add", "notes.md")
    before = _state(repo)
    ws = load_workspace(repo)
    gitops.commit_paths(ws, s)
    plan = gitops.undo_last(ws, s)
    assert _state(repo) == before
    assert plan.paths == ["content/partitioning.md", "content/pooling.md"]
    assert [e["event"] for e in s.events()][-2:] == ["commit", "undo"]
    with pytest.raises(GitError, match="no commit to undo"):
        gitops.plan_undo(ws, s)


def test_undo_refuses_when_not_head(repo: Path) -> None:
    s = _session_with_writes(repo)
    ws = load_workspace(repo)
    res = gitops.commit_paths(ws, s)
    (repo / "notes.md").write_text("later\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "later work")
    head = git(repo, "rev-parse", "HEAD")
    with pytest.raises(GitError) as exc:
        gitops.undo_last(ws, s)
    assert f"the authorkit commit {res.sha[:7]} is no longer HEAD" in str(exc.value)
    assert f"git revert {res.sha[:7]}" in str(exc.value)
    assert git(repo, "rev-parse", "HEAD") == head


def test_undo_refuses_when_pushed(repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    s = _session_with_writes(repo)
    ws = load_workspace(repo)
    res = gitops.commit_paths(ws, s)
    git(repo, "push", "-q", "origin", "main")
    with pytest.raises(GitError, match=rf"{res.sha[:7]} is already pushed \(origin/main\)"):
        gitops.undo_last(ws, s)
    assert git(repo, "rev-parse", "HEAD").strip() == res.sha


def test_undo_refuses_when_files_changed_since(repo: Path) -> None:
    s = _session_with_writes(repo)
    ws = load_workspace(repo)
    res = gitops.commit_paths(ws, s)
    (repo / "content" / "pooling.md").write_text("edited after the commit\n", encoding="utf-8")
    with pytest.raises(GitError, match="files of .* changed since it was made: content/pooling.md"):
        gitops.undo_last(ws, s)
    assert git(repo, "rev-parse", "HEAD").strip() == res.sha


def test_undo_cli_explains_and_exits_2(repo: Path, capsys) -> None:
    ws = load_workspace(repo)
    Session.start(ws, "nothing yet")
    code, _, err = invoke(["undo"], capsys, cwd=repo)
    assert code == 2
    assert "has no commit to undo" in err


def test_subject_stays_under_72_characters() -> None:
    long_title = "POC #7: " + "A Very Long Title About Distributed Consensus Protocols In Practice " * 2
    fc = gitops.FileChange("a.md", "a.md", long_title, "drafted", 0, 900, 0, "tutorial")
    assert gitops.default_subject([fc]) == "Draft POC #7"
    assert len(gitops.clamp_subject("word " * 40)) < 72


def test_pretty_model_names() -> None:
    assert gitops.pretty_model("claude-sonnet-4-5-20250929") == "Claude Sonnet 4.5"
    assert gitops.pretty_model("claude-3-5-haiku-latest") == "Claude 3.5 Haiku"


def test_refuses_an_ignored_path(repo: Path) -> None:
    ws = load_workspace(repo)
    s = Session.start(ws, "x")
    (repo / "sessions" / "summary.md").write_text("# Summary\n", encoding="utf-8")
    before = _state(repo)
    with pytest.raises(GitError, match=r"ignored by \.gitignore: sessions/summary\.md"):
        gitops.commit_paths(ws, s, [repo / "sessions" / "summary.md"])
    assert _state(repo) == before


def test_workspace_below_the_repository_root(tmp_path: Path) -> None:
    r = tmp_path / "mono"
    site = r / "docs-site"
    site.mkdir(parents=True)
    git(r, "init", "-q", "-b", "main")
    git(r, "config", "user.name", "Dana Writer")
    git(r, "config", "user.email", "dana@example.org")
    (site / "authorkit.toml").write_text("", encoding="utf-8")
    (r / "README.md").write_text("root\n", encoding="utf-8")
    git(r, "add", ".")
    git(r, "commit", "-q", "-m", "init")
    ws = load_workspace(site)
    s = Session.start(ws, "draft")
    (site / "pages").mkdir()
    (site / "pages" / "a.md").write_text(NEW55, encoding="utf-8")
    record_write(ws, "pages/a.md", action="drafted", before=None, after=NEW55, title="POC #55: Pooling Connections", errors=0)
    gitops.commit_paths(ws, s)
    assert git(r, "show", "--name-only", "--format=", "HEAD").split() == ["docs-site/pages/a.md"]
    assert "  docs-site/pages/a.md\n" in git(r, "log", "-1", "--format=%B")
    assert [e["paths"] for e in s.events() if e["event"] == "commit"] == [["pages/a.md"]]


def test_navigation_rides_along_and_failed_drafts_stay_out(repo: Path) -> None:
    ws = load_workspace(repo)
    s = Session.start(ws, "draft two")
    meta_old = "export default {\n  a: 'A',\n}\n"
    (repo / "content" / "_meta.js").write_text(meta_old, encoding="utf-8")
    git(repo, "add", "content/_meta.js")
    git(repo, "commit", "-q", "-m", "nav")
    meta1 = meta_old.replace("}\n", "  pooling: 'Pooling',\n}\n")
    meta2 = meta1.replace("}\n", "  queues: 'Queues',\n}\n")
    (repo / "content" / "pooling.md").write_text(NEW55, encoding="utf-8")
    record_write(ws, "content/pooling.md", action="drafted", before=None, after=NEW55, title="POC #55: Pooling Connections", errors=0)
    (repo / "content" / "_meta.js").write_text(meta1, encoding="utf-8")
    record_write(ws, "content/_meta.js", action="navigation", before=meta_old, after=meta1, title="navigation: pooling")
    (repo / "content" / "_meta.js").write_text(meta2, encoding="utf-8")
    record_write(ws, "content/_meta.js", action="navigation", before=meta1, after=meta2, title="navigation: queues")
    (repo / "content" / "queues.failed.md").write_text("# POC #56: Queues\n", encoding="utf-8")
    record_write(ws, "content/queues.failed.md", action="failed-draft", before=None, after="# POC #56: Queues\n", title="POC #56: Queues", errors=7)
    gitops.commit_paths(ws, s)
    body = git(repo, "log", "-1", "--format=%B")
    assert body.startswith(
        "Draft POC #55: Pooling Connections\n\nDrafted:\n- #55: Pooling Connections (new, 5 lines)\n  content/pooling.md\n\n"
        "Navigation:\n- _meta.js: added pooling, queues (3→5 lines)\n  content/_meta.js\n\n"
    )
    assert git(repo, "status", "--porcelain").split() == ["??", "content/queues.failed.md"]


def test_second_commit_in_a_session_describes_only_what_changed_since(repo: Path) -> None:
    ws = load_workspace(repo)
    s = Session.start(ws, "draft then fix")
    (repo / "content" / "pooling.md").write_text(NEW55, encoding="utf-8")
    record_write(ws, "content/pooling.md", action="drafted", before=None, after=NEW55, title="POC #55: Pooling Connections", errors=1)
    gitops.commit_paths(ws, s)
    fixed = NEW55 + "\n## Why This Matters\n"
    (repo / "content" / "pooling.md").write_text(fixed, encoding="utf-8")
    record_write(ws, "content/pooling.md", action="fixed", before=NEW55, after=fixed, title="POC #55: Pooling Connections", errors=0)
    plan = gitops.plan_commit(ws, s)
    assert [f.repo_path for f in plan.files] == ["content/pooling.md"]
    assert "- #55: Pooling Connections (5→7 lines)\n" in plan.message
    assert "Check: the file passes (0 errors)\n" in plan.message
    assert plan.subject == "Fix POC #55: Pooling Connections"
