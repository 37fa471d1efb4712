"""`authorkit style learn`: a guide written from exemplars, usable by `check --style`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.clihelp import invoke
from tests.conftest import REPO

from authorkit.styleguide import load_guides

TUTORIAL_POCS = ["redis-cache-aside.md", "cache-stampede-protection.md", "redis-reliable-queue.md"]
ENGAGEMENT_POCS = ["redis-token-bucket-rate-limiter.md", "idempotent-queue-consumers.md"]


@pytest.fixture
def site(tmp_path: Path, fixtures: Path) -> Path:
    """This repository's sample site plus a folder of interview Q&A pages (a shape no
    built-in guide describes) and its landing page."""
    shutil.copytree(REPO / "content", tmp_path / "content")
    shutil.copytree(fixtures / "learn" / "interview-qa", tmp_path / "content" / "interview-qa")
    (tmp_path / "authorkit.toml").write_text('[content]\nroots = ["content"]\nexclude = ["content/PLAN.md"]\n', encoding="utf-8")
    return tmp_path


def _learn(site: Path, capsys, *args: str) -> tuple[int, str, str]:
    return invoke(["style", "learn", *args], capsys, cwd=site)


def test_guide_learned_from_tutorial_pocs_passes_them_and_fails_engagement_ones(site: Path, capsys):
    files = [f"content/practice-pocs/{f}" for f in TUTORIAL_POCS]
    code, out, err = _learn(site, capsys, *files, "--name", "house-poc")
    assert code == 0, err
    assert "wrote style_guides/house-poc.yaml" in out and "passes 3/3" in out
    guide = load_guides(site / "style_guides")["house-poc"]
    ids = [s.id for s in guide.section_rules]
    assert ids[:4] == ["what-youll-build", "why-this-matters", "the-problem", "step-by-step-build"]
    assert all(s.required for s in guide.section_rules)
    assert guide.title.pattern and "POC" in guide.title.pattern
    # Elements every exemplar has: the ✅ checklist and labelled lines of the opening, the company table.
    first = guide.section_rules[0]
    kinds = {(e.type, getattr(e, "label", None) or getattr(e, "column", None)) for e in first.elements}
    assert ("checklist", None) in kinds and ("field", "Time to complete") in kinds
    assert any(e.type == "table" and e.column == "Company" for e in guide.section_rules[1].elements)
    assert any(e.type == "steps" for e in guide.section_rules[3].elements)
    assert guide.lines and guide.lines.min <= 688 and guide.lines.max >= 788

    code, out, _ = invoke(["check", "--no-code", "--no-cache", "--style", "house-poc", *files], capsys, cwd=site)
    assert code == 0, out
    for f in ENGAGEMENT_POCS:
        code, out, _ = invoke(["check", "--no-code", "--no-cache", "--style", "house-poc", f"content/practice-pocs/{f}"], capsys, cwd=site)
        assert code == 1 and "section-missing" in out and "Step-by-Step Build" in out


def test_same_exemplars_give_the_same_bytes_in_any_order(site: Path, capsys):
    files = [f"content/practice-pocs/{f}" for f in TUTORIAL_POCS]
    _learn(site, capsys, *files, "--name", "a")
    _learn(site, capsys, *reversed(files), "--name", "a", "--force")
    one = (site / "style_guides" / "a.yaml").read_bytes()
    _learn(site, capsys, *files, "--name", "a", "--force")
    assert (site / "style_guides" / "a.yaml").read_bytes() == one
    code, out, _ = _learn(site, capsys, *files, "--name", "a", "--dry-run")
    assert code == 0 and out.encode().find(one) >= 0


def test_variants_numbered_sections_and_evidence(site: Path, capsys):
    code, out, _ = _learn(site, capsys, "content/interview-qa", "--name", "interview-qa", "--explain")
    assert code == 0
    assert "skipped content/interview-qa/index.md: landing page" in out
    assert "4/4" in out and "Further Reading" in out  # the evidence: counts and what was too rare to list
    text = (site / "style_guides" / "interview-qa.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    rules = [s for s in data["sections"] if isinstance(s, dict)]
    assert [r["id"] for r in rules] == ["quick-overview", "q1", "key-takeaways"]
    q = rules[1]
    assert q["repeat"] is True and q["patterns"]  # Q1, Q2, … are one repeating section
    assert "# 4/4 exemplars (required)" in text  # commented with the evidence
    # `## 🏆 Key Takeaways:` and `## Key Takeaways` are one section; an extra section after it is a `?` wildcard.
    assert data["sections"][-1] == "?"
    assert data["title"]["pattern"]
    pages = sorted(str(p.relative_to(site)) for p in (site / "content" / "interview-qa").glob("*-questions.md"))
    code, out, _ = invoke(["check", "--no-code", "--no-cache", "--style", "interview-qa", *pages], capsys, cwd=site)
    assert code == 0, out


def test_a_planted_structural_error_is_caught(site: Path, capsys):
    _learn(site, capsys, "content/interview-qa", "--name", "interview-qa")
    doc = site / "content" / "interview-qa" / "caching-interview-questions.md"
    text = doc.read_text(encoding="utf-8")
    doc.write_text(text.replace("## Quick Overview", "## Background"), encoding="utf-8")
    code, out, _ = invoke(["check", "--no-code", "--no-cache", "--style", "interview-qa", str(doc)], capsys, cwd=site)
    assert code == 1 and "missing required section “Quick Overview”" in out


def test_optional_when_not_nearly_every_exemplar_has_it(tmp_path: Path, capsys):
    for i in range(10):
        extra = "## Benchmarks\n\nNumbers.\n\n" if i < 5 else ""
        (tmp_path / f"d{i}.md").write_text(f"# Note {i}\n\n## Summary\n\nText.\n\n{extra}## Next\n\nMore.\n", encoding="utf-8")
    code, out, _ = invoke(["style", "learn", str(tmp_path), "--name", "note", "--dry-run"], capsys, cwd=tmp_path)
    assert code == 0
    data = yaml.safe_load(out[out.index("# The note style"):out.index("the note style passes")])
    req = {s["id"]: s["required"] for s in data["sections"] if isinstance(s, dict)}
    assert req == {"summary": True, "benchmarks": False, "next": True}
    assert not (tmp_path / "style_guides").exists()  # --dry-run writes nothing


def test_refuses_to_overwrite_and_rejects_bad_input(site: Path, capsys):
    f = "content/practice-pocs/redis-cache-aside.md"
    assert _learn(site, capsys, f, "--name", "one")[0] == 0
    before = (site / "style_guides" / "one.yaml").read_bytes()
    code, _, err = _learn(site, capsys, "content/practice-pocs/cache-stampede-protection.md", "--name", "one")
    assert code == 2 and "already exists" in err and "--force" in err
    assert (site / "style_guides" / "one.yaml").read_bytes() == before
    code, _, err = _learn(site, capsys, "content/nope.md", "--name", "two")
    assert code == 2 and "content/nope.md" in err and "Traceback" not in err
    code, _, err = _learn(site, capsys, f, "--name", "Bad Name!")
    assert code == 2 and "invalid style name" in err


def test_learned_from_the_shared_reference_poc(tmp_path: Path, samples: Path, capsys):
    ref = samples / "database-crud.md"
    code, out, _ = invoke(["style", "learn", str(ref), "--name", "crud"], capsys, cwd=tmp_path)
    assert code == 0 and "passes 1/1" in out
    guide = load_guides(tmp_path / "style_guides")["crud"]
    assert len(guide.section_rules) >= 5
    code, _, _ = invoke(["check", "--no-code", "--no-cache", "--style", "crud", str(ref)], capsys, cwd=tmp_path)
    assert code == 0
    before = samples / "postgresql-partitioning-strategies.before.md"
    code, out, _ = invoke(["check", "--no-code", "--no-cache", "--style", "crud", str(before)], capsys, cwd=tmp_path)
    assert code == 1 and "section-missing" in out


def test_a_folder_without_exemplars_is_an_error_naming_it(tmp_path: Path, capsys):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n\n- [a](./a)\n- [b](./b)\n- [c](./c)\n", encoding="utf-8")
    code, _, err = invoke(["style", "learn", "docs", "--name", "x"], capsys, cwd=tmp_path)
    assert code == 2 and "docs: no exemplar documents here (1 landing page(s) skipped)" in err
    assert not (tmp_path / "style_guides").exists()
