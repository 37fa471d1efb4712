"""Render check results: text (grouped, coloured on a terminal), json, github annotations, sarif."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable

from authorkit.findings import Severity

if TYPE_CHECKING:
    from authorkit.check import CheckRun, FileResult

_COLORS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def render(run: CheckRun, fmt: str, *, color: bool = False, pretty: bool = False, min_severity: Severity = Severity.INFO, verbose: bool = False,
           show_path: Callable[[str], str] | None = None) -> str:
    """`show_path` maps a workspace-relative path to the one text output prints (the CLI gives
    one relative to the current directory, as git does). Machine formats (json, github, sarif)
    keep workspace-relative paths, which CI annotations expect."""
    if fmt == "json":
        # Indented only for a person: json's C encoder is not used with an indent, which costs
        # more than the rest of a warm run on a large site.
        return render_json(run, indent=2 if pretty else None)
    if fmt == "github":
        return render_github(run, min_severity)
    if fmt == "sarif":
        return render_sarif(run)
    return render_text(run, color=color, min_severity=min_severity, verbose=verbose, show_path=show_path)


def _style_label(r: FileResult) -> str:
    if r.detected:
        return f"{r.style or 'none'} (auto, score {r.detected['score']:.2f})"
    return r.style or "none"


def render_text(run: CheckRun, *, color: bool = False, min_severity: Severity = Severity.INFO, verbose: bool = False,
                show_path: Callable[[str], str] | None = None) -> str:
    c = (lambda code, s: f"{code}{s}{_RESET}") if color else (lambda code, s: s)
    out: list[str] = []
    for r in run.results:
        shown = [f for f in r.findings if f.severity >= min_severity]
        if not shown and not verbose:
            continue
        path = show_path(r.path) if show_path else r.path
        out.append(c(_BOLD, path) + c(_DIM, f"  [{_style_label(r)}, {r.lines} lines]"))
        for f in shown:
            sev = c(_COLORS[f.severity], f"{f.severity}")
            out.append(f"  {path}:{f.line}:{f.column}: {sev} {f.rule}: {f.message}")
            if f.hint:
                out.append(c(_DIM, f"      hint: {f.hint}"))
        out.append("")
    t = run.totals()
    clean = sum(1 for r in run.results if not any(f.severity >= Severity.WARNING for f in r.findings))
    summary = (
        f"{t['files']} file{'s' * (t['files'] != 1)} checked"
        + (f" ({run.cached} from cache)" if run.cached else "")
        + f": {t['error']} error{'s' * (t['error'] != 1)}, {t['warning']} warning{'s' * (t['warning'] != 1)}, {t['info']} info; {clean} clean"
    )
    out.append(c(_BOLD, summary))
    for m in run.missing:
        out.append(f"warning: {m}: no such file, directory or matching glob")
    return "\n".join(out)


def render_json(run: CheckRun, indent: int | None = 2) -> str:
    return json.dumps(
        {"version": 1, "files": [r.to_dict() for r in run.results], "summary": run.totals(), "missing": run.missing},
        ensure_ascii=False,
        indent=indent,
    )


def _gh_escape(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def render_github(run: CheckRun, min_severity: Severity = Severity.INFO) -> str:
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    lines = []
    for r in run.results:
        for f in r.findings:
            if f.severity < min_severity:
                continue
            msg = f.message + (f" ({f.hint})" if f.hint else "")
            lines.append(f"::{level[f.severity]} file={r.path},line={f.line},col={f.column},title={f.rule}::{_gh_escape(msg)}")
    return "\n".join(lines)


def render_sarif(run: CheckRun) -> str:
    from authorkit import __version__
    from authorkit.rules import RULES

    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
    used = sorted({f.rule for r in run.results for f in r.findings})
    results: list[dict[str, Any]] = []
    for r in run.results:
        for f in r.findings:
            results.append({
                "ruleId": f.rule,
                "level": level[f.severity],
                "message": {"text": f.message + (f" Hint: {f.hint}" if f.hint else "")},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": r.path}, "region": {"startLine": f.line, "startColumn": f.column}}}],
            })
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "authorkit", "version": __version__, "rules": [{"id": r, "shortDescription": {"text": RULES.get(r, r)}} for r in used]}},
            "results": results,
        }],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)
