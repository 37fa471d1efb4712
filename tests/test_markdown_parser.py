"""The patched mistune parser: the private API it relies on is still there, and it reads the
fixture documents exactly as an unmodified mistune does."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import mistune
import pytest
from mistune.block_parser import BlockParser
from mistune.core import BlockState

from authorkit import markdown_parser as mp

FIXTURES = sorted((Path(__file__).parent / "fixtures").rglob("*.md"))


def _api_problem(owner: object, name: str, what: str) -> str:
    version = getattr(mistune, "__version__", "?")
    return (f"mistune {version}: {owner.__name__}.{name} {what}; authorkit/markdown_parser.py patches it. "  # type: ignore[attr-defined]
            "Update the patch (and the version range in pyproject.toml) or pin mistune to a tested version.")


@pytest.mark.parametrize(("rule", "groups"), [("atx_heading", ("atx_1", "atx_2")),
                                               ("fenced_code", ("fenced_1", "fenced_2", "fenced_3"))])
def test_replaced_rules_keep_their_names_and_groups(rule: str, groups: tuple[str, ...]) -> None:
    # The replacement rules read mistune's match groups by name; a renamed rule (mistune 3.0
    # spelled it `axt_heading`) or group would break every parse.
    spec = getattr(BlockParser, "SPECIFICATION", None)
    assert isinstance(spec, dict), _api_problem(BlockParser, "SPECIFICATION", "is no longer a dict of rule patterns")
    assert rule in spec, _api_problem(BlockParser, f"SPECIFICATION[{rule!r}]", "is missing")
    names = set(re.compile(spec[rule]).groupindex)
    for group in groups:
        assert group in names, _api_problem(BlockParser, f"SPECIFICATION[{rule!r}]", f"has no group {group!r}")
    assert rule in BlockParser.DEFAULT_RULES, _api_problem(BlockParser, "DEFAULT_RULES", f"does not list {rule!r}")


def test_block_parser_methods_keep_their_shape() -> None:
    md = mistune.create_markdown(renderer=None, plugins=["table"])
    block = md.block
    assert isinstance(getattr(block, "rules", None), list), _api_problem(BlockParser, "rules", "is no longer a list of rule names")
    for rule in ("list", "block_quote", "indent_code"):
        assert rule in block.rules, _api_problem(BlockParser, "rules", f"does not hold {rule!r} (the fast rule set drops it)")
    params = list(inspect.signature(block.register).parameters)
    assert params[:3] == ["name", "pattern", "func"], _api_problem(BlockParser, "register", f"takes {params}")
    params = list(inspect.signature(block.parse).parameters)
    assert params[:2] == ["state", "rules"], _api_problem(BlockParser, "parse", f"takes {params}")


def test_block_state_keeps_the_members_the_position_state_uses() -> None:
    state = BlockState()
    for attr in ("src", "tokens", "cursor", "cursor_max"):
        assert hasattr(state, attr), _api_problem(BlockState, attr, "is missing")
    for method, params in (("process", ["src"]), ("append_token", ["token"]), ("add_paragraph", ["text"]),
                           ("last_token", [])):
        assert callable(getattr(state, method, None)), _api_problem(BlockState, method, "is missing")
        got = list(inspect.signature(getattr(state, method)).parameters)
        assert got == params, _api_problem(BlockState, method, f"takes {got}, not {params}")
    state.process("a\n")
    assert (state.src, state.cursor, state.cursor_max) == ("a\n", 0, 2), _api_problem(BlockState, "process", "no longer sets src/cursor/cursor_max")


def test_patched_rules_are_registered() -> None:
    # register() must bind our functions: a heading with closing #s and an unclosed fence are
    # read the patched way.
    tokens = mp._block_tokens("# Title ##\n\n```py\ncode\n\n## Next\n")
    assert [t["type"] for t in tokens if t["type"] != "blank_line"] == ["heading", "block_code", "heading"]
    assert tokens[0]["text"] == "Title" and tokens[0]["_pos"] == 0
    assert next(t for t in tokens if t["type"] == "block_code").get("unclosed") is True


def _strip_pos(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_pos(v) for k, v in value.items() if k != "_pos"}
    if isinstance(value, list):
        return [_strip_pos(v) for v in value]
    return value


def _pristine(src: str) -> list[dict[str, Any]]:
    md = mistune.create_markdown(renderer=None, plugins=["table"])
    state = BlockState()
    state.process(src)
    md.block.parse(state)
    return state.tokens


def _structure(tokens: list[dict[str, Any]]) -> list[tuple]:
    """Headings and code blocks in document order, through lists and quotes: what parse() reads."""
    out: list[tuple] = []
    for tok in tokens:
        if tok["type"] == "heading":
            out.append(("heading", tok["attrs"]["level"], tok["text"]))
        elif tok["type"] == "block_code":
            out.append(("code", tok["raw"], (tok.get("attrs") or {}).get("info")))
        elif tok["type"] == "table":
            out.append(("table", repr(_strip_pos(tok["children"]))))
        elif isinstance(tok.get("children"), list):
            out.extend(_structure(tok["children"]))
    return out


@pytest.fixture
def mistune_fences():
    # Recovering from an unclosed fence is a deliberate difference from mistune.
    mp.RECOVER_UNCLOSED[0] = False
    yield
    mp.RECOVER_UNCLOSED[0] = True


def test_fixtures_exist() -> None:
    assert len(FIXTURES) >= 20


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_fixture_documents_parse_as_mistune_does(path: Path, mistune_fences: None) -> None:
    src = path.read_bytes().decode("utf-8", "replace")  # two fixtures are deliberately not UTF-8
    if not src.endswith("\n"):
        src += "\n"
    # The full rule set gives mistune's own tokens, nested ones included ...
    state = mp._PositionState()
    state.process(src)
    mp._MARKDOWN.block.parse(state)
    assert _strip_pos(state.tokens) == _pristine(src)
    # ... and the path parse() takes (the fast rule set when nothing needs the full one) finds
    # the same headings, code blocks and tables.
    assert _structure(mp._block_tokens(src)) == _structure(_pristine(src))
