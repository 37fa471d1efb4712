"""The import graph of src/authorkit keeps its stages: a module imports only modules of its own
stage or lower ones. Imports inside functions count as much as those at module top, since
they are the same dependency, only deferred."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "authorkit"

# Lowest first. A module may import its own stage and any stage listed before it.
STAGES: list[tuple[str, set[str]]] = [
    ("foundation", {"authorkit", "errors", "findings", "resources", "safe_regex", "term", "markdown_parser"}),
    ("text and configuration", {"textio", "config", "document", "styleguide"}),
    ("workspace services", {"discover", "cache", "session", "prompts", "matching", "codecheck", "fix",
                            "providers.base"}),
    ("checking", {"rules", "check", "report", "extract", "review"}),
    ("plans and navigation", {"plan_parse", "plan", "nav", "scaffold", "learn"}),
    ("git", {"commit_message", "gitops", "fix_files"}),
    ("model calls", {"providers", "providers.anthropic", "providers.fake", "providers.scaffold", "costs", "calls",
                     "progress", "generate"}),
    ("jobs", {"draft", "convert", "batch", "summary", "initialize", "plan_report"}),
    ("integrations", {"hook", "claude_setup", "mcp_server"}),
    ("command line", {"cli", "cli.common", "cli.check_cmds", "cli.claude_cmds", "cli.code_cmds", "cli.gen_cmds",
                      "cli.git_cmds", "cli.plan_cmds", "cli.style_cmds"}),
    ("launcher", {"entry", "__main__"}),
]

# Imports forbidden whatever the stages say: (importer prefix, imported prefix, why).
FORBIDDEN = [
    ("providers", "session", "a backend returns results; recording them is the caller's job"),
]

# Edges that break the order today, each with what would remove it. Remove an entry once fixed:
# the test fails on an exception that no longer occurs, so this list cannot go stale.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {
}


def _stage_of() -> dict[str, int]:
    out: dict[str, int] = {}
    for i, (_, names) in enumerate(STAGES):
        for n in names:
            assert n not in out, f"{n} is listed in two stages"
            out[n] = i
    return out


def _modules() -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        mods[".".join(parts)] = path
    return mods


def _short(module: str) -> str:
    return "authorkit" if module == "authorkit" else module.removeprefix("authorkit.")


def import_graph() -> dict[str, dict[str, int]]:
    """{importer: {imported: first line}} over authorkit modules, every import statement."""
    mods = _modules()
    graph: dict[str, dict[str, int]] = {}
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        edges: dict[str, int] = {}

        def add(target: str, line: int) -> None:
            if target in mods and target != name:
                edges.setdefault(_short(target), line)

        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "authorkit":
                        add(alias.name, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_pkg else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                if module.split(".")[0] != "authorkit":
                    continue
                for alias in node.names:
                    sub = f"{module}.{alias.name}"
                    add(sub if sub in mods else module, node.lineno)
        graph[_short(name)] = edges
    return graph


GRAPH = import_graph()


def test_the_graph_reader_sees_top_level_and_function_level_imports() -> None:
    assert "commit_message" in GRAPH["gitops"]  # at module top
    assert "gitops" in GRAPH["fix_files"]  # inside a function
    assert "plan" in GRAPH["summary"]  # `from authorkit import plan as plan_mod`, inside a function


def test_every_module_has_a_stage() -> None:
    stage = _stage_of()
    missing = sorted(set(GRAPH) - set(stage))
    assert not missing, f"modules without a stage in tests/test_layering.py STAGES: {missing}; add each where it belongs"
    gone = sorted(set(stage) - set(GRAPH))
    assert not gone, f"STAGES lists modules that no longer exist: {gone}"


def test_no_stage_imports_a_higher_one() -> None:
    stage = _stage_of()
    bad = []
    for importer, edges in sorted(GRAPH.items()):
        for imported, line in sorted(edges.items()):
            if (importer, imported) in KNOWN_EXCEPTIONS:
                continue
            if stage.get(imported, -1) > stage.get(importer, len(STAGES)):
                bad.append(f"src/authorkit/{importer.replace('.', '/')}.py:{line}: {importer} "
                           f"({STAGES[stage[importer]][0]}) imports {imported} ({STAGES[stage[imported]][0]})")
    assert not bad, "a lower stage imports a higher one:\n" + "\n".join(bad)


def test_known_exceptions_still_occur() -> None:
    stale = [f"{a} -> {b}" for a, b in KNOWN_EXCEPTIONS if b not in GRAPH.get(a, {})]
    assert not stale, f"fixed, so remove from KNOWN_EXCEPTIONS: {stale}"


@pytest.mark.parametrize(("importer", "imported", "why"), FORBIDDEN)
def test_forbidden_imports(importer: str, imported: str, why: str) -> None:
    hits = [f"{a} imports {b}" for a, edges in GRAPH.items() for b in edges
            if (a == importer or a.startswith(importer + ".")) and (b == imported or b.startswith(imported + "."))]
    assert not hits, f"{hits}: {why}"


def test_only_the_launcher_imports_the_command_line() -> None:
    hits = sorted(f"{a} imports {b}" for a, edges in GRAPH.items() for b in edges
                  if (b == "cli" or b.startswith("cli.")) and not (a == "cli" or a.startswith("cli."))
                  and a != "entry" and (a, b) not in KNOWN_EXCEPTIONS)
    assert not hits, f"only src/authorkit/cli/ and entry.py may import authorkit.cli: {hits}"


@pytest.mark.parametrize("low", ["document", "textio", "findings", "errors", "styleguide", "config"])
def test_the_base_modules_import_no_command(low: str) -> None:
    high = {"check", "rules", "generate", "draft", "convert", "gitops", "summary", "review", "cli", "hook", "mcp_server"}
    hits = sorted(b for b in GRAPH[low] if b in high or b.startswith("cli."))
    assert not hits, f"{low} imports {hits}"
