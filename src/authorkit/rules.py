"""Rules: check one parsed document against one style guide, and score how well a document
fits each guide (auto-detection). Pure functions over `Document` and `StyleGuide`; reading
files, caching and parallelism live in `check.py`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable

from authorkit import safe_regex
from authorkit.document import Document, LineIndex, Section, parse, step_number
from authorkit.findings import Finding, Severity, sort_key
from authorkit.matching import Match, code_modes, forbidden_match, match_sections, resolve_renames
from authorkit.safe_regex import PatternTimeout
from authorkit.styleguide import (
    ChecklistElement,
    CodeElement,
    FieldElement,
    MermaidElement,
    MetricsTableElement,
    RegexElement,
    StepsElement,
    StyleGuide,
    TableElement,
)

RULES: dict[str, str] = {
    "title-missing": "the document has no level-1 title",
    "title-format": "the title does not follow the style's title rule",
    "title-multiple": "more than one level-1 heading",
    "section-missing": "a required section is missing",
    "section-renamed": "a section under a name the style does not use (checked as the section it stands for)",
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
    "code-fence-unclosed": "a code fence is opened and never closed",
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
    seen: set[str] = set()
    if guide.forbidden:
        for h in doc.headings:
            f = forbidden_match(guide, h.norm, h.level)
            if f is not None and f.id not in seen:
                seen.add(f.id)
                forb.append(h.text)
    score = have / total if total else 0.0
    score -= 0.25 * len(forb)
    if guide.title.pattern and doc.title is not None and _guide_search(guide.title.pattern, 0, doc.title.text, None) is not None:
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
# Anchored on the newline (not `^` with re.M) so the scan can skip ahead to each "\n".
_BRACKET_LINE = re.compile(r"\n[ \t]*\[[^\]\n]{1,90}\][ \t]*(?:<!--.*?-->)?[ \t]*(?=\n)")
_YOUR_QUICK = re.compile(r"<[Yy][Oo][Uu][Rr][-_ ]")
# No leading \b: a pattern that starts with literals is scanned for quickly; the word boundary
# before the match is checked by hand (see _check_text_rules).
_TODO = re.compile(r"(?:TODO|FIXME|TBD)\b")
_YOUR = re.compile(r"<your[-_ ][^>\n]{1,60}>", re.I)
_CREDENTIAL = re.compile(r"key|token|secret|password|passwd|credential", re.I)
_REST_OF_CODE = re.compile(r"(?://|#|--|/\*)\s*(?:\.\.\.|…)\s*(?:\(?\s*)?(?:rest|remaining|more|other|the rest|etc)\b", re.I)
_ELLIPSIS_ONLY = re.compile(r"^\s*(?:\.\.\.|…|// *\.\.\.|# *\.\.\.)\s*$")



@lru_cache(maxsize=256)
def _compiled(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


@lru_cache(maxsize=256)
def _branches(pattern: str, flags: int) -> tuple[re.Pattern[str], ...]:
    """A top-level alternation `a|b` as separate patterns, or the pattern alone.

    Python's regex engine finds a pattern that starts with a literal quickly, but tries an
    alternation like `services:|docker run` at every position of the text; searched one
    branch at a time, each is fast. The earliest match of the branches (the first branch on a
    tie) is exactly the alternation's match. Patterns that could behave differently when split
    (backreferences, conditionals, inline flags) are left whole.
    """
    whole = (safe_regex.compile(pattern, flags),)
    if "|" not in pattern or re.search(r"\\[1-9]|\(\?P=|\(\?\(|\(\?[aiLmsux-]+[:)]", pattern):
        return whole
    parts, depth, in_class, i, start = [], 0, False, 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "^":
                i += 1
            if pattern[i + 1 : i + 2] == "]":
                i += 1  # a leading ] is a literal
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    if len(parts) < 2 or depth != 0 or in_class or any(not p for p in parts):
        return whole
    try:
        return tuple(safe_regex.compile(p, flags) for p in parts)
    except re.error:
        return whole


def _first_match(pattern: str, flags: int, text: str) -> re.Match[str] | None:
    """The guide pattern's first match in `text`; raises PatternTimeout past the time bound."""
    best = None
    for rx in _branches(pattern, flags):
        m = safe_regex.search(rx, text, pattern)
        if m is not None and (best is None or m.start() < best.start()):
            best = m
    return best


def _guide_search(pattern: str, flags: int, text: str, on_timeout: "Callable[[PatternTimeout], None] | None") -> Any:
    """A style guide's pattern searched in `text` within the time bound. A runaway pattern is
    handed to `on_timeout` (which reports it) and counts as no match."""
    try:
        return safe_regex.search(safe_regex.compile(pattern, flags), text, pattern)
    except PatternTimeout as exc:
        if on_timeout is not None:
            on_timeout(exc)
        return None


def _slow_pattern(ctx: "_Ctx", rule: str, line: int) -> "Callable[[PatternTimeout], None]":
    done: list[bool] = []

    def report(exc: PatternTimeout) -> None:
        if done:
            return  # once per rule and place
        done.append(True)
        name = ctx.guide.name if ctx.guide is not None else "style"
        ctx.add(rule, "warning", line, f"the {name} guide's pattern /{exc.pattern[:80]}/ ran for over {exc.seconds:g} s here and was stopped, so this rule was not checked",
                "simplify the pattern in the style guide: nested repetition such as `(a+)+` or `(\\w+\\s?)*` can backtrack without end")
    return report


def _check_runaway_heading_patterns(ctx: "_Ctx", guide: StyleGuide) -> None:
    """A section or forbidden-heading pattern that ran out of time is ignored from then on;
    say so, or a missing or forbidden section could go unreported without a word."""
    pats = [(r.id, p) for r in guide.section_rules for p in r.patterns] + [(f.id, p) for f in guide.forbidden for p in f.patterns]
    for rule_id, p in pats:
        if any(p in r for r in safe_regex.RUNAWAY):
            ctx.add("section-missing" if rule_id in {r.id for r in guide.section_rules} else "section-forbidden", "warning", 1,
                    f"the {guide.name} guide's heading pattern /{p[:80]}/ (for `{rule_id}`) ran for over {safe_regex.timeout():g} s on a heading and is ignored",
                    "simplify the pattern in the style guide: nested repetition such as `(a+)+` can backtrack without end")


def canonical_lang(lang: str) -> str:
    """One name per language (`yml` → `yaml`, `sh` → `shell`), from the code checker's table."""
    from authorkit.codecheck import LANG_ALIASES

    low = lang.lower()
    return LANG_ALIASES.get(low, low)


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
    slow: list[PatternTimeout] = []
    if guide.title.pattern and _guide_search(guide.title.pattern, 0, t.text, slow.append) is None:
        if slow:
            _slow_pattern(ctx, "title-format", t.line)(slow[0])
            return
        ex = f"e.g. `# {guide.title.example}`" if guide.title.example else f"it must match /{guide.title.pattern}/"
        ctx.add("title-format", "error", t.line, f"title “{t.text}” does not follow the {guide.name} title rule", ex)
    for extra in h1s[1:]:
        ctx.add("title-multiple", "warning", extra.line, f"second level-1 heading “{extra.text}”", "use `##` for sections; a document has one title")


def _check_forbidden(ctx: _Ctx, guide: StyleGuide) -> None:
    if not guide.forbidden:
        return
    for h in ctx.doc.headings:
        f = forbidden_match(guide, h.norm, h.level)
        if f is not None:
            msg = f.message or f"the {guide.name} style does not use a “{f.headings[0] if f.headings else f.id}” section"
            ctx.add("section-forbidden", f.severity, h.line, f"“{h.text}”: {msg}", "remove it, or fold what is worth keeping into a section the style has")


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

    # Renamed sections: checked as the section they stand for, reported where they are.
    for m in matches:
        if m.renamed and m.rule is not None:
            want = "#" * m.section.heading.level + " " + m.rule.headings[0]
            ctx.add("section-renamed", "warning", m.section.start,
                    f"“{m.section.heading.text}” is not a {guide.name} section name: did you mean `{want}`?",
                    f"rename the heading to `{want}`; it is checked as that section meanwhile")

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
            rx = _compiled(r"^[\s>*_\-]*" + re.escape(el.label) + r"[\s*_]*:[\s*_]*(\S.*)$", re.I)
            hit = None
            for n, ln in ctx.prose(start, end):
                m = rx.match(ln)
                if m:
                    hit = (n, m.group(1))
                    break
            if hit is None:
                elsewhere = None
                if sec is not None and el.scope != "document":
                    elsewhere = next((n for n, ln in ctx.prose(1, ctx.doc.line_count) if rx.match(ln)), None)
                if elsewhere is not None:
                    ctx.add("element-field", sev, anchor,
                            el.message or f"`{el.label}` is at line {elsewhere}, outside {_plain(where)}",
                            f"move the `**{el.label}**: …` line into {_plain(where)}")
                else:
                    ctx.add("element-field", sev, anchor, el.message or f"{where} has no “{el.label}” line", f"add a line `**{el.label}**: …`")
            elif el.value_pattern and _guide_search(el.value_pattern, re.I, hit[1], (slow := []).append) is None:
                if slow:
                    _slow_pattern(ctx, "element-field", hit[0])(slow[0])
                    continue
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
                elsewhere = None
                if sec is not None and el.scope != "document" and best_rows < 0:
                    elsewhere = next((t.line for t in ctx.doc.tables if len(t.rows) >= el.min_rows and (
                        not el.column or any(el.column.lower() == _clean_cell(c) or el.column.lower() in _clean_cell(c).split() for c in t.header))), None)
                if elsewhere is not None and not el.message:
                    ctx.add("element-table", sev, anchor, f"the table{col} is at line {elsewhere}, outside {_plain(where)}",
                            f"move the table into {_plain(where)}")
                else:
                    ctx.add("element-table", sev, anchor, el.message or f"{where} needs a table{col} of at least {el.min_rows} rows{got}",
                            f"add a Markdown table whose header includes `{el.column or '…'}`")
        elif isinstance(el, CodeElement):
            langs = {canonical_lang(x) for x in el.languages}
            blocks = [b for b in ctx.doc.code_in(start, end) if b.fenced or not langs]
            if langs:
                blocks = [b for b in blocks if canonical_lang(b.lang) in langs]
            if el.contains:
                report = _slow_pattern(ctx, "element-code", anchor)
                blocks = [b for b in blocks if _guide_search(el.contains, re.M, b.code, report) is not None]
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
            text = ctx.doc.text if (start, end) == (1, ctx.doc.line_count) else "\n".join(ctx.doc.lines[start - 1 : end])
            try:
                m = _first_match(el.pattern, flags, text)
            except PatternTimeout as exc:
                _slow_pattern(ctx, "element-regex", anchor)(exc)
                continue
            if el.must and not m:
                ctx.add("element-regex", sev, anchor, el.message or f"{where} does not contain /{el.pattern}/")
            elif not el.must and m:
                line = start + text.count("\n", 0, m.start())
                ctx.add("element-regex", sev, line, el.message or f"{where} contains “{m.group(0)[:60]}”, which the style forbids")


def _plain(where: str) -> str:
    return where.strip("“”")


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
        words = count_words(ctx.doc.text)
        minutes = words / rt.words_per_minute
        if (rt.min is not None and minutes < rt.min) or (rt.max is not None and minutes > rt.max):
            ctx.add("reading-time", rt.severity, 1, f"reading time ≈ {minutes:.1f} min ({words} words at {rt.words_per_minute} wpm); the {guide.name} style aims for {rt.min:g}–{rt.max:g} min",
                    "shorten or expand it")


# Byte table for count_words: letters and digits -> "a", the joiners ' and - -> "-", all else a space.
_WORD_TABLE = bytes(
    ord("a") if chr(b).isascii() and chr(b).isalnum() else ord("-") if chr(b) in "'-" else ord(" ") for b in range(256)
)


def count_words(text: str) -> int:
    """How many words the text holds (a letter or digit, then letters, digits, ' ’ -),
    counted without building a string per word: in the table's image of the text each word is a
    run of "a" and "-" holding an "a"; dropping the "-" leaves one token per word."""
    data = text.replace("’", "'").encode("ascii", "replace").translate(_WORD_TABLE)
    return len(data.replace(b"-", b"").split())


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
        if m.start() and (text[m.start() - 1].isalnum() or text[m.start() - 1] == "_"):
            continue  # inside a word ("XTODO"): \b would not have matched
        n = line_at(m.start())
        if n not in todo_lines:
            todo_lines.add(n)
            ctx.add("placeholder", "error", n, f"placeholder “{m.group(0)}”", "replace it with the real content")
    moj_lines: list[int] = []
    moj_human: list[int] = []
    if any(looks_mojibake(doc.lines[n - 1]) for n in {line_at(p) for p in suspect_positions(text)}):
        # Only a document that looks damaged pays for the repair itself, and `check` then
        # reports exactly what `fix` would repair, and what it would leave for a human.
        from authorkit.fix import mojibake_lines

        moj_lines, moj_human = mojibake_lines(text)
    for m in (_YOUR.finditer(text) if "<" in text and _YOUR_QUICK.search(text) else ()):
        n = line_at(m.start())
        if n not in todo_lines and not mask[n - 1]:
            if _CREDENTIAL.search(m.group(0)):
                # Setup text naming a secret the reader supplies: worth a look, not a defect.
                ctx.add("placeholder", "warning", n, f"placeholder “{m.group(0)}”: the reader supplies this value",
                        "say where the value comes from (an environment variable, the provider's console)")
            else:
                ctx.add("placeholder", "error", n, f"placeholder “{m.group(0)}”", "give a concrete value")
    for m in _BRACKET_LINE.finditer("\n" + text + "\n"):
        n = line_at(m.start())  # the prepended "\n" shifts offsets by one: m.start() is the line's start
        if n not in todo_lines and not mask[n - 1] and _PLACEHOLDER_BRACKET.match(_HTML_COMMENT.sub("", doc.lines[n - 1])):
            ctx.add("placeholder", "error", n, f"placeholder “{doc.lines[n - 1].strip()}”", "write the content it stands for")
    for b in doc.code_blocks:
        mode = modes.get(b.line, "strict")
        if not b.closed:
            fence = doc.lines[b.line - 1].strip() if b.line <= doc.line_count else "```"
            ctx.add("code-fence-unclosed", "error", b.line, f"the {fence[:40]} code fence is opened here and never closed",
                    "add the closing fence (```) right after the block's last line of code")
            continue
        if mode in ("sketch", "output", "problem", "illustrative"):
            continue
        body = b.code.strip()
        # The first line decides for almost every block, before the whole block is split.
        if body and _ELLIPSIS_ONLY.match(body.split("\n", 1)[0]) and all(_ELLIPSIS_ONLY.match(x) or not x.strip() for x in body.splitlines()):
            ctx.add("placeholder", "error", b.line, "code block contains only an ellipsis", "put the complete code here")
            continue
        if "..." not in b.code and "…" not in b.code:
            continue
        for j, cl in enumerate(b.code.splitlines()):
            if ("..." in cl or "…" in cl) and _REST_OF_CODE.search(cl) and not _optional_elision(b, cl):
                ctx.add("placeholder", "error", b.first_code_line + j, f"elided code “{cl.strip()[:60]}”", "write the code out in full")
    if moj_lines:
        first = moj_lines[0]
        more = f" (and {len(moj_lines) - 1} more line{'s' * (len(moj_lines) != 2)})" if len(moj_lines) > 1 else ""
        ctx.add("mojibake", "error", first, f"garbled characters from a wrong encoding{more}", "run `authorkit fix` on this file to repair them")
    for n in moj_human:
        ctx.add("mojibake", "warning", n, "a damaged character whose original cannot be told from its bytes",
                "retype the symbol by hand (`authorkit fix` leaves this line as it is)")


def _optional_elision(b: Any, line: str) -> bool:
    """`# ... other config ...` in a config file, or any elision of settings: the code runs
    without them (the code checker judges the same way)."""
    from authorkit.codecheck import _CONFIG_LANGS, _OPTIONAL_ELISION, block_language

    return block_language(b) in _CONFIG_LANGS or _OPTIONAL_ELISION.search(line) is not None


def check_document(doc: Document, guide: StyleGuide | None, *, code_checks: bool = True, matches: list[Match] | None = None,
                   modes_out: dict[int, str] | None = None) -> list[Finding]:
    """All findings for one parsed document (without path; the caller sets it). `modes_out`
    receives the code mode of each block's section, for a caller that checks code later."""
    ctx = _Ctx(doc, guide)
    modes: dict[int, str] = modes_out if modes_out is not None else {}
    if guide is not None:
        matches = matches if matches is not None else match_sections(doc, guide)
        matches = resolve_renames(doc, guide, matches)
        modes.update(code_modes(doc, guide, matches))
        _check_title(ctx, guide)
        _check_forbidden(ctx, guide)
        _check_structure(ctx, guide, matches)
        _check_sections(ctx, guide, matches)
        _check_length(ctx, guide)
        if safe_regex.RUNAWAY:
            _check_runaway_heading_patterns(ctx, guide)
    _check_text_rules(ctx, modes)
    if any(f.rule == "placeholder" for f in ctx.findings):
        # An unfinished draft (a scaffold full of TODOs) is too short by construction; the
        # placeholders are what to fix, and its length is judged once they are filled.
        ctx.findings = [f for f in ctx.findings if f.rule not in ("doc-too-short", "reading-time")]
    if code_checks and (guide is None or guide.code_checks):
        ctx.findings.extend(_code_findings([(doc, guide, modes)])[0])
    return _dedupe(ctx.findings)


def _code_findings(items: list[tuple[Document, StyleGuide | None, dict[int, str]]], stats: Any = None) -> list[list[Finding]]:
    from authorkit import codecheck

    return codecheck.check_documents(items, stats)


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
