"""`authorkit mcp` driven by the MCP SDK's own stdio client, as Claude Code drives it: the test
starts the server, lists its tools and resources and calls each tool, bad inputs included."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable

import anyio
import pytest

pytest.importorskip("mcp")

from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

from authorkit.check import check_paths  # noqa: E402
from authorkit.config import load_workspace  # noqa: E402
from authorkit.session import Session  # noqa: E402
from tests.clihelp import sample_site

ENGAGEMENT_POC = "content/practice-pocs/redis-token-bucket-rate-limiter.md"
TUTORIAL_POC = "content/practice-pocs/redis-cache-aside.md"
TOOLS = {"plan_item", "plan_progress", "style_guide", "check", "scaffold", "nav_insert"}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return sample_site(tmp_path / "site", commit=True)


def with_server(root: Path, body: Callable[[ClientSession], Awaitable[None]]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env["AUTHORKIT_CACHE_DIR"] = str(root / ".cache-test")
    params = StdioServerParameters(command=sys.executable, args=["-m", "authorkit", "mcp"], cwd=str(root), env=env)

    async def main() -> None:
        with open(root / "server-stderr.log", "w", encoding="utf-8") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    with anyio.fail_after(240):
                        await body(session)

    anyio.run(main)


async def call(session: ClientSession, tool: str, **args: Any) -> Any:
    """A successful call's result (parsed when it is JSON)."""
    r = await session.call_tool(tool, args)
    text = r.content[0].text if r.content else ""
    assert not r.is_error, f"{tool}({args}) failed: {text}"
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


async def fails(session: ClientSession, tool: str, **args: Any) -> str:
    """A call that must come back as a tool error; its text."""
    r = await session.call_tool(tool, args)
    text = r.content[0].text if r.content else ""
    assert r.is_error, f"{tool}({args}) should have failed, got: {text[:300]}"
    return text


def test_lists_tools_and_resources_and_reads_them(site: Path):
    async def body(s: ClientSession) -> None:
        tools = (await s.list_tools()).tools
        assert {t.name for t in tools} == TOOLS
        assert all(t.description for t in tools)
        resources = {str(r.uri): r for r in (await s.list_resources()).resources}
        for style in ("tutorial", "engagement", "article", "problem"):
            assert f"authorkit://style-guide/{style}" in resources
        guide = await s.read_resource("authorkit://style-guide/tutorial")
        assert "name: tutorial" in guide.contents[0].text
        ref = await s.read_resource("authorkit://reference")
        assert ref.contents[0].text == (site / TUTORIAL_POC).read_text(encoding="utf-8")

    with_server(site, body)


def test_plan_tools_and_their_bad_inputs(site: Path):
    async def body(s: ClientSession) -> None:
        item = await call(s, "plan_item", ref="6")
        assert item["label"] == "POC #6: Write-Behind Cache with Redis"
        assert "Week 1" in item["group"] and item["criteria"] and item["siblings"]
        assert item["draft_path"].startswith("content/practice-pocs/")
        assert "POC #6: Write-Behind Cache with Redis" in item["text"] and "siblings:" in item["text"]
        by_title = await call(s, "plan_item", ref="consumer groups redis streams")
        assert by_title["item"]["number"] == 10
        written = await call(s, "plan_item", ref="#1")
        assert written["content"]["state"] == "passes" and written["draft_path"] == TUTORIAL_POC

        missing = await fails(s, "plan_item", ref="999")
        assert "#999 is not in the plan" in missing and "nearest planned numbers" in missing
        assert "unknown kind" in await fails(s, "plan_item", ref="6", kind="chapter")
        assert "empty" in await fails(s, "plan_item", ref="  ")
        assert "ref" in await fails(s, "plan_item")  # a required argument left out

        progress = await call(s, "plan_progress")
        assert progress["totals"]["poc"]["total"] == 12
        pending = {i["number"] for i in progress["items"] if i["kind"] == "poc"}
        assert {6, 7, 8, 9, 10, 11, 12} <= pending and 1 not in pending
        week2 = await call(s, "plan_progress", group="Week 2", kind="poc")
        assert week2["items"] and all("Week 2" in i["group"] for i in week2["items"])
        assert "no planned items" in await fails(s, "plan_progress", group="Week 99")

    with_server(site, body)


def test_style_guide_and_check_tools(site: Path):
    bad = site / "content" / "practice-pocs" / "sliding-window-limiter.md"
    bad.write_bytes((site / ENGAGEMENT_POC).read_bytes())

    async def body(s: ClientSession) -> None:
        tutorial = await call(s, "style_guide", style="tutorial")
        assert tutorial.startswith("# Style guide: tutorial")
        assert "## What You'll Build" in tutorial and "Never use these sections" in tutorial
        by_path = await call(s, "style_guide", path="content/practice-pocs/new-page.md")
        assert "“tutorial” style" in by_path.split("\n")[0] and by_path.endswith(tutorial)
        engagement = await call(s, "style_guide", path=ENGAGEMENT_POC)
        assert "# Style guide: engagement" in engagement
        assert "unknown style 'nope'" in await fails(s, "style_guide", style="nope")
        assert "either `style` or `path`" in await fails(s, "style_guide")

        result = await call(s, "check", path="content/practice-pocs/sliding-window-limiter.md")
        f = result["files"][0]
        expected = check_paths(load_workspace(site), [str(bad)]).results[0]
        assert f["style"] == "tutorial" and f["errors"] == expected.counts()["error"] > 0
        forbidden = [x.message.split("”:")[0].lstrip("“") for x in expected.findings if x.rule == "section-forbidden"]
        assert f["forbidden_sections"] == forbidden and len(forbidden) >= 2
        assert {"rule", "severity", "line", "message", "hint"} <= set(f["findings"][0])

        clean = await call(s, "check", path=TUTORIAL_POC)
        assert clean["errors"] == 0
        text = (site / ENGAGEMENT_POC).read_text(encoding="utf-8")
        as_tutorial = await call(s, "check", text=text, style="tutorial")
        assert as_tutorial["files"][0]["forbidden_sections"] == forbidden
        as_engagement = await call(s, "check", text=text, style="engagement")
        assert as_engagement["files"][0]["forbidden_sections"] == []
        detected = await call(s, "check", text=text)
        assert detected["files"][0]["style"] == "engagement"

        assert "no such file" in await fails(s, "check", path="content/nope.md")
        (site.parent / "outside.md").write_text("# x\n", encoding="utf-8")
        assert "outside the workspace" in await fails(s, "check", path="../outside.md")
        assert "outside the workspace" in await fails(s, "style_guide", path=str(site.parent / "outside.md"))
        assert "either `path` or `text`" in await fails(s, "check")
        assert "either `path` or `text`" in await fails(s, "check", path=TUTORIAL_POC, text="# x")
        assert "unknown style" in await fails(s, "check", text="# x", style="nope")

    with_server(site, body)


def test_scaffold_and_nav_insert_write_like_the_cli(site: Path):
    meta = site / "content" / "practice-pocs" / "_meta.js"
    meta_before = meta.read_text(encoding="utf-8")

    async def body(s: ClientSession) -> None:
        preview = await call(s, "scaffold", ref="6")
        assert preview["written"] is False and "# POC #6:" in preview["text"]
        assert not (site / preview["path"]).exists() and meta.read_text(encoding="utf-8") == meta_before

        written = await call(s, "scaffold", ref="6", write=True)
        page = site / written["path"]
        assert written["written"] and page.read_text(encoding="utf-8") == preview["text"]
        assert written["navigation"]["changed"] and written["navigation"]["entry"] in meta.read_text(encoding="utf-8")
        # The same refusals as `draft`: an existing page needs force, and force never
        # replaces a page git could not restore.
        assert "already exists" in await fails(s, "scaffold", ref="6", write=True)
        assert "not committed" in await fails(s, "scaffold", ref="6", write=True, force=True)
        assert "not in the plan" in await fails(s, "scaffold", ref="404")

        new = site / "content" / "practice-pocs" / "sliding-window-rate-limiter.md"
        new.write_text("# POC #12: Sliding Window Rate Limiter with Lua\n\nText.\n", encoding="utf-8")
        before = meta.read_text(encoding="utf-8")
        dry = await call(s, "nav_insert", page=str(new.relative_to(site)), dry_run=True)
        assert dry["changed"] and not dry["written"] and meta.read_text(encoding="utf-8") == before
        done = await call(s, "nav_insert", page=str(new.relative_to(site)))
        after = meta.read_text(encoding="utf-8")
        assert done["written"] and done["entry"].startswith('"sliding-window-rate-limiter"')
        # One line added; every other line kept (the previous last entry may gain its comma).
        added = [ln for ln in after.splitlines() if "sliding-window-rate-limiter" in ln]
        assert len(added) == 1 and done["line"] == after.splitlines().index(added[0]) + 1
        rest = [ln.rstrip(",") for ln in after.splitlines() if ln not in added]
        assert rest == [ln.rstrip(",") for ln in before.splitlines()]
        again = await call(s, "nav_insert", page=str(new.relative_to(site)))
        assert again["changed"] is False and "already listed" in again["note"]
        assert "no such page" in await fails(s, "nav_insert", page="content/practice-pocs/ghost.md")
        assert "not a Markdown page" in await fails(s, "nav_insert", page="content/practice-pocs/_meta.js")
        clash = site / "content" / "practice-pocs" / "clash.md"
        clash.write_text("# POC #4: Another Limiter\n", encoding="utf-8")
        assert "number 4 is already used" in await fails(s, "nav_insert", page="content/practice-pocs/clash.md")

    with_server(site, body)
    ws = load_workspace(site)
    writes = Session.latest(ws).writes()
    assert writes["content/practice-pocs/_meta.js"].action == "navigation"
    assert any(w.action == "drafted" for w in writes.values())
    calls = [e for e in Session.latest(ws).events() if e["event"] == "mcp_call"]
    assert [c["tool"] for c in calls][:2] == ["scaffold", "scaffold"] and "nav_insert" in [c["tool"] for c in calls]


def test_a_broken_config_is_reported_by_each_call_and_the_server_stays_up(site: Path):
    (site / "authorkit.toml").write_text("[content\nroots = 1\n", encoding="utf-8")

    async def body(s: ClientSession) -> None:
        assert {t.name for t in (await s.list_tools()).tools} == TOOLS
        for _ in range(2):
            text = await fails(s, "check", path="content/practice-pocs/redis-cache-aside.md")
            assert "authorkit.toml" in text and "not valid TOML" in text
        assert "authorkit.toml" in await fails(s, "plan_item", ref="1")

    with_server(site, body)


def test_calls_sent_together_each_get_their_own_answer(site: Path):
    async def body(s: ClientSession) -> None:
        answers: dict[str, Any] = {}

        async def one(key: str, tool: str, args: dict[str, Any]) -> None:
            answers[key] = await call(s, tool, **args)

        async with anyio.create_task_group() as tg:
            for n in (1, 2, 3, 6):
                tg.start_soon(one, f"item{n}", "plan_item", {"ref": str(n)})
            tg.start_soon(one, "clean", "check", {"path": TUTORIAL_POC})
            tg.start_soon(one, "engagement", "check", {"path": ENGAGEMENT_POC})
        for n in (1, 2, 3, 6):
            assert answers[f"item{n}"]["item"]["number"] == n
            assert answers[f"item{n}"]["text"].startswith(f"POC #{n}:")
        assert answers["clean"]["files"][0]["path"] == TUTORIAL_POC
        assert answers["engagement"]["files"][0]["style"] == "engagement"

    with_server(site, body)
