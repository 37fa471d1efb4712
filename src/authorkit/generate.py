"""Outline-first generation: outline → sections in parallel → assemble → check → repair.

Used by `draft` (a new document from a plan item) and `convert` (a document rewritten into
another style). A `Job` says what to write: the cached prefix (the style guide rendered as
instructions, a reference example, the plan context or the source document), the outline
prompt and how the outline becomes units. The `Generator` runs jobs against a provider:

- every call shares one cached prefix; calls wait until the first call with the same shared
  prefix has started answering, so the cache is written once and then read;
- at most `concurrency` calls are in flight, across all documents of a run;
- the assembled text is checked with `check_text`; units with errors are regenerated with
  their findings, at most `repair_rounds` rounds;
- nothing is written here: the caller writes the returned text atomically.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from authorkit import prompts
from authorkit.calls import CallRunner
from authorkit.errors import ProviderError
from authorkit.findings import Finding, Severity
from authorkit.providers.base import Block, Cancelled, Fatal, Provider, Request, Usage, estimate_tokens

if TYPE_CHECKING:
    from authorkit.config import Workspace
    from authorkit.styleguide import SectionRule, StyleGuide


# --- the outline --------------------------------------------------------------------------


class Step(BaseModel):
    model_config = ConfigDict(extra="ignore")
    number: int = Field(ge=1)
    title: str = Field(min_length=1)
    files: list[str] = []
    summary: str = ""


class Company(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str
    fact: str = ""


class Outline(BaseModel):
    model_config = ConfigDict(extra="ignore")
    title: str = Field(min_length=3)
    summary: str = ""
    checklist: list[str] = []
    time_to_complete: str = ""
    difficulty: str = ""
    steps: list[Step] = []
    identifiers: list[str] = []
    ports: list[int] = []
    services: list[str] = []
    companies: list[Company] = []
    sections: dict[str, str] = {}
    mapping: dict[str, list[int]] = {}

    @field_validator("title")
    @classmethod
    def _title(cls, v: str) -> str:
        return v.strip().lstrip("#").strip()

    @field_validator("steps")
    @classmethod
    def _numbered(cls, v: list[Step]) -> list[Step]:
        # Renumber 1..N so the assembled build has no gaps whatever the model wrote.
        return [s.model_copy(update={"number": i}) for i, s in enumerate(sorted(v, key=lambda s: s.number), 1)]


def parse_outline(text: str) -> Outline:
    """The JSON object in a reply (tolerating a ```json fence or stray prose around it)."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("the reply contains no JSON object")
    data = json.loads(text[start : end + 1])
    return Outline.model_validate(data)


# --- units --------------------------------------------------------------------------------


@dataclass
class Unit:
    """One call's worth of the document: a section, or one step of the build."""

    key: str
    rule_id: str
    heading: str  # the heading line the unit starts with, e.g. "## Why This Matters"
    step: Step | None = None
    target_lines: int | None = None
    sources: list[str] = field(default_factory=list)
    code_blocks: list[Any] = field(default_factory=list)  # document.CodeBlock
    facts: list[str] = field(default_factory=list)
    text: str = ""
    findings: list[Finding] = field(default_factory=list)


@dataclass
class Job:
    document: str  # workspace-relative target path (records, progress)
    guide: "StyleGuide"
    kind: str  # "draft" | "convert"
    context_block: str  # plan context or the source document (cached per document)
    outline_prompt: str
    number: int | None = None
    title_prefix: str | None = None  # e.g. "POC #61" that the title must carry
    build_units: Callable[[Outline], list[Unit]] | None = None
    # Extra per-unit checks (convert: the unit kept the source code blocks it was given).
    unit_check: Callable[[Unit], list[Finding]] | None = None
    # Set when one of the job's calls failed: its other calls stop instead of running on.
    failed: threading.Event = field(default_factory=threading.Event)


@dataclass
class Result:
    document: str
    text: str
    findings: list[Finding]
    usage: Usage
    cost_usd: float
    calls: int
    rounds: int
    outline: Outline | None
    units: list[Unit]
    notes: list[str] = field(default_factory=list)  # dropped code blocks, lost facts, …

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity >= Severity.ERROR]


EventSink = Callable[..., None]


def _noop(*_a: Any, **_k: Any) -> None:
    pass


class Generator:
    def __init__(
        self,
        ws: "Workspace | None",
        provider: Provider,
        guide: "StyleGuide",
        *,
        concurrency: int | None = None,
        repair_rounds: int | None = None,
        max_tokens: int | None = None,
        reference: str | None = None,
        on_event: EventSink | None = None,
        record: bool = True,
    ) -> None:
        from authorkit.config import ModelConfig

        self.ws = ws
        self.provider = provider
        self.guide = guide
        mc = ws.config.model if ws is not None else ModelConfig()
        self.model_cfg = mc
        # Calls go through the runner: limits, cache warming, deadlines, records (calls.py).
        # Without a provider the generator only renders prompts (dry runs).
        self.runner = CallRunner(ws, provider, mc, concurrency=concurrency, on_event=on_event, record=record) if provider is not None else None
        self.concurrency = self.runner.concurrency if self.runner is not None else (concurrency or mc.concurrency)
        self.repair_rounds = mc.repair_rounds if repair_rounds is None else repair_rounds
        self.max_tokens = max_tokens or mc.max_tokens
        self.temperature = mc.temperature
        self.sampling = {k: getattr(mc, k, None) for k in ("top_p", "top_k") if getattr(mc, k, None) is not None}
        self.prices = self.runner.recorder.prices(provider.model) if self.runner is not None else None
        self.reference = reference
        self.on_event = on_event or _noop
        self.record = record and ws is not None
        self.cancel = self.runner.cancel if self.runner is not None else threading.Event()
        self._unit_errors: dict[tuple[str, str], str] = {}
        self.system = [Block(prompts.render(ws, "system.j2", guide=guide, rules=guide.section_rules), cache=True)]

    # -- prompts -------------------------------------------------------------------------

    def prefix(self, job: Job) -> list[Block]:
        blocks = []
        if self.reference:
            blocks.append(Block("<reference_example>\nA document in this style that the author accepted; match its depth, tone and formatting.\n\n" + self.reference + "\n</reference_example>", cache=True))
        blocks.append(Block(job.context_block, cache=True))
        return blocks

    def request(self, job: Job, task: str, label: str, max_tokens: int | None = None) -> Request:
        return Request(
            system=self.system,
            user=[*self.prefix(job), Block(task)],
            max_tokens=max_tokens or self.max_tokens,
            temperature=self.temperature,
            label=label,
            document=job.document,
            sampling=dict(self.sampling),
        )

    # -- one call --------------------------------------------------------------------------

    def call(self, job: Job, request: Request) -> str:
        """Stream one request (see calls.CallRunner: limits, warming, deadlines, records)."""
        if self.runner is None:
            raise ProviderError("this generator only renders prompts (no provider)")
        return self.runner.call(job.document, request, job.failed)

    # -- the whole flow ----------------------------------------------------------------------

    def outline(self, job: Job) -> Outline:
        task = job.outline_prompt
        last_error = ""
        for attempt in range(2):
            text = self.call(job, self.request(job, task + last_error, "outline", max_tokens=min(self.max_tokens, 4096)))
            try:
                outline = parse_outline(text)
            except (ValueError, ValidationError) as exc:
                last_error = f"\n\nYour previous reply was not valid: {str(exc)[:500]}. Reply with the JSON object only."
                continue
            if job.title_prefix and job.title_prefix.lower() not in outline.title.lower():
                rest = re.sub(r"^[^:]*#\d+\s*:\s*", "", outline.title)
                outline.title = f"{job.title_prefix}: {rest}"
            return outline
        raise ProviderError(f"the outline for {job.document} was not valid JSON twice; nothing was written", hint="try again, or another --model")

    def run(self, job: Job) -> Result:
        self.on_event("doc_start", document=job.document)
        outline = self.outline(job)
        units = (job.build_units or (lambda o: default_units(self.guide, o)))(outline)
        self.on_event("units", document=job.document, count=len(units))
        outline_json = outline.model_dump_json(indent=1, exclude_defaults=True)

        def write(unit: Unit) -> None:
            task = prompts.render(
                self.ws, "section.j2", unit=unit, outline_json=outline_json, heading=unit.heading.lstrip("# "),
                rule=_rule(self.guide, unit.rule_id), target_lines=unit.target_lines, sources=unit.sources,
                code_blocks=unit.code_blocks, facts=unit.facts, extra="",
            )
            unit.text = clean_unit(self.call(job, self.request(job, task, f"section:{unit.key}")), unit)

        def repair(unit: Unit) -> None:
            task = prompts.render(self.ws, "repair.j2", heading=unit.heading.lstrip("# "), text=unit.text, findings=unit.findings)
            unit.text = clean_unit(self.call(job, self.request(job, task, f"repair:{unit.key}")), unit)

        self._parallel(job, write, units)
        text, spans = assemble(self.guide, outline, units)
        findings = self.check(job, text)
        rounds = 0
        while rounds < self.repair_rounds:
            todo = assign_findings(findings, units, spans, self.guide, job)
            if job.unit_check is not None:
                for u in units:
                    u.findings += job.unit_check(u)
                todo = [u for u in units if u.findings]
            if not todo:
                break
            rounds += 1
            self.on_event("repair", document=job.document, round=rounds, units=len(todo))
            self._parallel(job, repair, todo)
            text, spans = assemble(self.guide, outline, units)
            findings = self.check(job, text)
        text, failures = self._mark_failures(job, units, text)
        usage, usd, calls = self.runner.totals(job.document) if self.runner is not None else (Usage(), None, 0)
        return Result(job.document, text, findings + failures, usage, usd, calls, rounds, outline, units)

    def _mark_failures(self, job: Job, units: list[Unit], text: str) -> tuple[str, list[Finding]]:
        """Findings (and markers in the text) for units that could not be written, so a
        failed document is reported, and kept with --keep-failed, with everything produced."""
        out: list[Finding] = []
        lines = text.splitlines()
        for u in units:
            reason = self._unit_errors.get((job.document, u.key))
            if reason is None:
                continue
            line = next((i for i, ln in enumerate(lines, 1) if ln.strip() == u.heading.strip()), 1)
            out.append(Finding("generation-failed", Severity.ERROR, line, f"{u.heading.lstrip('# ')} could not be written: {reason}",
                               hint="rerun; the rest of the document is kept with --keep-failed", path=job.document))
        return text, out

    def check(self, job: Job, text: str) -> list[Finding]:
        from authorkit.check import check_text

        return check_text(text, self.guide, job.document)

    def _parallel(self, job: Job, fn: Callable[[Unit], None], units: list[Unit]) -> None:
        """Run `fn` on each unit. A unit whose call fails is tried once more on its own; if it
        still fails it is marked (see `_mark_failures`), and when its section is required the
        document has failed: nothing more is sent for it, calls already streaming finish.
        Interruptions and errors no retry can fix (`Fatal`) are raised."""
        if not units:
            return

        def one(u: Unit) -> None:
            for attempt in (1, 2):
                try:
                    fn(u)
                    self._unit_errors.pop((job.document, u.key), None)
                    return
                except Cancelled:
                    if self.cancel.is_set():
                        raise
                    self._unit_fails(job, u, "not sent: the document had already failed or ran past model.document_deadline")
                    return
                except Fatal:
                    raise
                except ProviderError as exc:
                    if attempt == 2 or job.failed.is_set():
                        self._unit_fails(job, u, exc.message)
                        return
                    self.on_event("unit_failed", document=job.document, label=u.key,
                                  message=f"{u.key}: {exc.message}; writing it once more")

        with ThreadPoolExecutor(max_workers=min(len(units), 32), thread_name_prefix="unit") as pool:
            futures = [pool.submit(one, u) for u in units]
            errors: list[BaseException] = []
            for f in futures:
                try:
                    f.result()
                except BaseException as exc:
                    job.failed.set()  # the job cannot succeed: send nothing more for it
                    errors.append(exc)
        if errors:
            # Report the real failure, not the cancellations it caused.
            raise next((e for e in errors if not isinstance(e, Cancelled)), errors[0])

    def _unit_fails(self, job: Job, unit: Unit, reason: str) -> None:
        if unit.text.strip():
            # A failed repair: the earlier text stays, and the check reports what it lacks.
            self.on_event("unit_failed", document=job.document, label=unit.key, message=f"{unit.key}: not repaired ({reason}); the earlier text is kept")
            return
        rule = _rule(self.guide, unit.rule_id)
        required = rule is None or rule.required
        # Marked where the section belongs, so a kept failed document shows what is missing.
        unit.text = f"{unit.heading}\n\n<!-- authorkit: this section could not be written: {reason} -->\n"
        if required:
            self._unit_errors[(job.document, unit.key)] = reason
            job.failed.set()
        else:
            self.on_event("unit_failed", document=job.document, label=unit.key, message=f"{unit.key} left out (optional): {reason}")
            unit.text = ""


# --- units from an outline ----------------------------------------------------------------


def _rule(guide: "StyleGuide", rule_id: str) -> "SectionRule | None":
    return next((r for r in guide.section_rules if r.id == rule_id), None)


def steps_rule(guide: "StyleGuide") -> "SectionRule | None":
    return next((r for r in guide.section_rules if any(e.type == "steps" for e in r.elements)), None)


def default_units(guide: "StyleGuide", outline: Outline, target: int | None = None) -> list[Unit]:
    """One unit per section of the guide; the build is split into one unit per step, all
    written against the outline's file names and identifiers so the code stays consistent.
    `target` is the document's length in lines (default: the guide's target)."""
    rules = guide.section_rules
    srule = steps_rule(guide)
    if target is None:
        target = (guide.lines.target or guide.lines.min or 0) if guide.lines else 0
    n_steps = len(outline.steps) if srule is not None else 0
    # The build carries about half of a tutorial's lines.
    build_share = 0.5 if n_steps else 0.0
    others = max(1, len(rules) - (1 if srule else 0))
    per_other = int(target * (1 - build_share) / others) if target else None
    per_step = int(target * build_share / n_steps) if target and n_steps else None
    units: list[Unit] = []
    for r in rules:
        heading = "#" * r.level + " " + r.headings[0]
        if r is srule and n_steps:
            for s in outline.steps:
                units.append(Unit(f"{r.id}/step-{s.number}", r.id, f"### Step {s.number}: {s.title}", step=s, target_lines=per_step))
        else:
            units.append(Unit(r.id, r.id, heading, target_lines=per_other))
    return units


_FENCE_WRAP = re.compile(r"\A\s*```(?:markdown|md)?\s*\n(.*)\n```\s*\Z", re.S)


def clean_unit(text: str, unit: Unit) -> str:
    """Strip a fence wrapped round the whole reply and make sure the unit starts with its heading."""
    m = _FENCE_WRAP.match(text)
    if m:
        text = m.group(1)
    text = text.strip("\n")
    lines = text.splitlines()
    # Drop a repeated document title or preamble before the unit's own heading.
    level = len(unit.heading) - len(unit.heading.lstrip("#"))
    for i, ln in enumerate(lines[:5]):
        if re.match(r"#{%d}\s" % level, ln):
            lines = lines[i:]
            break
    else:
        lines = [unit.heading, "", *lines]
    return "\n".join(lines).rstrip() + "\n"


def assemble(guide: "StyleGuide", outline: Outline, units: list[Unit]) -> tuple[str, dict[str, tuple[int, int]]]:
    """The document in the guide's order, and each unit's (first, last) line in it."""
    out: list[str] = [f"# {outline.title}", ""]
    spans: dict[str, tuple[int, int]] = {}
    srule = steps_rule(guide)
    current_rule = None
    for u in units:
        if u.step is not None and current_rule != u.rule_id and srule is not None:
            out += ["#" * srule.level + " " + srule.headings[0], ""]
            spans[u.rule_id] = (len(out) - 1, len(out) - 1)
        current_rule = u.rule_id
        start = len(out) + 1
        body = u.text.rstrip("\n").splitlines()
        out += body + [""]
        spans[u.key] = (start, start + len(body) - 1)
    return "\n".join(out).rstrip() + "\n", spans


def assign_findings(findings: list[Finding], units: list[Unit], spans: dict[str, tuple[int, int]], guide: "StyleGuide", job: Job) -> list[Unit]:
    """Errors sent back to the units they belong to; returns the units to regenerate."""
    for u in units:
        u.findings = []
    by_key = {u.key: u for u in units}
    step_units = [u for u in units if u.step is not None]
    for f in findings:
        if f.severity < Severity.ERROR:
            continue
        targets: list[Unit] = []
        if f.rule == "section-missing":
            m = re.search(r"“([^”]+)”", f.message)
            rule = next((r for r in guide.section_rules if m and r.headings[0] == m.group(1)), None)
            targets = [u for u in units if rule is not None and u.rule_id == rule.id][:1]
        elif f.rule in ("doc-too-short", "element-regex") and step_units:
            targets = step_units
        else:
            for key, (a, b) in spans.items():
                if a <= f.line <= b:
                    if key in by_key:
                        targets = [by_key[key]]
                    else:  # the build's own heading line: every step
                        targets = [u for u in step_units if u.rule_id == key]
                    break
        for u in targets:
            u.findings.append(f)
    return [u for u in units if u.findings]


# --- draft jobs -----------------------------------------------------------------------------


def render_plan_context(context: dict[str, Any]) -> str:
    """The plan item and what surrounds it, as the cached per-document context block."""
    item = context.get("item", {})
    lines = ["<plan_context>", f"Write: {context.get('label') or item.get('title')}"]
    for key, label in (("plan", "Plan"), ("group", "Part of"), ("theme", "Theme"), ("tier", "Tier"), ("series", "Series")):
        if context.get(key):
            lines.append(f"{label}: {context[key]}")
    for k, v in (item.get("extra") or {}).items():
        lines.append(f"{k}: {v}")
    if context.get("siblings"):
        lines.append("Other items in the same part of the plan: " + "; ".join(context["siblings"]))
    if context.get("related"):
        lines.append("Related items (link to them where it helps): " + "; ".join(context["related"]))
    if context.get("criteria"):
        lines.append("The plan's success criteria for this kind of document:")
        lines += [f"- {c}" for c in context["criteria"]]
    lines.append("</plan_context>")
    return "\n".join(lines)


def draft_job(ws: "Workspace | None", guide: "StyleGuide", context: dict[str, Any], document: str) -> Job:
    item = context.get("item", {})
    number = item.get("number")
    kind = item.get("kind", "poc")
    prefix = f"{ {'poc': 'POC', 'problem': 'Problem', 'article': 'Article'}.get(kind, kind.title())} #{number}".strip() if number else None
    srule = steps_rule(guide)
    min_steps = next((e.min for e in (srule.elements if srule else []) if e.type == "steps"), 3)
    outline_prompt = prompts.render(
        ws, "outline.j2", kind=kind, item_title=item.get("title") or context.get("label", ""), number=number,
        guide=guide, rules=guide.section_rules, min_steps=max(min_steps, 4),
    )
    return Job(document, guide, "draft", render_plan_context(context), outline_prompt, number=number, title_prefix=prefix)


def dry_run_plan(gen: Generator, job: Job, n_units: int) -> dict[str, Any]:
    """Prompts and token estimates for a run, without calling the provider."""
    outline_req = gen.request(job, job.outline_prompt, "outline")
    prefix_tokens = sum(estimate_tokens(b.text) for b in (*outline_req.system, *outline_req.user[:-1]))
    # Output: the outline, then the document's lines (about 12 tokens each).
    target = (job.guide.lines.target or job.guide.lines.min or 300) if job.guide.lines else 300
    return {
        "document": job.document,
        "calls": 1 + n_units,
        "prefix_tokens": prefix_tokens,
        "outline_task_tokens": estimate_tokens(job.outline_prompt),
        "task_tokens": max(estimate_tokens(job.outline_prompt), 1500),
        "output_tokens": 1500 + 12 * target,
        "system": outline_req.system[0].text,
        "prefix": [b.text for b in outline_req.user[:-1]],
        "outline_prompt": job.outline_prompt,
    }


# --- progress --------------------------------------------------------------------------------


from authorkit.progress import ProgressDisplay  # noqa: E402,F401 - the display lives in progress.py


# --- the draft command's model branch -----------------------------------------------------------


def load_reference(ws: "Workspace") -> str | None:
    """The configured reference example (`draft.reference`), read once per run."""
    ref = ws.config.draft.reference
    if not ref:
        return None
    from authorkit.errors import ConfigError
    from authorkit.textio import read_document

    r = read_document(ws.path(ref))
    if r.text is None:
        raise ConfigError(f"draft.reference {ref}: {r.detail}", path=ws.config_path, hint="point draft.reference at a readable Markdown file")
    return r.text


def draft_with_model(
    ws: "Workspace",
    provider_name: str,
    guide: "StyleGuide",
    context: dict[str, Any],
    document: str,
    *,
    model: str | None = None,
    dry_run: bool = False,
    out: Callable[[str], None] = print,
    provider: Provider | None = None,
) -> Result | None:
    """Outline, sections, check and repair for one plan item. Dry run: print the plan, call nothing."""
    import sys

    from authorkit.costs import format_usage
    from authorkit.providers import get_provider

    job = draft_job(ws, guide, context, document)
    if dry_run:
        from authorkit.costs import describe_estimate, estimate_run, prices_for
        from authorkit.providers import price_list

        # No provider: the prompts are rendered and their tokens estimated, nothing is called.
        gen = Generator(ws, None, guide, reference=load_reference(ws), record=False)
        srule = steps_rule(guide)
        n_units = len(guide.section_rules) - (1 if srule else 0) + (5 if srule else 0)
        plan = dry_run_plan(gen, job, n_units)
        out("=== system prompt (cached) ===\n" + plan["system"])
        for block in plan["prefix"]:
            out("=== cached prefix block ===\n" + (block if len(block) < 3000 else block[:3000] + f"\n… ({len(block):,} characters)"))
        out("=== outline prompt ===\n" + plan["outline_prompt"])
        out(f"planned calls: 1 outline + about {n_units} sections (one per section, one per step of the build), "
            f"at most {gen.concurrency} at once, then up to {gen.repair_rounds} repair round(s)")
        out(f"estimated input per call: ≈{plan['prefix_tokens']:,} prefix tokens (cached after the first call) "
            f"+ ≈{plan['outline_task_tokens']:,} task tokens")
        name = model or ws.config.model.name
        prices = prices_for(ws.config.model, name) or price_list(provider_name, name)
        est = estimate_run(prices, calls=plan["calls"], prefix_tokens=plan["prefix_tokens"], task_tokens=plan["task_tokens"],
                           output_tokens=plan["output_tokens"])
        out(f"model {name}: " + describe_estimate(est) + "; no call was made")
        return None
    prov = provider or get_provider(provider_name, ws, model)
    display = ProgressDisplay([document], tty=sys.stdout.isatty())
    gen = Generator(ws, prov, guide, reference=load_reference(ws), on_event=display.event)
    with display:
        result = gen.run(job)
    display.document_done(document, "done" if not result.errors else f"{len(result.errors)} errors")
    out(f"{document}: {result.calls} model calls, {result.rounds} repair round(s); {format_usage(result.usage, result.cost_usd)}")
    for f in result.errors:
        out(f"  {f.path}:{f.line}: {f.rule}: {f.message}")
    return result
