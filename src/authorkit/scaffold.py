"""The offline scaffold: a style guide's skeleton filled from a plan item, no model involved.

Every required section appears in the guide's order with the structural elements the guide
asks for (✅ checklist, labelled lines, a Company table, `Step N` subsections, code fences),
each holding a `TODO` where prose or code must go. `authorkit check` therefore reports the
TODOs as placeholder errors and no missing structure. The text itself comes from the jinja2
template `prompts/scaffold.md.j2`, which a workspace may override.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from authorkit.nav import title_case
from authorkit.plan import KIND_LABEL, PlanItem
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

TEMPLATE = "scaffold.md.j2"

# How a comment is written in each language, so a TODO inside a code block stays valid code.
_COMMENT = {
    "javascript": "//", "js": "//", "typescript": "//", "ts": "//", "java": "//", "go": "//", "c": "//",
    "cpp": "//", "csharp": "//", "rust": "//", "kotlin": "//", "scala": "//", "swift": "//", "php": "//",
    "bash": "#", "sh": "#", "shell": "#", "zsh": "#", "python": "#", "py": "#", "yaml": "#", "yml": "#",
    "dockerfile": "#", "ruby": "#", "toml": "#", "ini": ";", "sql": "--", "lua": "--", "mermaid": "%%",
}
DEFAULT_CODE_LANG = {"poc": "javascript", "article": "javascript", "problem": "javascript"}


@dataclass
class CodeStub:
    lang: str
    body: str


@dataclass
class StepStub:
    number: int
    heading: str
    code: CodeStub


@dataclass
class SectionStub:
    id: str
    heading: str
    level: int
    hint: str | None
    checklists: list[tuple[str, int]] = field(default_factory=list)  # (marker, items)
    fields: list[str] = field(default_factory=list)
    tables: list[tuple[str, int]] = field(default_factory=list)  # (column, rows)
    metrics_tables: int = 0
    mermaid: int = 0
    steps: list[StepStub] = field(default_factory=list)
    step_level: int = 3
    code: list[CodeStub] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)  # regex elements, described


def heading_for(item: PlanItem) -> str:
    title = title_case(item.title) if item.title else "TODO title"
    if item.kind == "poc" and item.number is not None:
        return f"POC #{item.number}: {title}"
    if item.number is not None:
        return f"{KIND_LABEL[item.kind]} #{item.number}: {title}"
    return title


def _code(lang: str, what: str) -> CodeStub:
    mark = _COMMENT.get(lang.lower())
    body = f"{mark} TODO: {what}" if mark else f"TODO: {what}"
    return CodeStub(lang, body)


def _section_stub(rule: Any, item: PlanItem, index: int) -> SectionStub:
    stub = SectionStub(rule.id, rule.headings[0], rule.level, rule.hint, step_level=min(rule.level + 1, 6))
    lang = DEFAULT_CODE_LANG.get(item.kind, "javascript")
    code_need: list[tuple[int, list[str], str | None]] = []
    for el in rule.elements:
        if el.scope == "document":
            continue
        _apply(stub, el, code_need)
    steps = next((el for el in rule.elements if isinstance(el, StepsElement)), None)
    if steps is not None:
        langs = next((e.languages for e in rule.elements if isinstance(e, CodeElement) and e.languages), [])
        step_lang = langs[0] if langs else lang
        for n in range(1, steps.min + 1):
            if n == 1 and item.kind == "poc" and not langs:
                # A runnable POC starts with its services; the Compose file is step 1.
                code = CodeStub("yaml", "# docker-compose.yml\nservices:\n  # TODO: one entry per service this POC runs\n  app:\n    build: .")
            else:
                code = _code(step_lang, f"complete, runnable code for step {n}")
            stub.steps.append(StepStub(n, "TODO", code))
    # Code blocks the steps did not already provide.
    for minimum, langs, contains in code_need:
        have = sum(1 for s in stub.steps if not langs or s.code.lang in langs) if not contains else 0
        for _ in range(max(0, minimum - have)):
            stub.code.append(_code(langs[0] if langs else lang, "complete, runnable code"))
    return stub


def _apply(stub: SectionStub, el: Any, code_need: list[tuple[int, list[str], str | None]]) -> None:
    if isinstance(el, ChecklistElement):
        stub.checklists.append((el.marker, el.min))
    elif isinstance(el, FieldElement):
        stub.fields.append(el.label)
    elif isinstance(el, TableElement):
        stub.tables.append((el.column or "Name", max(el.min_rows, 1)))
    elif isinstance(el, MetricsTableElement):
        stub.metrics_tables += 1
    elif isinstance(el, MermaidElement):
        stub.mermaid = max(stub.mermaid, el.min)
    elif isinstance(el, CodeElement):
        code_need.append((el.min, list(el.languages), el.contains))
    elif isinstance(el, RegexElement) and el.must:
        stub.requirements.append(el.message or f"text matching /{el.pattern}/")


def build_sections(guide: StyleGuide, item: PlanItem) -> tuple[list[SectionStub], SectionStub]:
    """The required sections in order, plus a stub for document-level elements."""
    sections = [_section_stub(rule, item, i) for i, rule in enumerate(guide.section_rules) if rule.required]
    doc = SectionStub("document", "", guide.section_level, None)
    need: list[tuple[int, list[str], str | None]] = []
    for el in guide.elements:
        _apply(doc, el, need)
    lang = DEFAULT_CODE_LANG.get(item.kind, "javascript")
    present = sum(len(s.steps) + len(s.code) for s in sections)
    for minimum, langs, _ in need:
        for _ in range(max(0, minimum - present)):
            doc.code.append(_code(langs[0] if langs else lang, "complete, runnable code"))
    if item.kind == "poc" and any(s.steps and s.steps[0].code.lang == "yaml" for s in sections):
        # The Compose file in step 1 already satisfies a "has a Docker setup" rule.
        doc.requirements = [r for r in doc.requirements if "docker" not in r.lower()]
    return sections, doc


def _comment_safe(text: Any) -> str:
    """Text that can sit inside an HTML comment (no `--`, no `>` closing it early)."""
    return re.sub(r"-{2,}", "–", str(text)).replace(">", "›")


def render_scaffold(item: PlanItem, guide: StyleGuide, ws: Any, context: dict[str, Any]) -> str:
    """Render the scaffold for `item` in `guide`'s format (see prompts/scaffold.md.j2)."""
    from authorkit.prompts import render

    sections, doc = build_sections(guide, item)
    text = render(
        ws,
        TEMPLATE,
        item=item,
        heading=heading_for(item),
        guide=guide,
        sections=sections,
        doc=doc,
        context=context,
        criteria=[_comment_safe(c) for c in context.get("criteria", [])],
        siblings=[_comment_safe(s) for s in context.get("siblings", [])],
        related=[_comment_safe(s) for s in context.get("related", [])],
        safe=_comment_safe,
    )
    # The template favours readability over whitespace control; collapse runs of blank lines.
    return re.sub(r"\n{3,}", "\n\n", text)
