"""What a new user meets first, through the installed `authorkit` entry point: typos, bad
values, --version, colour settings, Ctrl-C and paths printed relative to where they stand."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.clihelp import sample_site
from tests.conftest import REPO

ENTRY = Path(sys.executable).parent / "authorkit"


def _env(**extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "NO_COLOR", "FORCE_COLOR"))}
    e.update(extra)
    return e


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    exe = [str(ENTRY)] if ENTRY.exists() else [sys.executable, "-m", "authorkit"]
    return subprocess.run([*exe, *args], cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=120)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of this repository's sample workspace with one document that has errors."""
    sample_site(tmp_path)
    (tmp_path / "content" / "practice-pocs" / "broken.md").write_text(
        "# POC #9: A page with nothing in it\n\nOnly a title and a line.\n", encoding="utf-8")
    return tmp_path


USAGE_ERRORS = [
    (["chek"], "check"),  # unknown command: suggests the right one
    (["check", "--fromat", "json"], "--format"),  # unknown option: suggests the right one
    (["check", "--fail-on", "warnings"], "warning"),  # bad choice: lists the valid ones
    (["check", "--jobs", "many"], "--jobs"),  # bad type
    (["draft", "poc"], "REF"),  # missing argument
    (["review"], "FILES"),
    (["--color", "sometimes", "check"], "--color"),
    (["check", "--color=sometimes"], "--color"),
]


@pytest.mark.parametrize("args,mentions", USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS])
def test_usage_errors_exit_2_with_one_message_and_no_traceback(site: Path, args: list[str], mentions: str) -> None:
    r = _run(args, site)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout
    assert mentions.lower() in r.stderr.lower()


def test_version_and_bare_command(site: Path) -> None:
    from authorkit import __version__

    for flag in ("--version", "-V"):
        r = _run([flag], site)
        assert r.returncode == 0 and r.stdout.strip() == f"authorkit {__version__}"
    bare = _run([], site)
    assert bare.returncode == 0, bare.stderr
    assert "Usage: authorkit" in bare.stdout and "check" in bare.stdout and "Traceback" not in bare.stderr


def _pty_run(args: list[str], cwd: Path, env: dict[str, str], until: bytes | None = None, then_signal: int | None = None,
             timeout: float = 60) -> tuple[int, bytes]:
    """Run under a pseudo-terminal (stdout and stderr both a terminal) and return everything it
    printed. With `until`, send `then_signal` to its process group once that text appears, as a
    terminal's Ctrl-C does."""
    exe = [str(ENTRY)] if ENTRY.exists() else [sys.executable, "-m", "authorkit"]
    master, slave = pty.openpty()
    proc = subprocess.Popen([*exe, *args], cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    out = b""
    sent = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            if until is not None and not sent and until in out:
                os.killpg(proc.pid, then_signal or signal.SIGINT)
                sent = True
            if proc.poll() is not None and not ready:
                break
        return proc.wait(timeout=30), out
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()


def test_no_color_keeps_escape_codes_off_a_terminal(site: Path) -> None:
    env = _env(TERM="xterm-256color", AUTHORKIT_CACHE_DIR=str(site / ".c"))
    code, coloured = _pty_run(["check", "--no-cache"], site, env)
    assert code == 1 and b"\x1b[" in coloured  # a terminal gets colour by default...
    for variant in ({"NO_COLOR": "1"}, {}):
        args = ["check", "--no-cache"] + ([] if variant else ["--color", "never"])
        code, plain = _pty_run(args, site, {**env, **variant})
        assert code == 1 and b"section-missing" in plain
        assert b"\x1b" not in plain  # ...and none at all under NO_COLOR or --color never


def test_color_always_colours_a_pipe(site: Path) -> None:
    r = _run(["check", "--no-cache", "--color", "always"], site)
    assert r.returncode == 1 and "\x1b[31m" in r.stdout
    assert "\x1b" not in _run(["check", "--no-cache"], site).stdout


def test_paths_are_shown_relative_to_the_current_directory(site: Path) -> None:
    sub = site / "content" / "practice-pocs"
    r = _run(["check", "--no-cache", "broken.md"], sub)
    assert r.returncode == 1
    assert r.stdout.startswith("broken.md  [") and "  broken.md:1:1: error" in r.stdout
    assert "content/practice-pocs/broken.md" not in r.stdout
    up = _run(["check", "--no-cache", "practice-pocs/broken.md"], site / "content")
    assert "practice-pocs/broken.md:1:" in up.stdout and "content/practice-pocs" not in up.stdout
    # Machine formats keep workspace-relative paths (CI annotations expect them).
    gh = _run(["check", "--no-cache", "--format", "github", "broken.md"], sub)
    assert "file=content/practice-pocs/broken.md" in gh.stdout


def test_ctrl_c_during_check_reports_progress_keeps_results_and_exits_130(tmp_path: Path) -> None:
    corpus = tmp_path / "site"
    subprocess.run([sys.executable, str(REPO / "bench" / "make_corpus.py"), "--out", str(corpus), "--docs", "700", "--seed", "5"],
                   check=True, capture_output=True)
    env = _env(TERM="xterm", NO_COLOR="1", AUTHORKIT_CACHE_DIR=str(tmp_path / "cache"))
    # The plain progress line moves; once it shows finished files, Ctrl-C.
    code, out = _pty_run(["check", "--jobs", "1"], corpus, env, until=b"checking: 2", then_signal=signal.SIGINT)
    text = out.decode("utf-8", "replace")
    assert code == 130, text[-500:]
    assert "Traceback" not in text
    import re

    m = re.search(r"interrupted: (\d+) of 700 files checked", text)
    assert m, text[-500:]
    done = int(m.group(1))
    assert 0 < done < 700
    # What was checked before Ctrl-C is served from the cache on the next run.
    again = _run(["check", "--jobs", "1"], corpus, AUTHORKIT_CACHE_DIR=str(tmp_path / "cache"))
    assert again.returncode in (0, 1), again.stderr
    assert f"({done} from cache)" in again.stdout


def _survivors(session_id: int) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid=,sid=,args="], capture_output=True, text=True).stdout
    return [ln for ln in out.splitlines() if ln.split() and ln.split()[1] == str(session_id)]


@pytest.mark.parametrize("interrupt", [False, True], ids=["finished", "ctrl-c"])
def test_no_child_process_outlives_a_check(tmp_path: Path, interrupt: bool) -> None:
    """Worker processes and the Node and bash checkers they start end with the run."""
    corpus = tmp_path / "site"
    subprocess.run([sys.executable, str(REPO / "bench" / "make_corpus.py"), "--out", str(corpus), "--docs", "120", "--seed", "9"],
                   check=True, capture_output=True)
    exe = [str(ENTRY)] if ENTRY.exists() else [sys.executable, "-m", "authorkit"]
    proc = subprocess.Popen([*exe, "check", "--no-cache", "--jobs", "2"], cwd=corpus, env=_env(AUTHORKIT_CACHE_DIR=str(tmp_path / "c")),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    if interrupt:
        time.sleep(2.5)
        os.killpg(proc.pid, signal.SIGINT)
    proc.wait(timeout=300)
    deadline = time.monotonic() + 10
    while _survivors(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _survivors(proc.pid) == []
    assert proc.returncode in ((130, 0, 1) if interrupt else (0, 1))


def test_help_is_kept_once_rendered_and_follows_the_terminal_width(site: Path, tmp_path: Path) -> None:
    cache = tmp_path / "xdg"
    first = _run(["--help"], site, XDG_CACHE_HOME=str(cache), COLUMNS="100")
    kept = list((cache / "authorkit" / "help").glob("*.txt"))
    assert first.returncode == 0 and "Usage: authorkit" in first.stdout and len(kept) == 1
    again = _run(["--help"], site, XDG_CACHE_HOME=str(cache), COLUMNS="100")
    assert again.stdout == first.stdout
    narrow = _run(["check", "--help"], site, XDG_CACHE_HOME=str(cache), COLUMNS="50")
    wide = _run(["check", "--help"], site, XDG_CACHE_HOME=str(cache), COLUMNS="120")
    assert narrow.stdout != wide.stdout and "--format" in narrow.stdout
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 50
    bad = _run(["chek", "--help"], site, XDG_CACHE_HOME=str(cache))
    assert bad.returncode == 2 and len(list((cache / "authorkit" / "help").glob("*.txt"))) == 3  # errors are not kept
