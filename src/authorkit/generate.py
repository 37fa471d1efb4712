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

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from authorkit import prompts
from authorkit.calls import CallRunner
from authorkit.errors import ProviderError
from authorkit.findings import Finding, Severity
from authorkit.providers.base import Block, Cancelled, Fatal, Provider, Request, Usage, estimate_tokens

if TYPE_CHECKING:
    from authorkit.config import Workspace
    from authorkit.styleguide import SectionRule, StyleGuide


# --- the outline --------------------------------------------------------------------------
#
# The outline is what every section is written against, so it must take what a model
# naturally writes: maps or lists, numbers or strings. Each field normalises its input
# (`mode="before"` validators); keys the schema does not know are kept and passed on.


def _as_list(v: Any) -> list[Any]:
    if v is None or v == "":
        return []
    if isinstance(v, (list, tuple)):
        return list(v)
    if isinstance(v, dict):
        return [v]
    return [v]


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (list, tuple)):
        return "; ".join(_text(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_text(x)}" for k, x in v.items())
    return str(v)


def _first(d: dict[str, Any], *keys: str, default: Any = None) -> Any:
    for k in keys:
        if k in d and d[k] not in (None, ""):
            return d[k]
    return default


def _port_number(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    m = re.match(r"^\s*(?:[\w.-]+:)?(\d{2,5})(?::\d+)?(?:/\w+)?\s*$", str(v))
    return int(m.group(1)) if m else None


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


def _named(v: Any, key: str, aliases: tuple[str, ...], text_key: str | None = None, text_aliases: tuple[str, ...] = ()) -> Any:
    """An outline entry as a model writes it: a bare string (the entry's name), or a mapping
    that names its fields in other words (`file` for `path`, `description` for `purpose`)."""
    if isinstance(v, str):
        return {key: v}
    if isinstance(v, dict):
        v = dict(v)
        if key not in v:
            v[key] = _first(v, *aliases, default="")
        if text_key is not None and text_key not in v:
            v[text_key] = _text(_first(v, *text_aliases, default=""))
    return v


class FileSpec(_Loose):
    path: str = Field(min_length=1)
    purpose: str = ""
    exports: list[str] = []
    step: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _forms(cls, v: Any) -> Any:
        return _named(v, "path", ("name", "file", "filename"), "purpose", ("description", "role", "summary"))

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        return v.strip().strip("`").removeprefix("./")

    @field_validator("exports", mode="before")
    @classmethod
    def _exports(cls, v: Any) -> list[str]:
        if isinstance(v, dict):
            return [str(k) for k in v]
        return [str(x) for x in _as_list(v)]


def _files(v: Any) -> list[Any]:
    """Files as a string, a list of names or objects, or a {path: purpose} map."""
    if isinstance(v, str):
        return [s for s in re.split(r"[,\s]+", v) if s]
    if isinstance(v, dict):
        if "path" in v or "name" in v or "file" in v:
            return [v]
        return [{"path": k, **(x if isinstance(x, dict) else {"purpose": _text(x)})} for k, x in v.items()]
    return _as_list(v)


class Step(_Loose):
    number: int = Field(default=0, ge=0)
    title: str = Field(min_length=1)
    files: list[FileSpec] = []
    summary: str = ""

    @model_validator(mode="before")
    @classmethod
    def _forms(cls, v: Any) -> Any:
        v = _named(v, "title", ("name", "heading"), "summary", ("description", "what"))
        if isinstance(v, dict):
            if "number" not in v and "step" in v:
                v["number"] = v["step"]
            v["title"] = re.sub(r"^\s*(?:###\s*)?Step\s*\d+\s*[:.)-]\s*", "", _text(v["title"]))
        return v

    @field_validator("files", mode="before")
    @classmethod
    def _files(cls, v: Any) -> list[Any]:
        return _files(v)

    @field_validator("summary", mode="before")
    @classmethod
    def _summary(cls, v: Any) -> str:
        return _text(v)

    @property
    def file_names(self) -> list[str]:
        return [f.path for f in self.files]


class Company(_Loose):
    name: str = Field(min_length=1)
    fact: str = ""

    @model_validator(mode="before")
    @classmethod
    def _forms(cls, v: Any) -> Any:
        v = _named(v, "name", ("company",), "fact", ("figure", "scale", "detail", "metric", "result"))
        if isinstance(v, dict):
            v["fact"] = _text(v["fact"])  # a number is a fact too
        return v


class Container(_Loose):
    name: str = Field(min_length=1)
    image: str = ""
    service: str = ""
    ports: list[int] = []

    @model_validator(mode="before")
    @classmethod
    def _forms(cls, v: Any) -> Any:
        return _named(v, "name", ("container_name", "container", "service"))

    @field_validator("ports", mode="before")
    @classmethod
    def _ports(cls, v: Any) -> list[int]:
        return [p for p in (_port_number(x) for x in _as_list(v)) if p is not None]


class ExtraSection(_Loose):
    heading: str = Field(min_length=1)
    summary: str = ""

    @model_validator(mode="before")
    @classmethod
    def _forms(cls, v: Any) -> Any:
        return _named(v, "heading", ("title", "name", "id"), "summary", ("covers", "description", "content"))

    @field_validator("heading")
    @classmethod
    def _heading(cls, v: str) -> str:
        return v.strip().lstrip("#").strip()


class BlockPlan(_Loose):
    """Where one source code block goes in a conversion."""

    action: str = "step"  # step | merge | drop
    step: int | None = None
    file: str = ""
    reason: str = ""

    @model_validator(mode="before")
    @classmethod
    def _forms(cls, v: Any) -> Any:
        if isinstance(v, str):
            m = re.match(r"^\s*(drop(?:ped)?|merge[d]?(?: into)?|step\s*(\d+))\s*[:\-—]?\s*(.*)$", v, re.I)
            if m and m.group(1).lower().startswith("drop"):
                return {"action": "drop", "reason": m.group(3)}
            if m and m.group(1).lower().startswith("merge"):
                return {"action": "merge", "file": m.group(3)}
            if m and m.group(2):
                return {"action": "step", "step": int(m.group(2)), "file": m.group(3)}
            return {"action": "merge", "file": v.strip()}
        if isinstance(v, dict):
            v = dict(v)
            if "drop" in v or "dropped" in v:
                why = _first(v, "drop", "dropped")
                return {"action": "drop", "reason": _text(v.get("reason") or (why if not isinstance(why, bool) else ""))}
            if "merge" in v and "file" not in v:
                v["action"], v["file"] = "merge", v.pop("merge")
            if "action" in v:
                a = str(v["action"]).lower()
                v["action"] = "drop" if a.startswith(("drop", "omit", "remove")) else "merge" if a.startswith("merge") else "step"
            if "file" not in v:
                v["file"] = _first(v, "path", "into", "target", default="")
        return v


class Outline(_Loose):
    title: str = Field(min_length=3)
    summary: str = ""
    checklist: list[str] = []
    time_to_complete: str = ""
    difficulty: str = ""
    stack: list[str] = []
    steps: list[Step] = []
    files: list[FileSpec] = []
    identifiers: dict[str, str] = {}
    ports: dict[str, int] = {}
    services: list[str] = []
    containers: list[Container] = []
    env: dict[str, str] = {}
    commands: dict[str, str] = {}
    test_output: list[str] = []
    criteria: dict[str, str] = {}
    extra_sections: list[ExtraSection] = []
    companies: list[Company] = []
    sections: dict[str, str] = {}
    mapping: dict[str, list[int]] = {}
    blocks: dict[int, BlockPlan] = {}

    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        v = dict(v)
        aliases = {
            "test_output": ("printed_lines", "test_prints", "expected_output", "expected_output_lines", "output_lines", "test_script_output"),
            "env": ("env_vars", "environment", "environment_variables", "envs"),
            "extra_sections": ("additional_sections", "extras"),
            "criteria": ("success_criteria", "criteria_sections", "coverage"),
            "blocks": ("block_map", "code_blocks", "source_blocks"),
            "stack": ("tech_stack", "technologies"),
            "time_to_complete": ("time",),
        }
        for key, alts in aliases.items():
            if key not in v:
                for a in alts:
                    if a in v:
                        v[key] = v.pop(a)
                        break
        return v

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, v: Any) -> str:
        return _text(v).strip().lstrip("#").strip()

    @field_validator("summary", "time_to_complete", "difficulty", mode="before")
    @classmethod
    def _plain(cls, v: Any) -> str:
        return _text(v)

    @field_validator("checklist", "services", "stack", mode="before")
    @classmethod
    def _names(cls, v: Any) -> list[str]:
        if isinstance(v, dict):
            return [f"{k} {x}".strip() if isinstance(x, (str, int, float)) and not isinstance(x, bool) and x != "" and x is not True else str(k) for k, x in v.items()]
        out = []
        for x in _as_list(v):
            if isinstance(x, dict):
                out.append(_text(_first(x, "name", "service", "title", "text", default=x)))
            else:
                out.append(_text(x))
        return [s for s in out if s]

    @field_validator("test_output", mode="before")
    @classmethod
    def _lines(cls, v: Any) -> list[str]:
        if isinstance(v, str):
            return [ln for ln in v.splitlines() if ln.strip()]
        if isinstance(v, dict):
            return [ln for x in v.values() for ln in (x if isinstance(x, list) else str(x).splitlines())]
        return [_text(x) for x in _as_list(v)]

    @field_validator("identifiers", "env", "commands", "sections", "criteria", mode="before")
    @classmethod
    def _named(cls, v: Any) -> dict[str, str]:
        """A {name: meaning} map, or a list of names, `NAME=value` strings or objects."""
        if isinstance(v, dict):
            return {str(k): _text(x) for k, x in v.items()}
        out: dict[str, str] = {}
        for i, x in enumerate(_as_list(v), 1):
            if isinstance(x, dict):
                keys = [k for k in x if k not in ("meaning", "description", "purpose", "value", "command", "section", "covers", "summary")]
                name = _text(_first(x, "name", "id", "criterion", "purpose", "key", default=x[keys[0]] if keys else i))
                out[name] = _text(_first(x, "meaning", "description", "value", "command", "section", "summary", "covers", default=""))
            else:
                s = _text(x)
                m = re.match(r"^\s*([\w.-]+)\s*[=:]\s*(.+)$", s)
                if m and not s.strip().startswith(("docker", "node", "npm", "python", "psql", "curl")):
                    out[m.group(1)] = m.group(2).strip()
                else:
                    out[s] = ""
        return out

    @field_validator("ports", mode="before")
    @classmethod
    def _ports(cls, v: Any) -> dict[str, int]:
        """{service: port}, a list of numbers, "host:container" strings or objects."""
        out: dict[str, int] = {}
        if isinstance(v, dict):
            items = list(v.items())
        else:
            items = []
            for x in _as_list(v):
                if isinstance(x, dict):
                    items.append((_text(_first(x, "service", "name", default="")), _first(x, "port", "host", "published", default=None)))
                else:
                    items.append(("", x))
        for name, p in items:
            if isinstance(p, dict):
                p = _first(p, "port", "host", "published")
            port = _port_number(p)
            if port is None:
                if isinstance(p, (list, tuple)) and p:
                    port = _port_number(p[0])
                if port is None:
                    raise ValueError(f"port {p!r} of {name or 'a service'} is not a number")
            out[str(name) or str(port)] = port
        return out

    @field_validator("files", mode="before")
    @classmethod
    def _files(cls, v: Any) -> list[Any]:
        return _files(v)

    @field_validator("steps", "companies", "containers", "extra_sections", mode="before")
    @classmethod
    def _objects(cls, v: Any) -> list[Any]:
        """A list of objects, or a map keyed by the first field (name, number, heading)."""
        if isinstance(v, dict):
            out = []
            for i, (k, x) in enumerate(v.items(), 1):
                if isinstance(x, dict):
                    d = dict(x)
                    if re.fullmatch(r"\s*(?:step\s*)?\d+\s*", str(k), re.I):
                        d.setdefault("number", int(re.sub(r"\D", "", str(k))))
                    else:
                        d.setdefault("name", k)
                        d.setdefault("title", k)
                        d.setdefault("heading", k)
                    out.append(d)
                else:
                    out.append({"name": k, "title": k, "heading": k, "number": i, "fact": _text(x), "summary": _text(x), "image": _text(x)})
            return out
        return _as_list(v)

    @field_validator("mapping", mode="before")
    @classmethod
    def _mapping(cls, v: Any) -> dict[str, list[int]]:
        if isinstance(v, list):
            v = {_text(_first(x, "section", "id", "target", default="")): _first(x, "sources", "source", default=[]) for x in v if isinstance(x, dict)}
        if not isinstance(v, dict):
            return {}
        out: dict[str, list[int]] = {}
        for k, x in v.items():
            nums = [int(n) for n in re.findall(r"\d+", _text(x) if not isinstance(x, int) else str(x))]
            out[str(k)] = nums
        return out

    @field_validator("blocks", mode="before")
    @classmethod
    def _blocks(cls, v: Any) -> dict[int, Any]:
        if isinstance(v, list):
            out: dict[int, Any] = {}
            for i, x in enumerate(v):
                if isinstance(x, dict) and _first(x, "block", "index", "source", "id") is not None:
                    k = _first(x, "block", "index", "source", "id")
                    out[int(re.sub(r"\D", "", str(k)) or i)] = {kk: vv for kk, vv in x.items() if kk not in ("block", "index", "source", "id")}
                else:
                    out[i] = x
            return out
        if isinstance(v, dict):
            return {int(re.sub(r"\D", "", str(k)) or -1): x for k, x in v.items()}
        return {}

    @field_validator("steps")
    @classmethod
    def _numbered(cls, v: list[Step]) -> list[Step]:
        # Renumber 1..N so the assembled build has no gaps whatever the model wrote.
        ordered = sorted(enumerate(v), key=lambda p: (p[1].number or p[0] + 1, p[0]))
        return [s.model_copy(update={"number": i}) for i, (_, s) in enumerate(ordered, 1)]

    def all_files(self) -> list[FileSpec]:
        """The project's files: the top-level list, then any a step names that it lacks."""
        seen = {f.path for f in self.files}
        out = list(self.files)
        for s in self.steps:
            for f in s.files:
                if f.path not in seen:
                    seen.add(f.path)
                    out.append(f.model_copy(update={"step": s.number}))
        return out


def parse_outline(text: str) -> Outline:
    """The JSON object in a reply (tolerating a ```json fence or stray prose around it)."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("the reply contains no JSON object")
    try:
        data = json.loads(text[start : end + 1])
    except json.JSONDecodeError as exc:
        raise ValueError(f"the JSON does not parse: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("the reply is not a JSON object")
    return Outline.model_validate(data)


def outline_error(exc: Exception) -> str:
    """A validation error as the model should read it: field path and problem, one per line."""
    if isinstance(exc, ValidationError):
        return "\n".join(f"- {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in exc.errors()[:12])
    return f"- {exc}"


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
    # Extra per-unit checks, reported in the repair round with the unit's other findings.
    unit_check: Callable[[Unit], list[Finding]] | None = None
    target_lines: int | None = None  # the document's length (default: the guide's target)
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
        """What `check` reports as errors: these keep a draft from being written."""
        return [f for f in self.findings if f.severity >= Severity.ERROR and not f.rule.startswith("project-")]

    @property
    def project(self) -> list[Finding]:
        """What `extract --check` and the Expected Output comparison still report after repair."""
        return [f for f in self.findings if f.rule.startswith("project-")]


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
        self._last_try = threading.local()
        self.shape = reference_shape(guide, reference)
        self.system = [Block(prompts.render(ws, "system.j2", guide=guide, rules=guide.section_rules), cache=True)]

    # -- prompts -------------------------------------------------------------------------

    def prefix(self, job: Job) -> list[Block]:
        blocks = []
        if self.reference:
            blocks.append(Block("<reference_example>\nA document in this style that the author accepted; match its depth, tone and formatting.\n\n" + self.reference + "\n</reference_example>", cache=True))
        blocks.append(Block(job.context_block, cache=True))
        return blocks

    def request(self, job: Job, task: str, label: str, max_tokens: int | None = None, context: list[Block] | None = None) -> Request:
        """`context`: blocks every unit of the document shares after the prefix (the outline,
        the built code); the last one carries the cache breakpoint."""
        return Request(
            system=self.system,
            user=[*self.prefix(job), *(context or []), Block(task)],
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
        # On a unit's last try, a failure fails the document before the call's slot is freed,
        # so no other call of the document starts in between.
        return self.runner.call(job.document, request, job.failed, fail_document=getattr(self._last_try, "on", False))

    # -- the whole flow ----------------------------------------------------------------------

    def outline(self, job: Job) -> Outline:
        """The outline; an invalid reply gets one repair call with the validation errors."""
        task = job.outline_prompt
        last_error = ""
        problems = ""
        for attempt in range(2):
            text = self.call(job, self.request(job, task + last_error, "outline" if not attempt else "outline-repair", max_tokens=min(self.max_tokens, 8192)))
            try:
                outline = parse_outline(text)
            except (ValueError, ValidationError) as exc:
                problems = outline_error(exc)
                last_error = (f"\n\nYour previous reply could not be used:\n{problems}\n\n<previous>\n{text[:6000]}\n</previous>\n\n"
                              "Reply with the corrected JSON object only.")
                continue
            if job.title_prefix and job.title_prefix.lower() not in outline.title.lower():
                rest = re.sub(r"^[^:]*#\d+\s*:\s*", "", outline.title)
                outline.title = f"{job.title_prefix}: {rest}"
            return outline
        raise ProviderError(f"the outline for {job.document} was not valid after one repair; nothing was written:\n{problems}", hint="try again, or another --model")

    def run(self, job: Job) -> Result:
        self.on_event("doc_start", document=job.document)
        outline = self.outline(job)
        units = (job.build_units or (lambda o: default_units(self.guide, o)))(outline)
        apply_budgets(self.guide, units, job.target_lines, self.shape)
        self.on_event("units", document=job.document, count=len(units))
        outline_json = outline.model_dump_json(indent=1, exclude_defaults=True)
        outline_block = Block("<outline>\nThe outline everyone writing this document follows:\n\n" + outline_json + "\n</outline>", cache=True)
        srule = steps_rule(self.guide)
        build_heading = srule.headings[0] if srule is not None else ""
        code_rule = next((e.min for e in (srule.elements if srule else []) if e.type == "code"), 0)
        n_steps = sum(1 for u in units if u.step is not None)
        separators = self.shape.separators
        code_view: dict[str, str] = {"text": ""}

        def context(unit: Unit) -> list[Block]:
            # Sections that describe the code see it: the outline, then the files as built.
            if describes_code(unit) and code_view["text"]:
                return [Block(outline_block.text), Block("<built_code>\nThe project as the build section writes it (file by file):\n\n" + code_view["text"] + "</built_code>", cache=True)]
            return [outline_block]

        def write(unit: Unit) -> None:
            task = prompts.render(
                self.ws, "section.j2", unit=unit, outline=outline, heading=unit.heading.lstrip("# "), build_heading=build_heading,
                rule=_rule(self.guide, unit.rule_id), target_lines=unit.target_lines, sources=unit.sources,
                code_blocks=unit.code_blocks, facts=unit.facts, extra="", describes=describes_code(unit),
                has_code=bool(code_view["text"]), n_steps=n_steps, code_min=code_rule, kind=job.kind,
                section_kind=section_kind(unit), covered=criteria_for(outline, unit),
            )
            unit.text = clean_unit(self.call(job, self.request(job, task, f"section:{unit.key}", context=context(unit))), unit)

        def repair(unit: Unit) -> None:
            task = prompts.render(self.ws, "repair.j2", heading=unit.heading.lstrip("# "), text=unit.text, findings=unit.findings,
                                  describes=describes_code(unit) and bool(code_view["text"]))
            unit.text = clean_unit(self.call(job, self.request(job, task, f"repair:{unit.key}", context=context(unit))), unit)

        # The build and the sections that do not depend on it first; then the sections that
        # say what the code does (Run It, Expected Output, Cleanup …) with the built code.
        # They start as soon as the steps are done, while the other sections may still stream.
        later = [u for u in units if describes_code(u)]
        build = [u for u in units if u.step is not None]
        others = [u for u in units if u not in later and u.step is None]

        def build_then_describe() -> None:
            self._parallel(job, write, build)
            if later:
                code_view["text"] = built_code(assemble(self.guide, outline, build, separators)[0])
                self._parallel(job, write, later)

        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="phase") as phases:
            futures = [phases.submit(build_then_describe), phases.submit(self._parallel, job, write, others)]
            failures = []
            for fut in futures:
                try:
                    fut.result()
                except BaseException as exc:
                    job.failed.set()
                    failures.append(exc)
        if failures:
            raise next((e for e in failures if not isinstance(e, Cancelled)), failures[0])
        text, spans = assemble(self.guide, outline, units, separators)
        findings = self.check(job, text) + project_findings(self.guide, text, job.document, units, spans, outline)
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
            # Code first, so a describing section is repaired against the code as fixed.
            code_todo = [u for u in todo if not describes_code(u)]
            self._parallel(job, repair, code_todo)
            if later:
                code_view["text"] = built_code(assemble(self.guide, outline, build, separators)[0])
            self._parallel(job, repair, [u for u in todo if describes_code(u)])
            text, spans = assemble(self.guide, outline, units, separators)
            findings = self.check(job, text) + project_findings(self.guide, text, job.document, units, spans, outline)
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
            rule = _rule(self.guide, u.rule_id)
            for attempt in (1, 2):
                self._last_try.on = attempt == 2 and (rule is None or rule.required) and not u.text.strip()
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
        unit.text = f"{unit.heading}\n\n<!-- TODO: this section could not be written: {reason} -->\n"
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


# Sections that describe what the built code does: written after the build, from its code.
_DESCRIBES_CODE = re.compile(r"\b(?:run it|running|expected|sample output|output|test it|testing|clean ?up|tear ?down|benchmark|performance|results?|verify|try it)\b", re.I)


def describes_code(unit: Unit) -> bool:
    return unit.step is None and bool(_DESCRIBES_CODE.search(unit.heading.lstrip("# ")))


def section_kind(unit: Unit) -> str:
    h = unit.heading.lstrip("# ")
    if re.search(r"expected|sample output|\boutput\b", h, re.I):
        return "expected"
    if re.search(r"clean ?up|tear ?down", h, re.I):
        return "cleanup"
    if re.search(r"\brun\b|running", h, re.I):
        return "run"
    return ""


def criteria_for(outline: Outline, unit: Unit) -> list[str]:
    """The plan's success criteria the outline gives to this unit (by section id, heading or step)."""
    h = _norm_heading(unit.heading.lstrip("# "))
    out = []
    for criterion, where in outline.criteria.items():
        w = _norm_heading(where)
        if not w:
            continue
        if w == _norm_heading(unit.rule_id) or w in h or (h and h in w) or (unit.step is not None and re.search(rf"\bstep {unit.step.number}\b", w)):
            out.append(criterion)
    return out


def _norm_heading(text: str) -> str:
    text = re.sub(r"[^\w\s'’]", " ", text.lower()).replace("’", "'")
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class Shape:
    """What the reference example says about a document's shape."""

    shares: dict[str, float] = field(default_factory=dict)  # rule id / extra heading → share of lines
    separators: bool = False  # `---` between top-level sections
    headings: list[str] = field(default_factory=list)  # its top-level headings, in order


# Shares of a tutorial's lines when no reference says otherwise (the author's POCs put about
# half of a page into the build).
_DEFAULT_SHARES = {
    "what-youll-build": 0.03, "why-this-matters": 0.06, "the-problem": 0.05, "step-by-step": 0.52,
    "run-it": 0.03, "expected-output": 0.07, "real-world": 0.05, "summary": 0.05, "extend-it": 0.05,
    "related": 0.01, "cleanup": 0.01, "next-steps": 0.01,
}


def reference_shape(guide: "StyleGuide", reference: str | None) -> Shape:
    if not reference:
        return Shape()
    from authorkit.document import parse

    doc = parse(reference)
    level = guide.section_level
    tops = [h for h in doc.headings if h.level == level]
    if not tops:
        return Shape()
    mask = doc.code_line_mask()
    seps = sum(1 for i, ln in enumerate(doc.lines) if ln.strip() == "---" and not mask[i])
    total = max(1, len(doc.lines) - tops[0].line + 1)
    shares: dict[str, float] = {}
    for k, h in enumerate(tops):
        end = tops[k + 1].line if k + 1 < len(tops) else len(doc.lines) + 1
        n = h.norm if hasattr(h, "norm") else h.text
        key = _norm_heading(n)
        rule = next((r for r in guide.section_rules if any(_norm_heading(x) == key for x in r.headings)), None)
        name = rule.id if rule is not None else key
        shares[name] = shares.get(name, 0.0) + (end - h.line) / total
    return Shape(shares, seps >= max(2, len(tops) // 2), [_norm_heading(h.text) for h in tops])


def default_units(guide: "StyleGuide", outline: Outline, target: int | None = None) -> list[Unit]:
    """One unit per section of the guide; the build is split into one unit per step, all
    written against the outline's file names and identifiers so the code stays consistent.
    Extra sections the outline plans (Test It, Performance Benchmarks) follow Expected Output.
    Line budgets are set by `apply_budgets`."""
    rules = guide.section_rules
    srule = steps_rule(guide)
    n_steps = len(outline.steps) if srule is not None else 0
    units: list[Unit] = []
    for r in rules:
        heading = "#" * r.level + " " + r.headings[0]
        if r is srule and n_steps:
            for s in outline.steps:
                units.append(Unit(f"{r.id}/step-{s.number}", r.id, f"### Step {s.number}: {s.title}", step=s))
        else:
            units.append(Unit(r.id, r.id, heading))
    known = {_norm_heading(h) for r in rules for h in r.headings}
    extras = [x for x in outline.extra_sections if _norm_heading(x.heading) not in known]
    if extras:
        anchor = max((i for i, u in enumerate(units) if u.rule_id in ("run-it", "expected-output")), default=None)
        if anchor is None:
            anchor = max((i for i, u in enumerate(units) if u.step is not None), default=len(units) - 1)
        level = guide.section_level
        for k, x in enumerate(extras, 1):
            slug = re.sub(r"\W+", "-", _norm_heading(x.heading)).strip("-") or f"extra-{k}"
            units.insert(anchor + k, Unit(f"extra/{slug}", f"extra/{slug}", "#" * level + " " + x.heading))
    return units


def apply_budgets(guide: "StyleGuide", units: list[Unit], target: int | None, shape: Shape | None = None) -> None:
    """Line budgets in proportion to the reference's sections (else the defaults), scaled to
    the document target; the build's share is split across steps by the files they create."""
    if target is None:
        target = (guide.lines.target or guide.lines.min or 0) if guide.lines else 0
    if not target:
        return
    shares = dict(_DEFAULT_SHARES)
    if shape is not None and shape.shares:
        shares = dict(shape.shares)
    srule = steps_rule(guide)
    wanted: dict[str, float] = {}
    for u in units:
        if u.rule_id in wanted:
            continue
        key = u.rule_id
        if key.startswith("extra/"):
            key = _norm_heading(u.heading.lstrip("# "))
        wanted[u.rule_id] = shares.get(key, 0.50 if srule is not None and u.rule_id == srule.id else 0.04 if not key.startswith(("related", "cleanup", "next")) else 0.01)
    total = sum(wanted.values()) or 1.0
    for rid, share in wanted.items():
        lines = target * share / total
        group = [u for u in units if u.rule_id == rid]
        weights = [max(1, len(u.step.files)) if u.step is not None else 1 for u in group]
        for u, w in zip(group, weights):
            u.target_lines = max(4 if u.step is None else 12, int(lines * w / sum(weights)))


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
    # The assembler puts the `---` between sections; a unit's own trailing rule would double it.
    while lines and lines[-1].strip() in ("---", "***", ""):
        lines.pop()
    return "\n".join(lines).rstrip() + "\n"


def assemble(guide: "StyleGuide", outline: Outline, units: list[Unit], separators: bool = False) -> tuple[str, dict[str, tuple[int, int]]]:
    """The document in the guide's order, and each unit's (first, last) line in it.
    With `separators`, a `---` line stands between top-level sections (as the reference has)."""
    out: list[str] = [f"# {outline.title}", ""]
    spans: dict[str, tuple[int, int]] = {}
    srule = steps_rule(guide)
    current_rule = None
    for k, u in enumerate(units):
        new_section = u.step is None or current_rule != u.rule_id
        if separators and k and new_section:
            out += ["---", ""]
        if u.step is not None and current_rule != u.rule_id and srule is not None:
            out += ["#" * srule.level + " " + srule.headings[0], ""]
            spans[u.rule_id] = (len(out) - 1, len(out) - 1)
        current_rule = u.rule_id
        start = len(out) + 1
        body = u.text.rstrip("\n").splitlines()
        out += body + [""]
        spans[u.key] = (start, start + len(body) - 1)
    return "\n".join(out).rstrip() + "\n", spans


def _unit_at(line: int, units: list[Unit], spans: dict[str, tuple[int, int]]) -> Unit | None:
    by_key = {u.key: u for u in units}
    for key, (a, b) in spans.items():
        if a <= line <= b and key in by_key:
            return by_key[key]
    return None


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
        owner = f.extra.get("unit") if f.extra else None
        if owner:
            targets = [u for u in units if u.key == owner or (owner == "steps" and u.step is not None)]
        elif f.rule == "section-missing":
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
            if f not in u.findings:
                u.findings.append(f)
    return [u for u in units if u.findings]


# --- the project the document builds ----------------------------------------------------------


def built_code(text: str, limit: int = 60_000) -> str:
    """The files the build sections create (as `extract` reads them) and the commands they run,
    for the sections that describe them."""
    from authorkit.document import parse
    from authorkit.extract import EXPECTED_OUTPUT, SETUP_SCRIPT, plan_extract

    res = plan_extract(parse(text))
    parts = []
    for name, f in res.files.items():
        if name in (EXPECTED_OUTPUT, SETUP_SCRIPT):
            continue
        parts.append(f"=== {name} ===\n{f.text.rstrip()}\n")
    if res.commands:
        parts.append("=== commands the build runs ===\n" + "\n".join(c.rstrip() for _, c in res.commands) + "\n")
    out = "\n".join(parts)
    if len(out) > limit:
        out = out[:limit] + "\n… (cut)\n"
    return out


def project_findings(guide: "StyleGuide", text: str, document: str, units: list[Unit], spans: dict[str, tuple[int, int]], outline: Outline | None) -> list[Finding]:
    """What `extract --check` would report, placeholders in runnable code, and Expected Output
    lines the programs do not print, as findings aimed at the unit that can fix each."""
    if steps_rule(guide) is None:
        return []
    import tempfile
    from pathlib import Path

    from authorkit.document import parse
    from authorkit.extract import check_tree, placeholder_issues, plan_extract

    doc = parse(text)
    res = plan_extract(doc)
    issues = [i for i in res.issues if i.kind in ("unnamed", "missing-file", "conflict", "unsafe-path")]
    with tempfile.TemporaryDirectory(prefix="authorkit-check-") as tmp:
        issues += [i for i in check_tree(res, Path(tmp) / "project") if i.kind == "cross-file"]
    issues += placeholder_issues(res)
    issues += res.output_issues
    step_units = [u for u in units if u.step is not None]
    expected_unit = next((u for u in units if re.search(r"expected|sample output", u.heading, re.I)), None)
    out: list[Finding] = []
    for i in issues:
        where = f" [{i.file}{':' + str(i.file_line) if i.file_line else ''}]" if i.file else ""
        unit = _unit_at(i.line, units, spans)
        if i.kind == "missing-file":
            # The file belongs to the step the outline gives it to.
            m = re.search(r"needs `([^`]+)`", i.message)
            owner = next((u for u in step_units if m and m.group(1) in u.step.file_names), None)  # type: ignore[union-attr]
            unit = owner or unit
        if i.kind == "expected-output" and expected_unit is not None and (unit is None or unit.step is not None):
            unit = expected_unit
        hint = {
            "unnamed": "name the file on the line before the block (Create `cache.js`:) or in a first-line comment (`// cache.js`)",
            "missing-file": "add a block that creates it, or change the command to use a file the build creates",
            "cross-file": "make the file names, paths and ports agree across the files",
            "placeholder": "write the code out in full",
            "expected-output": "copy the headers and labels from the test script's print calls",
        }.get(i.kind)
        out.append(Finding(f"project-{i.kind}", Severity.ERROR, i.line, i.message + where, hint, path=document,
                           extra={"unit": unit.key} if unit is not None else {}))
    return out


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
    if not ws.config.draft.reference:
        # Without an accepted example the model sees no house voice, and the cached prefix is
        # near the caching minimum.
        out("warning: no reference example is configured (draft.reference in authorkit.toml); "
            "the draft will not follow an accepted page's depth, tone and shape. Set it to a page you accepted.")
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
    for f in result.project:
        out(f"  warning: {f.path}:{f.line}: {f.rule}: {f.message}")
    return result
