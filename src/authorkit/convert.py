"""Rewrite documents from one style into another, keeping their substance.

The source is split with langchain-text-splitters (by Markdown headings, long sections again
by size); the outline call maps source sections to target sections, so each target section is
written from what it draws on. Every fenced code block of the source is handed to exactly one
target unit and must come back (compared after whitespace normalisation); numbers with units
and company names are carried over, and whatever is lost is reported. The result is checked
against the target style and repaired like a draft. Files are written atomically, one by one
as they finish; a file with uncommitted edits is not overwritten without `force`.
"""

from __future__ import annotations

import re
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from authorkit import prompts
from authorkit.document import CodeBlock, parse
from authorkit.errors import InputError, WriteRefused
from authorkit.findings import Finding, Severity
from authorkit.generate import Generator, Job, Outline, Result, Unit, default_units, steps_rule
from authorkit.textio import atomic_write_text, line_count, read_document

if TYPE_CHECKING:
    from authorkit.config import Workspace
    from authorkit.styleguide import StyleGuide

# Sections longer than this (characters) are split again so each part can be mapped on its own.
MAX_SECTION_CHARS = 6000


@dataclass
class SourceSection:
    index: int
    label: str  # heading path, e.g. "The $2.3M Problem › Why it hurts"
    text: str
    code_blocks: list[CodeBlock] = field(default_factory=list)


def split_source(text: str) -> list[SourceSection]:
    from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

    headers = [("#", "h1"), ("##", "h2"), ("###", "h3")]
    docs = MarkdownHeaderTextSplitter(headers_to_split_on=headers, strip_headers=False).split_text(text)
    sizer = RecursiveCharacterTextSplitter(chunk_size=MAX_SECTION_CHARS, chunk_overlap=0, separators=["\n```\n\n", "\n\n", "\n"])
    out: list[SourceSection] = []
    for d in docs:
        label = " › ".join(v for k, v in sorted(d.metadata.items()) if k in ("h1", "h2", "h3")) or "(before the first heading)"
        parts = sizer.split_text(d.page_content) if len(d.page_content) > MAX_SECTION_CHARS else [d.page_content]
        for i, part in enumerate(parts):
            out.append(SourceSection(len(out), label + (f" (part {i + 1})" if len(parts) > 1 else ""), part))
    # Hand each code block to the section that holds it (in order, so duplicates pair up).
    pos = 0
    for block in parse(text).code_blocks:
        if not block.fenced or not block.code.strip():
            continue
        probe = normalize_code(block.code)[:200]
        for s in out[pos:] + out[:pos]:
            if probe in normalize_code(s.text):
                s.code_blocks.append(block)
                pos = s.index
                break
        else:
            out[-1].code_blocks.append(block)
    return out


def normalize_code(code: str) -> str:
    return re.sub(r"\s+", " ", code).strip()


_UNIT = r"(?:ms|µs|us|ns|s|sec|seconds?|minutes?|mins?|hours?|days?|%|x|×|[KMGTP]B|[kmb]\b|K\b|M\b|B\b|req(?:uests)?/s(?:ec)?|rps|qps|QPS|RPS|ops/s(?:ec)?|users|rows|records|requests|queries|connections|nodes|servers)"
_NUMBER_UNIT = re.compile(r"(?<![\w.])\$?\d[\d,]*(?:\.\d+)?\+?\s?" + _UNIT + r"(?![\w])")
_MONEY = re.compile(r"\$\d[\d,]*(?:\.\d+)?\s?[KMBkmb]?\b")


def extract_facts(text: str) -> list[str]:
    """Numbers with units and company names (from tables with a Company column) in prose."""
    doc = parse(text)
    mask = doc.code_line_mask()
    prose = "\n".join(line for i, line in enumerate(doc.lines) if not mask[i])
    facts: list[str] = []
    for rx in (_MONEY, _NUMBER_UNIT):
        for m in rx.finditer(prose):
            v = m.group(0).strip()
            if v not in facts:
                facts.append(v)
    for t in doc.tables:
        cols = [c.strip("* ").lower() for c in t.header]
        if "company" in cols:
            ci = cols.index("company")
            for row in t.rows:
                if ci < len(row):
                    name = re.sub(r"[*_`\[\]]", "", row[ci]).strip()
                    name = re.sub(r"\(.*?\)", "", name).strip()
                    if name and name not in facts:
                        facts.append(name)
    return facts


def _fact_key(s: str) -> str:
    return re.sub(r"[\s,]", "", s).lower()


def lost_facts(facts: list[str], text: str) -> list[str]:
    hay = _fact_key(text)
    return [f for f in facts if _fact_key(f) not in hay]


def missing_code(blocks: list[CodeBlock], text: str) -> list[CodeBlock]:
    hay = normalize_code(text)
    return [b for b in blocks if normalize_code(b.code) not in hay]


# --- the job ----------------------------------------------------------------------------------


def source_blocks(sections: list[SourceSection]) -> list[CodeBlock]:
    """The source's code blocks in document order, numbered as the plan names them."""
    return [b for s in sections for b in s.code_blocks]


def _block_label(i: int, b: CodeBlock, section: str) -> str:
    first = next((ln.strip() for ln in b.code.splitlines() if ln.strip()), "")[:70]
    return f"{i}. {b.lang or 'no language'}, {b.code.count(chr(10)) + 1} lines, line {b.line}, in “{section}”: `{first}`"


def convert_job(ws: "Workspace | None", guide: "StyleGuide", source: str, document: str, source_style: str | None = None) -> tuple[Job, list[SourceSection]]:
    sections = split_source(source)
    context = f"<source_document path=\"{document}\">\n{source.rstrip()}\n</source_document>"
    labels = [_block_label(i, b, s.label) for i, (s, b) in enumerate((s, b) for s in sections for b in s.code_blocks)]
    outline_prompt = prompts.render(ws, "convert.j2", source_sections=[s.label for s in sections], source_blocks=labels,
                                    guide=guide, rules=guide.section_rules, source_style=source_style)
    doc = parse(source)
    number = title_number_any(doc.title.text if doc.title else "")
    job = Job(document, guide, "convert", context, outline_prompt, number=number, title_prefix=f"POC #{number}" if number and "POC" in (guide.title.example or "") else None)
    job.build_units = lambda outline: convert_units(guide, outline, sections)
    job.target_lines = target_length(guide, line_count(source))
    return job, sections


_KEYCAP_DIGITS = re.compile(r"((?:[0-9]\ufe0f?\u20e3)+)|\U0001f51f")


def title_number_any(title: str) -> int | None:
    """The number in a title in every form the site uses: `POC #54`, `#54`, `POC 54`,
    `POC-54`, and keycaps (`5️⃣4️⃣`, 🔟)."""
    m = _KEYCAP_DIGITS.search(title)
    if m:
        return 10 if m.group(1) is None else int(re.sub(r"[^0-9]", "", m.group(1)))
    m = re.search(r"#\s?(\d+)\b", title) or re.search(r"\b(?:POC|Problem|Article|No\.?)\s*[-#:]?\s*(\d+)\b", title, re.I)
    return int(m.group(1)) if m else None


_number_in = title_number_any


def target_length(guide: "StyleGuide", source_lines: int) -> int:
    """A rewrite into a tutorial folds the code into a runnable project and explains it: the
    author's rewrites come out about 1.6 times the source, within the style's range."""
    want = int(source_lines * 1.6)
    if guide.lines:
        if guide.lines.target:
            want = max(want, guide.lines.target)
        if guide.lines.min:
            want = max(want, guide.lines.min + guide.lines.min // 10)
        if guide.lines.max:
            want = min(want, guide.lines.max)
    return want


@dataclass
class BlockFate:
    block: CodeBlock
    action: str  # step | merge | section | drop | unplanned
    where: str = ""  # "step 3 (init.sql)", a section id
    reason: str = ""
    step: int | None = None
    file: str = ""


def block_fates(outline: Outline, blocks: list[CodeBlock]) -> list[BlockFate]:
    """Where each source block goes, as the plan says (unplanned blocks follow their section)."""
    steps = {s.number: s for s in outline.steps}
    out = []
    for i, b in enumerate(blocks):
        plan = outline.blocks.get(i)
        if plan is None:
            out.append(BlockFate(b, "unplanned"))
            continue
        section = (plan.model_extra or {}).get("section")
        if plan.action == "drop":
            out.append(BlockFate(b, "drop", reason=plan.reason or "dropped in the plan"))
        elif section and not plan.step and not plan.file:
            out.append(BlockFate(b, "section", str(section)))
        else:
            n = plan.step
            if n is None and plan.file:
                n = next((s.number for s in outline.steps if plan.file in s.file_names), None)
            if n is None or n not in steps:
                n = max(steps) if steps else None
            where = f"step {n}" if n is not None else "the build"
            out.append(BlockFate(b, plan.action if plan.action in ("step", "merge") else "step", where + (f" ({plan.file})" if plan.file else ""),
                                 plan.reason, n, plan.file))
    return out


def convert_units(guide: "StyleGuide", outline: Outline, sections: list[SourceSection], target: int | None = None) -> list[Unit]:
    """Units for the target style; each source section feeds the target sections the plan maps
    it to, and each source code block goes where the plan's block map puts it (a step and file,
    merged into a file, or dropped). Blocks the plan does not place follow their section."""
    units = default_units(guide, outline, target)
    by_rule: dict[str, list[Unit]] = {}
    for u in units:
        by_rule.setdefault(u.rule_id, []).append(u)
    order = [r.id for r in guide.section_rules]
    owner: dict[int, str] = {}
    for rid in order:
        for i in outline.mapping.get(rid, []):
            if 0 <= i < len(sections):
                for u in by_rule.get(rid, []):
                    u.sources.append(sections[i].label)
                owner.setdefault(i, rid)
    srule = steps_rule(guide)
    code_rules = [r.id for r in guide.section_rules if any(e.type == "code" for e in r.elements)]
    fallback = srule.id if srule else (code_rules[0] if code_rules else units[-1].rule_id)
    fates = {id(f.block): f for f in block_fates(outline, source_blocks(sections))}
    step_units = {u.step.number: u for u in units if u.step is not None}
    build_blocks: list[CodeBlock] = []
    for s in sections:
        rid = owner.get(s.index, fallback)
        if rid not in by_rule:
            rid = fallback
        target_units = by_rule[rid]
        for b in s.code_blocks:
            fate = fates.get(id(b))
            if fate is None or fate.action == "drop":
                continue
            if fate.action in ("step", "merge") and fate.step in step_units:
                step_units[fate.step].code_blocks.append(b)
            elif fate.action == "section" and fate.where in by_rule:
                by_rule[fate.where][0].code_blocks.append(b)
            elif srule is not None and rid == srule.id:
                build_blocks.append(b)
            else:
                target_units[0].code_blocks.append(b)
        for f in extract_facts(s.text):
            if f not in target_units[0].facts:
                target_units[0].facts.append(f)
        if s.index not in owner:
            target_units[0].sources.append(s.label)
    if srule is not None and srule.id in by_rule and build_blocks:
        steps = by_rule[srule.id]
        # Unplaced build code: in source order across the steps, contiguous chunks.
        n = len(steps)
        for k, b in enumerate(build_blocks):
            steps[min(n - 1, k * n // max(1, len(build_blocks)))].code_blocks.append(b)
    return units


# --- files ------------------------------------------------------------------------------------


@dataclass
class FileOutcome:
    path: Path
    status: str  # converted | failed | skipped | error
    result: Result | None = None
    message: str = ""
    written: Path | None = None
    dropped_code: list[CodeBlock] = field(default_factory=list)  # dropped by the plan or left out
    dropped_reasons: dict[int, str] = field(default_factory=dict)  # source line → the plan's reason
    rewritten_code: list[CodeBlock] = field(default_factory=list)  # used, but not verbatim
    lost_facts: list[str] = field(default_factory=list)
    lines_before: int = 0
    lines_after: int = 0


def uncommitted(path: Path) -> bool:
    """True when git reports edits to `path` that are not committed (or it is untracked)."""
    from authorkit.gitops import has_uncommitted

    return has_uncommitted(path)


def failed_path(path: Path) -> Path:
    return path.with_name(path.stem + ".failed" + path.suffix)


def sha(text: str) -> str:
    from authorkit.textio import sha256_text  # the one hash of every record

    return sha256_text(text)


def preflight(ws: "Workspace", paths: list[Path], force: bool) -> list[tuple[Path, str]]:
    """Read every source up front; refuse before any call if one cannot be converted."""
    out = []
    for p in paths:
        r = read_document(p)
        if r.text is None or r.problem in ("binary", "too-large", "unreadable", "empty"):
            raise InputError(f"cannot convert: {r.detail or r.problem}", path=ws.rel(p), hint="give Markdown files")
        if not force and uncommitted(p):
            raise WriteRefused(f"{ws.rel(p)} has uncommitted edits; converting would overwrite them", path=ws.rel(p),
                               hint="commit or stash them first, or pass --allow-dirty")
        out.append((p, r.text))
    return out


def convert_files(
    ws: "Workspace",
    sources: list[tuple[Path, str]],
    guide: "StyleGuide",
    gen: Generator,
    *,
    keep_failed: bool = False,
    on_done: Callable[[FileOutcome], None] | None = None,
    source_style: Callable[[Path, str], str | None] | None = None,
) -> list[FileOutcome]:
    """Convert many files concurrently, writing each as soon as it is finished and valid."""
    from authorkit.session import record

    outcomes: dict[Path, FileOutcome] = {}

    def one(path: Path, text: str) -> tuple[Result, list[SourceSection]]:
        job, sections = convert_job(ws, guide, text, ws.rel(path), source_style(path, text) if source_style else None)
        return gen.run(job), sections

    pool = ThreadPoolExecutor(max_workers=max(1, min(gen.concurrency, len(sources))), thread_name_prefix="doc")
    futures: dict[Future, tuple[Path, str]] = {pool.submit(one, p, t): (p, t) for p, t in sources}
    try:
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in done:
                path, before = futures[fut]
                outcome = _finish(ws, guide, path, before, fut, keep_failed)
                outcomes[path] = outcome
                if outcome.status in ("converted", "failed"):
                    record(ws, "write", path=ws.rel(outcome.written or path), action="converted" if outcome.status == "converted" else "failed-draft",
                           title=outcome.result.outline.title if outcome.result and outcome.result.outline else None,
                           lines_before=outcome.lines_before, lines_after=outcome.lines_after, sha_before=sha(before),
                           sha_after=sha(outcome.result.text) if outcome.result else None, style=guide.name,
                           errors=len(outcome.result.errors) if outcome.result else None)
                if on_done:
                    on_done(outcome)
    except BaseException:
        # Ctrl-C or a fatal error: stop the streams, keep what was written, touch nothing else.
        gen.cancel.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [outcomes[p] for p, _ in sources]


def _finish(ws: "Workspace", guide: "StyleGuide", path: Path, before: str, fut: Future, keep_failed: bool) -> FileOutcome:
    from authorkit.errors import AuthorkitError

    try:
        result, sections = fut.result()
    except AuthorkitError as exc:
        return FileOutcome(path, "error", message=str(exc), lines_before=line_count(before))
    blocks = source_blocks(sections)
    outcome = FileOutcome(path, "converted", result, lines_before=line_count(before), lines_after=line_count(result.text),
                          lost_facts=lost_facts(extract_facts(before), result.text))
    fates = block_fates(result.outline, blocks) if result.outline is not None else []
    dropped = {id(f.block): f.reason for f in fates if f.action == "drop"}
    for b in missing_code(blocks, result.text):
        # Rewriting a source block into the project is the point of a conversion: reported,
        # not an error. A block that was meant to be kept and left no trace is "dropped".
        if id(b) in dropped:
            outcome.dropped_code.append(b)
            outcome.dropped_reasons[b.line] = dropped[id(b)]
        else:
            outcome.rewritten_code.append(b)
    if result.errors:
        outcome.status = "failed"
        if keep_failed:
            outcome.written = failed_path(path)
            atomic_write_text(outcome.written, result.text, root=ws.root)
        outcome.message = f"{len(result.errors)} error(s) remain after {result.rounds} repair round(s); {path.name} left unchanged"
        return outcome
    atomic_write_text(path, result.text, root=ws.root)
    outcome.written = path
    return outcome


def describe_dropped(outcome: FileOutcome) -> list[str]:
    lines = []
    for b in outcome.dropped_code:
        first = next((ln.strip() for ln in b.code.splitlines() if ln.strip()), "")[:60]
        lines.append(f"dropped code block (source line {b.line}, {b.lang or 'no language'}): `{first}` — {outcome.dropped_reasons.get(b.line) or 'dropped in the plan'}")
    for b in outcome.rewritten_code:
        first = next((ln.strip() for ln in b.code.splitlines() if ln.strip()), "")[:60]
        lines.append(f"rewritten code block (source line {b.line}, {b.lang or 'no language'}): `{first}` — folded into the project, not kept verbatim")
    if outcome.result is not None:
        for f in outcome.result.project:
            lines.append(f"project: line {f.line}: {f.message}")
    if outcome.lost_facts:
        lines.append("not carried over: " + ", ".join(outcome.lost_facts[:20]) + (" …" if len(outcome.lost_facts) > 20 else ""))
    return lines




def planned_calls(guide: "StyleGuide", steps: int = 5) -> int:
    srule = steps_rule(guide)
    return 1 + len(guide.section_rules) - (1 if srule else 0) + (steps if srule else 0)


def describe_plan(gen: Generator, job: Job, guide: "StyleGuide") -> dict[str, Any]:
    from authorkit.generate import dry_run_plan

    return dry_run_plan(gen, job, planned_calls(guide) - 1)
