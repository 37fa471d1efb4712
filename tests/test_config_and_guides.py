"""authorkit.toml and style-guide files: found, validated, and rejected with file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from authorkit.config import find_config, load_config, load_workspace
from authorkit.errors import ConfigError, StyleGuideError
from authorkit.styleguide import load_guides, parse_guide


def test_config_is_found_by_walking_up(tmp_path: Path) -> None:
    (tmp_path / "authorkit.toml").write_text('[styles]\n"practice-pocs/**" = "tutorial"\n')
    deep = tmp_path / "docs" / "practice-pocs"
    deep.mkdir(parents=True)
    assert find_config(deep) == tmp_path / "authorkit.toml"
    ws = load_workspace(deep)
    assert ws.root == tmp_path.resolve()
    assert ws.style_for(deep / "poc.md") == "tutorial"
    assert ws.style_for(tmp_path / "docs" / "other.md") == "auto"


def test_style_globs_first_match_wins_and_match_at_any_depth(tmp_path: Path) -> None:
    (tmp_path / "authorkit.toml").write_text(
        '[styles]\n"**/practice-pocs/legacy-*.md" = "engagement"\n"practice-pocs/**" = "tutorial"\n"system-design/**" = "article"\n'
    )
    ws = load_workspace(tmp_path)
    site = tmp_path / "docs-site" / "pages" / "interview-prep"
    assert ws.style_for(site / "practice-pocs" / "legacy-kafka.md") == "engagement"
    assert ws.style_for(site / "practice-pocs" / "redis.md") == "tutorial"
    assert ws.style_for(site / "system-design" / "cdn.md") == "article"


def test_bad_toml_names_file_and_line(tmp_path: Path) -> None:
    cfg = tmp_path / "authorkit.toml"
    cfg.write_text('[content]\nroots = ["content"]\n\n[model\nname = "x"\n')
    with pytest.raises(ConfigError) as exc:
        load_config(cfg)
    assert exc.value.path == str(cfg)
    assert exc.value.line == 4


def test_wrong_type_names_key_and_its_line(tmp_path: Path) -> None:
    cfg = tmp_path / "authorkit.toml"
    cfg.write_text('[content]\nroots = ["content"]\n\n[model]\nname = "m"\nconcurrency = "lots"\n')
    with pytest.raises(ConfigError) as exc:
        load_config(cfg)
    assert "model.concurrency" in exc.value.message
    assert exc.value.line == 6


def test_unknown_key_is_rejected_with_its_line(tmp_path: Path) -> None:
    cfg = tmp_path / "authorkit.toml"
    cfg.write_text('[check]\nfail_on = "error"\nfial_on = "warning"\n')
    with pytest.raises(ConfigError) as exc:
        load_config(cfg)
    assert "check.fial_on" in exc.value.message
    assert exc.value.line == 3


def test_builtin_guides_load() -> None:
    guides = load_guides()
    assert {"tutorial", "engagement", "article", "problem"} <= set(guides)
    tut = guides["tutorial"]
    assert tut.lines is not None and (tut.lines.min, tut.lines.target) == (600, 800)
    assert {f.id for f in tut.forbidden} >= {"money-hook", "anti-patterns", "paradigm-shift", "why-solutions-fail"}


def test_invalid_guide_names_line_and_field_path() -> None:
    text = "name: broken\nsections:\n  - id: intro\n    headings: [Intro]\n    elements:\n      - type: checklist\n        min: zero\n"
    with pytest.raises(StyleGuideError) as exc:
        parse_guide(text, "style_guides/broken.yaml")
    assert exc.value.path == "style_guides/broken.yaml"
    assert exc.value.line == 7
    assert "sections.0.elements.0.min" in exc.value.message


def test_guide_unknown_key_points_at_the_key() -> None:
    text = "name: broken\nsections:\n  - id: intro\n    headings: [Intro]\n    requird: true\n"
    with pytest.raises(StyleGuideError) as exc:
        parse_guide(text, "g.yaml")
    assert exc.value.line == 5
    assert "requird" in exc.value.message


def test_guide_bad_regex_and_yaml_syntax() -> None:
    with pytest.raises(StyleGuideError) as exc:
        parse_guide("name: x\nforbidden:\n  - id: a\n    patterns: ['(unclosed']\n", "g.yaml")
    assert "regular expression" in exc.value.message
    with pytest.raises(StyleGuideError) as exc2:
        parse_guide("name: x\nsections: [\n", "g.yaml")
    assert exc2.value.line is not None


def test_workspace_guide_overrides_builtin(tmp_path: Path) -> None:
    d = tmp_path / "style_guides"
    d.mkdir()
    (d / "tutorial.yaml").write_text("name: tutorial\nsections:\n  - id: only\n    headings: [Only]\n")
    (d / "runbook.yaml").write_text("name: runbook\nsections:\n  - id: steps\n    headings: [Steps]\n")
    guides = load_guides(d)
    assert [s.id for s in guides["tutorial"].section_rules] == ["only"]
    assert "runbook" in guides and "engagement" in guides


def test_a_default_path_leading_out_through_a_symlink_is_named_as_the_default(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "content").symlink_to(outside)  # the default draft folders live under content/
    cfg = ws / "authorkit.toml"
    cfg.write_text('[content]\nroots = ["."]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(cfg)
    assert exc.value.path == str(cfg)
    assert "`draft.poc_dir` = 'content/practice-pocs' (the default) is outside the workspace" in exc.value.message
    assert "through a symlink" in exc.value.message


def test_an_absolute_path_inside_the_workspace_is_accepted(tmp_path: Path) -> None:
    cfg = tmp_path / "authorkit.toml"
    cfg.write_text(f'[plans]\nfiles = ["{tmp_path / "PLAN.md"}"]\n', encoding="utf-8")
    assert load_config(cfg).plans.files == [str(tmp_path / "PLAN.md")]
