"""`authorkit session …`, `commit`, `undo`, `summarize-session` and `review`."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer

from authorkit.cli import app
from authorkit.cli.common import ConfigOption, workspace

if TYPE_CHECKING:
    from authorkit.config import Workspace
    from authorkit.session import Session

session_app = typer.Typer(
    help="Start, end or show the session record (what authorkit did, read, wrote, spent, committed).",
    no_args_is_help=True,
)
app.add_typer(session_app, name="session")

SessionOption = typer.Option(None, "--session", help="Session id (or a unique prefix); default: the open session, else the latest.")


def _session(ws: "Workspace", session_id: Optional[str], *, required: bool = True) -> "Session | None":
    from authorkit.errors import UsageError
    from authorkit.session import Session

    if session_id:
        s = Session.find(ws, session_id)
        if s is None:
            raise UsageError(f"no session {session_id!r} in {ws.sessions_dir}", hint="`authorkit session show` names the current one; ids are the .jsonl names in sessions/")
        return s
    s = Session.latest(ws)
    if s is None and required:
        raise UsageError(f"no session recorded in {ws.sessions_dir}", hint='start one with `authorkit session start "objective"`, or give the paths to commit')
    return s


# --- session -----------------------------------------------------------------------------


@session_app.command("start")
def session_start(
    objective: str = typer.Argument(..., help="What this session sets out to do; the summary opens with it."),
    config: Optional[Path] = ConfigOption,
) -> None:
    """Start a new session (ending the open one, if any)."""
    from authorkit.session import Session
    from authorkit.summary import plan_snapshot

    ws = workspace(config)
    prev = Session.current(ws, create=False)
    if prev is not None:
        prev.end()
        print(f"ended session {prev.id} (`authorkit summarize-session --session {prev.id}` still summarizes it)")
    s = Session.start(ws, objective)
    snap = plan_snapshot(ws)
    if snap is not None:
        s.append("plan_snapshot", **snap)
    print(f"started session {s.id}: {objective}")
    print(f"record: {ws.rel(s.path)}")


@session_app.command("end")
def session_end(config: Optional[Path] = ConfigOption) -> None:
    """End the open session without writing a summary."""
    from authorkit.session import Session

    ws = workspace(config)
    s = Session.current(ws, create=False)
    if s is None:
        print("no open session")
        return
    s.end()
    print(f"ended session {s.id}")


class ShowFormat(str, Enum):
    text = "text"
    json = "json"


@session_app.command("show")
def session_show(
    session_id: Optional[str] = SessionOption,
    fmt: ShowFormat = typer.Option(ShowFormat.text, "--format", "-f", help="text, or json (the raw events)."),
    config: Optional[Path] = ConfigOption,
) -> None:
    """Show what a session did: files written, checks, model cost, commits."""
    ws = workspace(config)
    s = _session(ws, session_id)
    assert s is not None
    events = s.events()
    if fmt is ShowFormat.json:
        print(json.dumps(events, ensure_ascii=False, indent=2))
        return
    from authorkit.summary import build_context

    ctx = build_context(ws, s)
    print(f"session {s.id} ({'open' if s.is_open else 'ended'}), {len(events)} events")
    print(f"objective: {ctx['objective'] or '(not stated)'}")
    print(f"started:   {ctx['started']}" + (f"   ended: {ctx['ended']}" if ctx["ended"] else ""))
    if ctx["items"]:
        print("written:")
        for i in ctx["items"]:
            commit = f" [{i['commit']}]" if i["commit"] else ""
            print(f"  {i['status']} {i['path']}  {i['action']}, {i['lines']} lines{commit}")
    t = ctx["total"]
    if t["calls"]:
        print(f"model: {t['calls']} calls, {t['input_tokens']:,} in / {t['cache_write_tokens']:,} cache write / "
              f"{t['cache_read_tokens']:,} cache read / {t['output_tokens']:,} out, {t['cost']}")
    for c in ctx["commits"]:
        state = "" if c["state"] in ("in history", "recorded") else f" ({c['state']})"
        print(f"commit {c['short']} {c['subject']}{state}")


# --- commit / undo -----------------------------------------------------------------------


@app.command()
def commit(
    paths: Optional[List[Path]] = typer.Argument(None, help="Files to commit (default: every file this session wrote)."),
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Print the paths, the diff stat and the full message; change nothing."),
    subject: Optional[str] = typer.Option(None, "--subject", "-m", help="Subject line instead of the generated one (kept under 72 characters)."),
    session_id: Optional[str] = SessionOption,
    config: Optional[Path] = ConfigOption,
) -> None:
    """Commit exactly the files this session wrote, with a message listing each and trailers.

    Only these paths are committed; anything else you staged stays staged. Hooks run. The
    repository's user stays author and committer; the model is credited in Co-Authored-By.
    """
    from authorkit import gitops
    from authorkit.session import Session

    ws = workspace(config)
    abs_paths = [p.resolve() for p in paths] if paths else None
    s = _session(ws, session_id, required=not abs_paths)
    if s is None:
        s = Session.current(ws, create=True)
        assert s is not None
    plan = gitops.plan_commit(ws, s, abs_paths, subject=subject)
    if dry_run:
        print(f"would commit {len(plan.files)} file{'s' if len(plan.files) != 1 else ''} (session {s.id}):")
        print(plan.diffstat())
        if plan.other_staged:
            print(f"left staged, not in this commit: {', '.join(plan.other_staged)}")
        print("\nmessage:\n" + "\n".join("    " + ln if ln else "" for ln in plan.message.rstrip("\n").split("\n")))
        return
    result = gitops.execute_commit(ws, s, plan)
    if result.hook_output:
        print(result.hook_output, file=sys.stderr)
    print(f"committed {result.sha[:7]}: {plan.subject}")
    print(plan.diffstat())
    if plan.other_staged:
        print(f"left staged, not in this commit: {', '.join(plan.other_staged)}")


@app.command()
def undo(
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Say whether the last commit can be undone; change nothing."),
    session_id: Optional[str] = SessionOption,
    config: Optional[Path] = ConfigOption,
) -> None:
    """Undo this session's last commit: only while it is HEAD, not pushed, and its files are
    unchanged. The commit is removed; the files keep their content, uncommitted."""
    from authorkit import gitops

    ws = workspace(config)
    s = _session(ws, session_id)
    assert s is not None
    plan = gitops.plan_undo(ws, s)
    if dry_run:
        print(f"would undo {plan.sha[:7]}: {plan.subject}")
        print(f"HEAD would be {plan.parent[:7]}; these files keep their content, uncommitted: {', '.join(plan.paths)}")
        return
    gitops.execute_undo(ws, s, plan)
    print(f"undid {plan.sha[:7]}: {plan.subject}")
    print(f"HEAD is now {plan.parent[:7]}; these files keep their content, uncommitted: {', '.join(plan.paths)}")


# --- summary -----------------------------------------------------------------------------


@app.command("summarize-session")
def summarize_session(
    session_id: Optional[str] = SessionOption,
    narrative: bool = typer.Option(False, "--narrative", help="Add a short model-written overview (one model call)."),
    provider: str = typer.Option("anthropic", "--provider", "-p", help="Provider for --narrative."),
    model: Optional[str] = typer.Option(None, "--model", help="Model for --narrative (default: from authorkit.toml)."),
    commit_: bool = typer.Option(False, "--commit", help="Commit the summary file (same rules as `authorkit commit`)."),
    stdout: bool = typer.Option(False, "--stdout", help="Print the summary instead of writing it; the session stays open."),
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Same as --stdout: print the summary, write nothing, keep the session open."),
    keep_open: bool = typer.Option(False, "--keep-open", help="Write the summary but keep the session open."),
    config: Optional[Path] = ConfigOption,
) -> None:
    """Write sessions/<date>_<slug>.md from the session record and git, and end the session."""
    from authorkit.summary import summarize

    from authorkit.errors import UsageError

    if dry_run and commit_:
        raise UsageError("--dry-run and --commit cannot be combined", hint="drop --commit to see the summary, or --dry-run to write and commit it")
    stdout = stdout or dry_run
    ws = workspace(config)
    s = _session(ws, session_id)
    assert s is not None
    narrate = _narrator(ws, s, provider, model) if narrative else None
    result = summarize(ws, s, narrate=narrate, write=not stdout, end_session=not (stdout or keep_open), snapshot=True)
    if result.narrative_rejected:
        print("authorkit: the model's overview was left out: it names " + ", ".join(result.narrative_rejected[:5])
              + ", which the session record does not hold", file=sys.stderr)
    if stdout:
        sys.stdout.write(result.text)
        return
    print(f"wrote {ws.shown(result.path)} ({len(result.text.splitlines())} lines)")
    if commit_:
        from authorkit import gitops

        models = gitops.models_used(e for e in s.events() if e.get("document") == NARRATIVE_DOCUMENT)
        plan = gitops.plan_commit(ws, s, [result.path], subject=f"Add session summary: {result.context['title']}", check=False, models=models)
        res = gitops.execute_commit(ws, s, plan)
        if res.hook_output:
            print(res.hook_output, file=sys.stderr)
        print(f"committed {res.sha[:7]}: {plan.subject}")


NARRATIVE_DOCUMENT = "(session summary)"


def _narrator(ws: "Workspace", session: "Session", provider_name: str, model: Optional[str]):
    """A prompt -> text callable over the provider layer; the call is recorded and priced
    like every other (costs.CallRecorder), failed attempts included."""
    from authorkit.costs import CallRecorder
    from authorkit.providers import Block, Hooks, Request, get_provider, require_credentials

    require_credentials(provider_name, offline="`summarize-session` without --narrative")
    prov = get_provider(provider_name, ws, model)
    recorder = CallRecorder(ws, prov, append=session.append)

    def narrate(prompt: str) -> str:
        req = Request(
            system=[Block("You write brief, factual overviews of documentation work sessions.")],
            user=[Block(prompt)],
            max_tokens=600,
            temperature=0.2,
            label="session-narrative",
            document=NARRATIVE_DOCUMENT,
        )
        return prov.run(req, Hooks(on_attempt=recorder.on_attempt)).text

    return narrate


# --- review ------------------------------------------------------------------------------


class ReviewFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"


@app.command()
def review(
    files: List[Path] = typer.Argument(..., help="FILE (compared with --base, default HEAD), or OLD NEW."),
    base: Optional[str] = typer.Option(None, "--base", help="Git revision holding the old version of FILE (default: HEAD)."),
    fmt: ReviewFormat = typer.Option(ReviewFormat.text, "--format", "-f", help="text, markdown (for a pull-request comment) or json."),
    unified: bool = typer.Option(False, "--unified", "-u", help="Append the plain unified diff."),
    style: Optional[str] = typer.Option(None, "--style", "-s", help="Style of the new version (default: from authorkit.toml, else detected)."),
    old_style: Optional[str] = typer.Option(None, "--old-style", help="Style of the old version (default: detected)."),
    config: Optional[Path] = ConfigOption,
) -> None:
    """Structural diff of a rewrite: sections, code blocks, numbers and companies, checks."""
    from authorkit.errors import UsageError
    from authorkit.review import render_markdown, render_text, review_texts
    from authorkit.styleguide import get_guide, workspace_guides

    ws = workspace(config)
    if len(files) > 2:
        raise UsageError("give FILE, or OLD NEW", hint="e.g. `authorkit review page.md --base main` or `authorkit review old.md new.md`")
    if len(files) == 2 and base:
        raise UsageError("--base applies to a single FILE", hint="with OLD NEW, both versions are files already")
    if len(files) == 2:
        old_text, old_label = _read(files[0]), str(files[0])
        new_text, new_label = _read(files[1]), str(files[1])
    else:
        new_text, new_label = _read(files[0]), str(files[0])
        old_text, rev = _from_git(ws, files[0], base or "HEAD")
        old_label = f"{rev}:{files[0]}"
    guides = workspace_guides(ws)  # the guides, overrides included, that `check` uses
    for name in (style, old_style):
        if name and name != "auto":
            get_guide(name, guides)
    if style is None:
        configured = ws.style_for(files[-1].resolve())
        style = configured if configured in guides else None
    r = review_texts(old_text, new_text, old_label=old_label, new_label=new_label, guides=guides, old_style=old_style, new_style=style,
                     code_checks=ws.config.check.code_checks)
    if fmt is ReviewFormat.markdown:
        sys.stdout.write(render_markdown(r, unified=unified))
    elif fmt is ReviewFormat.json:
        from authorkit.review import as_json

        print(json.dumps(as_json(r, unified=unified), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(render_text(r, unified=unified))


def _read(path: Path) -> str:
    from authorkit.errors import InputError
    from authorkit.textio import read_document

    if not path.exists():
        raise InputError("no such file", path=path, hint="give the path of a Markdown file")
    rr = read_document(path)
    if rr.text is None:
        raise InputError(f"cannot review: {rr.detail}", path=path, hint="review works on Markdown text files")
    return rr.text


def _from_git(ws: "Workspace", path: Path, rev: str) -> tuple[str, str]:
    import git

    from authorkit.errors import GitError, InputError
    from authorkit.gitops import open_repo, repo_path
    from authorkit.textio import decode_document

    repo = open_repo(ws)
    rp = repo_path(repo, path.resolve())
    try:
        commit = repo.commit(rev)
    except (git.BadName, ValueError):
        raise GitError(f"unknown revision {rev!r}", hint="give a commit, branch or tag (`git log --oneline` lists commits)") from None
    try:
        data = (commit.tree / rp).data_stream.read()
    except KeyError:
        raise InputError(f"not in {rev} ({commit.hexsha[:7]})", path=path, hint="a new file has no old version; compare two files with `authorkit review OLD NEW`") from None
    rr = decode_document(data)
    if rr.text is None:
        raise InputError(f"cannot review the {rev} version: {rr.detail}", path=path)
    return rr.text, rev

