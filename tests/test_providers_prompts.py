"""Prompt templates (workspace overrides), cost arithmetic, the provider registry."""

from __future__ import annotations

import pytest

from authorkit.config import load_workspace
from authorkit.costs import cost, format_usd, prices_for
from authorkit.errors import UsageError
from authorkit.providers import Completion, Provider, Usage, get_provider
from authorkit.styleguide import load_guides


def test_system_prompt_renders_the_style_guide(tmp_path) -> None:
    from authorkit.prompts import render

    guide = load_guides()["tutorial"]
    text = render(load_workspace(tmp_path), "system.j2", guide=guide, rules=guide.section_rules)
    assert "## What You'll Build" in text
    assert "at least 3 items, each starting with ✅" in text
    assert "`**Time to complete**: <value>`" in text
    assert "`Company` column" in text
    assert "Anti-Patterns" in text  # forbidden sections are named
    # Order follows the guide.
    assert text.index("What You'll Build") < text.index("Why This Matters") < text.index("Step-by-Step Build")


def test_workspace_prompt_overrides_builtin(tmp_path) -> None:
    from authorkit.prompts import render

    (tmp_path / "authorkit.toml").write_text("")
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "repair.j2").write_text("HOUSE REPAIR for {{ heading }}\n")
    ws = load_workspace(tmp_path)
    assert render(ws, "repair.j2", heading="The Problem", text="", findings=[]) == "HOUSE REPAIR for The Problem\n"
    # Templates not overridden still come from the built-in directory.
    guide = load_guides()["tutorial"]
    assert "Style guide: tutorial" in render(ws, "system.j2", guide=guide, rules=guide.section_rules)


def test_broken_workspace_template_is_a_config_error(tmp_path) -> None:
    from authorkit.errors import ConfigError
    from authorkit.prompts import render

    (tmp_path / "authorkit.toml").write_text("")
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "repair.j2").write_text("line one\n{% if x %}\n")
    with pytest.raises(ConfigError) as ei:
        render(load_workspace(tmp_path), "repair.j2", heading="h", text="", findings=[])
    assert ei.value.line is not None and "repair.j2" in str(ei.value)


def test_cost_uses_configured_prices_and_model_prices(tmp_path) -> None:
    (tmp_path / "authorkit.toml").write_text(
        "[model.prices]\ninput = 3.0\ncache_write = 3.75\ncache_read = 0.3\noutput = 15.0\n"
        '[model.model_prices."small-model"]\ninput = 1.0\ncache_write = 1.25\ncache_read = 0.1\noutput = 5.0\n'
    )
    mc = load_workspace(tmp_path).config.model
    u = Usage(input_tokens=1_000_000, cache_write_tokens=1_000_000, cache_read_tokens=1_000_000, output_tokens=1_000_000)
    assert cost(u, prices_for(mc, "claude-sonnet-4-5")) == pytest.approx(3 + 3.75 + 0.3 + 15)
    assert cost(u, prices_for(mc, "small-model")) == pytest.approx(1 + 1.25 + 0.1 + 5)
    assert cost(u, prices_for(mc, "small-model"), batch=True) == pytest.approx((1 + 1.25 + 0.1 + 5) / 2)
    # A model nobody priced has no cost: None, shown as "unpriced", never $0.
    assert prices_for(mc, "qwen2.5-coder-7b") is None
    assert cost(u, None) is None and format_usd(None) == "unpriced"


def test_claude_list_prices_apply_only_on_anthropics_api(monkeypatch, tmp_path) -> None:
    from authorkit.providers.anthropic import AnthropicProvider

    mc = load_workspace(tmp_path).config.model  # no prices configured
    official = AnthropicProvider("claude-sonnet-4-5", api_key="sk-ant-x", base_url="https://api.anthropic.com")
    local = AnthropicProvider("claude-sonnet-4-5", api_key="", base_url="http://127.0.0.1:8080")
    u = Usage(input_tokens=1_000_000, cache_read_tokens=1_000_000, output_tokens=1_000_000)
    assert cost(u, prices_for(mc, "claude-sonnet-4-5", official)) == pytest.approx(3 + 0.3 + 15)
    # llama.cpp reports cache reads too; they are not billed at Claude's price.
    assert prices_for(mc, "claude-sonnet-4-5", local) is None
    assert prices_for(mc, "some-local-model", official) is None


def test_registry(tmp_path) -> None:
    ws = load_workspace(tmp_path)
    assert get_provider("fake", ws).name == "fake"
    with pytest.raises(UsageError, match="unknown provider 'nope'"):
        get_provider("nope", ws)


class EchoProvider(Provider):
    """A third-party backend: one class in its own package."""

    name = "echo"

    def __init__(self, model: str = "echo-1") -> None:
        self.model = model

    def stream(self, request, on_text=None):
        text = request.user[-1].text.upper()
        if on_text:
            on_text(text)
        return Completion(text, "end_turn", Usage(input_tokens=3, output_tokens=2), self.model)


def test_entry_point_plugin_is_a_provider(monkeypatch, tmp_path) -> None:
    import importlib.metadata as md

    import authorkit.providers as registry

    ep = md.EntryPoint(name="echo", value="test_providers_prompts:EchoProvider", group="authorkit.providers")
    monkeypatch.setattr(md, "entry_points", lambda group=None, **_: [ep] if group == "authorkit.providers" else [])
    monkeypatch.setattr(registry, "_loaded", False)
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._BUILTIN))
    assert "echo" in registry.names()
    ws = load_workspace(tmp_path)
    prov = get_provider("echo", ws, model="echo-2")
    seen = []
    from authorkit.providers import Block, Hooks, Request

    done = prov.run(Request([], [Block("hello")]), Hooks(on_attempt=seen.append))
    assert done.text == "HELLO" and prov.model == "echo-2"
    assert [(a.outcome, a.usage.output_tokens) for a in seen] == [("ok", 2)]


def test_a_plugin_that_fails_to_load_is_a_clear_error(monkeypatch, tmp_path) -> None:
    import importlib.metadata as md

    import authorkit.providers as registry
    from authorkit.errors import ProviderError

    ep = md.EntryPoint(name="broken", value="no_such_module_xyz:Thing", group="authorkit.providers")
    monkeypatch.setattr(md, "entry_points", lambda group=None, **_: [ep] if group == "authorkit.providers" else [])
    monkeypatch.setattr(registry, "_loaded", False)
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._BUILTIN))
    with pytest.raises(ProviderError, match="provider 'broken' .* could not be loaded"):
        get_provider("broken", load_workspace(tmp_path))


# --- the progress display ---------------------------------------------------------------------


def _attempt(doc: str, out: int):
    from authorkit.providers import Attempt

    return Attempt("section:x", doc, "m", Usage(input_tokens=900, cache_read_tokens=9000, output_tokens=out))


def test_progress_without_a_terminal_prints_a_line_per_call() -> None:
    import io

    from authorkit.progress import ProgressDisplay

    buf = io.StringIO()
    d = ProgressDisplay(["content/a.md"], tty=False, stream=buf)
    d.event("call_start", document="content/a.md", label="outline")
    d.event("text", document="content/a.md", label="outline", chars=4000)
    d.event("tokens", document="content/a.md", label="outline", tokens=512)
    d.event("attempt", document="content/a.md", label="outline", attempt=_attempt("content/a.md", 512), cost=None)
    d.event("call_end", document="content/a.md", label="outline", usage=_attempt("content/a.md", 512).usage, seconds=3.2)
    d.event("retry", document="content/a.md", label="section:x", message="content/a.md: section:x: retrying in 4 s after connection reset, attempt 2/5")
    lines = buf.getvalue().splitlines()
    assert lines[0] == "content/a.md: outline started"
    assert lines[1].startswith("content/a.md: outline done in 3.2 s, 512 tokens out") and "unpriced" in lines[1]
    assert lines[2].endswith("retrying in 4 s after connection reset, attempt 2/5")


def test_progress_on_a_terminal_fits_80_columns_and_shows_server_tokens() -> None:
    import io

    from authorkit.progress import ProgressDisplay

    doc = "content/system-design/very-long-folder-name/another-level/poc-61-cache-aside-pattern.md"
    buf = io.StringIO()
    with ProgressDisplay([doc, "content/b.md"], tty=True, stream=buf, width=80) as d:
        d.event("units", document=doc, count=16)
        d.event("text", document=doc, label="section:x", chars=2600)  # ≈650 by characters
        d.event("tokens", document=doc, label="section:x", tokens=512)  # the server counted 512
        d.event("attempt", document=doc, label="section:x", attempt=_attempt(doc, 512), cost=0.0123)
        d.event("call_end", document=doc, label="section:x", usage=_attempt(doc, 512).usage, seconds=1.0)
        d.document_done("content/b.md", "failed")
    import re

    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buf.getvalue())
    rows = [ln for ln in text.splitlines() if "tok" in ln]
    assert rows and all(len(ln) <= 80 for ln in rows), rows
    row = next(ln for ln in rows if "cache-aside-pattern.md" in ln)  # the file name survives
    assert " 512 tok" in row and "$0.0123" in row and "1/17" in row
    assert any("content/b.md [failed]" in ln for ln in rows)  # shown as text, not read as markup


def test_session_summary_shows_unpriced_calls_as_unpriced() -> None:
    from authorkit.summary import Cost

    c = Cost("local.md")
    c.add({"event": "model_call", "input_tokens": 9236, "output_tokens": 512, "cost_usd": None, "priced": False})
    assert c.cost == "unpriced" and c.input_tokens == 9236
    c.add({"event": "model_call", "input_tokens": 10, "output_tokens": 5, "cost_usd": 0.5})
    assert c.cost == "$0.50 + 1 unpriced"
