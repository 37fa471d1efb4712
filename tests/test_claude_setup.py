"""`authorkit init --claude-code`: the hooks go into .claude/settings.json and the server into
.mcp.json, merged with what the files hold, idempotent, and never over a broken file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clihelp import invoke, sample_site



@pytest.fixture
def site(tmp_path: Path) -> Path:
    return sample_site(tmp_path / "site")


def _our_hooks(settings: dict, event: str) -> list[dict]:
    return [h for g in settings["hooks"][event] for h in g["hooks"] if h.get("command") == "authorkit hook"]


def test_adds_hooks_and_server_and_keeps_the_config(site: Path, capsys):
    config = (site / "authorkit.toml").read_bytes()
    code, out, err = invoke(["init", "--claude-code", str(site)], capsys)
    assert code == 0, err
    settings = json.loads((site / ".claude" / "settings.json").read_text(encoding="utf-8"))
    post = settings["hooks"]["PostToolUse"]
    assert [g["matcher"] for g in post] == ["Write|Edit|MultiEdit"] and len(_our_hooks(settings, "PostToolUse")) == 1
    assert len(_our_hooks(settings, "Stop")) == 1 and "matcher" not in settings["hooks"]["Stop"][0]
    servers = json.loads((site / ".mcp.json").read_text(encoding="utf-8"))["mcpServers"]
    assert servers["authorkit"]["command"] == "authorkit" and servers["authorkit"]["args"] == ["mcp"]
    assert (site / "authorkit.toml").read_bytes() == config  # an existing config is kept
    assert "added to .claude/settings.json: PostToolUse hook" in out
    assert "added to .claude/settings.json: Stop hook" in out
    assert "added to .mcp.json: MCP server `authorkit`" in out


def test_merges_with_the_users_hooks_servers_and_settings(site: Path, capsys):
    theirs = {
        "permissions": {"allow": ["Bash(npm run lint)"]},
        "hooks": {
            "PostToolUse": [{"matcher": "Write|Edit", "hooks": [{"type": "command", "command": "prettier --write"}]}],
            "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "guard.sh"}]}],
        },
    }
    (site / ".claude").mkdir()
    (site / ".claude" / "settings.json").write_text(json.dumps(theirs), encoding="utf-8")
    (site / ".mcp.json").write_text(json.dumps({"mcpServers": {"db": {"command": "pg-mcp", "args": []}}}), encoding="utf-8")
    code, out, err = invoke(["init", "--claude-code", str(site)], capsys)
    assert code == 0, err
    settings = json.loads((site / ".claude" / "settings.json").read_text(encoding="utf-8"))
    assert settings["permissions"] == theirs["permissions"]
    assert settings["hooks"]["PreToolUse"] == theirs["hooks"]["PreToolUse"]
    assert settings["hooks"]["PostToolUse"][0] == theirs["hooks"]["PostToolUse"][0]
    assert len(_our_hooks(settings, "PostToolUse")) == 1 and len(_our_hooks(settings, "Stop")) == 1
    servers = json.loads((site / ".mcp.json").read_text(encoding="utf-8"))["mcpServers"]
    assert set(servers) == {"db", "authorkit"} and servers["db"] == {"command": "pg-mcp", "args": []}


def test_running_it_again_changes_nothing(site: Path, capsys):
    invoke(["init", "--claude-code", str(site)], capsys)
    files = [site / ".claude" / "settings.json", site / ".mcp.json"]
    first = [(p.read_bytes(), p.stat().st_mtime_ns) for p in files]
    code, out, _ = invoke(["init", "--claude-code", str(site)], capsys)
    assert code == 0
    assert [(p.read_bytes(), p.stat().st_mtime_ns) for p in files] == first
    assert "already set up" in out and "added" not in out.replace("already", "")


def test_a_hook_already_run_another_way_is_recognised(site: Path, capsys):
    (site / ".claude").mkdir()
    mine = {"hooks": {"PostToolUse": [{"matcher": "Write", "hooks": [{"type": "command", "command": "uv run authorkit hook"}]}]}}
    (site / ".claude" / "settings.json").write_text(json.dumps(mine), encoding="utf-8")
    code, out, _ = invoke(["init", "--claude-code", str(site)], capsys)
    settings = json.loads((site / ".claude" / "settings.json").read_text(encoding="utf-8"))
    assert settings["hooks"]["PostToolUse"] == mine["hooks"]["PostToolUse"]
    assert "kept in .claude/settings.json: PostToolUse hook" in out and "Stop hook" in out


@pytest.mark.parametrize("broken", [".claude/settings.json", ".mcp.json"])
def test_invalid_json_is_refused_and_nothing_is_touched(site: Path, capsys, broken: str):
    target = site / broken
    target.parent.mkdir(exist_ok=True)
    target.write_text('{\n  "hooks": {\n    "Stop": [,]\n  }\n}\n', encoding="utf-8")
    code, out, err = invoke(["init", "--claude-code", str(site)], capsys)
    assert code == 2
    assert f"{broken}:3:" in err and "not valid JSON" in err
    assert target.read_text(encoding="utf-8").startswith('{\n  "hooks"')
    other = site / (".mcp.json" if broken != ".mcp.json" else ".claude/settings.json")
    assert not other.exists()


def test_wrong_shape_is_refused(site: Path, capsys):
    (site / ".mcp.json").write_text('{"mcpServers": ["authorkit"]}\n', encoding="utf-8")
    code, _, err = invoke(["init", "--claude-code", str(site)], capsys)
    assert code == 2 and "mcpServers" in err and ".mcp.json:1" in err
    assert not (site / ".claude").exists()


def test_dry_run_shows_the_json_and_writes_nothing(site: Path, capsys):
    code, out, _ = invoke(["init", "--claude-code", "--dry-run", str(site)], capsys)
    assert code == 0
    assert "would add to .claude/settings.json" in out and "--- .mcp.json (new file)" in out
    assert '"command": "authorkit hook"' in out and '"mcp"' in out
    assert not (site / ".claude").exists() and not (site / ".mcp.json").exists()


def test_without_a_config_it_writes_one_too(tmp_path: Path, capsys):
    code, out, err = invoke(["init", "--claude-code", str(tmp_path)], capsys)
    assert code == 0, err
    assert (tmp_path / "authorkit.toml").is_file()
    assert (tmp_path / ".claude" / "settings.json").is_file() and (tmp_path / ".mcp.json").is_file()
