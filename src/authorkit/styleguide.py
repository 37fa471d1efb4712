"""Style guides are data: `style_guides/*.yaml` loaded into pydantic models.

Built-in guides ship with the package; a workspace's own `style_guides/` adds new ones or
overrides a built-in of the same name. An invalid guide is rejected with the file, the line
and the field path (YAML node positions are mapped back from pydantic's error locations).
"""

from __future__ import annotations

import hashlib
import re
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from authorkit.errors import StyleGuideError

SeverityName = Literal["error", "warning", "info"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_regex(v: str | None) -> str | None:
    if v is not None:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
    return v


class _Element(_Strict):
    severity: SeverityName = "error"
    message: str | None = None  # what `check` reports when the element is missing
    instruction: str | None = None  # what a writer is told to include (prompts)
    scope: Literal["section", "document"] = "section"


class ChecklistElement(_Element):
    """A list of at least `min` items that start with the marker (✅ by default)."""

    type: Literal["checklist"]
    min: int = Field(default=3, ge=1)
    marker: str = "✅"


class FieldElement(_Element):
    """A labelled line such as `**Time to complete**: 20 minutes`."""

    type: Literal["field"]
    label: str
    value_pattern: str | None = None

    _v = field_validator("value_pattern")(_check_regex)


class TableElement(_Element):
    """A table whose header has `column` (case-insensitive) and at least `min_rows` rows."""

    type: Literal["table"]
    column: str | None = None
    min_rows: int = Field(default=1, ge=0)


class CodeElement(_Element):
    """At least `min` fenced code blocks, optionally of given languages / containing text."""

    type: Literal["code"]
    min: int = Field(default=1, ge=0)
    languages: list[str] = []
    contains: str | None = None

    _v = field_validator("contains")(_check_regex)


class StepsElement(_Element):
    """Numbered `Step N` subsections, at least `min`, numbered 1..N without gaps."""

    type: Literal["steps"]
    min: int = Field(default=3, ge=1)


class MermaidElement(_Element):
    type: Literal["mermaid"]
    min: int = Field(default=1, ge=1)


class MetricsTableElement(_Element):
    """A before/after table: a header naming both sides (Before/After, Without/With, …)."""

    type: Literal["metrics_table"]


class RegexElement(_Element):
    """A pattern that must (or must not) appear in the section's text."""

    type: Literal["regex"]
    pattern: str
    must: bool = True
    flags: str = "im"

    _v = field_validator("pattern")(_check_regex)


Element = Annotated[
    Union[
        ChecklistElement,
        FieldElement,
        TableElement,
        CodeElement,
        StepsElement,
        MermaidElement,
        MetricsTableElement,
        RegexElement,
    ],
    Field(discriminator="type"),
]


class LineRange(_Strict):
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)


class SectionRule(_Strict):
    id: str
    headings: list[str] = Field(min_length=1)
    patterns: list[str] = []  # regexes on the normalised heading, for variable headings
    level: int = Field(default=2, ge=1, le=6)
    required: bool = True
    ordered: bool = True  # take part in order checks
    repeat: bool = False
    lines: LineRange | None = None
    elements: list[Element] = []
    # How code blocks here are treated by the code checks: "strict" must run (every error is
    # an error), "illustrative" shows code (a block that does not parse is info), "sketch"
    # may elide (Extend It ideas), "problem" holds deliberate bad examples, "output" is not
    # code. Unset: the guide's `code_default`.
    code: Literal["strict", "illustrative", "sketch", "problem", "output"] | None = None
    hint: str | None = None

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, v: list[str]) -> list[str]:
        for p in v:
            _check_regex(p)
        return v


class ForbiddenSection(_Strict):
    id: str
    headings: list[str] = []
    patterns: list[str] = []
    level: int | None = None  # None: any level
    severity: SeverityName = "error"
    message: str | None = None

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, v: list[str]) -> list[str]:
        for p in v:
            _check_regex(p)
        return v

    @model_validator(mode="after")
    def _some(self) -> "ForbiddenSection":
        if not self.headings and not self.patterns:
            raise ValueError("give at least one of `headings` or `patterns`")
        return self


class TitleRule(_Strict):
    required: bool = True
    pattern: str | None = None
    example: str | None = None

    _v = field_validator("pattern")(_check_regex)


class DocumentLines(_Strict):
    """Document length: below `min` is an error, above `target` info, above `max` a warning."""

    min: int | None = Field(default=None, ge=0)
    target: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> "DocumentLines":
        vals = [v for v in (self.min, self.target, self.max) if v is not None]
        if vals != sorted(vals):
            raise ValueError("must satisfy min <= target <= max")
        return self


class ReadingTime(_Strict):
    min: float | None = Field(default=None, ge=0)
    max: float | None = Field(default=None, ge=0)
    words_per_minute: int = Field(default=200, gt=0)
    severity: SeverityName = "warning"


OrderEntry = Union[SectionRule, Literal["*", "+", "?"]]


class StyleGuide(_Strict):
    name: str
    description: str = ""
    version: int = 1
    title: TitleRule = TitleRule()
    section_level: int = Field(default=2, ge=1, le=6)
    # Sections in order. Between two sections, "*" allows any number of unknown sections,
    # "+" at least one, "?" at most one (markdownlint MD043 wildcards). With
    # `allow_unknown_sections` unknown sections are allowed anywhere.
    sections: list[OrderEntry] = []
    allow_unknown_sections: bool = False
    forbidden: list[ForbiddenSection] = []
    elements: list[Element] = []  # document-level elements
    lines: DocumentLines | None = None
    reading_time: ReadingTime | None = None
    fuzzy_threshold: float = Field(default=0.86, ge=0.5, le=1.0)
    code_checks: bool = True
    # Code mode of sections without their own `code:` (and of text outside any section).
    code_default: Literal["strict", "illustrative"] = "strict"
    source: str = ""  # file it was loaded from (set by the loader)
    digest: str = ""  # content hash, part of the check cache key

    @cached_property
    def section_rules(self) -> list[SectionRule]:
        # Asked for every document; the guide's sections are not changed once loaded.
        return [s for s in self.sections if isinstance(s, SectionRule)]

    def with_lines(self, lines: dict[str, int | None] | None) -> "StyleGuide":
        if not lines:
            return self
        merged = (self.lines.model_dump() if self.lines else {}) | {k: v for k, v in lines.items() if v is not None}
        g = self.model_copy(update={"lines": DocumentLines.model_validate(merged)})
        g.digest = hashlib.sha1((self.digest + repr(sorted(merged.items()))).encode()).hexdigest()[:16]
        return g


# --- loading -----------------------------------------------------------------------------


def builtin_dir() -> Path:
    """Style guides shipped with the package."""
    from authorkit.resources import data_dir

    return data_dir("style_guides")


def _node_at(node: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """Follow a pydantic error location through the YAML node tree, as far as it goes."""
    best = node
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if k.value == str(part):
                    nxt = v
                    break
            if nxt is None:
                # Unknown key ("extra forbidden") or a union tag: stay on this node.
                if isinstance(part, str) and part in {k.value for k, _ in node.value}:
                    continue
                continue
            node = best = nxt
        elif isinstance(node, yaml.SequenceNode):
            if isinstance(part, int) and part < len(node.value):
                node = best = node.value[part]
            else:
                continue
        else:
            break
    return best


def _key_node(node: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """For an extra key, the key node itself is the most useful position."""
    if loc and isinstance(node, yaml.MappingNode):
        for k, _ in node.value:
            if k.value == str(loc[-1]):
                return k
    return None


def parse_guide(text: str, source: str) -> StyleGuide:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise StyleGuideError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            path=source,
            line=mark.line + 1 if mark else None,
            hint="fix the YAML syntax (indentation, quotes around strings with ':' or '#')",
        ) from None
    if not isinstance(data, dict):
        raise StyleGuideError("a style guide must be a mapping with at least `name` and `sections`", path=source, line=1)
    try:
        guide = StyleGuide.model_validate(data)
    except ValidationError as exc:
        # Node positions are only needed to report the error, so compose only then.
        root = yaml.compose(text, Loader=loader)
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        # Drop pydantic's union tags (e.g. 'SectionRule', 'checklist') from the path shown.
        shown = [str(p) for p in loc if not (isinstance(p, str) and (p[:1].isupper() or p in _ELEMENT_TAGS or p.startswith("literal[")))]
        node = None
        if err["type"] == "extra_forbidden":
            parent = _node_at(root, tuple(p for p in loc[:-1]))
            node = _key_node(parent, loc)
        node = node or _node_at(root, loc)
        line = node.start_mark.line + 1 if node is not None else None
        raise StyleGuideError(
            f"invalid style guide at `{'.'.join(shown) or '(top)'}`: {err['msg']}",
            path=source,
            line=line,
            hint="see the README's style guide format section",
        ) from None
    guide.source = source
    guide.digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
    return guide


_ELEMENT_TAGS = {"checklist", "field", "table", "code", "steps", "mermaid", "metrics_table", "regex"}


def load_guide_file(path: Path) -> StyleGuide:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StyleGuideError(f"cannot read style guide: {exc}", path=path) from None
    return parse_guide(text, str(path))


@lru_cache(maxsize=32)
def _load_dir(directory: str, mtimes: tuple[tuple[str, float], ...]) -> dict[str, StyleGuide]:
    guides: dict[str, StyleGuide] = {}
    for name, _ in mtimes:
        g = load_guide_file(Path(directory) / name)
        guides[g.name] = g
    return guides


def _dir_guides(directory: Path) -> dict[str, StyleGuide]:
    if not directory.is_dir():
        return {}
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return _load_dir(str(directory), tuple((p.name, p.stat().st_mtime) for p in files))


def load_guides(workspace_dir: Path | None = None) -> dict[str, StyleGuide]:
    """Built-in guides, then the workspace's own (which add to or replace them)."""
    guides = dict(_dir_guides(builtin_dir()))
    if workspace_dir is not None and workspace_dir.resolve() != builtin_dir().resolve():
        guides.update(_dir_guides(workspace_dir))
    return guides


def workspace_guides(ws: Any) -> dict[str, StyleGuide]:
    """Every guide as the workspace uses it: its own files over the shipped ones, with the
    `[style_overrides]` line targets of authorkit.toml applied. Every command that judges a
    document takes its guides from here, so `check`, `review` and `commit` give one verdict."""
    guides = load_guides(ws.style_guides_dir)
    out: dict[str, StyleGuide] = {}
    for name, guide in guides.items():
        override = ws.config.style_overrides.get(name)
        out[name] = guide.with_lines(override.lines.model_dump(exclude_none=True)) if override and override.lines else guide
    return out


def workspace_guide(ws: Any, name: str) -> StyleGuide:
    """The guide `name` as the workspace uses it: its own file if it has one, with the
    `[style_overrides]` line targets of authorkit.toml applied."""
    return get_guide(name, workspace_guides(ws))


def get_guide(name: str, guides: dict[str, StyleGuide]) -> StyleGuide:
    try:
        return guides[name]
    except KeyError:
        from authorkit.errors import UsageError

        raise UsageError(
            f"unknown style {name!r}",
            hint=f"known styles: {', '.join(sorted(guides))} (or 'auto'); add style_guides/{name}.yaml to define it",
        ) from None
