"""Prompt templates (jinja2). A workspace's own `prompts/` overrides the built-in templates
file by file, so a user can reword one prompt without copying the others."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import jinja2.sandbox

from authorkit.errors import ConfigError

if TYPE_CHECKING:
    from authorkit.config import Workspace
    from authorkit.styleguide import StyleGuide


def builtin_dir() -> Path:
    """Templates shipped with the package."""
    from authorkit.resources import data_dir

    return data_dir("prompts")


class _Sandbox(jinja2.sandbox.SandboxedEnvironment):
    """jinja2's sandbox, with `*` and `**` bounded so a template cannot exhaust memory."""

    intercepted_binops = frozenset({"*", "**"})
    MAX_SIZE = 1_000_000

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > 64 and not (isinstance(left, int) and abs(left) <= 1):
            raise jinja2.sandbox.SecurityError("`**` with an exponent over 64 is not allowed in a template")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > self.MAX_SIZE:
                    raise jinja2.sandbox.SecurityError("repeating a value over a million times is not allowed in a template")
        return super().call_binop(context, operator, left, right)


@lru_cache(maxsize=8)
def _env(search: tuple[str, ...]) -> jinja2.Environment:
    # Sandboxed: a workspace's templates come with whatever branch or repository is checked
    # out, and must not reach Python (`__class__`, `__globals__`, …) from a prompt.
    env = _Sandbox(
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
    except jinja2.TemplateNotFound:
        raise ConfigError(f"prompt template {name!r} not found", hint=f"restore it in {builtin_dir()} or add it to your workspace's prompts/") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"prompt template error: {exc.message}", path=exc.filename or name, line=exc.lineno, hint="fix the jinja2 syntax") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read prompt template {name!r}: {exc}", hint="save it as UTF-8 text") from None
    try:
        text = template.render(**context)
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"prompt template uses an unknown variable: {exc.message}", path=template.filename or name,
                          line=_template_line(exc, template), hint="see docs for the variables each template receives") from None
    except jinja2.sandbox.SecurityError as exc:
        raise ConfigError(f"prompt template does something templates may not: {exc}", path=template.filename or name,
                          line=_template_line(exc, template), hint="templates may only use the variables they are given") from None
    except jinja2.TemplateError as exc:
        raise ConfigError(f"prompt template error: {exc.message or exc}", path=getattr(exc, "filename", None) or template.filename or name,
                          line=getattr(exc, "lineno", None) or _template_line(exc, template), hint="fix the template") from None
    except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError, RecursionError, OverflowError) as exc:
        raise ConfigError(f"prompt template failed: {type(exc).__name__}: {exc}", path=template.filename or name,
                          line=_template_line(exc, template), hint="fix the expression on that line") from None
    return text.strip() + "\n" if strip else text


def _template_line(exc: BaseException, template: jinja2.Template) -> int | None:
    """The template line an error was raised from (jinja2 maps its frames to template lines)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == template.filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def describe_element(el: Any) -> str:
    """One style-guide element as an instruction a writer can follow: its `instruction`, else
    a description of what the check looks for (never its failure message)."""
    t = getattr(el, "type", "")
    if getattr(el, "instruction", None):
        return el.instruction
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
        return ("text matching" if el.must else "no text matching") + f" the pattern /{el.pattern}/"
    return str(t)


def guide_rules(guide: "StyleGuide") -> list[Any]:
    return guide.section_rules
