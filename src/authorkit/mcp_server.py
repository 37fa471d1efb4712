"""`authorkit mcp`: the workspace's plan, style guides, checker, scaffold and navigation as an
MCP server over stdio, for Claude Code (or any MCP client).

Every tool is a thin layer over the library the CLI uses, so an answer here is the answer the
command would give: `plan_item` is `plan show`, `style_guide` is the style-guide part of the
draft prompts, `check` is `check`, `scaffold` is `draft --provider scaffold` (same overwrite
refusals, same navigation update, same session record), `nav_insert` is the navigation
insertion `draft` performs. Bad input (an unknown item, style or path) comes back as a tool
error with the same message and hint the CLI prints; the server itself keeps running.

The workspace is read again on every call, so edits to authorkit.toml apply at once.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable, TypeVar

from authorkit.config import Workspace, find_config, load_workspace
from authorkit.errors import AuthorkitError, UsageError

F = TypeVar("F", bound=Callable[..., Any])

INSTRUCTIONS = """\
authorkit knows this documentation site's house format: its plan (numbered POCs, articles,
problems), the style guide each page must follow, and its navigation. Before writing a
planned page, call `plan_item` for its context and `style_guide` for the format; after
writing, `check` it (the PostToolUse hook does this too). `scaffold` gives the skeleton of a
planned page; `nav_insert` lists a new page in the navigation; `plan_progress` shows what is
still to write."""


# The SDK runs each call of a synchronous tool in a worker thread, so calls the client sends
# together run at once; the checker (its Node process, the result cache) and `plan_item`'s
# captured output are per process, so calls take turns.
_CALLS = threading.Lock()


def _tool_errors(fn: F) -> F:
    """authorkit's typed errors become tool errors carrying their message and hint."""
    from mcp.server.mcpserver.exceptions import ToolError

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with _CALLS:
                return fn(*args, **kwargs)
        except AuthorkitError as exc:
            raise ToolError(str(exc)) from None
        except (OSError, ValueError) as exc:
            raise ToolError(f"{type(exc).__name__}: {exc}") from None

    return wrapper  # type: ignore[return-value]


class Tools:
    """The tools, bound to one workspace location."""

    def __init__(self, config_path: Path | None, start: Path | None = None) -> None:
        self.start = (start or Path.cwd()).resolve()
        self.config_path = config_path or find_config(self.start)

    def ws(self) -> Workspace:
        if self.config_path is not None:
            return load_workspace(config_path=self.config_path)
        return load_workspace(self.start)

    def _path(self, ws: Workspace, given: str, what: str = "path") -> Path:
        if not given or not given.strip():
            raise UsageError(f"`{what}` is empty", hint="give a path relative to the workspace root, e.g. content/practice-pocs/page.md")
        p = Path(given)
        full = Path(os.path.abspath(p if p.is_absolute() else ws.root / p))
        if full != ws.root and not full.is_relative_to(ws.root):
            raise UsageError(f"{given} is outside the workspace {ws.root}", hint="give a path inside the site, relative to its root")
        return full

    # --- plan ---------------------------------------------------------------------------

    def plan_item(self, ref: str, kind: str = "poc") -> dict[str, Any]:
        """The plan item for a number (61, #61) or title words, with its context: the plan
        and group it is in, its siblings and related items, the plan's success criteria, the
        page written for it (and whether it passes its style) or where a draft would go.
        `text` is what `authorkit plan show` prints."""
        import json

        from authorkit.draft import normalize_kind
        from authorkit.plan import load_plan
        from authorkit.plan_report import item_report

        ws = self.ws()
        kind = normalize_kind(kind)
        if not ref or not str(ref).strip():
            raise UsageError("`ref` is empty", hint="give the item's number (61) or title words (\"cache aside\")")
        ctx, text = item_report(ws, load_plan(ws), kind, str(ref))
        out: dict[str, Any] = json.loads(json.dumps(ctx, ensure_ascii=False))  # the same data `plan show --format json` prints
        out["text"] = text
        return out

    def plan_progress(self, kind: str | None = None, group: str | None = None, pending_only: bool = True) -> dict[str, Any]:
        """Planned items against the pages that exist: per group how many are written and
        passing, and the items still pending (missing, or failing their style). `group`
        keeps groups whose name contains it (e.g. "Week 3"); `kind` is poc, article or problem."""
        from authorkit.plan_report import in_group as _in_group, totals as _totals
        from authorkit.draft import normalize_kind
        from authorkit.plan import group_totals, load_plan, plan_status

        ws = self.ws()
        k = normalize_kind(kind) if kind else None
        statuses = plan_status(ws, load_plan(ws), check=True)
        basis = [s for s in statuses if (k is None or s.item.kind == k) and _in_group(group, s.item.group_path)]
        if group and not basis:
            raise UsageError(f"no planned items in a group matching {group!r}", hint="call plan_progress without `group` to see the groups")
        shown = [s for s in basis if not pending_only or s.state in ("missing", "fails")]
        return {
            "totals": _totals(basis),
            "groups": [g.to_dict() for g in group_totals(basis)],
            "items": [{"label": s.item.label, "kind": s.item.kind, "number": s.item.number, "title": s.item.title,
                       "group": s.item.group_path, "state": s.state, "path": s.path, "errors": s.errors} for s in shown],
        }

    # --- style --------------------------------------------------------------------------

    def style_guide(self, style: str | None = None, path: str | None = None) -> str:
        """A style guide as the instructions a writer follows (the text the draft prompts
        use): sections in order with what each must contain, forbidden sections, length.
        Give `style` (tutorial, engagement, article, problem, …) or a document `path`, whose
        style comes from authorkit.toml [styles] (or is detected from its content)."""
        from authorkit.prompts import render
        from authorkit.styleguide import load_guides, workspace_guide

        ws = self.ws()
        if bool(style) == bool(path):
            raise UsageError("give either `style` or `path`",
                             hint=f"styles: {', '.join(sorted(load_guides(ws.style_guides_dir)))}")
        note = ""
        if path:
            p = self._path(ws, path)
            style = ws.style_for(p)
            if style == "auto":
                style = self._detect(ws, p)
                note = f"{ws.rel(p)} has no style in authorkit.toml [styles]; its content fits the “{style}” style best.\n\n"
            else:
                note = f"{ws.rel(p)} follows the “{style}” style (authorkit.toml [styles]).\n\n"
        guide = workspace_guide(ws, str(style))
        text = render(ws, "system.j2", guide=guide, rules=guide.section_rules)
        at = text.find("# Style guide")
        return note + (text[at:] if at >= 0 else text)

    def _detect(self, ws: Workspace, p: Path) -> str:
        from authorkit.document import parse
        from authorkit.rules import detect_style
        from authorkit.styleguide import load_guides
        from authorkit.textio import read_document

        if not p.is_file():
            raise UsageError(f"{ws.rel(p)} has no style in authorkit.toml [styles] and does not exist to detect one from",
                             hint="give `style` instead, or map the path in [styles]")
        res = read_document(p)
        name, score, _ = detect_style(parse(res.text or ""), load_guides(ws.style_guides_dir))
        if not name or score < 0.2:
            raise UsageError(f"no style fits {ws.rel(p)} well", hint="give `style`, or map the path in authorkit.toml [styles]")
        return name

    # --- check --------------------------------------------------------------------------

    def check(self, path: str | None = None, text: str | None = None, style: str | None = None) -> dict[str, Any]:
        """Check a document (`path`: a file or folder of the workspace) or Markdown `text`
        against its style; code blocks are checked too. Returns each file's findings (rule,
        severity, line, message, hint) and the forbidden sections by name. `style` overrides
        the configured style ("auto" detects); for `text` it defaults to detection."""
        from authorkit.check import check_paths, run_checks

        ws = self.ws()
        if (path is None) == (text is None):
            raise UsageError("give either `path` or `text`", hint="`path` checks a file of the workspace; `text` checks Markdown you pass")
        if path is not None:
            p = self._path(ws, path)
            if not p.exists():
                raise UsageError(f"no such file or folder: {ws.rel(p)}", hint="give a path relative to the workspace root")
            run = check_paths(ws, [str(p)], style=style)
            if not run.results:
                raise UsageError(f"no Markdown document to check at {ws.rel(p)}", hint="give a .md or .mdx file, or a folder holding some")
            results = run.results
        else:
            if style and style != "auto":
                from authorkit.styleguide import get_guide, load_guides

                get_guide(style, load_guides(ws.style_guides_dir))  # an unknown style is a clear error
            cfg = ws.config
            overrides = {k: v.model_dump(exclude_none=True) for k, v in cfg.style_overrides.items()}
            with tempfile.TemporaryDirectory(prefix="authorkit-mcp-") as d:
                tmp = Path(d) / "text.md"
                tmp.write_text(text or "", encoding="utf-8")
                results = run_checks([(str(tmp), "<text>", style or "auto")], ws.style_guides_dir,
                                     code_checks=cfg.check.code_checks, jobs=1, overrides=overrides)
        from authorkit.hook import forbidden_sections

        files = []
        for r in results:
            c = r.counts()
            files.append({
                "path": r.path, "style": r.style, "lines": r.lines, "errors": c["error"], "warnings": c["warning"],
                "forbidden_sections": [h for h, _ in forbidden_sections(r)],
                "findings": [{k: v for k, v in f.to_dict().items() if k not in ("path", "extra")} for f in r.findings],
                **({"detected": r.detected} if r.detected else {}),
            })
        return {"files": files, "errors": sum(f["errors"] for f in files), "warnings": sum(f["warnings"] for f in files)}

    # --- writing ------------------------------------------------------------------------

    def scaffold(self, ref: str, kind: str = "poc", write: bool = False, force: bool = False, style: str | None = None) -> dict[str, Any]:
        """The skeleton of a planned page in its style: every required section with TODOs
        where prose and code go. With `write`, the page is written where `authorkit draft
        --provider scaffold` writes it and listed in the navigation; an existing page is
        refused unless `force`, and never replaced while it has uncommitted edits."""
        from authorkit.draft import draft

        ws = self.ws()
        if not ref or not str(ref).strip():
            raise UsageError("`ref` is empty", hint="give the item's number (61) or title words")
        if write:
            _record_call(ws, "scaffold", ref=ref, kind=kind, force=force, style=style)
        messages: list[str] = []
        res = draft(ws, kind, str(ref), provider="scaffold", dry_run=not write, force=force, style=style, out=messages.append)
        return {
            "item": res.item.label, "path": res.rel, "style": res.style, "written": res.written, "replaced": res.replaced,
            "navigation": {"file": res.nav_rel, "entry": res.nav_entry, "line": res.nav_line,
                           "changed": res.nav_changed, "note": res.nav_note} if res.nav_rel else None,
            "check_errors": res.errors, "messages": messages, "text": res.text,
        }

    def nav_insert(self, page: str, title: str | None = None, number: int | None = None, dry_run: bool = False) -> dict[str, Any]:
        """List an existing page in its folder's navigation file (`_meta.js`), in number
        order and in the group whose range covers its number, changing no other byte. The
        title and number default to the page's level-1 heading (`# POC #61: …`)."""
        from authorkit.draft import nav_file_for
        from authorkit.nav import insert_entry
        from authorkit.plan import _h1, title_number
        from authorkit.session import record_write

        ws = self.ws()
        p = self._path(ws, page, "page")
        if not p.is_file():
            raise UsageError(f"no such page: {ws.rel(p)}", hint="write the page first, then list it")
        if p.suffix not in (".md", ".mdx"):
            raise UsageError(f"not a Markdown page: {ws.rel(p)}", hint="give the .md or .mdx file of the page")
        nav_path = nav_file_for(ws, p.parent)
        if nav_path is None:
            raise UsageError(f"no navigation file lists the pages of {ws.rel(p.parent)}",
                             hint="add its _meta.js to [navigation] files in authorkit.toml")
        body = p.read_text(encoding="utf-8", errors="replace")
        heading = _h1(body) or ""
        number = number if number is not None else title_number(body)
        if not title:
            import re

            title = re.sub(r"^(?:POC|Article|Problem)\s*#\s*\d+\s*[:.–—-]\s*", "", heading, flags=re.I).strip() or p.stem
        if not dry_run:
            _record_call(ws, "nav_insert", page=ws.rel(p), title=title, number=number)
        nav_rel = ws.rel(nav_path)
        before = nav_path.read_text(encoding="utf-8") if nav_path.is_file() else None
        ins = insert_entry(nav_path, p.stem, title, number, display=nav_rel, dry_run=dry_run)
        if ins.changed and not dry_run:
            record_write(ws, nav_path, action="navigation", before=before, after=ins.text, title=f"navigation: {p.stem}")
        return {"nav_file": nav_rel, "key": p.stem, "changed": ins.changed, "written": ins.changed and not dry_run,
                "entry": ins.entry or None, "line": ins.line, "group": ins.group, "note": ins.reason or None}

    # --- resources ----------------------------------------------------------------------

    def guide_source(self, name: str) -> str:
        from authorkit.styleguide import get_guide, load_guides

        guide = get_guide(name, load_guides(self.ws().style_guides_dir))
        return Path(guide.source).read_text(encoding="utf-8")

    def reference(self) -> str:
        from authorkit.generate import load_reference

        text = load_reference(self.ws())
        if text is None:
            raise UsageError("no reference document is configured", hint="set [draft] reference in authorkit.toml")
        return text


def _record_call(ws: Workspace, tool: str, **arguments: Any) -> None:
    """A writing tool's call, recorded as the CLI records a command line that writes."""
    if ws.config_path is not None:
        from authorkit.session import record

        record(ws, "mcp_call", tool=tool, arguments={k: v for k, v in arguments.items() if v is not None})


TOOL_NAMES = ("plan_item", "plan_progress", "style_guide", "check", "scaffold", "nav_insert")
_READ_ONLY = {"plan_item", "plan_progress", "style_guide", "check"}


def build_server(config_path: Path | None = None, start: Path | None = None) -> Any:
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ResourceError
    from mcp.types import ToolAnnotations

    from authorkit import __version__

    tools = Tools(config_path, start)
    server = MCPServer("authorkit", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")
    for name in TOOL_NAMES:
        fn = getattr(tools, name)
        server.add_tool(_tool_errors(fn), name=name, description=inspect.cleandoc(fn.__doc__ or ""),
                        annotations=ToolAnnotations(read_only_hint=name in _READ_ONLY, destructive_hint=False))

    def resource_reader(read: Callable[[], str]) -> Callable[[], str]:
        def run() -> str:
            try:
                return read()
            except (AuthorkitError, OSError) as exc:
                raise ResourceError(str(exc)) from None

        return run

    from authorkit.styleguide import load_guides

    try:
        ws = tools.ws()
        guides = load_guides(ws.style_guides_dir)
    except AuthorkitError:
        return server  # a broken authorkit.toml or guide: every tool call names it; the server stays up
    for name, guide in sorted(guides.items()):
        server.resource(f"authorkit://style-guide/{name}", name=f"style guide: {name}", mime_type="application/yaml",
                        description=f"The “{name}” style guide as authorkit checks it ({guide.description or Path(guide.source).name})".strip())(
            resource_reader(functools.partial(tools.guide_source, name)))
    if ws.config.draft.reference:
        server.resource("authorkit://reference", name="reference document", mime_type="text/markdown",
                        description=f"The accepted page shown to writers as the house example ({ws.config.draft.reference})")(
            resource_reader(tools.reference))
    return server


def serve(config_path: Path | None = None) -> None:
    """Run the server on stdin/stdout until the client closes it."""
    if config_path is not None and not config_path.is_file():
        raise UsageError(f"config file not found: {config_path}", hint="give the path to an existing authorkit.toml")
    build_server(config_path).run("stdio")
