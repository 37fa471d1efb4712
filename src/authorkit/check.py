"""Check documents against style guides.

`check_document` runs every rule of one guide on one parsed document; `detect_style` scores a
document against every guide; `check_paths` expands paths, uses the cache, fans the work out
across processes and returns one `FileResult` per file. Rule ids are stable (see RULES) so
users can filter and CI can track them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from authorkit.document import Document, LineIndex, Section, parse, step_number
from authorkit.findings import Finding, Severity, sort_key
from authorkit.matching import Match, code_modes, match_sections, rule_score
from authorkit.styleguide import (
    ChecklistElement,
    CodeElement,
    FieldElement,
    MermaidElement,
    MetricsTableElement,
    RegexElement,
    SectionRule,
    StepsElement,
    StyleGuide,
    TableElement,
)

ENGINE_VERSION = "1"

# rule id -> what it means (README lists these)
RULES: dict[str, str] = {
    "title-missing": "the document has no level-1 title",
    "title-format": "the title does not follow the style's title rule",
    "title-multiple": "more than one level-1 heading",
    "section-missing": "a required section is missing",
    "section-forbidden": "a section the style forbids (e.g. engagement hooks in a tutorial)",
    "section-order": "a section is out of the style's order",
    "section-unknown": "a section the style does not know where none is allowed",
    "section-missing-between": "a `+` wildcard requires at least one extra section here",
    "section-length": "a section is shorter or longer than its line range",
    "element-checklist": "a ✅ checklist with too few items",
    "element-field": "a required labelled line (Time to complete, Difficulty, …) is missing",
    "element-table": "a required table (e.g. with a Company column) is missing or too short",
    "element-code": "too few code blocks of the required languages",
    "element-steps": "too few numbered Step N subsections, or numbering gaps",
    "element-mermaid": "a mermaid diagram is missing",
    "element-metrics-table": "a before/after metrics table is missing",
    "element-regex": "a required pattern is missing, or a forbidden one present",
    "doc-too-short": "fewer lines than the style's minimum",
    "doc-over-target": "more lines than the style's target (allowed up to the maximum)",
    "doc-too-long": "more lines than the style's hard maximum",
    "reading-time": "estimated reading time outside the style's range",
    "placeholder": "a placeholder instead of content (TODO, [Full working code], <your-…>, …)",
    "mojibake": "text garbled by a wrong encoding (âœ… for ✅); `authorkit fix` repairs it",
    "file-empty": "the file is empty",
    "file-binary": "the file is binary, not Markdown",
    "file-encoding": "the file is not valid UTF-8",
    "file-too-large": "the file is larger than the document size limit",
    "file-unreadable": "the file cannot be read (permissions, broken or looping symlink)",
    "style-unknown": "no style guide could be chosen for the file",
    "code-syntax": "a code block does not parse in its language",
    "code-placeholder": "a code block elides code (`// ...`, `your-api-key`, …)",
}


def _sev(name: str) -> Severity:
    return Severity.parse(name)


# --- detection -------------------------------------------------------------------------


@dataclass
class StyleScore:
    name: str
    score: float
    matched: list[str]
    missing: list[str]
    forbidden: list[str]


def score_style(doc: Document, guide: StyleGuide, matches: list[Match] | None = None) -> StyleScore:
    """How well a document fits a guide, 0..1: required sections weigh double, forbidden
    sections subtract, a title that fits its pattern adds a little."""
    matches = matches if matches is not None else match_sections(doc, guide)
    got = {m.rule.id for m in matches if m.rule is not None}
    total = 0.0
    have = 0.0
    missing = []
    for r in guide.section_rules:
        w = 2.0 if r.required else 1.0
        total += w
        if r.id in got:
            have += w
        elif r.required:
            missing.append(r.id)
    forb = []
    for f in guide.forbidden:
        for h in doc.headings:
            if (f.level is None or f.level == h.level) and rule_score(h.norm, f, 1.01) > 0:
                forb.append(h.text)
                break
    score = have / total if total else 0.0
    score -= 0.25 * len(forb)
    if guide.title.pattern and doc.title is not None and re.search(guide.title.pattern, doc.title.text):
        score += 0.05
    return StyleScore(guide.name, round(min(max(score, 0.0), 1.0), 3), sorted(got), missing, forb)


def detect_style(doc: Document, guides: dict[str, StyleGuide], matches_out: dict[str, list[Match]] | None = None) -> tuple[str, float, list[StyleScore]]:
    """Best-fitting style, its score, and every style's score. `matches_out` receives each
    guide's section matches so the caller does not compute them twice."""
    scored = []
    for g in guides.values():
        m = match_sections(doc, g)
        if matches_out is not None:
            matches_out[g.name] = m
        scored.append(score_style(doc, g, m))
    scores = sorted(scored, key=lambda s: (-s.score, s.name))
    if not scores:
        return "", 0.0, []
    return scores[0].name, scores[0].score, scores


# --- rules -------------------------------------------------------------------------------

_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_PLACEHOLDER_BRACKET = re.compile(
    r"^\s*\[(?:full|complete|insert|add|your|code|placeholder|todo|describe|explain|show|specific|working)[^\]]{0,80}\]\s*$",
    re.I,
)
_HTML_COMMENT = re.compile(r"<!--.*?-->")
# Only lines that are nothing but a bracketed phrase can be "[Full working code]" placeholders.
_BRACKET_LINE = re.compile(r"^[ \t]*\[[^\]\n]{1,90}\][ \t]*(?:<!--.*?-->)?[ \t]*$", re.M)
_YOUR_QUICK = re.compile(r"<[Yy][Oo][Uu][Rr][-_ ]")
_TODO = re.compile(r"\b(?:TODO|FIXME|TBD)\b")
_YOUR = re.compile(r"<your[-_ ][^>\n]{1,60}>", re.I)
_REST_OF_CODE = re.compile(r"(?://|#|--|/\*)\s*(?:\.\.\.|…)\s*(?:\(?\s*)?(?:rest|remaining|more|other|the rest|etc)\b", re.I)
_ELLIPSIS_ONLY = re.compile(r"^\s*(?:\.\.\.|…|// *\.\.\.|# *\.\.\.)\s*$")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")

_LANG_ALIASES = {
    "js": "javascript", "node": "javascript", "mjs": "javascript", "cjs": "javascript",
    "ts": "typescript", "yml": "yaml", "sh": "bash", "shell": "bash", "zsh": "bash",
    "console": "bash", "py": "python", "python3": "python", "psql": "sql", "postgresql": "sql",
    "postgres": "sql", "dockerfile": "dockerfile", "docker": "dockerfile", "jsonc": "json",
}


def canonical_lang(lang: str) -> str:
    return _LANG_ALIASES.get(lang.lower(), lang.lower())


def _clean_cell(cell: str) -> str:
    return re.sub(r"[*_`]", "", cell).strip().lower()


class _Ctx:
    def __init__(self, doc: Document, guide: StyleGuide | None) -> None:
        self.doc = doc
        self.guide = guide
        self.findings: list[Finding] = []
        self._mask: list[bool] | None = None

    @property
    def code_mask(self) -> list[bool]:
        if self._mask is None:
            self._mask = self.doc.code_line_mask()
        return self._mask

    def add(self, rule: str, sev: Severity | str, line: int, message: str, hint: str | None = None) -> None:
        if isinstance(sev, str):
            sev = _sev(sev)
        self.findings.append(Finding(rule, sev, max(line, 1), message, hint))

    def prose(self, start: int, end: int) -> Iterable[tuple[int, str]]:
        mask = self.code_mask
        for n in range(start, min(end, self.doc.line_count) + 1):
            if not mask[n - 1]:
                yield n, self.doc.lines[n - 1]


def _check_title(ctx: _Ctx, guide: StyleGuide) -> None:
    h1s = [h for h in ctx.doc.headings if h.level == 1]
    if not h1s:
        if guide.title.required:
            ex = f" such as `# {guide.title.example}`" if guide.title.example else ""
            ctx.add("title-missing", "error", 1, "the document has no title (a `# ` heading)", f"add a title{ex} on line 1")
        return
    t = h1s[0]
    if guide.title.pattern and not re.search(guide.title.pattern, t.text):
        ex = f"e.g. `# {guide.title.example}`" if guide.title.example else f"it must match /{guide.title.pattern}/"
        ctx.add("title-format", "error", t.line, f"title “{t.text}” does not follow the {guide.name} title rule", ex)
    for extra in h1s[1:]:
        ctx.add("title-multiple", "warning", extra.line, f"second level-1 heading “{extra.text}”", "use `##` for sections; a document has one title")


def _check_forbidden(ctx: _Ctx, guide: StyleGuide) -> None:
    for h in ctx.doc.headings:
        for f in guide.forbidden:
            if f.level is not None and f.level != h.level:
                continue
            if rule_score(h.norm, f, 1.01) > 0:
                msg = f.message or f"the {guide.name} style does not use a “{f.headings[0] if f.headings else f.id}” section"
                ctx.add("section-forbidden", f.severity, h.line, f"“{h.text}”: {msg}", "remove it, or fold what is worth keeping into a section the style has")
                break


def _check_structure(ctx: _Ctx, guide: StyleGuide, matches: list[Match]) -> None:
    rules = guide.section_rules
    found: dict[str, Match] = {}
    for m in matches:
        if m.rule is not None:
            found.setdefault(m.rule.id, m)
    # Missing required sections, with where to put them.
    order = [e for e in guide.sections]
    for idx, r in enumerate(rules):
        if r.required and r.id not in found:
            # Anchor on ordered sections only: unordered ones may sit anywhere.
            after = next((found[x.id] for x in rules[idx + 1 :] if x.id in found and x.ordered), None) if r.ordered else None
            before = next((found[x.id] for x in reversed(rules[:idx]) if x.id in found and x.ordered), None)
            heading = "#" * r.level + " " + r.headings[0]
            if after is not None:
                where, line = f"before line {after.section.start}", after.section.start
            elif before is not None:
                nxt = min(before.section.end + 1, ctx.doc.line_count)
                where, line = f"after the “{before.section.heading.text}” section (before line {nxt})", nxt
            else:
                t = ctx.doc.title
                where, line = ("after the title" if t else "at the top"), (t.line if t else 1)
            hint = r.hint or f"add a `{heading}` section {where}"
            ctx.add("section-missing", "error", line, f"missing required section “{r.headings[0]}”", hint)

    # Order: matched, ordered rules must appear in guide order.
    pos = {r.id: i for i, r in enumerate(rules)}
    last: Match | None = None
    for m in matches:
        if m.rule is None or not m.rule.ordered:
            continue
        if last is not None and pos[m.rule.id] < pos[last.rule.id]:  # type: ignore[union-attr]
            ctx.add(
                "section-order", "warning", m.section.start,
                f"“{m.section.heading.text}” should come before “{last.section.heading.text}” (line {last.section.start})",
                f"the {guide.name} order is: " + " → ".join(r.headings[0] for r in rules if r.ordered),
            )
        else:
            last = m

    # Unknown sections: allowed where the guide has a wildcard, or everywhere if it says so.
    if guide.allow_unknown_sections:
        return
    gaps = _wildcard_gaps(order)
    rule_index = {r.id: i for i, r in enumerate(rules)}
    prev_known = -1
    unknown_run: list[Match] = []

    def flush(next_known: int, at: Match | None) -> None:
        kinds = [gaps.get(k) for k in range(prev_known, next_known)]
        kinds = [k for k in kinds if k]
        allowed_many = "*" in kinds or "+" in kinds
        allowed_one = "?" in kinds
        if "+" in kinds and not unknown_run and at is not None and prev_known >= 0:
            ctx.add("section-missing-between", "warning", at.section.start, f"the {guide.name} style expects at least one more section before “{at.section.heading.text}”",
                    "add the section the style's `+` wildcard stands for")
        for i, u in enumerate(unknown_run):
            if allowed_many or (allowed_one and i == 0):
                continue
            ctx.add("section-unknown", "warning", u.section.start, f"“{u.section.heading.text}” is not a section of the {guide.name} style here",
                    "rename it to one of the style's sections, or move it where the style allows extra sections")

    forbidden_lines = {f.line for f in ctx.findings if f.rule == "section-forbidden"}
    for m in matches:
        if m.rule is None:
            if m.section.start not in forbidden_lines:  # already reported as forbidden
                unknown_run.append(m)
            continue
        if not m.rule.ordered:
            continue  # unordered sections do not delimit where extra sections may go
        flush(rule_index[m.rule.id], m)
        unknown_run = []
        prev_known = rule_index[m.rule.id]
    flush(len(rules), None)


def _wildcard_gaps(order: list[Any]) -> dict[int, str]:
    """Map 'after rule index i' (-1 = before the first) to the wildcard standing there."""
    gaps: dict[int, str] = {}
    i = -1
    for e in order:
        if isinstance(e, str):
            gaps[i] = "*" if gaps.get(i) == "*" or e == "*" else e
        else:
            i += 1
    return gaps


def _region(ctx: _Ctx, sec: Section | None) -> tuple[int, int]:
    if sec is None:
        return 1, ctx.doc.line_count
    return sec.start, sec.end


def _check_elements(ctx: _Ctx, guide: StyleGuide, elements: list[Any], sec: Section | None, where: str) -> None:
    for el in elements:
        start, end = _region(ctx, None if el.scope == "document" else sec)
        anchor = sec.start if sec is not None else 1
        sev = _sev(el.severity)
        if isinstance(el, ChecklistElement):
            n = sum(
                1 for _, ln in ctx.prose(start, end)
                if _LIST_ITEM.match(ln) and el.marker in ln[: _LIST_ITEM.match(ln).end() + 8]  # type: ignore[union-attr]
            )
            if n < el.min:
                ctx.add("element-checklist", sev, anchor, el.message or f"{where} has {n} {el.marker} checklist item{'s' * (n != 1)}; the style wants at least {el.min}",
                        f"list what the reader builds as `- {el.marker} **Feature** - what it does`")
        elif isinstance(el, FieldElement):
            rx = re.compile(r"^[\s>*_\-]*" + re.escape(el.label) + r"[\s*_]*:[\s*_]*(\S.*)$", re.I)
            hit = None
            for n, ln in ctx.prose(start, end):
                m = rx.match(ln)
                if m:
                    hit = (n, m.group(1))
                    break
            if hit is None:
                ctx.add("element-field", sev, anchor, el.message or f"{where} has no “{el.label}” line", f"add a line `**{el.label}**: …`")
            elif el.value_pattern and not re.search(el.value_pattern, hit[1], re.I):
                ctx.add("element-field", sev, hit[0], f"“{el.label}” value “{hit[1].strip()}” does not match the expected form", f"expected /{el.value_pattern}/")
        elif isinstance(el, TableElement):
            ok = False
            best_rows = -1
            for t in ctx.doc.tables_in(start, end):
                if el.column and not any(el.column.lower() == _clean_cell(c) or el.column.lower() in _clean_cell(c).split() for c in t.header):
                    continue
                best_rows = max(best_rows, len(t.rows))
                if len(t.rows) >= el.min_rows:
                    ok = True
                    break
            if not ok:
                col = f" with a “{el.column}” column" if el.column else ""
                got = f" (the one found has {best_rows} rows)" if best_rows >= 0 else ""
                ctx.add("element-table", sev, anchor, el.message or f"{where} needs a table{col} of at least {el.min_rows} rows{got}",
                        f"add a Markdown table whose header includes `{el.column or '…'}`")
        elif isinstance(el, CodeElement):
            langs = {canonical_lang(x) for x in el.languages}
            blocks = [b for b in ctx.doc.code_in(start, end) if b.fenced or not langs]
            if langs:
                blocks = [b for b in blocks if canonical_lang(b.lang) in langs]
            if el.contains:
                rx = re.compile(el.contains, re.M)
                blocks = [b for b in blocks if rx.search(b.code)]
            if len(blocks) < el.min:
                what = "/".join(sorted(el.languages)) + " " if el.languages else ""
                ctx.add("element-code", sev, anchor, el.message or f"{where} has {len(blocks)} {what}code block{'s' * (len(blocks) != 1)}; at least {el.min} required",
                        "add complete, runnable code in fenced blocks with a language")
        elif isinstance(el, StepsElement):
            lvl = (sec.heading.level + 1) if sec is not None else None
            steps = [(h, step_number(h.text)) for h in ctx.doc.headings_in(start, end) if lvl is None or h.level == lvl]
            steps = [(h, n) for h, n in steps if n is not None]
            if len(steps) < el.min:
                ctx.add("element-steps", sev, anchor, el.message or f"{where} has {len(steps)} “Step N” subsection{'s' * (len(steps) != 1)}; at least {el.min} required",
                        f"structure the build as `{'#' * (lvl or 3)} Step 1: …`, `Step 2: …`")
            else:
                expect = 1
                for h, n in steps:
                    if n != expect:
                        ctx.add("element-steps", "warning", h.line, f"step numbering jumps to {n} (expected {expect})", "number steps 1, 2, 3 … without gaps")
                        break
                    expect += 1
        elif isinstance(el, MermaidElement):
            n = sum(1 for b in ctx.doc.code_in(start, end) if b.lang == "mermaid")
            if n < el.min:
                ctx.add("element-mermaid", sev, anchor, el.message or f"{where} has no mermaid diagram", "add a ```mermaid block showing the architecture")
        elif isinstance(el, MetricsTableElement):
            if not any(_is_metrics_table(t.header, t.rows) for t in ctx.doc.tables_in(start, end)):
                ctx.add("element-metrics-table", sev, anchor, el.message or f"{where} has no before/after metrics table",
                        "add a table comparing Before and After (or Without/With) with numbers")
        elif isinstance(el, RegexElement):
            flags = 0
            for ch in el.flags:
                flags |= {"i": re.I, "m": re.M, "s": re.S}.get(ch, 0)
            rx = re.compile(el.pattern, flags)
            text = "\n".join(ctx.doc.lines[start - 1 : end])
            m = rx.search(text)
            if el.must and not m:
                ctx.add("element-regex", sev, anchor, el.message or f"{where} does not contain /{el.pattern}/")
            elif not el.must and m:
                line = start + text.count("\n", 0, m.start())
                ctx.add("element-regex", sev, line, el.message or f"{where} contains “{m.group(0)[:60]}”, which the style forbids")


def _is_metrics_table(header: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> bool:
    cells = [_clean_cell(c) for c in header]
    joined = " | ".join(cells)
    if ("before" in joined and "after" in joined) or ("without" in joined and re.search(r"\bwith\b", joined)):
        return True
    if any(w in joined for w in ("improvement", "speedup", "faster")):
        return True
    first = [_clean_cell(r[0]) for r in rows if r]
    return any("before" in c for c in first) and any("after" in c for c in first)


def _check_sections(ctx: _Ctx, guide: StyleGuide, matches: list[Match]) -> None:
    for m in matches:
        if m.rule is None:
            continue
        r = m.rule
        where = f"“{m.section.heading.text}”"
        if r.lines is not None:
            n = m.section.line_count
            if r.lines.min is not None and n < r.lines.min:
                ctx.add("section-length", "warning", m.section.start, f"{where} is {n} lines; the style wants at least {r.lines.min}", "expand it")
            if r.lines.max is not None and n > r.lines.max:
                ctx.add("section-length", "warning", m.section.start, f"{where} is {n} lines; the style wants at most {r.lines.max}", "tighten it or split it")
        _check_elements(ctx, guide, list(r.elements), m.section, where)
    if guide.elements:
        _check_elements(ctx, guide, list(guide.elements), None, "the document")


def _check_length(ctx: _Ctx, guide: StyleGuide) -> None:
    n = ctx.doc.line_count
    lim = guide.lines
    if lim is not None:
        if lim.min is not None and n < lim.min:
            ctx.add("doc-too-short", "error", n or 1, f"{n} lines; the {guide.name} style needs at least {lim.min}",
                    f"add {lim.min - n}+ lines of substance (complete code, expected output, explanations)")
        elif lim.max is not None and n > lim.max:
            ctx.add("doc-too-long", "warning", lim.max + 1, f"{n} lines; above the {guide.name} style's hard maximum of {lim.max}", "split it into two documents or cut repetition")
        elif lim.target is not None and n > lim.target:
            ctx.add("doc-over-target", "info", lim.target + 1, f"{n} lines; above the {guide.name} target of {lim.target} (allowed up to {lim.max or 'any length'})")
    rt = guide.reading_time
    if rt is not None:
        # Readers read the code too; counting it matches how authors estimate reading time.
        words = sum(len(_WORD.findall(ln)) for ln in ctx.doc.lines)
        minutes = words / rt.words_per_minute
        if (rt.min is not None and minutes < rt.min) or (rt.max is not None and minutes > rt.max):
            ctx.add("reading-time", rt.severity, 1, f"reading time ≈ {minutes:.1f} min ({words} words at {rt.words_per_minute} wpm); the {guide.name} style aims for {rt.min:g}–{rt.max:g} min",
                    "shorten or expand it")


def _check_text_rules(ctx: _Ctx, modes: dict[int, str]) -> None:
    from authorkit.fix import looks_mojibake, suspect_positions

    doc = ctx.doc
    mask = ctx.code_mask
    text = doc.text
    # Whole-text scans (one regex pass each) instead of per-line work: most lines match nothing.
    line_at = LineIndex(text)

    todo_lines = set()
    has = text.__contains__
    for m in (_TODO.finditer(text) if has("TODO") or has("FIXME") or has("TBD") else ()):
        n = line_at(m.start())
        if n not in todo_lines:
            todo_lines.add(n)
            ctx.add("placeholder", "error", n, f"placeholder “{m.group(0)}”", "replace it with the real content")
    moj_lines = sorted({n for n in {line_at(p) for p in sorted(suspect_positions(text))} if looks_mojibake(doc.lines[n - 1])})
    for m in (_YOUR.finditer(text) if "<" in text and _YOUR_QUICK.search(text) else ()):
        n = line_at(m.start())
        if n not in todo_lines and not mask[n - 1]:
            ctx.add("placeholder", "error", n, f"placeholder “{m.group(0)}”", "give a concrete value")
    for m in _BRACKET_LINE.finditer(text):
        n = line_at(m.start())
        if n not in todo_lines and not mask[n - 1] and _PLACEHOLDER_BRACKET.match(_HTML_COMMENT.sub("", doc.lines[n - 1])):
            ctx.add("placeholder", "error", n, f"placeholder “{doc.lines[n - 1].strip()}”", "write the content it stands for")
    for b in doc.code_blocks:
        mode = modes.get(b.line, "strict")
        if mode in ("sketch", "output", "problem"):
            continue
        if b.code.strip() and all(_ELLIPSIS_ONLY.match(x) or not x.strip() for x in b.code.splitlines()):
            ctx.add("placeholder", "error", b.line, "code block contains only an ellipsis", "put the complete code here")
            continue
        if "..." not in b.code and "…" not in b.code:
            continue
        for j, cl in enumerate(b.code.splitlines()):
            if ("..." in cl or "…" in cl) and _REST_OF_CODE.search(cl):
                ctx.add("placeholder", "error", b.first_code_line + j, f"elided code “{cl.strip()[:60]}”", "write the code out in full")
    if moj_lines:
        first = moj_lines[0]
        more = f" (and {len(moj_lines) - 1} more line{'s' * (len(moj_lines) != 2)})" if len(moj_lines) > 1 else ""
        ctx.add("mojibake", "error", first, f"garbled characters from a wrong encoding{more}", "run `authorkit fix` on this file to repair them")


def check_document(doc: Document, guide: StyleGuide | None, *, code_checks: bool = True, matches: list[Match] | None = None) -> list[Finding]:
    """All findings for one parsed document (without path; the caller sets it)."""
    ctx = _Ctx(doc, guide)
    modes: dict[int, str] = {}
    if guide is not None:
        matches = matches if matches is not None else match_sections(doc, guide)
        modes = code_modes(doc, guide, matches)
        _check_title(ctx, guide)
        _check_forbidden(ctx, guide)
        _check_structure(ctx, guide, matches)
        _check_sections(ctx, guide, matches)
        _check_length(ctx, guide)
    _check_text_rules(ctx, modes)
    if any(f.rule == "placeholder" for f in ctx.findings):
        # An unfinished draft (a scaffold full of TODOs) is too short by construction; the
        # placeholders are what to fix, and its length is judged once they are filled.
        ctx.findings = [f for f in ctx.findings if f.rule not in ("doc-too-short", "reading-time")]
    if code_checks and (guide is None or guide.code_checks):
        ctx.findings.extend(_code_findings([(doc, guide, modes)])[0])
    return _dedupe(ctx.findings)


def _code_findings(items: list[tuple[Document, StyleGuide | None, dict[int, str]]]) -> list[list[Finding]]:
    try:
        from authorkit import codecheck
    except ImportError:
        return [[] for _ in items]
    return codecheck.check_documents(items)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    placeholder_lines = {f.line for f in findings if f.rule == "placeholder"}
    out = []
    seen = set()
    for f in findings:
        if f.rule == "code-placeholder" and f.line in placeholder_lines:
            continue
        key = (f.rule, f.line, f.message)
        if key in seen:
            continue
        seen.add(key)
        out.append(f)
    return out


def check_text(text: str, guide: StyleGuide | None, path: str = "", *, code_checks: bool = True) -> list[Finding]:
    doc = parse(text)
    return sorted((f.with_path(path) for f in check_document(doc, guide, code_checks=code_checks)), key=sort_key)


# --- files and runs ------------------------------------------------------------------------


@dataclass
class FileResult:
    path: str
    style: str | None
    detected: dict[str, Any] | None
    lines: int
    findings: list[Finding] = field(default_factory=list)
    cached: bool = False

    def counts(self) -> dict[str, int]:
        c = {"error": 0, "warning": 0, "info": 0}
        for f in self.findings:
            c[str(f.severity)] += 1
        return c

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "style": self.style,
            "detected": self.detected,
            "lines": self.lines,
            "findings": [f.to_dict() for f in self.findings],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "FileResult":
        return cls(d["path"], d.get("style"), d.get("detected"), d.get("lines", 0), [Finding.from_dict(f) for f in d.get("findings", [])])


_FILE_PROBLEMS = {
    "empty": ("file-empty", "the file is empty", "write the document, or delete the file"),
    "binary": ("file-binary", "this is a binary file, not Markdown", "exclude it in authorkit.toml ([content] exclude) or remove it"),
    "too-large": ("file-too-large", "too large to check", "split it, or exclude it in authorkit.toml"),
    "unreadable": ("file-unreadable", "cannot be read", "fix its permissions or the symlink it points through"),
    "encoding": ("file-encoding", "not valid UTF-8", "run `authorkit fix` to re-encode it as UTF-8"),
}


def check_one(path_str: str, rel: str, style: str, guides: dict[str, StyleGuide], code_checks: bool, overrides: dict[str, dict[str, Any]] | None = None) -> FileResult:
    """Read, parse and check one file. Never raises for bad input; problems become findings."""
    return check_many([(path_str, rel, style)], guides, code_checks, overrides)[0]


def check_many(items: list[tuple[str, str, str]], guides: dict[str, StyleGuide], code_checks: bool, overrides: dict[str, dict[str, Any]] | None = None) -> list[FileResult]:
    """Check (path, rel, style) items. Code blocks of all of them go to the code checker in one
    call, so external checkers (node, bash) start once per batch, not once per document."""
    results: list[FileResult] = []
    pending: list[tuple[FileResult, Document, StyleGuide | None, dict[int, str]]] = []
    for path_str, rel, style in items:
        r, doc, guide, modes = _check_structure_of(path_str, rel, style, guides, overrides)
        results.append(r)
        if doc is not None and code_checks and (guide is None or guide.code_checks):
            pending.append((r, doc, guide, modes))
    if pending:
        for (r, *_), found in zip(pending, _code_findings([(d, g, m) for _, d, g, m in pending])):
            if found:
                r.findings = _dedupe(r.findings + [f.with_path(r.path) for f in found])
                r.findings.sort(key=sort_key)
    return results


def _check_structure_of(path_str: str, rel: str, style: str, guides: dict[str, StyleGuide], overrides: dict[str, dict[str, Any]] | None) -> tuple[FileResult, Document | None, StyleGuide | None, dict[int, str]]:
    from authorkit.textio import read_document

    res = read_document(Path(path_str))
    findings: list[Finding] = []
    if res.problem:
        rule, msg, hint = _FILE_PROBLEMS[res.problem]
        sev = Severity.ERROR
        findings.append(Finding(rule, sev, 1, f"{msg}: {res.detail}" if res.detail and res.problem != "empty" else msg, hint, path=rel))
        if res.problem != "encoding":
            return FileResult(rel, None if style == "auto" else style, None, 0, findings), None, None, {}
    text = res.text or ""
    doc = parse(text)
    detected = None
    all_matches: dict[str, list[Match]] = {}
    if style == "auto":
        name, score, scores = detect_style(doc, guides, all_matches)
        detected = {"style": name, "score": score, "scores": {s.name: s.score for s in scores}}
        if not name or score < 0.2:
            findings.append(Finding("style-unknown", Severity.WARNING, 1, f"no style fits this document well (best: {name or 'none'} at {score:.2f})",
                                    "map its path to a style in authorkit.toml [styles] or pass --style", path=rel))
            guide = None
            used = None
        else:
            guide, used = guides[name], name
    else:
        guide, used = guides[style], style
    if guide is not None and overrides and used in overrides:
        guide = guide.with_lines(overrides[used].get("lines"))
    matches = all_matches.get(used) if used else None
    if guide is not None and matches is None:
        matches = match_sections(doc, guide)
    findings.extend(f.with_path(rel) for f in check_document(doc, guide, code_checks=False, matches=matches))
    findings.sort(key=sort_key)
    modes = code_modes(doc, guide, matches) if guide is not None else {}
    return FileResult(rel, used, detected, doc.line_count, findings), doc, guide, modes


def _worker_chunk(args: tuple[list[tuple[str, str, str]], str | None, bool, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    items, guides_dir, code_checks, overrides = args
    from authorkit.styleguide import load_guides

    guides = load_guides(Path(guides_dir) if guides_dir else None)
    return [r.to_dict() for r in check_many(items, guides, code_checks, overrides)]


def run_checks(
    items: list[tuple[str, str, str]],
    guides_dir: Path | None,
    *,
    code_checks: bool = True,
    jobs: int = 0,
    overrides: dict[str, dict[str, Any]] | None = None,
    on_result: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Check (path, rel, style) items, in parallel processes when there is enough work."""
    from authorkit.styleguide import load_guides

    overrides = overrides or {}
    jobs = jobs or (os.cpu_count() or 1)
    total_bytes = 0
    for p, _, _ in items:
        try:
            total_bytes += os.path.getsize(p)
        except OSError:
            pass
    results: list[FileResult] = []
    if jobs <= 1 or len(items) < 8 or total_bytes < 400_000:
        guides = load_guides(guides_dir)
        results = check_many(items, guides, code_checks, overrides)
        if on_result:
            for r in results:
                on_result(r)
        return results
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    load_guides(guides_dir)  # parsed once here; forked workers inherit the cache
    # Balance by size: interleave big and small files so each chunk costs about the same.
    order = sorted(items, key=lambda it: -_size(it[0]))
    n_chunks = max(jobs * 2, 1)  # each chunk starts the external code checkers once
    chunks: list[list[tuple[str, str, str]]] = [[] for _ in range(n_chunks)]
    for i, it in enumerate(order):
        chunks[i % n_chunks].append(it)
    ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as ex:
        for chunk_result in ex.map(_worker_chunk, [(c, str(guides_dir) if guides_dir else None, code_checks, overrides) for c in chunks if c]):
            for d in chunk_result:
                r = FileResult.from_dict(d)
                results.append(r)
                if on_result:
                    on_result(r)
    return results


def _size(p: str) -> int:
    try:
        return os.path.getsize(p)
    except OSError:
        return 0


# --- a whole run: discovery, styles, cache, workers ---------------------------------------


@dataclass
class CheckRun:
    results: list[FileResult]
    missing: list[str]
    cached: int = 0

    def totals(self) -> dict[str, int]:
        t = {"files": len(self.results), "error": 0, "warning": 0, "info": 0}
        for r in self.results:
            for k, v in r.counts().items():
                t[k] += v
        return t

    def worst(self) -> Severity | None:
        sev = [f.severity for r in self.results for f in r.findings]
        return max(sev) if sev else None


def check_paths(
    ws: Any,
    paths: list[str] | None,
    *,
    style: str | None = None,
    code_checks: bool | None = None,
    use_cache: bool | None = None,
    jobs: int | None = None,
    on_result: Callable[[FileResult], None] | None = None,
) -> CheckRun:
    """Check files (or the workspace's content roots) and return every file's result."""
    from authorkit.cache import CheckCache, guides_digest, settings_digest
    from authorkit.discover import discover
    from authorkit.styleguide import builtin_dir

    cfg = ws.config
    code_checks = cfg.check.code_checks if code_checks is None else code_checks
    use_cache = cfg.check.cache if use_cache is None else use_cache
    jobs = cfg.check.jobs if jobs is None else jobs
    found = discover(ws, paths)
    overrides = {k: v.model_dump(exclude_none=True) for k, v in cfg.style_overrides.items()}
    settings = settings_digest(ENGINE_VERSION, guides_digest([builtin_dir(), ws.style_guides_dir]), overrides, code_checks)
    cache = CheckCache(ws.root, settings, enabled=use_cache)

    if style and style != "auto":
        from authorkit.styleguide import get_guide, load_guides

        get_guide(style, load_guides(ws.style_guides_dir))  # unknown style: a usage error up front
    else:
        _validate_config_styles(ws)

    results: list[FileResult] = []
    todo: list[tuple[str, str, str]] = []
    stamps: dict[str, tuple[Path, dict[str, Any]]] = {}
    cached = 0
    for p in found.files:
        rel = ws.rel(p)
        st = style or ws.style_for(p)
        hit, stamp = cache.get(p, f"{settings}:{st}:{rel}")
        if hit is not None:
            r = FileResult.from_dict(hit)
            r.cached = True
            results.append(r)
            cached += 1
            if on_result:
                on_result(r)
            continue
        todo.append((str(p), rel, st))
        stamps[rel] = (p, stamp)
    fresh = run_checks(todo, ws.style_guides_dir, code_checks=code_checks, jobs=jobs, overrides=overrides, on_result=on_result)
    for r in fresh:
        p, stamp = stamps[r.path]
        if not any(f.rule == "file-unreadable" for f in r.findings):
            cache.put(p, stamp, r.to_dict())
    results.extend(fresh)
    cache.save()
    results.sort(key=lambda r: r.path)
    return CheckRun(results, found.missing, cached)


def _validate_config_styles(ws: Any) -> None:
    from authorkit.errors import ConfigError
    from authorkit.styleguide import load_guides

    names = set(ws.config.styles.values()) | {ws.config.default_style}
    names.discard("auto")
    if not names:
        return
    guides = load_guides(ws.style_guides_dir)
    for n in sorted(names):
        if n not in guides:
            from authorkit.config import toml_key_line

            line = None
            if ws.config_path:
                text = ws.config_path.read_text(encoding="utf-8")
                line = next((i + 1 for i, ln in enumerate(text.splitlines()) if f'"{n}"' in ln or f"'{n}'" in ln), None)
            raise ConfigError(f"unknown style {n!r} in [styles]", path=ws.config_path, line=line,
                              hint=f"known styles: {', '.join(sorted(guides))}, or 'auto'")


def explain(doc: Document, guides: dict[str, StyleGuide]) -> list[dict[str, Any]]:
    """Per guide: score, and which heading matched which section (for `check --explain`)."""
    out = []
    for g in guides.values():
        matches = match_sections(doc, g)
        sc = score_style(doc, g, matches)
        out.append({
            "style": g.name,
            "score": sc.score,
            "matched": [{"section": m.rule.id, "heading": m.section.heading.text, "line": m.section.start, "score": round(m.score, 2)} for m in matches if m.rule],
            "unmatched_headings": [{"heading": m.section.heading.text, "line": m.section.start} for m in matches if m.rule is None],
            "missing": sc.missing,
            "forbidden": sc.forbidden,
        })
    out.sort(key=lambda d: (-d["score"], d["style"]))
    return out
