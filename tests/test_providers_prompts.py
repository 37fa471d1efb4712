"""Prompt templates (workspace overrides), cost arithmetic, the provider registry."""

from __future__ import annotations

import pytest

from authorkit.config import load_workspace
from authorkit.costs import cost, prices_for
from authorkit.errors import UsageError
from authorkit.providers import Usage, get_provider
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


def test_registry(tmp_path) -> None:
    ws = load_workspace(tmp_path)
    assert get_provider("fake", ws).name == "fake"
    with pytest.raises(UsageError, match="unknown provider 'nope'"):
        get_provider("nope", ws)
