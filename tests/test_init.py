"""`authorkit init`: detect an existing site's layout, write a config that loads."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.clihelp import invoke

from authorkit.config import load_workspace


_run = invoke


@pytest.fixture
def site(tmp_path: Path, fixtures: Path) -> Path:
    pocs = tmp_path / "docs-site" / "pages" / "interview-prep" / "practice-pocs"
    pocs.mkdir(parents=True)
    (pocs / "_meta.js").write_bytes((fixtures / "nav" / "grouped._meta.js").read_bytes())
    (pocs / "kv-store-basics.md").write_text("# POC #1: Key-Value Basics\n\nBody.\n", encoding="utf-8")
    arts = tmp_path / "docs-site" / "pages" / "system-design"
    arts.mkdir(parents=True)
    (arts / "_meta.json").write_text('{\n  "index": "Overview"\n}\n', encoding="utf-8")
    (arts / "caching.md").write_text("# Caching at Scale\n", encoding="utf-8")
    older = tmp_path / "MASTER_PLAN_1000_ARTICLES.md"
    older.write_text("# Master\n", encoding="utf-8")
    newer = tmp_path / "docs-site" / "WEEK_3_CONSOLIDATED_PLAN.md"
    newer.write_text("# Week 3\n", encoding="utf-8")
    past = time.time() - 86400
    os.utime(older, (past, past))
    (tmp_path / "README.md").write_text("# Site\n", encoding="utf-8")
    return tmp_path


def test_init_detects_layout_and_config_works_unedited(site: Path, capsys):
    code, out, _ = _run(["init", str(site)], capsys)
    assert code == 0
    ws = load_workspace(site)
    cfg = ws.config
    poc_dir = "docs-site/pages/interview-prep/practice-pocs"
    assert cfg.draft.poc_dir == poc_dir
    assert cfg.draft.article_dir == "docs-site/pages/system-design"
    assert cfg.content.roots == ["docs-site/pages"]
    assert cfg.plans.files == ["MASTER_PLAN_1000_ARTICLES.md", "docs-site/WEEK_3_CONSOLIDATED_PLAN.md"]  # oldest first
    assert sorted(cfg.navigation.files) == [f"{poc_dir}/_meta.js", "docs-site/pages/system-design/_meta.json"]
    assert ws.style_for(site / poc_dir / "new.md") == "tutorial"
    assert ws.style_for(site / "docs-site/pages/system-design/x.md") == "article"
    # it says what it found and why
    assert "POC folder (new POCs go here): " + poc_dir in out and "numbered entries" in out
    assert "#" in (site / "authorkit.toml").read_text(encoding="utf-8").splitlines()[0]  # commented


def test_init_never_overwrites_without_force(site: Path, capsys):
    (site / "authorkit.toml").write_text("# mine\n", encoding="utf-8")
    code, _, err = _run(["init", str(site)], capsys)
    assert code == 2 and "already exists" in err and "--force" in err
    assert (site / "authorkit.toml").read_text(encoding="utf-8") == "# mine\n"
    code, out, _ = _run(["init", str(site), "--force"], capsys)
    assert code == 0 and "replaced" in out
    assert load_workspace(site).config.draft.poc_dir.endswith("practice-pocs")


def test_init_in_empty_directory_writes_commented_default(tmp_path: Path, capsys):
    code, out, _ = _run(["init", str(tmp_path)], capsys)
    assert code == 0
    cfg = load_workspace(tmp_path).config
    assert cfg.content.roots == ["."] and cfg.plans.files == []
    assert "none found" in out


def test_init_dry_run_writes_nothing(site: Path, capsys):
    code, out, _ = _run(["init", str(site), "--dry-run"], capsys)
    assert code == 0 and "[draft]" in out
    assert not (site / "authorkit.toml").exists()


def test_init_templates_copies_guides_and_prompts_without_clobbering(tmp_path):
    from authorkit.initialize import copy_templates

    (tmp_path / "style_guides").mkdir()
    mine = tmp_path / "style_guides" / "tutorial.yaml"
    mine.write_text("name: tutorial\nsections: []\n")
    copied, kept = copy_templates(tmp_path)
    assert "style_guides/engagement.yaml" in copied and "prompts/system.j2" in copied
    assert kept == ["style_guides/tutorial.yaml"]
    assert mine.read_text() == "name: tutorial\nsections: []\n"
    from authorkit.styleguide import load_guides

    assert set(load_guides(tmp_path / "style_guides")) >= {"tutorial", "engagement", "article", "problem"}


# --- looking at the documents: this repository's sample site, extended -------------------------

from tests.conftest import REPO  # noqa: E402


@pytest.fixture
def sample_site(tmp_path: Path, fixtures: Path) -> Path:
    """This repository's sample site, plus a folder of interview Q&A pages (a shape no built-in
    guide describes) with its index page, an overview landing page and a superseded plan."""
    import shutil

    shutil.copytree(REPO / "content", tmp_path / "content")
    shutil.copytree(fixtures / "learn" / "interview-qa", tmp_path / "content" / "interview-qa")
    (tmp_path / "content" / "overview.md").write_text(
        "# Overview\n\nWhere to start.\n\n- [Practice POCs](./practice-pocs)\n- [System design](./system-design)\n- [Interview Q&A](./interview-qa)\n",
        encoding="utf-8")
    (tmp_path / "content" / "interview-qa" / "about.md").write_text("# About These Questions\n\nCollected from real interviews.\n", encoding="utf-8")
    shutil.copy(fixtures / "learn" / "plans" / "SPRINT_0_PLAN.md", tmp_path / "SPRINT_0_PLAN.md")
    return tmp_path


def _check(site: Path, capsys, *args: str) -> tuple[int, str]:
    code, out, _ = _run(["check", "--no-code", "--no-cache", *args], capsys, cwd=site)
    return code, out


def test_init_maps_folders_by_their_documents_and_learns_a_guide_for_a_new_shape(sample_site: Path, capsys):
    code, out, err = _run(["init", "--learn"], capsys, cwd=sample_site)
    assert code == 0, err
    ws = load_workspace(sample_site)
    pocs = sample_site / "content" / "practice-pocs"
    assert ws.style_for(pocs / "redis-cache-aside.md") == "tutorial"
    # The two engagement-style POCs fit engagement, not the folder's tutorial style.
    assert ws.style_for(pocs / "idempotent-queue-consumers.md") == "engagement"
    assert ws.style_for(pocs / "redis-token-bucket-rate-limiter.md") == "engagement"
    assert ws.style_for(pocs / "new-poc.md") == "tutorial"
    assert ws.style_for(sample_site / "content" / "system-design" / "caching-strategies.md") == "article"
    assert ws.style_for(sample_site / "content" / "interview-qa" / "queue-interview-questions.md") == "interview-qa"
    guide = (sample_site / "style_guides" / "interview-qa.yaml").read_text(encoding="utf-8")
    assert "4/4 exemplars (required)" in guide
    # Everything guessed is printed, with the scores.
    assert "content/practice-pocs -> tutorial: 3/5 documents fit tutorial" in out
    assert "content/interview-qa -> interview-qa: no guide fits; learned `interview-qa`" in out
    assert "mean scores:" in out and "draft reference: content/practice-pocs/redis-cache-aside.md" in out
    assert ws.config.draft.reference == "content/practice-pocs/redis-cache-aside.md"
    # Landing pages are not checked; every other page passes the style it was mapped to.
    assert ws.is_excluded(sample_site / "content" / "overview.md")
    assert ws.is_excluded(sample_site / "content" / "interview-qa" / "index.md")
    assert ws.is_excluded(sample_site / "content" / "interview-qa" / "about.md")  # a stub: no sections
    code, out = _check(sample_site, capsys)
    assert code == 0, out
    assert "10 files checked" in out and "style-unknown" not in out
    # The superseded plan is listed, commented out, with the reason; the current one is enrolled.
    assert ws.config.plans.files == ["content/PLAN.md"]
    toml = (sample_site / "authorkit.toml").read_text(encoding="utf-8")
    assert '# "SPRINT_0_PLAN.md",  # not enrolled: it says' in toml and "superseded by" in toml


def test_a_structural_error_in_a_learned_style_is_still_caught(sample_site: Path, capsys):
    _run(["init", "--learn"], capsys, cwd=sample_site)
    doc = sample_site / "content" / "interview-qa" / "database-interview-questions.md"
    doc.write_text(doc.read_text(encoding="utf-8").replace("## Key Takeaways", "## Wrapping Up"), encoding="utf-8")
    code, out = _check(sample_site, capsys, "content/interview-qa")
    assert code == 1 and "missing required section “Key Takeaways”" in out


def test_init_without_learn_names_the_shape_and_writes_no_guide(sample_site: Path, capsys):
    code, out, _ = _run(["init"], capsys, cwd=sample_site)
    assert code == 0
    assert "content/interview-qa -> auto: no style fits most of its 4 documents" in out
    assert "Quick Overview" in out and "init --learn" in out
    assert not (sample_site / "style_guides").exists()
    assert load_workspace(sample_site).style_for(sample_site / "content" / "interview-qa" / "x.md") == "auto"


def test_init_never_replaces_a_guide_of_the_same_name(sample_site: Path, capsys):
    mine = sample_site / "style_guides" / "interview-qa.yaml"
    mine.parent.mkdir()
    mine.write_text("name: interview-qa\nsections:\n  - id: intro\n    headings: [Intro]\n", encoding="utf-8")
    code, out, _ = _run(["init", "--learn"], capsys, cwd=sample_site)
    assert code == 0
    assert mine.read_text(encoding="utf-8").startswith("name: interview-qa\nsections:\n  - id: intro")
    learned = load_workspace(sample_site).style_for(sample_site / "content" / "interview-qa" / "x.md")
    assert learned != "interview-qa" and (sample_site / "style_guides" / f"{learned}.yaml").is_file()


def test_a_guide_learned_from_half_a_folder_passes_the_other_half(sample_site: Path, capsys):
    qa = sorted((sample_site / "content" / "interview-qa").glob("*-questions.md"))
    half, rest = qa[::2], qa[1::2]
    code, _, _ = _run(["style", "learn", *map(str, half), "--name", "qa-half"], capsys, cwd=sample_site)
    assert code == 0
    code, out = _check(sample_site, capsys, "--style", "qa-half", *map(str, rest))
    assert code == 0, out


def test_superseded_plans_are_listed_but_not_enrolled(tmp_path: Path, fixtures: Path, capsys):
    import shutil

    (tmp_path / "content").mkdir()
    for name in ("WEEK_1_PLAN.md", "WEEK_2_PLAN.md", "SPRINT_0_PLAN.md"):
        shutil.copy(fixtures / "learn" / "plans" / name, tmp_path / name)
    (tmp_path / "OLD_ROADMAP.md").write_text("# Roadmap\n\n- POC #9: Something\n", encoding="utf-8")
    code, out, _ = _run(["init", str(tmp_path)], capsys)
    assert code == 0
    assert load_workspace(tmp_path).config.plans.files == ["WEEK_2_PLAN.md"]
    assert "plan WEEK_1_PLAN.md: not enrolled, an earlier week 1 than WEEK_2_PLAN.md" in out
    assert "plan OLD_ROADMAP.md: not enrolled, its name says “OLD”" in out
    assert "plan SPRINT_0_PLAN.md: not enrolled, it says" in out


def test_plans_of_the_shared_seeds_enrol_the_week_plan_not_the_master_plan(tmp_path: Path, seeds: Path, samples: Path, capsys):
    pocs = tmp_path / "docs-site" / "pages" / "interview-prep" / "practice-pocs"
    pocs.mkdir(parents=True)
    (pocs / "database-crud.md").write_bytes((samples / "database-crud.md").read_bytes())
    (pocs / "postgresql-partitioning-strategies.md").write_bytes((samples / "postgresql-partitioning-strategies.before.md").read_bytes())
    (pocs / "_meta.js").write_bytes((samples / "practice-pocs._meta.js").read_bytes())
    (tmp_path / "MASTER_PLAN_1000_ARTICLES.md").write_bytes((seeds / "001_aa9edd0af0cc1d29.txt").read_bytes())
    (tmp_path / "docs-site" / "WEEK_3_CONSOLIDATED_PLAN.md").write_bytes((seeds / "004_abdbe030a1b57eff.txt").read_bytes())
    code, out, _ = _run(["init", str(tmp_path)], capsys)
    assert code == 0
    cfg = load_workspace(tmp_path).config
    assert cfg.plans.files == ["docs-site/WEEK_3_CONSOLIDATED_PLAN.md"]
    assert "MASTER_PLAN_1000_ARTICLES.md: not enrolled, a long-range roadmap" in out
    # The accepted tutorial POC is the reference, not the engagement-style one.
    assert cfg.draft.reference == "docs-site/pages/interview-prep/practice-pocs/database-crud.md"


# --- plan items and the pages that exist -----------------------------------------------------------


@pytest.fixture
def article_site(tmp_path: Path) -> Path:
    (tmp_path / "content" / "system-design").mkdir(parents=True)
    (tmp_path / "authorkit.toml").write_text(
        '[content]\nroots = ["content"]\n[plans]\nfiles = ["PLAN.md"]\n[navigation]\nfiles = ["content/system-design/_meta.js"]\n'
        '[draft]\narticle_dir = "content/system-design"\n', encoding="utf-8")
    (tmp_path / "PLAN.md").write_text(
        "# Week 3 Plan\n\n### Articles Needed (4)\n- Message Queues: Kafka vs RabbitMQ\n- Rate Limiting Strategies\n"
        "- Consistent Hashing\n- Database Sharding Explained\n- Circuit Breakers in Production: Failing Fast Without Cascades\n", encoding="utf-8")
    (tmp_path / "content" / "system-design" / "breakers.md").write_text("# Circuit Breakers in Production\n\n## Intro\n\nText.\n", encoding="utf-8")
    d = tmp_path / "content" / "system-design"
    (d / "message-queues-kafka-rabbitmq.md").write_text("# Message Queues: Kafka vs RabbitMQ\n\n## Intro\n\nText.\n", encoding="utf-8")
    (d / "rate-limiting.md").write_text("# Throttling at the Edge\n\n## Intro\n\nText.\n", encoding="utf-8")
    # Mojibake in the title (an emoji read as cp1252) does not hide the page.
    (d / "sharding.md").write_text("# \u00f0\u0178\u201d\u00a5 Database Sharding Explained\n\n## Intro\n\nText.\n", encoding="utf-8")
    (d / "_meta.js").write_text('export default {\n  "message-queues-kafka-rabbitmq": "Message Queues",\n  "rate-limiting": "Rate Limiting",\n  "sharding": "Sharding"\n}\n', encoding="utf-8")
    return tmp_path


def test_plan_items_match_pages_by_title_nav_label_and_slug(article_site: Path, capsys):
    code, out, _ = _run(["plan", "--format", "json"], capsys, cwd=article_site)
    import json

    items = {i["title"]: i for i in json.loads(out)["items"]}
    assert items["Message Queues: Kafka vs RabbitMQ"]["path"] == "content/system-design/message-queues-kafka-rabbitmq.md"
    assert items["Message Queues: Kafka vs RabbitMQ"]["found_by"] == "title"
    assert items["Rate Limiting Strategies"]["path"] == "content/system-design/rate-limiting.md"
    assert items["Database Sharding Explained"]["found_by"] == "title"
    assert items["Consistent Hashing"]["state"] == "missing"
    subtitled = items["Circuit Breakers in Production: Failing Fast Without Cascades"]
    assert (subtitled["path"], subtitled["found_by"]) == ("content/system-design/breakers.md", "title")


def test_draft_names_the_existing_page_and_refuses_a_second_one(article_site: Path, capsys):
    before = sorted(p.name for p in (article_site / "content" / "system-design").iterdir())
    nav = (article_site / "content" / "system-design" / "_meta.js").read_text(encoding="utf-8")
    for title, page in (("Message Queues: Kafka vs RabbitMQ", "message-queues-kafka-rabbitmq.md"), ("Rate Limiting Strategies", "rate-limiting.md")):
        for extra in ([], ["--dry-run"]):
            code, out, err = _run(["draft", "article", title, "--provider", "scaffold", *extra], capsys, cwd=article_site)
            assert code == 2, out
            assert f"content/system-design/{page}" in err and "already exists" in err and "Traceback" not in err
    assert sorted(p.name for p in (article_site / "content" / "system-design").iterdir()) == before
    assert (article_site / "content" / "system-design" / "_meta.js").read_text(encoding="utf-8") == nav
    code, out, _ = _run(["draft", "article", "Consistent Hashing", "--provider", "scaffold", "--dry-run"], capsys, cwd=article_site)
    assert code == 0 and "consistent-hashing.md" in out


def test_a_consolidated_plan_takes_over_the_older_plans_it_shares_items_with(tmp_path: Path, capsys):
    (tmp_path / "content").mkdir()
    older = tmp_path / "ARTICLE_GENERATION_PLAN.md"
    older.write_text("# Article Plan\n\n### Articles Needed (3)\n- Circuit Breaker Pattern\n- Saga Pattern\n- Service Discovery\n", encoding="utf-8")
    other = tmp_path / "SEARCH_PLAN.md"
    other.write_text("# Search Plan\n\n### Articles Needed (2)\n- Inverted Indexes\n- BM25 Ranking\n", encoding="utf-8")
    past = time.time() - 3 * 86400
    os.utime(older, (past, past))
    os.utime(other, (past, past))
    (tmp_path / "WEEK_3_CONSOLIDATED_PLAN.md").write_text(
        "# Week 3 Consolidated Plan: Pending Week 2 + Gaps\n\n### Articles Needed (3)\n- Saga Pattern\n- Connection Pooling\n- Backpressure\n", encoding="utf-8")
    code, out, _ = _run(["init", str(tmp_path)], capsys)
    assert code == 0
    assert load_workspace(tmp_path).config.plans.files == ["SEARCH_PLAN.md", "WEEK_3_CONSOLIDATED_PLAN.md"]
    assert "plan ARTICLE_GENERATION_PLAN.md: not enrolled, consolidated into WEEK_3_CONSOLIDATED_PLAN.md (1 of its 3 items are there)" in out


def test_builtin_guides_for_the_sites_other_shapes(tmp_path: Path, capsys):
    """Concept pages, system-design problems and short POCs are recognised without --learn."""
    pages = tmp_path / "pages"

    def doc(folder: str, name: str, title: str, headings: list[str], body: str = "Text.\n") -> None:
        d = pages / folder
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{name}.md").write_text(f"# {title}\n\n" + "".join(f"## {h}\n\n{body}\n" for h in headings), encoding="utf-8")

    for i in range(3):
        doc("concepts", f"c{i}", f"Idempotency {i}", ["Quick Overview", "The Problem Class", "Why the Obvious Solution Fails", "Solution Landscape", "Production Failure Story"])
        doc("designs", f"d{i}", f"Design a Feed {i}", ["⚡ Quick Overview", "Data Model", "Component Deep Dive 1: Fan-out", "Component Deep Dive 2: Ranking", "Scale Bottlenecks", "Interview Angle"])
    code_block = "```python\nprint('ok')\n```\n" + "line\n" * 120
    for i in range(4):
        doc("practice-pocs", f"long{i}", f"POC #{i + 1}: Long {i}", ["What You'll Build", "Why This Matters", "The Problem", "Step-by-Step Build", "How This Fits Larger Systems", "Key Takeaways", "What's Next"])
    for i in range(2):
        doc("practice-pocs", f"short{i}", f"POC #{i + 61}: Short {i}", ["What You'll Learn", "Implementation", "Related POCs"], code_block)
    code, out, _ = _run(["init", str(tmp_path)], capsys)
    assert code == 0
    ws = load_workspace(tmp_path)
    assert ws.style_for(pages / "concepts" / "c0.md") == "concept"
    assert ws.style_for(pages / "designs" / "d0.md") == "system-design-problem"
    assert ws.style_for(pages / "practice-pocs" / "long0.md") == "tutorial"
    assert ws.style_for(pages / "practice-pocs" / "short1.md") == "short-poc"
    code, out = _check(tmp_path, capsys, "pages/concepts", "pages/designs", "pages/practice-pocs/short0.md")
    assert code == 0, out
