"""Plan progress and plan items as people read them: the text and Markdown tables of
`authorkit plan`, the item report of `plan show`, shared by the CLI and the MCP server."""

from __future__ import annotations

import re
from typing import Any

from authorkit.draft import destination, find_item, kind_dir, nav_file_for
from authorkit.errors import AuthorkitError
from authorkit.nav import read_nav
from authorkit.plan import KIND_LABEL, Plan, plan_status


def item_report(ws: Any, the_plan: Any, kind: str, ref: str) -> tuple[dict[str, Any], str]:
    """(context as data, the text `plan show` prints) for one planned item."""
    item = find_item(the_plan, kind, ref)
    ctx = the_plan.context(item)
    status = next((s for s in plan_status(ws, single(the_plan, item), check=True)), None)
    try:
        folder = ws.path(kind_dir(ws, item.kind))
        nav_path = nav_file_for(ws, folder)
        nav = read_nav(nav_path, ws.rel(nav_path), root=ws.root) if nav_path else None
        dest = ws.rel(destination(ws, item, nav)[0])
    except AuthorkitError as exc:
        dest = f"(unknown: {exc.message})"
    ctx["content"] = status.to_dict() if status else None
    ctx["draft_path"] = status.path if status and status.path else dest
    lines = [item.label, f"  plan:      {ctx['plan']} ({item.where})"]
    for key in ("group", "theme", "tier", "series"):
        if ctx.get(key):
            lines.append(f"  {key + ':':<10} {ctx[key]}")
    if item.status:
        lines.append(f"  {'status:':<10} {item.status} (in the plan)")
    for k, v in item.extra.items():
        lines.append(f"  {k}: {v}")
    if status is not None:
        lines.append(f"  {'content:':<10} {state_text(status)}" + (f" — {status.path} (by {status.found_by})" if status.path else ""))
    if not (status and status.path):
        lines.append(f"  {'draft to:':<10} {dest}")
    if ctx["siblings"]:
        lines.append("  siblings:")
        lines += [f"    - {s}" for s in ctx["siblings"]]
    if ctx["related"]:
        lines.append("  related:")
        lines += [f"    - {s}" for s in ctx["related"]]
    if ctx["criteria"]:
        lines.append(f"  the plan's success criteria for {item.kind}s:")
        lines += [f"    - {c}" for c in ctx["criteria"]]
    return ctx, "\n".join(lines) + "\n"


def single(the_plan: Any, item: Any) -> Any:
    return Plan(items=[item], sources=the_plan.sources, titles=the_plan.titles)


def state_text(s: Any) -> str:
    if s.state == "fails":
        return f"fails ({s.errors} error{'s' * (s.errors != 1)})"
    if s.state == "found":
        return "found (not checked)"
    return s.state


def in_group(query: str | None, path: str) -> bool:
    """Case-insensitive substring match; `Day 1` does not match `Day 10`."""
    if not query:
        return True
    return re.search(re.escape(query.strip()) + (r"(?!\d)" if query.strip()[-1:].isdigit() else ""), path, re.I) is not None


def totals(statuses: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in ("poc", "article", "problem"):
        sel = [s for s in statuses if s.item.kind == k]
        if sel:
            found = sum(1 for s in sel if s.state != "missing")
            out[k] = {"total": len(sel), "found": found, "passing": sum(1 for s in sel if s.state == "passes"),
                      "failing": sum(1 for s in sel if s.state == "fails"), "percent": round(100.0 * found / len(sel), 1)}
    n = len(statuses)
    found = sum(1 for s in statuses if s.state != "missing")
    out["all"] = {"total": n, "found": found, "passing": sum(1 for s in statuses if s.state == "passes"),
                  "failing": sum(1 for s in statuses if s.state == "fails"), "percent": round(100.0 * found / n, 1) if n else 0.0}
    return out


def item_name(item: Any) -> str:
    head = KIND_LABEL[item.kind] + (f" #{item.number}" if item.number is not None else "")
    return head


def progress_text(shown: list[Any], groups: list[Any], totals: dict[str, Any], the_plan: Any) -> str:
    lines: list[str] = []
    by_group: dict[str, list[Any]] = {}
    for s in shown:
        by_group.setdefault(s.item.group_path or "(no group)", []).append(s)
    gt = {g.group: g for g in groups}
    order = {src: i for i, src in enumerate(the_plan.sources)}
    # Groups in the order the plan lists them (an item's first mention may be in a summary table).
    for name, items in sorted(by_group.items(), key=lambda kv: min((order.get(s.item.source, 0), s.item.line) for s in kv[1])):
        g = gt.get(name)
        head = f"{name}" + (f"  [{g.found}/{g.total} written, {g.percent:.0f}%, {g.passing} passing]" if g else "")
        lines.append(head)
        for s in items:
            title = s.item.title or (f"(untitled; {s.item.series})" if s.item.series else "(untitled)")
            if len(title) > 48:
                title = title[:47] + "…"
            state = state_text(s)
            lines.append(f"  {item_name(s.item):<10} {title:<48} {state:<18} {s.path or ''}".rstrip())
        lines.append("")
    if not shown:
        lines.append("no planned items match")
        lines.append("")
    kinds = {"poc": "POCs", "article": "articles", "problem": "problems"}
    parts = [f"{kinds[k]} {v['found']}/{v['total']} ({v['percent']:.0f}%)" for k, v in totals.items() if k in kinds]
    a = totals["all"]
    lines.append(f"total: {a['found']}/{a['total']} written ({a['percent']:.0f}%), {a['passing']} passing, {a['failing']} failing"
                 + (" · " + " · ".join(parts) if parts else ""))
    for w in the_plan.warnings:
        lines.append(f"warning: {w}")
    for c in the_plan.conflicts:
        lines.append(f"conflict: {c}")
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def progress_markdown(shown: list[Any], groups: list[Any], totals: dict[str, Any], the_plan: Any) -> str:
    out = ["## Progress", "", "| Group | Written | Passing | Total | % |", "|---|---|---|---|---|"]
    for g in groups:
        out.append(f"| {_md(g.group)} | {g.found} | {g.passing} | {g.total} | {g.percent:.0f}% |")
    a = totals["all"]
    out.append(f"| **Total** | **{a['found']}** | **{a['passing']}** | **{a['total']}** | **{a['percent']:.0f}%** |")
    out += ["", "## Items", "", "| Item | Title | Group | Status | Page |", "|---|---|---|---|---|"]
    mark = {"passes": "✅ passes", "found": "✅ found", "fails": "❌ fails", "missing": "⏳ missing"}
    for s in shown:
        st = mark[s.state] + (f" ({s.errors} errors)" if s.state == "fails" else "")
        out.append(f"| {item_name(s.item)} | {_md(s.item.title or '')} | {_md(s.item.group_path)} | {st} | {s.path or ''} |")
    if the_plan.warnings or the_plan.conflicts:
        out += ["", "## Could not read", ""]
        out += [f"- {_md(str(w))}" for w in the_plan.warnings]
        out += [f"- conflict: {_md(str(c))}" for c in the_plan.conflicts]
    return "\n".join(out)
