"""Plan parsing: the forms the user writes, what it cannot read, and the seed plans."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from authorkit.plan import load_plan, merge_plans, parse_plan_file, parse_plan_text


def _plan(fixtures: Path, name: str):
    return parse_plan_file(fixtures / "plans" / name, name)


# --- the seed plans ------------------------------------------------------------------------


@pytest.fixture
def week3(seeds: Path):
    return parse_plan_file(next(seeds.glob("004_*.txt")), "WEEK_3.md")


def test_seed_004_recovers_all_35_pocs_with_titles(week3):
    assert week3.numbers("poc") == list(range(46, 81))
    assert all(week3.find("poc", n).title for n in range(46, 81))
    assert week3.find("poc", 61).title == "Cache-aside pattern (read-through)"
    assert week3.find("poc", 75).title == "Exponential Backoff with Jitter"
    # the plan's own totals: 14 articles, 35 POCs, 8 problems
    assert len(week3.of_kind("article")) == 14
    assert len(week3.of_kind("poc")) == 35
    assert len(week3.of_kind("problem")) == 8
    assert week3.warnings == []


def test_seed_004_mojibake_is_noise_not_title(week3):
    for item in week3.items:
        assert item.title
        assert "NEW" not in item.title and "⭐" not in item.title
        assert not re.search(r"[‚≠êâœ…Ã]", item.title), item.title


def test_seed_004_group_context_and_criteria(week3):
    item = week3.find("poc", 61)
    assert item.group[-1] == "Day 6: Caching Mastery"
    assert "WEEK 3B" in item.group_path
    assert item.theme == "Data Freshness & Performance"
    assert item.series == "Caching" and item.series_range == (61, 65)
    assert item.status == "pending"
    assert item.tier and item.tier.startswith("Tier 3")
    ctx = week3.context(item)
    assert "POC #62: Write-through vs Write-behind caching" in ctx["siblings"]
    assert "Article: Caching Strategies" in ctx["related"]
    assert "Problem: Stale Read After Write" in ctx["related"]
    assert "Docker Compose setup (runnable in 15 min)" in ctx["criteria"]
    # the source line points at the bullet that names the title
    assert item.line == 274 and item.source == "WEEK_3.md"


def test_seed_004_table_only_columns_are_kept(week3):
    assert week3.find("poc", 71).extra.get("Why Critical") == "Every production app"
    assert week3.find("poc", 71).group[-1].startswith("Day 1")


def test_seed_001_unnumbered_pocs_under_numbered_topics(seeds: Path):
    plan = parse_plan_file(next(seeds.glob("001_*.txt")), "MASTER_PLAN.md")
    counter = [i for i in plan.of_kind("poc") if i.title == "Counter with INCR"]
    assert len(counter) == 1
    assert counter[0].number is None
    assert counter[0].group[-1] == "Redis String Operations"
    assert "Redis Fundamentals" in counter[0].group
    # the POC template inside a code block is not a plan item
    assert not any("Concept Name" in (i.title or "") for i in plan.items)
    assert len(plan.of_kind("poc")) > 150


# --- the team's fixtures -------------------------------------------------------------------


def test_bullets_labels_headings_and_status(fixtures: Path):
    plan = _plan(fixtures, "sprint_plan.md")
    p12 = plan.find("poc", 12)
    assert p12.title == "Read-through cache with TTL"
    assert p12.group_path == "Schedule › Week 1: Storage › Day 1: Key-Value Basics"
    assert p12.theme == "Fast lookups"
    assert plan.find("poc", 13).status == "done"
    assert plan.find("poc", 14).status == "in-progress"
    assert plan.find("poc", 19).title == "Consumer lag alerts"  # a heading item
    assert [i.title for i in plan.of_kind("article")] == ["Choosing a Key-Value Store"]
    assert [i.title for i in plan.of_kind("problem")] == ["Cache Avalanche at Midnight"]
    # the "Deliverables" line and the writing rules are not items
    assert len(plan.items) == 12


def test_ranges_expand_without_inventing_titles(fixtures: Path):
    plan = _plan(fixtures, "sprint_plan.md")
    for n in (16, 17, 18):
        item = plan.find("poc", n)
        assert item is not None and item.title is None
        assert item.series_range == (16, 18)
    # a range over titled items only adds series and status
    assert plan.find("poc", 12).series == "Caching"
    assert plan.find("poc", 15).status == "pending"


def test_table_rows_with_number_column(fixtures: Path):
    plan = _plan(fixtures, "sprint_plan.md")
    assert plan.find("poc", 20).title == "Partition rebalancing"
    assert plan.find("poc", 20).extra == {"Why": "Every cluster"}


def test_what_could_not_be_read_is_reported_with_lines(fixtures: Path):
    plan = _plan(fixtures, "sprint_plan.md")
    msgs = [(w.line, w.message) for w in plan.warnings]
    assert any(line == 50 and "2 cells" in m for line, m in msgs)  # malformed row
    assert any(line == 51 and "'2x'" in m for line, m in msgs)
    # a duplicate number in one plan: the first title is kept and the clash reported
    assert any(line == 34 and "POC #13" in m for line, m in msgs)
    assert plan.find("poc", 13).title == "Write-behind queue (batching)"
    assert plan.find("poc", 21) is None
    assert all(str(w).startswith("sprint_plan.md:") for w in plan.warnings)


def test_broken_plan_warnings(fixtures: Path):
    plan = _plan(fixtures, "broken_plan.md")
    assert [w.line for w in plan.warnings] == [4, 5, 7, 13]
    assert "reversed" in plan.warnings[1].message
    assert "separator" in plan.warnings[2].message
    assert [i.number for i in plan.items] == [41]


def test_unnumbered_pocs_keep_their_topic(fixtures: Path):
    plan = _plan(fixtures, "topics_plan.md")
    titles = [(i.title, i.group[-1]) for i in plan.items]
    assert titles == [
        ("Page view counter", "Strings"),
        ("Simple lock with expiry", "Strings"),
        ("Profile storage", "Hashes"),
        ("Simple lock with expiry", "Lists"),  # same title under another topic: another item
    ]
    assert plan.items[0].group_path == "Structure › Category 1: Caching › Redis Basics › Strings"


def test_success_criteria_per_kind(fixtures: Path):
    plan = _plan(fixtures, "sprint_plan.md")
    assert plan.criteria == {"poc": ["Runs with one command", "Shows a measurable result"],
                             "article": ["Opens with an incident"]}


def test_mojibake_in_both_encodings_is_repaired():
    text = "# Plan\n\n## Day 1\n- POC #30: Retry budgets ⭐ NEW\n- POC #31: Circuit breakers ✅\n"
    mac = text.encode("utf-8").decode("mac_roman")
    cp = text.replace("⭐ NEW", "").encode("utf-8").decode("cp1252", errors="replace")
    for broken in (mac, cp):
        plan = parse_plan_text(broken, "m.md")
        assert plan.find("poc", 30).title == "Retry budgets"
        assert plan.find("poc", 31).title == "Circuit breakers"
        assert plan.find("poc", 31).status == "done"


def test_later_plan_wins_and_conflict_is_reported(fixtures: Path):
    merged = merge_plans([_plan(fixtures, "sprint_plan.md"), _plan(fixtures, "revised_plan.md")])
    assert merged.find("poc", 14).title == "Hot partition detection"
    assert [(c.number, c.kept.source, c.dropped.source) for c in merged.conflicts] == [(14, "revised_plan.md", "sprint_plan.md")]
    assert "Hot key detection" in str(merged.conflicts[0])
    # agreeing titles are not conflicts, and items only in one plan survive
    assert merged.find("poc", 12).title == "Read-through cache with TTL"
    assert merged.find("poc", 22).title == "Adaptive rate limits"
    assert merged.find("poc", 19) is not None


def test_lookup_helpers(fixtures: Path):
    plan = _plan(fixtures, "sprint_plan.md")
    assert plan.nearest("poc", 30, 3) == [18, 19, 20]
    score, best = plan.search("poc", "dead letter")[0]
    assert best.number == 15 and score >= 0.8


def test_load_plan_errors_name_the_config(tmp_path: Path):
    from authorkit.config import load_workspace
    from authorkit.errors import PlanError

    (tmp_path / "authorkit.toml").write_text('[plans]\nfiles = ["nope.md"]\n', encoding="utf-8")
    ws = load_workspace(tmp_path)
    with pytest.raises(PlanError) as e:
        load_plan(ws)
    assert "nope.md" in str(e.value) and "authorkit.toml" in str(e.value)
    (tmp_path / "authorkit.toml").write_text("", encoding="utf-8")
    with pytest.raises(PlanError, match="no plan files"):
        load_plan(load_workspace(tmp_path))
