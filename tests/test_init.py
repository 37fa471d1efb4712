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
