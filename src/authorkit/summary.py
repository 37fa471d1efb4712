"""Session summaries: `sessions/<date>_<slug>.md` rendered from the session record and git.

The summary is a pure function of the record (plus what git still knows about the commits
it names): the same record renders the same text, byte for byte. Nothing here reads the
clock. The plan's progress comes from `plan_snapshot` events in the record; summarizing
appends a final snapshot first, so re-rendering later gives the same result.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from authorkit.commit_message import FileChange, default_subject, render_template
from authorkit.config import Workspace
from authorkit.gitops import commit_info, open_repo, repo_path
from authorkit.session import Session, WriteSummary, read_events, summarize_writes
from authorkit.textio import atomic_write_text

SUMMARY_TEMPLATE = "session_summary.md.j2"
STATUS_DONE, STATUS_PENDING, STATUS_FAILING = "✅", "⏳", "❌"

Narrator = Callable[[str], str]  # prompt -> overview text


@dataclass
class Cost:
    document: str
    calls: int = 0
    input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    unpriced: int = 0  # calls of a model without configured prices (cost_usd null)

    def add(self, ev: dict[str, Any]) -> None:
        self.calls += 1
        for k in ("input_tokens", "cache_write_tokens", "cache_read_tokens", "output_tokens"):
            setattr(self, k, getattr(self, k) + int(ev.get(k) or 0))
        if "cost_usd" in ev and ev["cost_usd"] is None:
            self.unpriced += 1
        self.cost_usd += float(ev.get("cost_usd") or 0.0)

    @property
    def cost(self) -> str:
        # An unpriced call is not free: say so rather than add $0.
        if self.unpriced and self.unpriced == self.calls:
            return "unpriced"
        return money(self.cost_usd) + (f" + {self.unpriced} unpriced" if self.unpriced else "")


@dataclass
class Item:
    n: int
    path: str
    title: str
    action: str
    style: str
    lines_before: int
    lines_after: int
    is_new: bool
    errors: int | None
    status: str
    status_word: str
    commit: str | None = None  # short sha of the commit that holds it
    cost: Cost | None = None
    key_changes: list[str] = field(default_factory=list)

    @property
    def lines(self) -> str:
        return f"new → {self.lines_after}" if self.is_new else f"{self.lines_before} → {self.lines_after}"


@dataclass
class CommitEntry:
    sha: str
    short: str
    subject: str
    paths: list[str]
    state: str  # "in history", "undone", "not in history", "unknown"


@dataclass
class PlanGroup:
    name: str
    total: int
    done_before: int | None
    done_after: int
    pending: list[dict[str, Any]] = field(default_factory=list)
    drafted_before: int | None = None  # pages that exist but do not pass yet
    drafted_after: int = 0

    @property
    def delta(self) -> str:
        if self.done_before is None:
            return "–"
        d = self.done_after - self.done_before
        return f"+{d}" if d > 0 else str(d)


def money(usd: float) -> str:
    return f"${usd:,.2f}" if usd >= 0.01 or usd == 0 else f"${usd:.4f}"


def slugify(text: str, max_len: int = 48) -> str:
    s = unicodedata.normalize("NFKD", text.replace("–", "-").replace("—", "-")).encode("ascii", "ignore").decode().lower()
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    if len(s) > max_len:
        s = s[:max_len].rsplit("-", 1)[0]
    return s or "session"


def _ts_date(ts: str | None) -> str:
    return (ts or "")[:10] or "undated"


# --- plan ------------------------------------------------------------------------------


def plan_snapshot(ws: Workspace) -> dict[str, Any] | None:
    """The plan's progress now, as a `plan_snapshot` event body, or None without a plan.

    This is the one place that talks to `authorkit.plan`; anything unexpected there means
    "no plan information" rather than a failed summary. An item is done when its page exists
    and passes its style (or exists and cannot be checked).
    """
    if not ws.config.plans.files:
        return None
    try:
        # lazy: ~90 ms to import (-X importtime) and only a workspace with plans needs it
        from authorkit import plan as plan_mod  # noqa: PLC0415

        statuses = plan_mod.plan_status(ws, plan_mod.load_plan(ws))
        groups: dict[str, dict[str, Any]] = {}
        for st in statuses:
            item = st.item
            name = item.group_path or "(no group)"
            g = groups.setdefault(name, {"name": name, "total": 0, "done": 0, "drafted": 0, "pending": [], "done_paths": [], "drafted_paths": []})
            g["total"] += 1
            if st.state in ("passes", "found"):
                g["done"] += 1
                if st.path:
                    g["done_paths"].append(st.path)
            else:
                if st.path:
                    g["drafted"] += 1  # the page exists (drafted or converted) but fails its check
                    g["drafted_paths"].append(st.path)
                g["pending"].append({
                    "number": item.number, "title": item.title or "", "kind": item.kind,
                    "state": st.state, "path": st.path, "errors": st.errors,
                })
    except Exception:  # noqa: BLE001 - plan module changed or the plan unreadable
        return None
    return {"groups": list(groups.values())} if groups else None


def _plan_groups(events: list[dict[str, Any]], items: list[Item]) -> tuple[list[PlanGroup], PlanGroup | None]:
    snaps = [e for e in events if e.get("event") == "plan_snapshot" and isinstance(e.get("groups"), list)]
    if not snaps:
        return [], None
    first, last = snaps[0], snaps[-1]
    before = {g.get("name"): g for g in first["groups"]} if len(snaps) > 1 else {}
    if not before:
        # No snapshot from the start (a session begun by its first command rather than
        # `session start`): the start is the end without the pages this session created.
        created = {i.path for i in items if i.is_new}
        for g in last["groups"]:
            if "done_paths" in g:
                before[g.get("name")] = {
                    "done": int(g.get("done") or 0) - len(created & set(g.get("done_paths") or [])),
                    "drafted": int(g.get("drafted") or 0) - len(created & set(g.get("drafted_paths") or [])),
                    "pending": [p for p in g.get("pending") or [] if p.get("path") not in created]
                    + [{"number": n} for n in _numbers_of_paths(items, created & set(g.get("done_paths") or []))],
                }
    groups = []
    for g in last["groups"]:
        b = before.get(g.get("name"))
        groups.append(PlanGroup(str(g.get("name")), int(g.get("total") or 0), int(b["done"]) if b else None, int(g.get("done") or 0),
                                list(g.get("pending") or []), int(b.get("drafted") or 0) if b else None, int(g.get("drafted") or 0)))
    # The current group: the one whose progress moved in this session, else the one holding
    # the numbers this session wrote, else the first with work left.
    touched = {n for it in items for n in _title_numbers(it.title)}
    current = next((g for g in groups if g.done_before is not None
                    and (g.done_after != g.done_before or g.drafted_after != g.drafted_before)), None)
    if current is None and touched:
        before_pending = {g.get("name"): {p.get("number") for p in g.get("pending") or []} for g in first["groups"]}
        current = next((g for g in groups if touched & before_pending.get(g.name, set())), None)
    if current is None:
        current = next((g for g in groups if g.pending), None)
    return groups, current


def _numbers_of_paths(items: list[Item], paths: set[str]) -> list[int]:
    return sorted(n for i in items if i.path in paths for n in _title_numbers(i.title))


def _title_numbers(title: str) -> set[int]:
    return {int(m) for m in re.findall(r"#\s?(\d+)", title)}


# --- context ---------------------------------------------------------------------------


def build_context(ws: Workspace, session: Session, *, use_git: bool = True, narrative: str = "",
                  extra_events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Everything the template shows, computed from the record (and git, for commits);
    `extra_events` are read as if recorded last (a dry run's plan snapshot)."""
    events = session.events() + list(extra_events or [])
    writes: dict[str, WriteSummary] = summarize_writes(events)
    start = next((e for e in events if e.get("event") == "session_start"), {})
    end = next((e for e in reversed(events) if e.get("event") == "session_end"), None)
    summary_paths = {str(e.get("path")) for e in events if e.get("event") == "summary"}

    costs: dict[str, Cost] = {}
    for e in events:
        if e.get("event") == "model_call":
            key = str(e.get("document") or "(no document)")
            costs.setdefault(key, Cost(key)).add(e)
    total = Cost("Total")
    for c in costs.values():
        for k in ("calls", "input_tokens", "cache_write_tokens", "cache_read_tokens", "output_tokens", "cost_usd", "unpriced"):
            setattr(total, k, getattr(total, k) + getattr(c, k))

    commits = _commits(ws, events, use_git)
    live_commit_of: dict[str, str] = {}
    for c in commits:
        if c.state not in ("undone", "not in history"):
            for p in c.paths:
                live_commit_of[p] = c.short

    items: list[Item] = []
    navigation: list[dict[str, Any]] = []
    for w in writes.values():
        if w.path in summary_paths:
            continue
        if w.action == "navigation":
            navigation.append({"path": w.path, "added": w.title.removeprefix("navigation: "),
                               "lines": f"{w.lines_before} → {w.lines_after}", "commit": live_commit_of.get(w.path)})
            continue
        failing = (w.errors or 0) > 0 or w.action == "failed-draft"
        word = "failed its check, kept for inspection" if w.action == "failed-draft" else ("failing check" if failing else "done")
        items.append(Item(
            n=len(items) + 1, path=w.path, title=w.title or Path(w.path).stem, action=w.action, style=w.style,
            lines_before=w.lines_before, lines_after=w.lines_after, is_new=w.is_new, errors=w.errors,
            status=STATUS_FAILING if failing else STATUS_DONE,
            status_word=word,
            commit=live_commit_of.get(w.path), cost=costs.get(w.path),
        ))

    order = {i.path: k for k, i in enumerate(items)}
    groups, current = _plan_groups(events, items)
    touched_numbers = {n for i in items for n in _title_numbers(i.title)}
    shown_groups = [g for g in groups if g is current or (g.done_before is not None
                                                           and (g.done_before != g.done_after or g.drafted_before != g.drafted_after))]
    plan_total = None
    if groups:
        known = all(g.done_before is not None for g in groups)
        plan_total = PlanGroup("All plan items", sum(g.total for g in groups),
                               sum(g.done_before or 0 for g in groups) if known else None, sum(g.done_after for g in groups), [],
                               sum(g.drafted_before or 0 for g in groups) if known else None, sum(g.drafted_after for g in groups))
    for i in items:
        i.key_changes = key_changes(ws, i, commits)
    # Only this session's files: a check the user ran on something else says nothing of them.
    checked = [i for i in items if i.errors is not None]
    checks = {"files": len(checked), "passing": sum(1 for i in checked if i.errors == 0),
              "failing": [{"path": i.path, "errors": i.errors} for i in checked if i.errors]}
    failing_items = [i for i in items if i.status == STATUS_FAILING]
    uncommitted = [i for i in items if i.commit is None and i.action != "failed-draft"]
    objective = str(start.get("objective") or "")
    inferred = _derived_objective(items) if not objective else ""

    next_steps: list[str] = []
    for i in failing_items:
        if i.action == "failed-draft":
            next_steps.append(f"Redo {i.title}: the draft failed its check and was kept at `{i.path}` for inspection")
            continue
        next_steps.append(f"Fix the {i.errors} check error{'s' if i.errors != 1 else ''} in `{i.path}` (`authorkit check {i.path}`)")
    n = len(uncommitted) + sum(1 for nav in navigation if nav["commit"] is None)
    if n:
        next_steps.append(f"Commit the {n} uncommitted file{'s' if n != 1 else ''} written in this session (`authorkit commit --dry-run`, then `authorkit commit`)")
    if current is not None:
        written = {i.path for i in items}
        todo = [p for p in current.pending if p.get("path") not in written and not (_title_numbers(_pending_label(p)) & touched_numbers)
                and not _is_landing_page(p.get("path"))]
        for p in todo[:5]:
            next_steps.append(_pending_step(p, items))
        if len(todo) > 5:
            next_steps.append(f"… and {len(todo) - 5} more in {current.name} (`authorkit plan --pending`)")

    counts = {
        "done": sum(1 for i in items if i.status == STATUS_DONE),
        "failing": len(failing_items),
        "pending": len(current.pending) if current else 0,
    }
    status_parts = [f"{counts['done']} done"]
    if counts["failing"]:
        status_parts.append(f"{counts['failing']} failing check")
    if current is not None:
        status_parts.append(f"{counts['pending']} pending in {current.name}")
    return {
        "session_id": session.id,
        "objective": objective or inferred,
        "objective_inferred": bool(inferred),
        "title": objective or inferred or f"Session {session.id}",
        "date": _ts_date(start.get("ts")),
        "started": start.get("ts") or "",
        "ended": (end or {}).get("ts") or "",
        "status": ", ".join(status_parts),
        "items": [_as_dict(i) for i in items],
        "failing": [_as_dict(i) for i in failing_items],
        "uncommitted": [_as_dict(i) for i in uncommitted] + [{"path": n["path"]} for n in navigation if n["commit"] is None],
        "navigation": navigation,
        "lines_before": sum(i.lines_before for i in items),
        "lines_after": sum(i.lines_after for i in items),
        "costs": [asdict(c) | {"cost": c.cost} for c in sorted(costs.values(), key=lambda c: (order.get(c.document, len(order)), c.document))],
        "total": asdict(total) | {"cost": total.cost},
        "commits": [asdict(c) for c in commits],
        "checks": checks,
        "plan_groups": [asdict(g) | {"delta": g.delta} for g in shown_groups],
        "plan_total": (asdict(plan_total) | {"delta": plan_total.delta}) if plan_total and len(groups) > 1 else None,
        "current_group": (asdict(current) | {"pending_labels": [_pending_note(p, items) for p in current.pending]}) if current else None,
        "next_steps": next_steps,
        "narrative": narrative.strip(),
        "counts": counts,
    }


def _is_landing_page(path: Any) -> bool:
    """An index or landing page is no plan item's page, whatever matched it."""
    return isinstance(path, str) and Path(path).stem.lower() in ("index", "readme", "overview", "_app", "_meta")


# --- key changes of a file, from its structural review -------------------------------


def key_changes(ws: Workspace, item: Item, commits: list[CommitEntry]) -> list[str]:
    """What a reviewer would say changed: sections removed and added, code files the page
    now builds, numbers carried. The old version is the one the session started from (the
    parent of the commit that holds the file, else HEAD), so re-rendering gives the same text."""
    if item.action == "navigation":
        return []
    holder = next((c for c in commits if item.path in c.paths and c.state == "in history"), None)
    new_text = _git_text(ws, item.path, holder.sha) if holder else None
    if new_text is None:
        try:
            new_text = ws.path(item.path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return []
    old_text = None if item.is_new else _git_text(ws, item.path, f"{holder.sha}^" if holder else "HEAD")
    try:
        return _describe_changes(ws, old_text, new_text)
    except Exception:  # noqa: BLE001 - key changes are a courtesy; the summary stands without them
        return []


def _git_text(ws: Workspace, rel: str, rev: str) -> str | None:
    try:
        repo = open_repo(ws)
        blob = repo.commit(rev).tree / repo_path(repo, ws.path(rel))
        return blob.data_stream.read().decode("utf-8")
    except Exception:  # noqa: BLE001 - no git, no such revision or path: nothing to compare
        return None


def _describe_changes(ws: Workspace, old_text: str | None, new_text: str) -> list[str]:
    # lazy: review, extract and the style guides (rules, mistune, codecheck, yaml) cost ~300 ms to
    # import (-X importtime); `session start` imports this module for the plan snapshot only
    from authorkit.document import parse  # noqa: PLC0415
    from authorkit.extract import plan_extract  # noqa: PLC0415
    from authorkit.review import review_texts  # noqa: PLC0415
    from authorkit.styleguide import workspace_guides  # noqa: PLC0415

    new_doc = parse(new_text)
    files = sorted(plan_extract(new_doc).files)
    out: list[str] = []
    if old_text is None:
        secs = [s.heading.text for s in new_doc.sections()]
        if secs:
            out.append("Sections: " + ", ".join(secs))
    else:
        r = review_texts(old_text, new_text, guides=workspace_guides(ws))
        removed = [ch.old.heading for ch in r.sections if ch.kind == "removed" and ch.old]
        added = [ch.new.heading for ch in r.sections if ch.kind == "added" and ch.new]
        if removed:
            out.append("Removed: " + ", ".join(removed))
        if added:
            out.append("Added: " + ", ".join(added))
        kept = sum(1 for c in r.code if c.kind in ("kept", "moved", "merged", "rewritten"))
        if r.old_blocks:
            out.append(f"Code: {kept} of {r.old_blocks} earlier blocks carried, {r.new_blocks} blocks now")
        on = len(r.numbers_lost) + sum(1 for _ in r.numbers_moved)
        if r.numbers_lost:
            out.append("Numbers not carried: " + ", ".join(r.numbers_lost[:8]) + (" …" if len(r.numbers_lost) > 8 else ""))
        elif on or r.numbers_added:
            out.append("Numbers: all carried")
    if files:
        out.append("Code files: " + ", ".join(files[:12]) + (f" and {len(files) - 12} more" if len(files) > 12 else ""))
    return out


def _pending_step(p: dict[str, Any], items: list[Item]) -> str:
    label = _pending_label(p)
    if p.get("path") and p.get("state") == "fails":
        n = p.get("errors")
        errs = f"{n} check error{'s' if n != 1 else ''}" if isinstance(n, int) else "its check errors"
        return f"{label}: fix {errs} in `{p['path']}` (`authorkit check {p['path']}`)"
    if p.get("path"):
        return f"{label}: `{p['path']}`"
    if p.get("number") is not None:
        return f"{label} (`authorkit draft {p.get('kind') or 'poc'} {p['number']}`)"
    return label


def _pending_note(p: dict[str, Any], items: list[Item]) -> str:
    label = _pending_label(p)
    nums = _title_numbers(label)
    mine = next((i for i in items if i.path == p.get("path") or (nums and nums & _title_numbers(i.title))), None)
    if mine is None:
        return label
    return f"{label} — written in this session, {mine.status_word} {mine.status}"


def _pending_label(p: dict[str, Any]) -> str:
    kind = (p.get("kind") or "").upper() if (p.get("kind") or "").lower() == "poc" else (p.get("kind") or "").capitalize()
    num = f"#{p['number']}" if p.get("number") is not None else ""
    head = " ".join(x for x in (kind, num) if x)
    title = p.get("title") or ""
    return f"{head}: {title}" if head and title else (head or title)


def _as_dict(i: Item) -> dict[str, Any]:
    d = asdict(i)
    d["lines"] = i.lines
    d["cost"] = (asdict(i.cost) | {"cost": i.cost.cost}) if i.cost else None
    return d


def _derived_objective(items: list[Item]) -> str:
    if not items:
        return ""
    return default_subject([FileChange(i.path, i.path, i.title, i.action, i.lines_before, i.lines_after, i.errors, i.style) for i in items])


def _commits(ws: Workspace, events: list[dict[str, Any]], use_git: bool) -> list[CommitEntry]:
    undone = {str(e.get("sha")) for e in events if e.get("event") == "undo"}
    raw = [e for e in events if e.get("event") == "commit" and e.get("sha")]
    info: dict[str, dict[str, Any]] = {}
    if use_git and raw:
        info = commit_info(ws, [str(e["sha"]) for e in raw])
    out = []
    for e in raw:
        sha = str(e["sha"])
        gi = info.get(sha)
        if sha in undone:
            state = "undone"
        elif gi is None:
            state = "unknown" if use_git else "recorded"
        elif gi.get("in_history"):
            state = "in history"
        else:
            state = "not in history"
        out.append(CommitEntry(sha, sha[:7], str(e.get("message_subject") or (gi or {}).get("subject") or ""), [str(p) for p in e.get("paths") or []], state))
    return out


# --- rendering and writing ------------------------------------------------------------


def render_summary(ws: Workspace, context: dict[str, Any]) -> str:
    text = render_template(ws, SUMMARY_TEMPLATE, context)
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"
    return text


def summary_path(ws: Workspace, session: Session, context: dict[str, Any]) -> Path:
    """`sessions/<date>_<slug>.md`; a name another session already used gets a suffix."""
    for e in session.events():
        if e.get("event") == "summary" and e.get("path"):
            return ws.path(str(e["path"]))
    base = f"{context['date']}_{slugify(context['title'])}"
    taken = _summary_paths_of_other_sessions(ws, session)
    candidate = ws.sessions_dir / f"{base}.md"
    k = 2
    while candidate.exists() or ws.rel(candidate) in taken:
        candidate = ws.sessions_dir / f"{base}-{k}.md"
        k += 1
    return candidate


def _summary_paths_of_other_sessions(ws: Workspace, session: Session) -> set[str]:
    out: set[str] = set()
    if ws.sessions_dir.is_dir():
        for p in ws.sessions_dir.glob("*.jsonl"):
            if p.stem != session.id:
                out |= {str(e.get("path")) for e in read_events(p) if e.get("event") == "summary"}
    return out


def narrative_prompt(summary_markdown: str) -> str:
    return (
        "Below is the factual summary of a documentation-writing session. Write a short overview "
        "(3 to 5 sentences, plain prose, no headings, no lists) of what was achieved, what is "
        "still failing or pending, and what comes next. Use only facts present in the summary.\n\n"
        + summary_markdown
    )


@dataclass
class SummaryResult:
    path: Path
    text: str
    context: dict[str, Any]
    narrative_rejected: list[str] = field(default_factory=list)  # what the overview claimed that the record does not hold


_CLAIM_NUMBER = re.compile(r"(?<![\w.])\$?\d[\d,]*(?:\.\d+)?")
_CLAIM_FILE = re.compile(r"[\w./-]+\.(?:md|mdx|js|ts|py|ya?ml|json|sql|sh)\b")


def unsupported_claims(overview: str, facts: str) -> list[str]:
    """Numbers and file names in a model-written overview that the factual summary does not
    contain (numbers compared as whole numbers, without thousands separators or `$`)."""

    def norm(n: str) -> str:
        return n.replace(",", "").lstrip("$").rstrip(".")

    known = {norm(m.group(0)) for m in _CLAIM_NUMBER.finditer(facts)}
    files = _CLAIM_FILE.findall(overview)
    prose = _CLAIM_FILE.sub(" ", overview)  # a file's name is checked as a name, not as numbers
    out = [m.group(0) for m in _CLAIM_NUMBER.finditer(prose) if norm(m.group(0)) not in known]
    out += [f for f in files if f not in facts]
    return out


def summarize(
    ws: Workspace,
    session: Session,
    *,
    narrate: Narrator | None = None,
    use_git: bool = True,
    write: bool = True,
    snapshot: bool = True,
    end_session: bool = False,
) -> SummaryResult:
    """Render (and by default write) the session's summary.

    With `snapshot`, the plan's current progress is appended to the record first, and with
    `end_session` the session is ended, both before rendering, so the summary depends on the
    record alone. `narrate` turns a prompt into a short overview.
    """
    extra: list[dict[str, Any]] = []
    if snapshot and session.is_open:
        snap = plan_snapshot(ws)
        if snap is not None:
            if write or end_session:
                session.append("plan_snapshot", **snap)
            else:  # a dry run records nothing, but shows the plan as it stands
                extra.append({"event": "plan_snapshot", **snap})
    if end_session and session.is_open:
        session.end()
    ctx = build_context(ws, session, use_git=use_git, extra_events=extra)
    text = render_summary(ws, ctx)
    rejected: list[str] = []
    if narrate is not None:
        overview = narrate(narrative_prompt(text))
        rejected = unsupported_claims(overview, text)
        if not rejected:  # an overview that invents a number or a file is left out, and said so
            ctx = build_context(ws, session, use_git=use_git, narrative=overview, extra_events=extra)
            text = render_summary(ws, ctx)
    path = summary_path(ws, session, ctx)
    if write:
        atomic_write_text(path, text, root=ws.root)
        if not any(e.get("event") == "summary" for e in session.events()):
            session.append("summary", path=ws.rel(path))
    return SummaryResult(path, text, ctx, rejected)
