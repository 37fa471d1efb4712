"""Prompt templates (jinja2). A workspace's own `prompts/` overrides the built-in templates
file by file, so a user can reword one prompt without copying the others."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from authorkit.errors import ConfigError

if TYPE_CHECKING:
    from authorkit.config import Workspace
    from authorkit.styleguide import StyleGuide


def builtin_dir() -> Path:
    """Templates shipped with the package."""
    from authorkit.resources import data_dir

    return data_dir("prompts")


@lru_cache(maxsize=8)
def _env(search: tuple[str, ...]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(list(search)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["element"] = describe_element
    return env


def environment(ws: "Workspace | None" = None) -> jinja2.Environment:
    dirs = []
    if ws is not None and ws.prompts_dir.is_dir():
        dirs.append(str(ws.prompts_dir))
    dirs.append(str(builtin_dir()))
    return _env(tuple(dirs))


def render(ws: "Workspace | None", name: str, *, strip: bool = True, **context: Any) -> str:
    """Render a template from the workspace's prompts/ or the built-in ones. Prompts are
    stripped to one trailing newline; documents (commit messages, summaries) keep `strip=False`."""
    env = environment(ws)
    try:
        template = env.get_template(name)
        text = template.render(**context)
        return text.strip() + "\n" if strip else text
    except jinja2.TemplateNotFound:
        raise ConfigError(f"prompt template {name!r} not found", hint=f"restore it in {builtin_dir()} or add it to your workspace's prompts/") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"prompt template error: {exc.message}", path=exc.filename or name, line=exc.lineno, hint="fix the jinja2 syntax") from None
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"prompt template {name!r} uses an unknown variable: {exc.message}", hint="see docs for the variables each template receives") from None


def describe_element(el: Any) -> str:
    """One style-guide element as an instruction a writer can follow."""
    t = getattr(el, "type", "")
    if el.message:
        extra = f" ({el.message})"
    else:
        extra = ""
    if t == "checklist":
        return f"a list of at least {el.min} items, each starting with {el.marker}" + extra
    if t == "field":
        return f"a line `**{el.label}**: <value>`" + extra
    if t == "table":
        col = f" whose header has a `{el.column}` column" if el.column else ""
        return f"a Markdown table{col} with at least {el.min_rows} rows" + extra
    if t == "code":
        langs = f" in {', '.join(el.languages)}" if el.languages else ""
        return f"at least {el.min} complete fenced code blocks{langs}" + extra
    if t == "steps":
        return f"at least {el.min} subsections `### Step N: <title>` numbered 1, 2, 3 … without gaps, each with complete code" + extra
    if t == "mermaid":
        return "a ```mermaid diagram" + extra
    if t == "metrics_table":
        return "a before/after metrics table (columns such as Before | After)" + extra
    if t == "regex":
        if el.message:
            return ("must not contain: " if not el.must else "must contain: ") + el.message
        return ("must match" if el.must else "must not match") + f" /{el.pattern}/"
    return str(t)


def guide_rules(guide: "StyleGuide") -> list[Any]:
    return guide.section_rules
