"""`authorkit plan` and `plan show`: planned items against the pages that exist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clihelp import invoke, make_planned_site

from authorkit.config import load_workspace
from authorkit.plan import load_plan, plan_status

_run = invoke


@pytest.fixture
def site(tmp_path: Path, fixtures: Path) -> Path:
    pocs = make_planned_site(tmp_path, fixtures)
    # found by the number in its title (and in a file name that says nothing)
    (pocs / "ttl-cache.md").write_text("# POC #12: Read-Through Cache\n\nShort.\n", encoding="utf-8")
    # found through the navigation entry numbered 1️⃣4️⃣ (the title has no number)
    (pocs / "queue-dlq.md").write_text("# Dead Letters\n\nShort.\n", encoding="utf-8")
    # found by slug
    (pocs / "partition-rebalancing.md").write_text("# Rebalancing\n", encoding="utf-8")
    # a page whose title claims another number must not be taken for #15 by its slug
    (pocs / "dead-letter-queues.md").write_text("# POC #99: Something else\n", encoding="utf-8")
    return tmp_path


def _args(site: Path, *extra: str) -> list[str]:
    return ["plan", *extra, "--config", str(site / "authorkit.toml")]


def test_status_by_title_nav_and_slug(site: Path):
    ws = load_workspace(site)
    statuses = {(s.item.kind, s.item.number, s.item.title): s for s in plan_status(ws, load_plan(ws), check=False)}
    by_num = {k[1]: v for k, v in statuses.items() if k[0] == "poc" and k[1] is not None}
    assert (by_num[12].found_by, by_num[12].path) == ("title", "content/pocs/ttl-cache.md")
    assert (by_num[14].found_by, by_num[14].path) == ("nav", "content/pocs/queue-dlq.md")
    assert (by_num[20].found_by, by_num[20].path) == ("slug", "content/pocs/partition-rebalancing.md")
    assert by_num[15].state == "missing"
    assert by_num[13].state == "missing"


def test_status_runs_the_style_check(site: Path):
    ws = load_workspace(site)
    statuses = {s.item.number: s for s in plan_status(ws, load_plan(ws)) if s.item.kind == "poc"}
    # a three-line page fails the tutorial style; the error count is the checker's
    from authorkit.check import check_text
    from authorkit.findings import Severity
    from authorkit.styleguide import load_guides

    guide = load_guides(ws.style_guides_dir)["tutorial"]
    expected = sum(1 for f in check_text((site / "content/pocs/ttl-cache.md").read_text(encoding="utf-8"), guide, "") if f.severity == Severity.ERROR)
    assert statuses[12].state == "fails" and statuses[12].errors == expected > 0


def test_json_output_filters_and_totals(site: Path, capsys):
    code, out, _ = _run(_args(site, "--format", "json", "--kind", "poc", "--no-check"), capsys)
    assert code == 0
    data = json.loads(out)
    assert {i["kind"] for i in data["items"]} == {"poc"}
    assert data["totals"]["poc"]["total"] == 10
    assert data["totals"]["poc"]["found"] == 3
    assert data["totals"]["poc"]["percent"] == 30.0
    day1 = next(g for g in data["groups"] if g["group"].endswith("Day 1: Key-Value Basics"))
    assert (day1["total"], day1["found"]) == (3, 2)
    assert round(day1["percent"], 1) == 66.7
    assert any("2 cells" in w for w in data["warnings"])

    code, out, _ = _run(_args(site, "--format", "json", "--pending", "--no-check", "--group", "day 2"), capsys)
    items = json.loads(out)["items"]
    assert [i["number"] for i in items] == [15, 16, 17, 18]
    assert all(i["state"] == "missing" for i in items)


def test_text_and_markdown_output(site: Path, capsys):
    code, out, _ = _run(_args(site, "--no-check", "--group", "Day 1"), capsys)
    assert code == 0
    assert "Day 1: Key-Value Basics  [2/5 written, 40%" in out
    assert "content/pocs/ttl-cache.md" in out
    assert "total: 2/5 written (40%)" in out
    code, out, _ = _run(_args(site, "--no-check", "--format", "markdown", "--kind", "poc"), capsys)
    assert "| Group | Written | Passing | Total | % |" in out
    assert "| POC #14 | Hot key detection |" in out
    assert "## Could not read" in out


def test_plan_show_prints_the_generator_context(site: Path, capsys):
    code, out, _ = _run(_args(site, "show", "15"), capsys)
    assert code == 0
    assert out.splitlines()[0] == "POC #15: Dead letter queues"
    assert "PLAN.md:32" in out
    assert "Moving work around" in out
    assert "Runs with one command" in out
    assert "draft to:  content/pocs/dead-letter-queues-2.md" in out  # the slug is taken by another page
    code, out, _ = _run(_args(site, "show", "15", "--format", "json"), capsys)
    data = json.loads(out)
    assert data["item"]["number"] == 15 and data["theme"] == "Moving work around"
    assert data["criteria"] == ["Runs with one command", "Shows a measurable result"]


def test_plan_show_unknown_and_bad_action(site: Path, capsys):
    code, _, err = _run(_args(site, "show", "77"), capsys)
    assert code == 2 and "nearest planned numbers" in err
    code, _, err = _run(_args(site, "list"), capsys)
    assert code == 2 and "unknown plan action" in err


def test_group_filter_does_not_confuse_day_1_and_day_10(tmp_path: Path, capsys):
    (tmp_path / "authorkit.toml").write_text('[plans]\nfiles = ["P.md"]\n', encoding="utf-8")
    (tmp_path / "P.md").write_text("# P\n\n## Day 1\n- POC #1: One\n\n## Day 10\n- POC #10: Ten\n", encoding="utf-8")
    code, out, _ = _run(["plan", "--group", "day 1", "--format", "json", "--no-check", "--config", str(tmp_path / "authorkit.toml")], capsys)
    assert [i["number"] for i in json.loads(out)["items"]] == [1]
