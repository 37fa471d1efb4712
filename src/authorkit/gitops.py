"""The git step: commit exactly what this session wrote, and undo that commit safely.

The commit is built in a temporary index (GIT_INDEX_FILE) that starts from HEAD and receives
only our paths, so the user's own staged work is never swept in and stays staged; `git commit`
runs with that index, so hooks run as usual. The real index is locked (`index.lock`, as git
itself does) for the whole step: an existing lock means another git is at work, and nothing is
done. After the commit, its content is compared with what was staged: a hook that added other
files makes the commit undone. The real index is then rewritten through its lock with our paths
set to what was committed, so every other entry stays exactly as it was. If any step fails, HEAD
is moved back and the real index, the files and the session record are as they were.

The user stays author and committer: no identity is ever passed to git. The model is credited
only in `Co-Authored-By:` trailers. What the commit message says is composed in
commit_message.py.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authorkit.commit_message import (  # noqa: F401  (re-exported: callers import them from gitops)
    COMMIT_TEMPLATE,
    SUBJECT_MAX,
    FileChange,
    _check_errors,
    _line_stat,
    _split_lines,
    _title_of,
    check_line,
    clamp_subject,
    co_authors,
    compose_message,
    default_subject,
    models_used,
    pretty_model,
    render_template,
)
from authorkit.config import Workspace
from authorkit.errors import GitError
from authorkit.session import Session, WriteSummary, file_sha256, summarize_writes
from authorkit.textio import decode_document, sha256_bytes, sha256_text

if TYPE_CHECKING:  # gitpython is imported lazily: `authorkit --help` must stay fast
    import git  # lazy: ~150 ms to import (-X importtime); `session start` reaches gitops without a repository

_IN_PROGRESS = {
    "MERGE_HEAD": "a merge",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase (or `git am`)",
}


# --- repository ------------------------------------------------------------------------


def open_repo(ws: Workspace) -> "git.Repo":
    import git  # lazy: ~150 ms to import (-X importtime); `session start` reaches gitops without a repository

    try:
        repo = git.Repo(ws.root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise GitError(f"not a git repository: {ws.root}", hint="run `git init` there first, or commit the files yourself") from None
    if repo.bare or repo.working_tree_dir is None:
        raise GitError(f"{repo.git_dir} is a bare repository", hint="run authorkit in a checkout with a working tree")
    return repo


def ensure_idle(repo: "git.Repo") -> None:
    """Refuse while a merge, rebase, cherry-pick or revert is in progress."""
    gd = Path(repo.git_dir)
    for name, what in _IN_PROGRESS.items():
        if (gd / name).exists():
            raise GitError(
                f"{what} is in progress in {repo.working_tree_dir}",
                hint="finish or abort it first (`git status` says how); authorkit changed nothing",
            )


def repo_root(repo: "git.Repo") -> Path:
    return Path(repo.working_tree_dir).resolve()  # type: ignore[arg-type]


def repo_path(repo: "git.Repo", abs_path: Path) -> str:
    try:
        return abs_path.resolve().relative_to(repo_root(repo)).as_posix()
    except ValueError:
        raise GitError(f"{abs_path} is outside the repository {repo_root(repo)}", hint="commit only files inside the repository") from None


def head_commit(repo: "git.Repo") -> "git.Commit | None":
    return repo.head.commit if repo.head.is_valid() else None


def head_blob(repo: "git.Repo", rpath: str) -> bytes | None:
    c = head_commit(repo)
    if c is None:
        return None
    try:
        return c.tree[rpath].data_stream.read()
    except KeyError:
        return None


def index_path(repo: "git.Repo") -> Path:
    """The real index file (a linked worktree has its own; GIT_INDEX_FILE is honoured)."""
    out = repo.git.rev_parse("--git-path", "index").strip()
    p = Path(out)
    return p if p.is_absolute() else Path(repo.working_tree_dir) / p  # type: ignore[arg-type]


def _lock_error(lock: Path) -> GitError:
    return GitError(
        f"{lock} exists: another git process is using this repository, or one was interrupted and left its lock behind",
        hint=f"wait for it to finish and run the command again; if no git process is running, delete {lock}. authorkit changed nothing",
    )


def ensure_unlocked(repo: "git.Repo") -> None:
    """Refuse early (plans, dry runs) when the real index is locked."""
    index = index_path(repo)
    lock = index.with_name(index.name + ".lock")
    if lock.exists():
        raise _lock_error(lock)


class IndexLock:
    """The real index's own lock file, taken the way git takes it (O_EXCL on `index.lock`).

    While held, no other git process can change the index; `replace_with` installs a new index
    by writing it into the lock and renaming the lock over the index, git's own protocol.
    Released without `replace_with`, the index is untouched.
    """

    def __init__(self, repo: "git.Repo") -> None:
        self.index = index_path(repo)
        self.lock = self.index.with_name(self.index.name + ".lock")
        self._fd: int | None = None

    def __enter__(self) -> "IndexLock":
        try:
            self._fd = os.open(self.lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            raise _lock_error(self.lock) from None
        # Scratch folders exist only while their run holds this lock: any found now were left
        # by a run that was killed, and are removed.
        for stale in self.index.parent.glob("authorkit-*-????????"):
            if stale.is_dir() and stale.name.split("-")[1] in ("commit", "undo"):
                shutil.rmtree(stale, ignore_errors=True)
        return self

    def scratch(self, kind: str) -> Path:
        """A scratch folder next to the index (a split index finds its shared part there)."""
        return Path(tempfile.mkdtemp(prefix=f"authorkit-{kind}-", dir=self.index.parent))

    def snapshot(self, dest: Path) -> None:
        """Copy the current index to `dest` (nothing when there is no index yet)."""
        try:
            shutil.copyfile(self.index, dest)
        except FileNotFoundError:
            pass

    def replace_with(self, new_index: Path) -> None:
        assert self._fd is not None
        data = new_index.read_bytes()
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = None
        try:
            os.replace(self.lock, self.index)
        except BaseException:
            # Never leave our lock behind: git would refuse to run until someone deleted it.
            try:
                os.unlink(self.lock)
            except FileNotFoundError:
                pass
            raise

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            try:
                os.unlink(self.lock)
            except FileNotFoundError:
                pass


def uncommitted(paths: list[Path]) -> dict[Path, str]:
    """For each path git could not give back as it is now, why: edits not committed,
    untracked, or ignored. Paths outside any repository are not listed (there is nothing to
    compare with). One `git status` per repository (in chunks), not one per file.

    The one answer to "does this file hold uncommitted work?" for every writer."""
    import git  # lazy: ~150 ms to import (-X importtime); `session start` reaches gitops without a repository

    by_repo: dict[str, tuple["git.Repo", list[Path]]] = {}
    out: dict[Path, str] = {}
    for p in paths:
        try:
            repo = git.Repo(Path(p).parent, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            continue
        if repo.bare or repo.working_tree_dir is None:
            continue
        top = os.path.realpath(repo.working_tree_dir)
        by_repo.setdefault(top, (repo, []))[1].append(p)
    for top, (repo, ps) in by_repo.items():
        rel = {os.path.relpath(os.path.realpath(p), top).replace(os.sep, "/"): p for p in ps}
        names = list(rel)
        codes: dict[str, str] = {}
        for k in range(0, len(names), 200):
            chunk = names[k : k + 200]
            try:
                raw = repo.git.status("--porcelain=v1", "-z", "--untracked-files=all", "--ignored=matching", "--", *chunk)
            except git.GitCommandError as exc:
                for n in chunk:
                    out[rel[n]] = f"git cannot tell whether it has uncommitted edits ({_git_text(exc)})"
                continue
            fields = raw.split("\0")
            i = 0
            while i < len(fields):
                entry = fields[i]
                i += 1
                if len(entry) < 4:
                    continue
                code, name = entry[:2], entry[3:]
                codes[name] = code
                if code[0] in "RC":
                    i += 1  # the rename's source follows
        # A wholly untracked or ignored folder is listed once, as `dir/`: it covers its files.
        folders = [(n, c) for n, c in codes.items() if n.endswith("/")]
        for n in names:
            if n not in codes:
                for d, c in folders:
                    if n.startswith(d):
                        codes[n] = c
                        break
        for name, code in codes.items():
            p = rel.get(name)
            if p is None:
                continue
            if code == "??":
                out[p] = "it is not committed to git (untracked)"
            elif code == "!!":
                out[p] = "git ignores it, so there is no committed copy to go back to"
            else:
                out[p] = "it has uncommitted edits"
    return out


def uncommitted_reason(path: Path) -> str | None:
    """Why git could not give `path` back if authorkit replaced it; None when it could (or
    the file is in no git repository)."""
    return uncommitted([Path(path)]).get(Path(path))


def has_uncommitted(path: Path) -> bool:
    return uncommitted_reason(path) is not None


def remote_branches_containing(repo: "git.Repo", sha: str) -> list[str]:
    out = repo.git.branch("-r", "--contains", sha)
    return [ln.strip() for ln in out.splitlines() if ln.strip() and "->" not in ln]


# --- planning a commit -----------------------------------------------------------------




@dataclass
class CommitPlan:
    repo_root: Path
    session_id: str
    files: list[FileChange]
    message: str
    other_staged: list[str] = field(default_factory=list)
    head: str | None = None  # HEAD when planned ("" unborn): the commit refuses if it has moved since

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]

    @property
    def repo_paths(self) -> list[str]:
        return [f.repo_path for f in self.files]

    def diffstat(self) -> str:
        width = max(len(f.repo_path) for f in self.files)
        nwidth = max(len(str(f.added + f.removed)) for f in self.files)
        rows = []
        for f in self.files:
            n = f.added + f.removed
            bar = "+" * min(f.added, 40 * f.added // max(n, 1)) + "-" * min(f.removed, 40 * f.removed // max(n, 1))
            rows.append(f" {f.repo_path.ljust(width)} | {n:>{nwidth}} {bar}")
        ins = sum(f.added for f in self.files)
        dels = sum(f.removed for f in self.files)
        k = len(self.files)
        rows.append(f" {k} file{'s' if k != 1 else ''} changed, {ins} insertion{'s' if ins != 1 else ''}(+), {dels} deletion{'s' if dels != 1 else ''}(-)")
        return "\n".join(rows)


























def plan_commit(
    ws: Workspace,
    session: Session,
    paths: list[Path] | None = None,
    *,
    subject: str | None = None,
    check: bool = True,
    models: list[str] | None = None,
) -> CommitPlan:
    """Validate everything and build the message; changes nothing.

    `paths` (absolute) limits or replaces the session's written files; without it, every file
    the session wrote that differs from HEAD is committed. `check=False` leaves the check line
    out (for files that are not documents, like a session summary); `models` overrides the
    models credited (default: every model this session called).
    """
    repo = open_repo(ws)
    ensure_idle(repo)
    ensure_unlocked(repo)
    events = session.events()
    writes: dict[str, WriteSummary] = _writes_since_commit(events)

    if paths:
        wanted = [ws.rel(p) for p in paths]
        for rel, p in zip(wanted, paths):
            if not p.exists() and rel not in writes and head_blob(repo, repo_path(repo, p)) is None:
                raise GitError(f"{p}: no such file, and not in the last commit", hint="give paths of files to commit")
    else:
        # A failed draft kept for inspection is not committed unless named explicitly.
        wanted = [p for p, w in writes.items() if w.action != "failed-draft"]
        if not wanted and summarize_writes(events):
            raise GitError(f"nothing to commit: everything session {session.id} wrote is committed", hint="`git log -1` shows the last commit")
        if not wanted:
            raise GitError(
                f"session {session.id} has written no files",
                hint="give the paths to commit (`authorkit commit FILE…`), or draft/convert something first",
            )

    files: list[FileChange] = []
    changed_since: list[str] = []
    started_dirty: list[str] = []
    chains: dict[str, list[dict[str, Any]]] = {}
    for e in _recent_events(events):
        if e.get("event") == "write" and e.get("path"):
            chains.setdefault(str(e["path"]), []).append(e)
    for rel in wanted:
        abs_path = ws.path(rel)
        rp = repo_path(repo, abs_path)
        old = head_blob(repo, rp)
        cur = abs_path.read_bytes() if abs_path.is_file() else None
        w = writes.get(rel)
        if w is not None and w.sha_after is not None and file_sha256(abs_path) != w.sha_after:
            if not paths:
                changed_since.append(rel)
                continue
            w = None  # named explicitly: committed as it is now, described from git
        if w is not None and not paths and _carries_unrecorded_edits(chains.get(rel, []), old):
            # authorkit rewrote a version holding the user's uncommitted edits: the file
            # carries them, and committing it would publish work the user never staged.
            started_dirty.append(rel)
            continue
        if cur == old:
            continue  # already committed as it is
        if w is not None:
            # "Before" is what the commit replaces: HEAD's version (usually the session's
            # starting point; an intermediate one if this session committed the file already).
            before_lines = len(_split_lines(old)) if old is not None else 0
            fc = FileChange(rel, rp, w.title, w.action, before_lines, w.lines_after, w.errors, w.style)
        else:
            errors, style = _check_errors(ws, abs_path) if cur is not None and check else (None, "")
            fc = FileChange(rel, rp, _title_of(abs_path), "updated" if old is not None else "added",
                            len(_split_lines(old)), len(_split_lines(cur)), errors, style)
        fc.new = old is None
        fc.deleted = cur is None
        fc.added, fc.removed = _line_stat(_split_lines(old), _split_lines(cur))
        files.append(fc)

    if changed_since:
        raise GitError(
            "changed by someone else since authorkit wrote them: " + ", ".join(changed_since),
            hint="review those edits; commit them yourself, or give the paths explicitly (`authorkit commit FILE…`) to commit them as they are now",
        )
    if started_dirty:
        raise GitError(
            "authorkit rewrote these files over uncommitted edits of yours, so committing them would commit those edits too: "
            + ", ".join(started_dirty),
            hint="review them with `git diff`; commit them yourself, or name them (`authorkit commit FILE…`) to commit them as they are now. authorkit changed nothing",
        )
    if not files:
        raise GitError("nothing to commit: the files are unchanged from HEAD", hint="`git log -1` shows the last commit")

    _refuse_ignored(repo, [f.repo_path for f in files if f.new])
    _refuse_partial_staging(repo, [f.repo_path for f in files])
    other_staged = _staged_paths(repo, exclude={f.repo_path for f in files})
    models = models_used(events) if models is None else models
    message = compose_message(ws, files, session_id=session.id, objective=session.objective,
                              subject=subject, check=check, models=models)
    head = head_commit(repo)
    return CommitPlan(repo_root(repo), session.id, files, message, other_staged, head.hexsha if head is not None else "")


def _carries_unrecorded_edits(chain: list[dict[str, Any]], old: bytes | None) -> bool:
    """Does the file hold edits authorkit did not make on top of what HEAD has?

    `chain` is this session's write events for the path since it last committed it. From the
    last version HEAD is known to hold (where a write started, or what one wrote), every write
    must start from what the one before it wrote. A writer that did not hash the previous text
    cannot be checked and is trusted."""
    if old is None:
        head_hashes: set[str | None] = {None}
    else:
        # Writers hash the bytes they read or the text they decoded (a BOM or cp1252 differ).
        head_hashes = {sha256_bytes(old)}
        text = decode_document(old).text
        if text is not None:
            head_hashes.add(sha256_text(text))

    def before(ev: dict[str, Any]) -> tuple[bool, str | None]:
        """(known, hash) of the text a write replaced; (True, None) for a new file."""
        sb = ev.get("sha_before")
        if sb:
            return True, str(sb)
        return (True, None) if not ev.get("lines_before") else (False, None)

    start = None  # the last write known to start from, or to have written, HEAD's version
    for i, ev in enumerate(chain):
        known, sb = before(ev)
        if (known and sb in head_hashes) or (old is not None and ev.get("sha_after") in head_hashes):
            start = i
    if start is None:
        known, _ = before(chain[0]) if chain else (False, None)
        return known
    for prev, ev in zip(chain[start:], chain[start + 1 :]):
        known, sb = before(ev)
        if known and prev.get("sha_after") and sb != prev.get("sha_after"):
            return True
    return False


def _recent_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events without the writes made before this session last committed their path
    (undone commits excepted)."""
    undone = {e.get("sha") for e in events if e.get("event") == "undo"}
    last: dict[str, int] = {}
    for i, e in enumerate(events):
        if e.get("event") == "commit" and e.get("sha") not in undone:
            for p in e.get("paths") or []:
                last[str(p)] = i
    return [e for i, e in enumerate(events) if e.get("event") != "write" or i > last.get(str(e.get("path")), -1)]


def _writes_since_commit(events: list[dict[str, Any]]) -> dict[str, WriteSummary]:
    """Per path, the writes after this session last committed it (undone commits excepted),
    so a second commit says what it changes ("fixed"), not what the first one did."""
    return summarize_writes(_recent_events(events))






def _staged_paths(repo: "git.Repo", exclude: set[str]) -> list[str]:
    if head_commit(repo) is None:
        names = [e[0] for e in repo.index.entries]
    else:
        names = repo.git.diff("--cached", "--name-only", "-z").split("\0")
    return sorted(n for n in set(names) if n and n not in exclude)


def _refuse_ignored(repo: "git.Repo", paths: list[str]) -> None:
    import git  # lazy: ~150 ms to import (-X importtime); `session start` reaches gitops without a repository

    if not paths:
        return
    try:
        out = repo.git.check_ignore("--", *paths)
    except git.GitCommandError:
        return  # exit status 1: none is ignored
    ignored = [p for p in out.splitlines() if p.strip()]
    if ignored:
        raise GitError(
            "ignored by .gitignore: " + ", ".join(ignored),
            hint="un-ignore them (to keep session records out of git, ignore `sessions/*.jsonl`, `sessions/current` and `sessions/.lock` rather than `sessions/`), or `git add -f` them yourself",
        )


def _refuse_partial_staging(repo: "git.Repo", paths: list[str]) -> None:
    """A path of ours whose staged version differs both from HEAD and from the file on disk
    holds staged work of the user's that our commit would silently replace."""
    if head_commit(repo) is None:
        return
    staged = set(repo.git.diff("--cached", "--name-only", "-z", "--", *paths).split("\0")) - {""}
    if not staged:
        return
    unstaged = set(repo.git.diff("--name-only", "-z", "--", *paths).split("\0")) - {""}
    both = sorted(staged & unstaged)
    if both:
        raise GitError(
            "staged changes that differ from the file on disk: " + ", ".join(both),
            hint="`git add` them to stage the current file, or `git restore --staged` them; authorkit changed nothing",
        )


# --- making the commit -------------------------------------------------------------------


@dataclass
class CommitResult:
    sha: str
    plan: CommitPlan
    hook_output: str = ""


def execute_commit(ws: Workspace, session: Session, plan: CommitPlan) -> CommitResult:
    """Commit `plan` through a temporary index; hooks run; nothing is amended or reset.

    Either the commit holds exactly the plan's paths, the real index has only those entries
    changed and the session records it; or HEAD, the real index, the files and the record are
    as they were, and a GitError says why."""
    import git  # lazy: ~150 ms to import (-X importtime); `session start` reaches gitops without a repository

    repo = open_repo(ws)
    ensure_idle(repo)
    ours = set(plan.repo_paths)
    with IndexLock(repo) as lock:
        before_head = head_commit(repo)
        before_sha = before_head.hexsha if before_head is not None else None
        if plan.head is not None and (before_sha or "") != plan.head:
            raise GitError(f"HEAD moved since the commit was planned (now {before_sha[:7] if before_sha else 'unborn'})",
                           hint="run `authorkit commit` again; authorkit changed nothing")
        tmpdir = lock.scratch("commit")
        try:
            stage = {"GIT_INDEX_FILE": str(tmpdir / "commit-index")}
            msg_file = tmpdir / "message.txt"
            msg_file.write_text(plan.message, encoding="utf-8")
            try:
                repo.git.read_tree("HEAD" if before_head is not None else "--empty", env=stage)
                repo.git.add("-A", "--", *plan.repo_paths, env=stage)
                staged_tree = repo.git.write_tree(env=stage).strip()
            except git.GitCommandError as exc:
                raise GitError(f"could not stage {', '.join(plan.repo_paths)}: {_git_text(exc)}",
                               hint="is a path ignored by .gitignore? authorkit changed nothing") from None
            try:
                out = repo.git.commit("-F", str(msg_file), "--cleanup=whitespace", env=stage, with_extended_output=True)
            except git.GitCommandError as exc:
                raise GitError(
                    "git commit failed; nothing was committed, the files and your index are as they were\n" + _indent(_git_text(exc)),
                    hint="fix what the hook reports (or the git identity: `git config user.name`/`user.email`), then run `authorkit commit` again",
                ) from None
            except BaseException:
                # Interrupted (Ctrl-C) while git ran: if the commit was made, it is taken back.
                _rewind_if_made(repo, before_sha, staged_tree, plan.subject)
                raise
            # git sends hook output to stderr; its own summary goes to stdout.
            hook_output = str(out[2]).strip() if isinstance(out, tuple) else ""
            new_sha = repo.git.rev_parse("HEAD").strip()
            # Undoing means going back to the commit's own parent: never past someone else's.
            parents = repo.git.rev_list("--parents", "-n", "1", new_sha).split()[1:]
            parent = parents[0] if parents else None
            recorded = False
            try:
                extra = _foreign_paths(repo, parent, new_sha, staged_tree, ours)
                if parent != before_sha:
                    extra.append("(another commit made meanwhile)")
                if extra:
                    raise GitError(
                        "a git hook changed the commit beyond the files authorkit wrote (" + ", ".join(extra[:10])
                        + (f", … {len(extra) - 10} more" if len(extra) > 10 else "") + "); the commit was undone, "
                        "your index and files are as they were",
                        hint="make the pre-commit hook leave the staged files alone (no `git add -A`), or commit these files yourself",
                    )
                # The real index: our paths now match the new commit; every other entry stays.
                new_index = tmpdir / "index"
                lock.snapshot(new_index)
                try:
                    repo.git.reset("-q", new_sha, "--", *plan.repo_paths, env={"GIT_INDEX_FILE": str(new_index)})
                except git.GitCommandError as exc:
                    raise GitError(f"could not update the index: {_git_text(exc)}; the commit was undone",
                                   hint="run `git status`, then `authorkit commit` again") from None
                session.append("commit", sha=new_sha, paths=[f.path for f in plan.files], message_subject=plan.subject)
                recorded = True
                lock.replace_with(new_index)
            except BaseException as exc:
                _rewind(repo, new_sha, parent, f"authorkit: commit undone ({plan.subject})")
                if recorded:
                    _record_undo(session, new_sha, parent)
                if isinstance(exc, OSError):
                    raise GitError(f"could not finish the commit: {exc}; the commit was undone, your index is as it was",
                                   hint="check the free space and permissions of the repository and of the sessions folder, then run `authorkit commit` again") from None
                raise
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
    return CommitResult(new_sha, plan, hook_output)


def _foreign_paths(repo: "git.Repo", parent: str | None, new_sha: str, staged_tree: str, ours: set[str]) -> list[str]:
    """Paths the new commit changes that are not ours, or that differ from what was staged
    outside our paths: what a hook added (`git add -A` in pre-commit)."""
    changed = set(repo.git.diff_tree("-r", "--name-only", "-z", "--no-renames", parent or _EMPTY_TREE, new_sha).split("\0"))
    changed |= set(repo.git.diff_tree("-r", "--name-only", "-z", "--no-renames", staged_tree, new_sha).split("\0"))
    return sorted(p for p in changed if p and p not in ours)


_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def _rewind(repo: "git.Repo", new_sha: str, before_sha: str | None, reason: str) -> None:
    """Move HEAD from `new_sha` back to `before_sha` only if it still points at `new_sha`."""
    import git  # lazy: ~150 ms to import (-X importtime); `session start` reaches gitops without a repository

    try:
        if before_sha is None:
            repo.git.update_ref("-d", "HEAD", new_sha)
        else:
            repo.git.update_ref("-m", reason, "HEAD", before_sha, new_sha)
    except git.GitCommandError as exc:
        raise GitError(f"could not undo the commit {new_sha[:7]}: {_git_text(exc)}",
                       hint=f"HEAD moved meanwhile; `git log -3` shows where it is ({new_sha[:7]} is the commit to drop)") from None


def _rewind_if_made(repo: "git.Repo", before_sha: str | None, staged_tree: str, subject: str) -> None:
    """After an interrupted `git commit`: HEAD is a new commit on `before_sha` with our tree
    only if git finished; then it is removed. Anything else is left alone."""
    try:
        now = repo.git.rev_parse("--verify", "-q", "HEAD").strip()
    except Exception:  # noqa: BLE001 - unborn, or git itself interrupted: nothing was made
        return
    if not now or now == before_sha:
        return
    try:
        info = repo.git.rev_list("--parents", "-n", "1", now).split()
        tree = repo.git.rev_parse(f"{now}^{{tree}}").strip()
    except Exception:  # noqa: BLE001
        return
    if info[1:] == ([before_sha] if before_sha else []) and tree == staged_tree:
        _rewind(repo, now, before_sha, f"authorkit: interrupted commit undone ({subject})")


def _record_undo(session: Session, sha: str, head: str | None) -> None:
    try:
        session.append("undo", sha=sha, head=head)
    except OSError:
        pass  # the record of the commit stays; `session show` reports it as not in history


def _git_text(exc: Exception) -> str:
    parts = []
    for attr in ("stdout", "stderr"):
        v = getattr(exc, attr, "") or ""
        v = re.sub(r"^\s*(stdout|stderr): '", "", str(v)).rstrip("'").strip()
        if v:
            parts.append(v)
    return "\n".join(parts) or str(exc)


def _indent(text: str) -> str:
    return "\n".join("  | " + ln for ln in text.splitlines())


def commit_paths(ws: Workspace, session: Session, paths: list[Path] | None = None, *, subject: str | None = None) -> CommitResult:
    return execute_commit(ws, session, plan_commit(ws, session, paths, subject=subject))


# --- undo ------------------------------------------------------------------------------


@dataclass
class UndoPlan:
    sha: str
    parent: str
    subject: str
    paths: list[str]  # repo-relative


def last_commit_event(session: Session) -> dict[str, Any] | None:
    undone = set()
    commits = []
    for ev in session.events():
        if ev.get("event") == "commit" and ev.get("sha"):
            commits.append(ev)
        elif ev.get("event") == "undo" and ev.get("sha"):
            undone.add(ev["sha"])
    live = [c for c in commits if c["sha"] not in undone]
    return live[-1] if live else None


def plan_undo(ws: Workspace, session: Session) -> UndoPlan:
    """Check every condition for a safe undo; raise GitError saying which one fails."""
    ev = last_commit_event(session)
    if ev is None:
        raise GitError(f"session {session.id} has no commit to undo", hint="`authorkit session show` lists what this session did")
    sha = str(ev["sha"])
    repo = open_repo(ws)
    ensure_idle(repo)
    ensure_unlocked(repo)
    head = head_commit(repo)
    short = sha[:7]
    if head is None or head.hexsha != sha:
        now = f"{head.hexsha[:7]} ({head.summary})" if head is not None else "unborn"
        raise GitError(
            f"the authorkit commit {short} is no longer HEAD (HEAD is {now})",
            hint=f"undo only rewinds its own latest commit; use `git revert {short}` to reverse it with a new commit",
        )
    if len(head.parents) != 1:
        raise GitError(f"{short} is the repository's first commit" if not head.parents else f"{short} is a merge commit",
                       hint="authorkit will not rewrite it; use git directly")
    pushed = remote_branches_containing(repo, sha)
    if pushed:
        raise GitError(
            f"{short} is already pushed ({', '.join(pushed)})",
            hint=f"rewriting published history would break other clones; use `git revert {short}`",
        )
    parent = head.parents[0].hexsha
    paths = [p for p in repo.git.diff("--name-only", "-z", parent, sha).split("\0") if p]
    changed = set(repo.git.diff("--name-only", "-z", sha, "--", *paths).split("\0"))
    changed |= set(repo.git.diff("--cached", "--name-only", "-z", sha, "--", *paths).split("\0"))
    changed.discard("")
    if changed:
        raise GitError(
            f"files of {short} changed since it was made: {', '.join(sorted(changed))}",
            hint="commit or discard those edits first; authorkit changed nothing",
        )
    return UndoPlan(sha, parent, head.summary, paths)  # type: ignore[arg-type]


def execute_undo(ws: Workspace, session: Session, plan: UndoPlan) -> None:
    """Move HEAD back to the parent (compare-and-swap) and unstage our paths; files stay.

    The real index is locked first, so a lock held by another git refuses before HEAD moves;
    if the index cannot be rewritten, HEAD is put back."""
    import git  # lazy: ~150 ms to import (-X importtime); `session start` reaches gitops without a repository

    repo = open_repo(ws)
    with IndexLock(repo) as lock:
        tmpdir = lock.scratch("undo")
        try:
            new_index = tmpdir / "index"
            lock.snapshot(new_index)
            try:
                repo.git.reset("-q", plan.parent, "--", *plan.paths, env={"GIT_INDEX_FILE": str(new_index)})
            except git.GitCommandError as exc:
                raise GitError(f"could not prepare the index: {_git_text(exc)}", hint="run `git status`; authorkit changed nothing") from None
            try:
                repo.git.update_ref("-m", f"authorkit undo: {plan.subject}", "HEAD", plan.parent, plan.sha)
            except git.GitCommandError as exc:
                raise GitError(f"HEAD moved while undoing: {_git_text(exc)}", hint="run `git log -1` and try again") from None
            try:
                lock.replace_with(new_index)
            except OSError as exc:
                _rewind(repo, plan.parent, plan.sha, "authorkit: undo reverted")
                raise GitError(f"could not update the index: {exc}; nothing was undone", hint="check the repository's free space and permissions") from None
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
    _record_undo(session, plan.sha, plan.parent)


def undo_last(ws: Workspace, session: Session) -> UndoPlan:
    plan = plan_undo(ws, session)
    execute_undo(ws, session, plan)
    return plan


def commit_info(ws: Workspace, shas: list[str]) -> dict[str, dict[str, Any]]:
    """What git still knows about commits: subject and whether HEAD contains them."""
    out: dict[str, dict[str, Any]] = {}
    try:
        repo = open_repo(ws)
    except GitError:
        return out
    head = head_commit(repo)
    for sha in shas:
        try:
            c = repo.commit(sha)
        except Exception:  # noqa: BLE001 - unknown or garbage-collected commit
            out[sha] = {"exists": False, "in_history": False}
            continue
        in_hist = False
        if head is not None:
            try:
                in_hist = repo.is_ancestor(c, head)
            except Exception:  # noqa: BLE001
                in_hist = False
        out[sha] = {"exists": True, "in_history": in_hist, "subject": c.summary}
    return out


__all__ = [
    "CommitPlan",
    "CommitResult",
    "FileChange",
    "UndoPlan",
    "commit_info",
    "commit_paths",
    "execute_commit",
    "execute_undo",
    "has_uncommitted",
    "open_repo",
    "plan_commit",
    "plan_undo",
    "render_template",
    "uncommitted",
    "uncommitted_reason",
    "undo_last",
]
