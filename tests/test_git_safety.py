"""The git step and the session record under hostile conditions, each built in a temporary
repository: a held index lock, a hook that stages everything, edits authorkit did not make,
configuration paths leading out of the workspace, concurrent writers of the record."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from tests.clihelp import git, init_repo, invoke, run

from authorkit import gitops
from authorkit.config import load_workspace
from authorkit.errors import GitError
from authorkit.session import Session, record, record_write, text_sha256

OLD = "# POC #54: Table Partitioning\n\n## The Problem\n\nold text\n"
NEW = "# POC #54: Table Partitioning\n\n## What You'll Build\n\n" + "".join(f"line {i}\n" for i in range(8))
PAGE = "# POC #55: Pooling Connections\n\n## What You'll Build\n\nnew page\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "site"
    r.mkdir()
    (r / "authorkit.toml").write_text("", encoding="utf-8")
    (r / "content").mkdir()
    (r / "content" / "partitioning.md").write_text(OLD, encoding="utf-8")
    (r / "notes.md").write_text("my notes\n", encoding="utf-8")
    (r / "todo.md").write_text("todo\n", encoding="utf-8")
    (r / ".gitignore").write_text("sessions/\n", encoding="utf-8")
    return init_repo(r)


def _authorkit_writes(r: Path) -> Session:
    """A session that rewrote one page and drafted another, as convert and draft record it."""
    ws = load_workspace(r)
    s = Session.start(ws, "two pages")
    (r / "content" / "partitioning.md").write_text(NEW, encoding="utf-8")
    record_write(ws, "content/partitioning.md", action="converted", before=OLD, after=NEW, title="POC #54: Table Partitioning", errors=0)
    (r / "content" / "pooling.md").write_text(PAGE, encoding="utf-8")
    record_write(ws, "content/pooling.md", action="drafted", before=None, after=PAGE, title="POC #55: Pooling Connections", errors=0)
    return s


def _user_work(r: Path) -> None:
    """Work of the user's own that no authorkit commit may touch: staged, unstaged, untracked."""
    (r / "notes.md").write_text("my notes, staged edit\n", encoding="utf-8")
    git(r, "add", "notes.md")
    (r / "todo.md").write_text("todo, unstaged edit\n", encoding="utf-8")
    (r / "scratch.txt").write_text("untracked scratch\n", encoding="utf-8")


def _state(r: Path) -> tuple[str, bytes, str, str]:
    """HEAD, the real index's bytes, porcelain status and the working files."""
    files = "".join(f"{p}:{p.read_bytes()!r}\n" for p in sorted(r.rglob("*")) if p.is_file() and ".git" not in p.parts and "sessions" not in p.parts)
    return git(r, "rev-parse", "HEAD"), (r / ".git" / "index").read_bytes(), git(r, "status", "--porcelain"), files


def _commits(s: Session) -> list[str]:
    return [e["event"] for e in s.events() if e["event"] in ("commit", "undo")]


# --- 1. a held index lock ----------------------------------------------------------------


def test_a_stale_index_lock_refuses_before_anything_changes(repo: Path) -> None:
    s = _authorkit_writes(repo)
    _user_work(repo)
    lock = repo / ".git" / "index.lock"
    lock.write_bytes(b"")
    before = _state(repo)
    res = run(["commit"], cwd=repo)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert str(lock) in res.stderr and "delete" in res.stderr and "changed nothing" in res.stderr
    assert _state(repo) == before and lock.exists()
    assert _commits(s) == []
    # Once the lock is gone the same command commits exactly authorkit's paths, and undo works.
    lock.unlink()
    res = run(["commit"], cwd=repo)
    assert res.returncode == 0, res.stderr
    assert sorted(git(repo, "show", "--name-only", "--format=", "HEAD").split()) == ["content/partitioning.md", "content/pooling.md"]
    assert set(git(repo, "status", "--porcelain").splitlines()) == {"?? scratch.txt", "M  notes.md", " M todo.md"}
    res = run(["undo"], cwd=repo)
    assert res.returncode == 0, res.stderr
    assert git(repo, "rev-parse", "HEAD") == before[0]
    assert set(git(repo, "status", "--porcelain").splitlines()) == {
        "?? scratch.txt", "M  notes.md", " M todo.md", " M content/partitioning.md", "?? content/pooling.md"}


def test_a_lock_taken_between_plan_and_commit_changes_nothing(repo: Path) -> None:
    s = _authorkit_writes(repo)
    _user_work(repo)
    ws = load_workspace(repo)
    plan = gitops.plan_commit(ws, s)
    (repo / ".git" / "index.lock").write_bytes(b"held by another git")
    before = _state(repo)
    with pytest.raises(GitError, match=r"index\.lock exists"):
        gitops.execute_commit(ws, s, plan)
    assert _state(repo) == before
    assert (repo / ".git" / "index.lock").read_bytes() == b"held by another git"  # never ours to remove
    assert _commits(s) == []


def test_a_hook_that_touches_the_real_index_cannot(repo: Path) -> None:
    """The real index stays locked while hooks run: a hook writing to it fails the commit."""
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nunset GIT_INDEX_FILE\nexec git add todo.md\n", encoding="utf-8")
    hook.chmod(0o755)
    s = _authorkit_writes(repo)
    _user_work(repo)
    before = _state(repo)
    with pytest.raises(GitError, match="nothing was committed"):
        gitops.commit_paths(load_workspace(repo), s)
    assert _state(repo) == before
    assert not (repo / ".git" / "index.lock").exists()


def test_undo_with_a_held_lock_leaves_the_commit_in_place(repo: Path) -> None:
    s = _authorkit_writes(repo)
    ws = load_workspace(repo)
    res = gitops.commit_paths(ws, s)
    (repo / ".git" / "index.lock").write_bytes(b"")
    before = _state(repo)
    with pytest.raises(GitError, match=r"index\.lock exists"):
        gitops.undo_last(ws, s)
    assert _state(repo) == before and git(repo, "rev-parse", "HEAD").strip() == res.sha
    (repo / ".git" / "index.lock").unlink()
    gitops.undo_last(ws, s)
    assert _commits(s) == ["commit", "undo"]


# --- 8. a hook that stages more files ------------------------------------------------------


@pytest.mark.parametrize("stage_all", ["git add -A", "git add scratch.txt todo.md"])
def test_a_hook_that_stages_other_files_is_undone(repo: Path, capsys, stage_all: str) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\n{stage_all}\n", encoding="utf-8")
    hook.chmod(0o755)
    s = _authorkit_writes(repo)
    _user_work(repo)
    before = _state(repo)
    code, _, err = invoke(["commit"], capsys, cwd=repo)
    assert code == 2
    assert "hook changed the commit beyond the files authorkit wrote" in err and "scratch.txt" in err
    assert "Traceback" not in err
    after = _state(repo)
    assert after == before  # HEAD, index bytes, status (no `D scratch.txt`) and files
    assert "D  scratch.txt" not in after[2]
    # The record says the commit was made and undone, so nothing claims it is live.
    assert _commits(s) in ([], ["commit", "undo"])
    assert gitops.last_commit_event(s) is None


def test_a_hook_that_reformats_our_own_file_is_accepted(repo: Path) -> None:
    """Changing only authorkit's paths (a formatter re-staging them) is the user's tooling at work."""
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nprintf 'formatted\\n' >> content/pooling.md\ngit add content/pooling.md\n", encoding="utf-8")
    hook.chmod(0o755)
    s = _authorkit_writes(repo)
    _user_work(repo)
    res = gitops.commit_paths(load_workspace(repo), s)
    assert sorted(git(repo, "show", "--name-only", "--format=", res.sha).split()) == ["content/partitioning.md", "content/pooling.md"]
    assert set(git(repo, "status", "--porcelain").splitlines()) == {"?? scratch.txt", "M  notes.md", " M todo.md"}


# --- 7. edits authorkit did not make -------------------------------------------------------


def test_a_fix_over_unstaged_edits_is_not_committed(repo: Path, capsys) -> None:
    ws = load_workspace(repo)
    s = Session.start(ws, "fix")
    edited = OLD + "\nmy unfinished paragraph\n"
    (repo / "content" / "partitioning.md").write_text(edited, encoding="utf-8")  # the user's, unstaged
    fixed = edited.replace("old text", "old text, fixed")
    (repo / "content" / "partitioning.md").write_text(fixed, encoding="utf-8")
    record_write(ws, "content/partitioning.md", action="fixed", before=edited, after=fixed, title="POC #54: Table Partitioning")
    before = _state(repo)
    code, _, err = invoke(["commit"], capsys, cwd=repo)
    assert code == 2
    assert "over uncommitted edits of yours" in err and "content/partitioning.md" in err
    assert _state(repo) == before
    # Named explicitly, the file is committed as it is: the user has seen and chosen it.
    code, out, err = invoke(["commit", "content/partitioning.md"], capsys, cwd=repo)
    assert code == 0, err
    assert "my unfinished paragraph" in git(repo, "show", "HEAD:content/partitioning.md")


MOJIBAKE = "# Notes\n\nIt\u00e2\u20ac\u2122s fine.\n"  # "It’s" read as cp1252: what `fix` repairs


def test_fix_allow_dirty_then_commit_through_the_cli(repo: Path) -> None:
    """The real commands: `fix --allow-dirty` over an unstaged paragraph, then `commit`."""
    page = repo / "content" / "notes.md"
    page.write_text(MOJIBAKE, encoding="utf-8")
    git(repo, "add", "content/notes.md")
    git(repo, "commit", "-q", "-m", "notes")
    page.write_text(MOJIBAKE + "\nmy unfinished paragraph\n", encoding="utf-8")
    res = run(["fix", "--allow-dirty", "content/notes.md"], cwd=repo)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "It’s fine." in page.read_text(encoding="utf-8")
    head = git(repo, "rev-parse", "HEAD")
    res = run(["commit"], cwd=repo)
    assert res.returncode == 2 and "over uncommitted edits of yours" in res.stderr and "Traceback" not in res.stderr
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == " M content/notes.md\n"


def test_fix_of_a_clean_file_then_commit_through_the_cli(repo: Path) -> None:
    page = repo / "content" / "notes.md"
    page.write_text(MOJIBAKE, encoding="utf-8")
    git(repo, "add", "content/notes.md")
    git(repo, "commit", "-q", "-m", "notes")
    assert run(["fix", "content/notes.md"], cwd=repo).returncode == 0
    res = run(["commit"], cwd=repo)
    assert res.returncode == 0, res.stderr
    assert git(repo, "show", "HEAD:content/notes.md") == "# Notes\n\nIt’s fine.\n"
    assert git(repo, "status", "--porcelain") == ""


def test_edits_between_two_authorkit_writes_are_caught(repo: Path) -> None:
    ws = load_workspace(repo)
    s = Session.start(ws, "draft then fix")
    (repo / "content" / "pooling.md").write_text(PAGE, encoding="utf-8")
    record_write(ws, "content/pooling.md", action="drafted", before=None, after=PAGE, title="POC #55")
    hand = PAGE + "a paragraph typed by hand\n"
    fixed = hand + "fixed\n"
    (repo / "content" / "pooling.md").write_text(fixed, encoding="utf-8")
    record_write(ws, "content/pooling.md", action="fixed", before=hand, after=fixed, title="POC #55")
    with pytest.raises(GitError, match="over uncommitted edits of yours, .*: content/pooling.md"):
        gitops.plan_commit(ws, s)


def test_a_draft_the_user_committed_then_fixed_is_committed(repo: Path) -> None:
    """HEAD holding a version authorkit wrote is a known starting point, not someone's edits."""
    ws = load_workspace(repo)
    s = Session.start(ws, "draft, user commits, fix")
    (repo / "content" / "pooling.md").write_text(PAGE, encoding="utf-8")
    record_write(ws, "content/pooling.md", action="drafted", before=None, after=PAGE, title="POC #55: Pooling Connections")
    git(repo, "add", "content/pooling.md")
    git(repo, "commit", "-q", "-m", "my own commit of the draft")
    fixed = PAGE + "fixed\n"
    (repo / "content" / "pooling.md").write_text(fixed, encoding="utf-8")
    record_write(ws, "content/pooling.md", action="fixed", before=PAGE, after=fixed, title="POC #55: Pooling Connections")
    plan = gitops.plan_commit(ws, s)
    assert plan.repo_paths == ["content/pooling.md"]


def test_a_file_with_a_bom_is_a_known_starting_point(repo: Path) -> None:
    """Writers hash the decoded text; HEAD's bytes carry a BOM: still the same version."""
    (repo / "content" / "bom.md").write_bytes(b"\xef\xbb\xbf" + OLD.encode())
    git(repo, "add", "content/bom.md")
    git(repo, "commit", "-q", "-m", "bom")
    ws = load_workspace(repo)
    s = Session.start(ws, "fix")
    (repo / "content" / "bom.md").write_text(NEW, encoding="utf-8")
    record_write(ws, "content/bom.md", action="fixed", before=OLD, after=NEW, title="POC #54: Table Partitioning")
    assert gitops.plan_commit(ws, s).repo_paths == ["content/bom.md"]


# --- 15. configuration paths outside the workspace ------------------------------------------


@pytest.mark.parametrize(
    "toml, key, line",
    [
        ('sessions_dir = "../elsewhere"\n', "sessions_dir", 1),
        ('[draft]\nstyle = "tutorial"\npoc_dir = "/tmp"\n', "draft.poc_dir", 3),
        ('[draft]\narticle_dir = "content/../../out"\n', "draft.article_dir", 2),
        ('[content]\nroots = ["content", "/home"]\n', "content.roots", 2),
        ('[plans]\nfiles = ["../PLAN.md"]\n', "plans.files", 2),
        ('\n[navigation]\nfiles = ["../site/_meta.js"]\n', "navigation.files", 3),
    ],
)
def test_config_paths_outside_the_workspace_are_refused(tmp_path: Path, capsys, toml: str, key: str, line: int) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "authorkit.toml").write_text(toml, encoding="utf-8")
    (ws / "a.md").write_text("# A\n", encoding="utf-8")
    code, _, err = invoke(["fix", "a.md"], capsys, cwd=ws)
    assert code == 2
    assert f"authorkit.toml:{line}: `{key}`" in err and "outside the workspace" in err
    assert "hint: give a path inside" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ws"]  # nothing created outside
    assert not (ws / "sessions").exists()


def test_a_symlinked_folder_leading_out_is_refused(tmp_path: Path, capsys) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "content").symlink_to(outside)
    (ws / "authorkit.toml").write_text('[content]\nroots = ["content"]\n', encoding="utf-8")
    code, _, err = invoke(["check"], capsys, cwd=ws)
    assert code == 2 and "`content.roots` = 'content' is outside the workspace" in err and "symlink" in err


def test_paths_inside_the_workspace_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "authorkit.toml").write_text(
        f'sessions_dir = "{tmp_path}/records"\n[content]\nroots = [".", "docs/../pages"]\n[draft]\npoc_dir = "./pocs"\n', encoding="utf-8")
    ws = load_workspace(tmp_path)
    assert ws.sessions_dir == (tmp_path / "records").resolve()


def test_extract_outside_a_workspace_creates_no_sessions_folder(tmp_path: Path) -> None:
    doc = tmp_path / "poc.md"
    doc.write_text("# POC #1: Hello\n\n## Build\n\n`app.py`:\n\n```python\nprint('hi')\n```\n", encoding="utf-8")
    res = run(["extract", "poc.md", "out"], cwd=tmp_path)
    assert res.returncode in (0, 1), res.stderr
    assert not (tmp_path / "sessions").exists()
    ws = load_workspace(tmp_path)
    assert record(ws, "command", argv=["authorkit"]) is None and not (tmp_path / "sessions").exists()


# --- the session record: the right workspace, every event kept ------------------------------


def test_commands_record_into_the_workspace_config_names(tmp_path: Path, capsys) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    for d in (here, there):
        d.mkdir()
        (d / "authorkit.toml").write_text("", encoding="utf-8")
    # Refused before doing anything, with no session open: no session is started anywhere.
    code, _, _ = invoke(["undo", "--config", str(there / "authorkit.toml")], capsys, cwd=here)
    assert code == 2
    assert not (here / "sessions").exists() and not (there / "sessions").exists()
    s = Session.start(load_workspace(there), "elsewhere")
    invoke(["undo", "--config", str(there / "authorkit.toml")], capsys, cwd=here)
    invoke(["undo", f"--config={there / 'authorkit.toml'}"], capsys, cwd=here)
    assert not (here / "sessions").exists()
    argvs = [e["argv"] for e in s.events() if e["event"] == "command"]
    assert [a[:2] for a in argvs] == [["authorkit", "undo"], ["authorkit", "undo"]]


def test_a_command_line_waits_for_the_commands_first_event(tmp_path: Path) -> None:
    from authorkit.session import record_command

    (tmp_path / "authorkit.toml").write_text("", encoding="utf-8")
    ws = load_workspace(tmp_path)
    record_command(ws, ["authorkit", "draft", "poc", "7"])
    assert not (tmp_path / "sessions").exists()
    record(ws, "write", path="a.md", action="drafted")
    s = Session.current(ws, create=False)
    assert [e["event"] for e in s.events()] == ["session_start", "command", "write"]
    assert s.events()[1]["argv"] == ["authorkit", "draft", "poc", "7"]


def _first_use(root: str, tag: str, n: int) -> None:
    ws = load_workspace(Path(root))
    for i in range(n):
        record(ws, "command", argv=[tag, str(i)])


def test_concurrent_first_use_joins_one_session_and_keeps_every_event(tmp_path: Path) -> None:
    """No session open: four processes start recording at once. One session, 4×40 events."""
    (tmp_path / "authorkit.toml").write_text("", encoding="utf-8")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_first_use, args=(str(tmp_path), f"p{k}", 40)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    files = sorted((tmp_path / "sessions").glob("*.jsonl"))
    assert len(files) == 1
    lines = files[0].read_text(encoding="utf-8").splitlines()
    events = [json.loads(ln) for ln in lines]
    assert [e["event"] for e in events].count("session_start") == 1
    assert sorted((e["argv"][0], int(e["argv"][1])) for e in events if e["event"] == "command") == sorted(
        (f"p{k}", i) for k in range(4) for i in range(40))


def test_marker_is_written_through_the_atomic_writer(tmp_path: Path) -> None:
    (tmp_path / "authorkit.toml").write_text("", encoding="utf-8")
    ws = load_workspace(tmp_path)
    s = Session.start(ws, "x")
    assert (ws.sessions_dir / "current").read_text(encoding="utf-8") == s.id + "\n"
    assert sorted(p.name for p in ws.sessions_dir.iterdir()) == sorted([".lock", "current", f"{s.id}.jsonl"])


# --- one hash ---------------------------------------------------------------------------------


def test_every_writer_records_sha256(tmp_path: Path) -> None:
    import hashlib

    from authorkit import batch, convert
    from authorkit.textio import sha256_text

    expected = hashlib.sha256("é\n".encode()).hexdigest()
    assert convert.sha("é\n") == batch._sha("é\n") == text_sha256("é\n") == sha256_text("é\n") == expected


def test_uncommitted_is_answered_once(repo: Path, tmp_path: Path) -> None:
    """fix, convert and draft ask gitops, so they cannot disagree about a file."""
    from authorkit import convert, draft
    from authorkit import fix_files as fix

    page = repo / "content" / "partitioning.md"
    assert gitops.uncommitted_reason(page) is None and not convert.uncommitted(page) and fix.uncommitted([page]) == {}
    page.write_text(OLD + "edit\n", encoding="utf-8")
    assert gitops.uncommitted_reason(page) == draft.uncommitted_reason(page) == fix.uncommitted([page])[page] == "it has uncommitted edits"
    assert convert.uncommitted(page)
    new = repo / "content" / "new.md"
    new.write_text("x\n", encoding="utf-8")
    ignored = repo / "sessions" / "notes.md"
    ignored.parent.mkdir()
    ignored.write_text("x\n", encoding="utf-8")
    outside = tmp_path / "nogit.md"
    outside.write_text("x\n", encoding="utf-8")
    assert gitops.uncommitted([page, new, ignored, outside]) == {
        page: "it has uncommitted edits",
        new: "it is not committed to git (untracked)",
        ignored: "git ignores it, so there is no committed copy to go back to",
    }


def test_a_commit_made_between_plan_and_commit_is_never_dropped(tmp_path: Path) -> None:
    """An unborn branch: someone commits after authorkit planned. authorkit refuses and the
    other commit stays (undoing must never rewind past a commit that is not ours)."""
    r = tmp_path / "fresh"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    git(r, "config", "user.name", "Dana Writer")
    git(r, "config", "user.email", "dana@example.org")
    (r / "authorkit.toml").write_text("", encoding="utf-8")
    (r / ".gitignore").write_text("sessions/\n", encoding="utf-8")
    ws = load_workspace(r)
    s = Session.start(ws, "first page")
    (r / "page.md").write_text(PAGE, encoding="utf-8")
    record_write(ws, "page.md", action="drafted", before=None, after=PAGE, title="POC #55: Pooling Connections")
    plan = gitops.plan_commit(ws, s)
    git(r, "add", ".gitignore")
    git(r, "commit", "-q", "-m", "someone else's first commit")
    theirs = git(r, "rev-parse", "HEAD")
    with pytest.raises(GitError, match="HEAD moved since the commit was planned"):
        gitops.execute_commit(ws, s, plan)
    assert git(r, "rev-parse", "HEAD") == theirs
    # Planned again, it commits on top of theirs.
    res = gitops.commit_paths(ws, s)
    assert git(r, "rev-parse", f"{res.sha}^") == theirs


def test_scratch_left_by_a_killed_commit_is_removed_by_the_next(repo: Path) -> None:
    stale = repo / ".git" / "authorkit-commit-k1lled00"
    stale.mkdir()
    (stale / "index").write_bytes(b"half an index")
    s = _authorkit_writes(repo)
    gitops.commit_paths(load_workspace(repo), s)
    assert not stale.exists()
    assert not [p for p in (repo / ".git").iterdir() if p.name.startswith("authorkit-")]


def test_ctrl_c_as_git_commit_finishes_takes_the_commit_back(repo: Path, monkeypatch) -> None:
    import git as gitpython

    real = gitpython.cmd.Git._call_process

    def interrupted(self, method, *args, **kwargs):
        out = real(self, method, *args, **kwargs)
        if method == "commit":
            raise KeyboardInterrupt  # the commit exists; authorkit never saw git's answer
        return out

    s = _authorkit_writes(repo)
    _user_work(repo)
    before = _state(repo)
    monkeypatch.setattr(gitpython.cmd.Git, "_call_process", interrupted)
    with pytest.raises(KeyboardInterrupt):
        gitops.commit_paths(load_workspace(repo), s)
    monkeypatch.undo()
    assert _state(repo) == before
    assert not (repo / ".git" / "index.lock").exists()
    assert _commits(s) == []
