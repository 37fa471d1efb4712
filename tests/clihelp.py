"""Run the real `authorkit` entry point in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    e = dict(os.environ)
    e.pop("ANTHROPIC_API_KEY", None)
    e.pop("ANTHROPIC_BASE_URL", None)
    e["NO_COLOR"] = "1"
    e["AUTHORKIT_CACHE_DIR"] = str(Path(cwd) / ".cache-test")
    if env:
        e.update(env)
    return subprocess.run([sys.executable, "-m", "authorkit", *args], cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout)


def invoke(argv: list[str], capsys, cwd: Path | None = None) -> tuple[int, str, str]:
    """Run `authorkit.cli.main` in-process, in `cwd` when given: (exit code, stdout, stderr)."""
    import contextlib

    import pytest

    from authorkit.cli import main

    with contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext(), pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


# A small planned site: a plan (sprint_plan.md), a POC folder with grouped `_meta.js`
# navigation, and a config that ties them together (tutorial style for the POCs).
PLANNED_SITE_CONFIG = """
sessions_dir = "sessions"
[content]
roots = ["content"]
[styles]
"content/pocs/**" = "tutorial"
[plans]
files = ["PLAN.md"]
[navigation]
files = ["content/pocs/_meta.js"]
[draft]
poc_dir = "content/pocs"
"""


def make_planned_site(root: Path, fixtures: Path) -> Path:
    """Write the planned site into `root`; returns its POC folder."""
    (root / "authorkit.toml").write_text(PLANNED_SITE_CONFIG, encoding="utf-8")
    (root / "PLAN.md").write_bytes((fixtures / "plans" / "sprint_plan.md").read_bytes())
    pocs = root / "content" / "pocs"
    pocs.mkdir(parents=True)
    (pocs / "_meta.js").write_bytes((fixtures / "nav" / "grouped._meta.js").read_bytes())
    return pocs


REPO = Path(__file__).resolve().parents[1]


def git(repo: Path, *args: str, check: bool = True) -> str:
    """Run git in `repo`, ignoring the caller's GIT_* variables; AssertionError on failure."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    res = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env)
    if check and res.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {res.stderr}")
    return res.stdout


def init_repo(root: Path) -> Path:
    """A git repository at `root` with an author identity and everything in it committed."""
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Dana Writer")
    git(root, "config", "user.email", "dana@example.org")
    git(root, "config", "commit.gpgsign", "false")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def sample_site(root: Path, *, commit: bool = False) -> Path:
    """A copy of this repository's sample workspace (authorkit.toml and content/) at `root`,
    committed to a new git repository when asked."""
    import shutil

    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "authorkit.toml", root / "authorkit.toml")
    shutil.copytree(REPO / "content", root / "content")
    return init_repo(root) if commit else root
