"""`authorkit review`: structural diff of a rewrite."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.clihelp import invoke

from authorkit.review import render_markdown, render_text, review_texts
from authorkit.styleguide import load_guides

FIX = Path(__file__).parent / "fixtures" / "review"


@pytest.fixture(scope="module")
def guides():
    return load_guides()


@pytest.fixture(scope="module")
def rate(guides):
    before = (FIX / "rate-limiter.before.md").read_text(encoding="utf-8")
    after = (FIX / "rate-limiter.after.md").read_text(encoding="utf-8")
    return review_texts(before, after, old_label="before.md", new_label="after.md", guides=guides)


def _sections(r) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for ch in r.sections:
        if ch.kind == "removed":
            out.setdefault("removed", []).append(ch.old.norm)
        elif ch.kind == "added":
            out.setdefault("added", []).append(ch.new.norm)
        else:
            out.setdefault("renamed" if ch.renamed else "kept", []).append(f"{ch.old.norm} -> {ch.new.norm}")
    return out


def test_sections_removed_added_and_renamed_through_aliases(rate) -> None:
    s = _sections(rate)
    assert (rate.old_style, rate.new_style) == ("engagement", "tutorial")
    assert s["removed"] == ["the $1.2m outage", "anti-patterns", "paradigm shift", "the solution", "complete docker poc"]
    assert s["added"] == ["why this matters", "the problem", "step-by-step build"]
    assert s["renamed"] == ["what you'll learn -> what you'll build", "next steps -> what's next"]
    assert s["kept"] == ["key takeaways -> key takeaways"]
    forbidden = [ch.old.norm for ch in rate.sections if ch.kind == "removed" and ch.old.forbidden_in_new]
    assert forbidden == ["the $1.2m outage", "anti-patterns", "paradigm shift"]


def test_where_each_code_block_went(rate) -> None:
    got = [(c.kind, c.old.line if c.old else None, c.new.line if c.new else None) for c in rate.code]
    assert got == [("dropped", 16, None), ("rewritten", 29, 35), ("merged", 41, 48), ("moved", 48, 26)]
    moved = rate.code[3]
    assert moved.old_where == "Complete Docker POC" and moved.new_where == "Step-by-Step Build › Step 1: Start Redis"


def test_numbers_and_companies(rate) -> None:
    assert rate.numbers_lost == ["$1.2M", "6 hours"]
    assert "5,000 requests/hour" in rate.numbers_added and "100 requests/sec" in rate.numbers_added
    assert "40%" not in rate.numbers_lost + rate.numbers_added  # carried over
    assert rate.companies_lost == ["Shopify"]
    assert rate.companies_added == ["GitHub", "Stripe"]


def test_identical_versions_show_no_change(guides) -> None:
    text = (FIX / "rate-limiter.after.md").read_text(encoding="utf-8")
    r = review_texts(text, text, guides=guides)
    assert {ch.kind for ch in r.sections} == {"matched"} and not any(ch.renamed or ch.moved for ch in r.sections)
    assert {c.kind for c in r.code} == {"kept"}
    assert r.numbers_lost == r.numbers_added == r.companies_lost == r.companies_added == []


def test_moved_section_is_reported(guides) -> None:
    old = "# T\n\n## Alpha\n\na\n\n## Beta\n\nb\n\n## Gamma\n\nc\n"
    new = "# T\n\n## Beta\n\nb\n\n## Gamma\n\nc\n\n## Alpha\n\na\n"
    r = review_texts(old, new, guides={})
    assert [(ch.new.norm, ch.moved) for ch in r.sections] == [("beta", False), ("gamma", False), ("alpha", True)]
    assert "moved    Alpha" in render_text(r)


def test_text_and_markdown_output(rate) -> None:
    text = render_text(rate, unified=True)
    assert "removed  The $1.2M Outage" in text and "forbidden in tutorial" in text
    assert "dropped  L16 js (2 lines) in Anti-Patterns › Wrong: A counter per request" in text
    assert "\n--- before.md\n+++ after.md\n" in text
    md = render_markdown(rate)
    assert "| ➖ removed | Paradigm Shift | 4 lines; forbidden in tutorial |" in md
    assert "| ✏️ renamed | What You'll Learn → What You'll Build | 4 → 8 lines; alias (hook) |" in md
    assert "- **Companies lost**: Shopify" in md
    assert "```diff" not in md


def test_samples_partitioning_rewrite(samples, guides) -> None:
    before = (samples / "postgresql-partitioning-strategies.before.md").read_text(encoding="utf-8")
    after = (samples / "postgresql-partitioning-strategies.after.md").read_text(encoding="utf-8")
    r = review_texts(before, after, guides=guides)
    s = _sections(r)
    for gone in ("the $2.3m problem", "anti-patterns (what not to do)", "paradigm shift"):
        assert gone in s["removed"]
    for new in ("why this matters", "the problem", "step-by-step build", "run it", "expected output", "extend it", "cleanup"):
        assert new in s["added"]
    text = render_text(r)
    assert "removed  The $2.3M Problem" in text
    # Every before block is accounted for, and the docker-compose file is found in the build steps.
    assert len([c for c in r.code if c.old is not None]) == 17
    yaml_block = next(c for c in r.code if c.old is not None and c.old.lang == "yaml")
    assert yaml_block.kind in ("kept", "moved") and yaml_block.new_where.startswith("Step-by-Step Build › Step 2")
    assert any(c.kind == "merged" and "Step 3" in c.new_where for c in r.code)
    assert "$2.3M" in r.numbers_lost
    # The rewrite passes its style; the old version fails that style on its forbidden sections.
    assert r.check_new.errors == 0
    assert r.check_old_as_new is not None and "section-forbidden" in r.check_old_as_new.rules


def test_cli_review_against_git_base(tmp_path: Path, capsys) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True, env=env)

    git("init", "-q", "-b", "main")
    git("config", "user.name", "Dana Writer")
    git("config", "user.email", "dana@example.org")
    page = tmp_path / "rate.md"
    page.write_text((FIX / "rate-limiter.before.md").read_text(encoding="utf-8"), encoding="utf-8")
    git("add", "rate.md")
    git("commit", "-q", "-m", "engagement version")
    page.write_text((FIX / "rate-limiter.after.md").read_text(encoding="utf-8"), encoding="utf-8")
    code, out, _ = invoke(["review", "rate.md", "--format", "markdown"], capsys, cwd=tmp_path)
    assert code == 0
    assert out.startswith("### Review: `HEAD:rate.md` → `rate.md`")
    code, _, err = invoke(["review", "rate.md", "--base", "no-such-rev"], capsys, cwd=tmp_path)
    assert code == 2
    assert "unknown revision 'no-such-rev'" in err
    code, _, err = invoke(["review", "missing.md", "rate.md"], capsys, cwd=tmp_path)
    assert code == 2
    assert "missing.md: no such file" in err
    code, out, _ = invoke(["review", str(FIX / "rate-limiter.before.md"), "rate.md", "--format", "json"], capsys, cwd=tmp_path)
    assert code == 0
    data = json.loads(out)
    assert [c["change"] for c in data["code"]] == ["dropped", "rewritten", "merged", "moved"]
    assert data["companies"]["lost"] == ["Shopify"]


# --- claims a reviewer can trust (each false claim seen on real rewrites, on our own fixtures) ---


@pytest.fixture(scope="module")
def pool(guides):
    before = (FIX / "pool.before.md").read_text(encoding="utf-8")
    after = (FIX / "pool.after.md").read_text(encoding="utf-8")
    return review_texts(before, after, old_label="before.md", new_label="after.md", guides=guides)


def test_numbers_in_code_and_output_blocks_are_not_lost(pool) -> None:
    # 8,247ms, 44ms, 10K users and 1,200 connections are in the new version's output block.
    for n in ("8,247ms", "44ms", "10K", "1,200 connections"):
        assert n not in pool.numbers_lost, pool.numbers_lost
    assert "$900K" in pool.numbers_lost  # the money hook really is gone
    # They stood in the old hook section, which the rewrite removed: moved, not lost.
    assert "8,247ms" in pool.numbers_moved


def test_plan_labels_are_not_numbers(pool) -> None:
    claimed = pool.numbers_lost + pool.numbers_added + pool.numbers_moved
    assert not [n for n in claimed if "day" in n.lower() or "week" in n.lower()], claimed


def test_a_sentence_initial_verb_is_not_a_company(pool) -> None:
    assert "Target" not in pool.companies_lost + pool.companies_added


def test_a_rewritten_file_is_rewritten_not_dropped(pool) -> None:
    kinds = [(c.kind, c.old.line if c.old else None) for c in pool.code]
    server = next(c for c in pool.code if c.old is not None)
    assert server.kind == "rewritten", kinds
    assert 0 < server.coverage < 0.8
    assert "% kept) → L" in render_text(pool) and "dropped" not in render_text(pool).split("facts:")[0]


def test_review_check_verdict_is_the_check_verdict(guides) -> None:
    from authorkit.rules import check_text

    after = (FIX / "pool.after.md").read_text(encoding="utf-8").replace("res.json(result.rows);", "res.json(result.rows;")
    r = review_texts(after, after, guides=guides, old_style="tutorial", new_style="tutorial")
    errors = [f for f in check_text(after, guides["tutorial"], "x.md") if str(f.severity) == "error"]
    assert any(f.rule.startswith("code") for f in errors)  # the broken call is found by check...
    assert r.check_new.errors == len(errors)  # ...and review reports the same verdict
    assert "code checks on" in render_text(r)
    off = review_texts(after, after, guides=guides, old_style="tutorial", new_style="tutorial", code_checks=False)
    assert off.check_new.errors < r.check_new.errors and "code checks off" in render_text(off)
