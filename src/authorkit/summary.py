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

from authorkit.config import Workspace
from authorkit.session import Session, WriteSummary, summarize_writes

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

    def add(self, ev: dict[str, Any]) -> None:
        self.calls += 1
        for k in ("input_tokens", "cache_write_tokens", "cache_read_tokens", "output_tokens"):
            setattr(self, k, getattr(self, k) + int(ev.get(k) or 0))
        self.cost_usd += float(ev.get("cost_usd") or 0.0)

    @property
    def cost(self) -> str:
        return money(self.cost_usd)


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
        from authorkit import plan as plan_mod  # noqa: PLC0415

        statuses = plan_mod.plan_status(ws, plan_mod.load_plan(ws))
        groups: dict[str, dict[str, Any]] = {}
        for st in statuses:
            item = st.item
            name = item.group_path or "(no group)"
            g = groups.setdefault(name, {"name": name, "total": 0, "done": 0, "pending": []})
            g["total"] += 1
            if st.state in ("passes", "found"):
                g["done"] += 1
            else:
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
    groups = []
    for g in last["groups"]:
        b = before.get(g.get("name"))
        groups.append(PlanGroup(str(g.get("name")), int(g.get("total") or 0), int(b["done"]) if b else None, int(g.get("done") or 0), list(g.get("pending") or [])))
    # The current group: the one whose progress moved in this session, else the one holding
    # the numbers this session wrote, else the first with work left.
    touched = {n for it in items for n in _title_numbers(it.title)}
    current = next((g for g in groups if g.done_before is not None and g.done_after != g.done_before), None)
    if current is None and touched:
        before_pending = {g.get("name"): {p.get("number") for p in g.get("pending") or []} for g in first["groups"]}
        current = next((g for g in groups if touched & before_pending.get(g.name, set())), None)
    if current is None:
        current = next((g for g in groups if g.pending), None)
    return groups, current


def _title_numbers(title: str) -> set[int]:
    return {int(m) for m in re.findall(r"#\s?(\d+)", title)}


# --- context ---------------------------------------------------------------------------


def build_context(ws: Workspace, session: Session, *, use_git: bool = True, narrative: str = "") -> dict[str, Any]:
    """Everything the template shows, computed from the record (and git, for commits)."""
    events = session.events()
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
        for k in ("calls", "input_tokens", "cache_write_tokens", "cache_read_tokens", "output_tokens", "cost_usd"):
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
    shown_groups = [g for g in groups if g is current or (g.done_before is not None and g.done_before != g.done_after)]
    plan_total = None
    if groups:
        plan_total = PlanGroup("All plan items", sum(g.total for g in groups),
                               sum(g.done_before for g in groups if g.done_before is not None) if all(g.done_before is not None for g in groups) else None,
                               sum(g.done_after for g in groups))
    checks = [e for e in events if e.get("event") == "check"]
    failing_items = [i for i in items if i.status == STATUS_FAILING]
    uncommitted = [i for i in items if i.commit is None and i.action != "failed-draft"]
    objective = str(start.get("objective") or "")

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
        todo = [p for p in current.pending if p.get("path") not in written and not (_title_numbers(_pending_label(p)) & touched_numbers)]
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
        "objective": objective,
        "title": objective or _derived_objective(items) or f"Session {session.id}",
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
        "checks": {"runs": len(checks), "last": checks[-1] if checks else None},
        "plan_groups": [asdict(g) | {"delta": g.delta} for g in shown_groups],
        "plan_total": (asdict(plan_total) | {"delta": plan_total.delta}) if plan_total and len(groups) > 1 else None,
        "current_group": (asdict(current) | {"pending_labels": [_pending_note(p, items) for p in current.pending]}) if current else None,
        "next_steps": next_steps,
        "narrative": narrative.strip(),
        "counts": counts,
    }


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
    from authorkit.gitops import FileChange, default_subject  # noqa: PLC0415

    return default_subject([FileChange(i.path, i.path, i.title, i.action, i.lines_before, i.lines_after, i.errors, i.style) for i in items])


def _commits(ws: Workspace, events: list[dict[str, Any]], use_git: bool) -> list[CommitEntry]:
    undone = {str(e.get("sha")) for e in events if e.get("event") == "undo"}
    raw = [e for e in events if e.get("event") == "commit" and e.get("sha")]
    info: dict[str, dict[str, Any]] = {}
    if use_git and raw:
        from authorkit.gitops import commit_info  # noqa: PLC0415

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
    from authorkit.gitops import render_template  # noqa: PLC0415

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
    from authorkit.session import read_events  # noqa: PLC0415

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
    if snapshot and session.is_open:
        snap = plan_snapshot(ws)
        if snap is not None:
            session.append("plan_snapshot", **snap)
    if end_session and session.is_open:
        session.end()
    ctx = build_context(ws, session, use_git=use_git)
    text = render_summary(ws, ctx)
    if narrate is not None:
        overview = narrate(narrative_prompt(text))
        ctx = build_context(ws, session, use_git=use_git, narrative=overview)
        text = render_summary(ws, ctx)
    path = summary_path(ws, session, ctx)
    if write:
        from authorkit.textio import atomic_write_text  # noqa: PLC0415

        atomic_write_text(path, text)
        if not any(e.get("event") == "summary" for e in session.events()):
            session.append("summary", path=ws.rel(path))
    return SummaryResult(path, text, ctx)
