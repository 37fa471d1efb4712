"""Hostile inputs against navigation, drafting, prompt templates and parsers: each test is a
case that once broke (a path out of the workspace, a symlink, a template reaching Python, two
drafts at once, valid JavaScript the reader refused, an input that hung a parser, an interrupt
between the page and its record). The user's files must stay intact and every failure must be
a clear message with exit 2, never a traceback."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.clihelp import invoke, make_planned_site

from authorkit.errors import NavigationError, WriteRefused
from authorkit.nav import decode_js_string, insert_entry, js_quote, parse_nav, plan_insert, read_nav

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def site(tmp_path: Path, fixtures: Path, monkeypatch) -> Path:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    root = tmp_path / "site"
    root.mkdir()
    make_planned_site(root, fixtures)
    return root


def _draft(site: Path, capsys, *args: str) -> tuple[int, str, str]:
    return invoke(["draft", *args, "--config", str(site / "authorkit.toml")], capsys)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def _events(site: Path) -> list[dict]:
    return [json.loads(ln) for f in sorted((site / "sessions").glob("*.jsonl"))
            for ln in f.read_text(encoding="utf-8").splitlines() if ln.strip()]


META = "content/pocs/_meta.js"


# --- 3. navigation keys that leave the folder --------------------------------------------------


@pytest.mark.parametrize("key", ["../../escaped", "../outside-pocs", "sub/page", "/tmp/authorkit-abs-escape", ".."])
def test_nav_key_outside_the_folder_is_refused(site: Path, capsys, key: str):
    meta = site / META
    meta.write_text(meta.read_text(encoding="utf-8").replace(
        '"queue-dlq": "1️⃣4️⃣ Dead Letters"', f'"queue-dlq": "1️⃣4️⃣ Dead Letters",\n  {json.dumps(key)}: "1️⃣5️⃣ Escape"'), encoding="utf-8")
    outside_before = sorted(p.name for p in site.parent.iterdir())
    before = _snapshot(site)
    code, out, err = _draft(site, capsys, "poc", "15", "--provider", "scaffold")
    assert code == 2, (out, err)
    assert "Traceback" not in err and "outside" in err and "navigation key" in err
    assert sorted(p.name for p in site.parent.iterdir()) == outside_before
    assert not Path("/tmp/authorkit-abs-escape.md").exists()
    after = _snapshot(site)
    assert {k: v for k, v in after.items() if not k.startswith("sessions/")} == {k: v for k, v in before.items() if not k.startswith("sessions/")}


# --- 4. symlinked navigation files ---------------------------------------------------------------


def test_symlinked_meta_outside_the_workspace_is_refused(site: Path, tmp_path: Path, capsys):
    outside = tmp_path / "elsewhere" / "_meta.js"
    outside.parent.mkdir()
    meta = site / META
    outside.write_bytes(meta.read_bytes())
    meta.unlink()
    meta.symlink_to(outside)
    original = outside.read_bytes()
    code, out, err = _draft(site, capsys, "poc", "15", "--provider", "scaffold")
    assert code == 2 and "Traceback" not in err
    assert "outside the workspace" in err
    assert meta.is_symlink() and outside.read_bytes() == original
    assert not (site / "content/pocs/dead-letter-queues.md").exists()


def test_symlinked_meta_inside_the_workspace_is_written_through(site: Path, capsys):
    meta = site / META
    real = site / "nav" / "pocs-meta.js"
    real.parent.mkdir()
    real.write_bytes(meta.read_bytes())
    meta.unlink()
    meta.symlink_to(Path("../../nav/pocs-meta.js"))
    code, out, err = _draft(site, capsys, "poc", "15", "--provider", "scaffold")
    assert code == 0, err
    assert meta.is_symlink() and os.readlink(meta) == "../../nav/pocs-meta.js"
    assert '"dead-letter-queues": "1️⃣5️⃣ Dead Letter Queues"' in real.read_text(encoding="utf-8")
    assert [p.name for p in meta.parent.iterdir() if p.name.endswith(".lock")] == []


def test_meta_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path):
    fifo = tmp_path / "_meta.js"
    os.mkfifo(fifo)
    with pytest.raises(NavigationError, match="not a regular file"):
        read_nav(fifo, root=tmp_path)


# --- 5. prompt templates ------------------------------------------------------------------------------


@pytest.mark.parametrize("body,line,words", [
    ("# {{ heading }}\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n", 2, "may not"),
    ("# {{ heading }}\n\n{{ 1/0 }}\n", 3, "ZeroDivisionError"),
    ("# {{ heading }}\n{{ guide.__init__.__globals__ }}\n", 2, "may not"),
    ("# {{ heading }}\n{% for x in %}\n", 2, "syntax"),
    ("{{ heading }}\n{{ 'x' * 100000000000 }}\n", 2, "may not"),
    ("{{ nothing_like_this.attr }}\n", 1, "unknown variable"),
])
def test_workspace_template_runs_sandboxed_and_errors_name_file_and_line(site: Path, capsys, body: str, line: int, words: str):
    (site / "prompts").mkdir()
    (site / "prompts" / "scaffold.md.j2").write_text(body, encoding="utf-8")
    code, out, err = _draft(site, capsys, "poc", "15", "--provider", "scaffold")
    assert code == 2, (out, err)
    assert "Traceback" not in err
    assert f"scaffold.md.j2:{line}:" in err
    if words == "syntax":
        assert "Expected" in err or "syntax" in err
    else:
        assert words in err
    assert not (site / "content/pocs/dead-letter-queues.md").exists()


def test_template_cannot_reach_python_through_the_cli(site: Path):
    """The real entry point, as a user runs it: no file is created by the template."""
    marker = site / "pwned.txt"
    (site / "prompts").mkdir()
    (site / "prompts" / "scaffold.md.j2").write_text(
        "{{ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') }}\n", encoding="utf-8")
    from tests.clihelp import run

    r = run(["draft", "poc", "15", "--provider", "scaffold"], site)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and "scaffold.md.j2:1:" in r.stderr
    assert not marker.exists()


# --- 6. concurrent writers of one navigation file -------------------------------------------------


def _insert_many(path: str, prefix: str, n: int) -> None:
    for i in range(n):
        insert_entry(Path(path), f"{prefix}-{i}", f"{prefix} {i}", None)


def test_concurrent_inserts_from_threads_keep_every_entry(tmp_path: Path, fixtures: Path):
    meta = tmp_path / "_meta.js"
    meta.write_bytes((fixtures / "nav" / "grouped._meta.js").read_bytes())
    threads = [threading.Thread(target=_insert_many, args=(str(meta), f"t{k}", 15)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    keys = parse_nav(meta.read_text(encoding="utf-8"), "_meta.js").keys
    assert {f"t{k}-{i}" for k in range(4) for i in range(15)} <= keys
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_meta.js"]  # no lock or temp file left


def test_concurrent_inserts_from_processes_keep_every_entry(tmp_path: Path, fixtures: Path):
    meta = tmp_path / "_meta.js"
    meta.write_bytes((fixtures / "nav" / "grouped._meta.js").read_bytes())
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_insert_many, args=(str(meta), f"p{k}", 20)) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    nav = parse_nav(meta.read_text(encoding="utf-8"), "_meta.js")
    assert {f"p{k}-{i}" for k in range(3) for i in range(20)} <= nav.keys
    assert len(nav.entries) == 7 + 60  # the fixture's seven, and every one inserted


def test_two_drafts_at_once_both_keep_their_entry(site: Path):
    """Two `authorkit draft` processes started together, repeatedly: both entries survive."""
    env = dict(os.environ, NO_COLOR="1")
    env.pop("ANTHROPIC_API_KEY", None)
    env.pop("ANTHROPIC_BASE_URL", None)
    meta = site / META
    original = meta.read_bytes()
    for _ in range(2):
        meta.write_bytes(original)
        for p in (site / "content/pocs").glob("*.md"):
            p.unlink()
        procs = [subprocess.Popen([sys.executable, "-m", "authorkit", "draft", "poc", n, "--provider", "scaffold"],
                                  cwd=site, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for n in ("15", "19")]
        results = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], results
        text = meta.read_text(encoding="utf-8")
        assert '"dead-letter-queues":' in text and '"consumer-lag-alerts":' in text, text
        parse_nav(text, META)


# --- 12. JavaScript the reader must accept --------------------------------------------------------------


@pytest.mark.parametrize("literal,value", [
    (r'"\x2D"', "-"),
    (r'"\'"', "'"),
    (r"'\u{1F600}'", "\U0001f600"),
    (r'"\u0041"', "A"),
    ('"a\\\nb"', "ab"),
    ('"a\\\r\nb"', "ab"),
    ('"tab\there"', "tab\there"),
    (r'"\uD83D\uDE00"', "\U0001f600"),
    (r'"\0"', "\0"),
    (r'"\q"', "q"),
    ("`template ok`", "template ok"),
    ("`two\r\nlines`", "two\nlines"),
    ('"\u2028"', "\u2028"),
])
def test_js_string_literals_decode_like_javascript(literal: str, value: str):
    assert decode_js_string(literal) == value


@pytest.mark.parametrize("literal", [r'"\01"', r'"\8"', r'"\x4"', r'"\u12"', r"'\u{110000}'", '"a\nb"', "`${x}`", r'"\uD83D"', '"\\"'])
def test_js_string_literals_javascript_rejects_are_errors(literal: str):
    from authorkit.nav import JSStringError

    with pytest.raises(JSStringError):
        decode_js_string(literal)


VALID_JS = (
    "export default {\n"
    '  index: "Start\\x2DHere",\n'
    "  'it\\'s': 'It\\'s \\u{1F600}',\n"
    '  "kv-one": "1\\uFE0F\\u20E3 One",\n'
    '  "kv-two": "2️⃣ Two \\\n'
    'continued",\n'
    '  "kv-three": "3️⃣\tTabbed",\n'
    "  \"kv-four\": `4️⃣ Template`,\n"
    "\n"
    "  // Caching (POCs #61-65)\n"
    "}\n"
)


def test_valid_javascript_meta_reads_like_node():
    nav = parse_nav(VALID_JS, "_meta.js")
    labels = {e.key: e.label for e in nav.entries}
    assert labels == {"index": "Start-Here", "it's": "It's \U0001f600", "kv-one": "1\ufe0f\u20e3 One",
                      "kv-two": "2️⃣ Two continued", "kv-three": "3️⃣\tTabbed", "kv-four": "4️⃣ Template"}
    assert [e.number for e in nav.entries] == [None, None, 1, 2, 3, 4]


def test_empty_group_comment_receives_its_first_entry():
    nav = parse_nav(VALID_JS, "_meta.js")
    ins = plan_insert(nav, "cache-aside", "Cache-aside pattern", 61)
    assert ins.group == "Caching (POCs #61-65)"
    assert ins.text.endswith('  // Caching (POCs #61-65)\n  "cache-aside": "6️⃣1️⃣ Cache-Aside Pattern",\n}\n')
    assert parse_nav(ins.text, "_meta.js").find_number(61).key == "cache-aside"


def test_empty_group_between_groups_takes_the_entry_with_a_comma():
    text = 'export default {\n  "a": "1. A",\n\n  // Later (Pages #5-9)\n\n  // Last (Pages #10-12)\n  "z": "10. Z"\n}\n'
    ins = plan_insert(parse_nav(text, "_meta.js"), "five", "Five", 5)
    assert '// Later (Pages #5-9)\n  "five": "5. Five",\n' in ins.text
    assert [e.key for e in parse_nav(ins.text, "_meta.js").entries] == ["a", "five", "z"]


def test_draft_and_plan_read_valid_javascript_meta(site: Path, capsys):
    meta = site / META
    meta.write_text(VALID_JS.replace("// Caching (POCs #61-65)", "// Queues (POCs #15-18)"), encoding="utf-8")
    code, out, err = _draft(site, capsys, "poc", "15", "--provider", "scaffold")
    assert code == 0, err
    nav = parse_nav(meta.read_text(encoding="utf-8"), META)
    assert nav.find_number(15).key == "dead-letter-queues"
    assert nav.find_key("it's").label == "It's \U0001f600"  # the other entries read the same
    code, out, err = invoke(["plan", "--config", str(site / "authorkit.toml")], capsys)
    assert code in (0, 1) and "Traceback" not in err


@pytest.mark.parametrize("label", ['quote " and \' both', "back\\slash", "tab\tnew\nline", "\u2028sep", "ctl\x01\x7f", "emoji 😀 ✅", "${not a template}"])
@pytest.mark.parametrize("quote", ['"', "'"])
def test_written_labels_read_back(label: str, quote: str):
    assert decode_js_string(js_quote(label, quote)) == label
    text = "export default {\n  'a-b': 'A',\n}\n" if quote == "'" else 'export default {\n  "a-b": "A",\n}\n'
    ins = plan_insert(parse_nav(text, "_meta.js"), "new-one", "x", None, label=label)
    assert parse_nav(ins.text, "_meta.js").find_key("new-one").label == label


@pytest.mark.parametrize("text,line", [
    ('export default {\n  "a": "A", "b": "B"\n}\n', 2),
    ('export default {\n  "a": "A\n"\n}\n', 2),
    ('export default {\n  "a": `x ${y}`,\n}\n', 2),
    ("export default {\n  /* never closed\n}\n", 2),
    ('export default {\n  "a": "\\01",\n}\n', 2),
    ('export default {\r\n  "a": "A",\n}\r\n', 1),
    ('export default {\n  "a": "A" // \u2028 "b": "B"\n}\n', 2),
])
def test_javascript_authorkit_cannot_edit_safely_is_refused_with_a_line(text: str, line: int):
    with pytest.raises(NavigationError) as e:
        parse_nav(text, "_meta.js")
    assert e.value.line == line


# --- 9. inputs that hung a parser --------------------------------------------------------------------


def _timed(fn, *args):
    t = time.process_time()
    result = fn(*args)
    return result, time.process_time() - t


@pytest.mark.parametrize("line", [
    "# a" + " " * 3000 + "x",
    "## POC #1: " + " \t" * 1500 + ")",
    "- POC #2: " + "[" * 3000 + "](",
    "# " + "(" * 3000 + "x",
    "POC #3: a" + " " * 3000 + "NEW x",
])
def test_plan_parser_is_linear_on_long_lines(line: str):
    from authorkit.plan import parse_plan_text

    _, small = _timed(parse_plan_text, line[:300] + "\n")
    _, big = _timed(parse_plan_text, line + "\n")
    assert big < 1.0, f"{big:.2f} s of CPU for a {len(line)}-character plan line"


def test_plan_heading_text_is_unchanged_for_normal_input():
    from authorkit.plan import parse_plan_text

    plan = parse_plan_text("## POC #7: Rate limiting ##\n### POC #8: C#  \n# POC #9: Tokens ⭐ NEW\n")
    assert [(i.number, i.title) for i in plan.items] == [(7, "Rate limiting"), (8, "C"), (9, "Tokens")]


def test_check_on_a_50kb_heading_finishes(tmp_path: Path):
    from authorkit.check import check_text
    from authorkit.document import parse
    from authorkit.styleguide import load_guides

    text = "# Title\n\n## a" + " " * 50_000 + "x ##\n\nbody\n\n## " + "#" * 20_000 + " b" + " " * 30_000 + "#\n"
    doc, cpu = _timed(parse, text)
    assert cpu < 1.0
    assert [h.text for h in doc.headings][1] == "a" + " " * 50_000 + "x"
    _, cpu = _timed(check_text, text, load_guides()["tutorial"], "x.md")
    assert cpu < 5.0


def test_a_guides_backtracking_pattern_is_a_finding_not_a_hang(tmp_path: Path, monkeypatch):
    from authorkit.check import check_text
    from authorkit.styleguide import parse_guide

    monkeypatch.setenv("AUTHORKIT_REGEX_TIMEOUT", "0.2")
    guide = parse_guide(
        "name: slow\n"
        "title:\n  pattern: '^(a|aa)+$'\n"
        "sections:\n  - id: intro\n    headings: [Intro]\n"
        "    elements:\n      - type: regex\n        pattern: '(x|xx)+y'\n        must: true\n",
        "slow.yaml",
    )
    text = "# " + "a" * 60 + "b\n\n## Intro\n\n" + "x" * 60 + "\n"
    findings, cpu = _timed(check_text, text, guide, "doc.md")
    assert cpu < 5.0
    slow = [f for f in findings if "ran for over" in f.message]
    assert {f.rule for f in slow} == {"title-format", "element-regex"}
    assert all("(a|aa)+$" in f.message or "(x|xx)+y" in f.message for f in slow)


# --- 14. an interrupt between the page, its entry and its record ----------------------------------


def test_interrupt_after_the_page_is_written_undoes_the_page_and_entry(site: Path, capsys, monkeypatch):
    from authorkit import nav as navmod

    meta_before = (site / META).read_bytes()
    real_write = navmod.Unit.write

    def write_then_ctrl_c(self, path, text, shown, **kw):
        real_write(self, path, text, shown, **kw)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C right after this write

    monkeypatch.setattr(navmod.Unit, "write", write_then_ctrl_c)
    code, out, err = _draft(site, capsys, "poc", "15", "--provider", "scaffold")
    assert code == 130
    assert "interrupted: removed content/pocs/dead-letter-queues.md, restored content/pocs/_meta.js; nothing was drafted" in err
    assert not (site / "content/pocs/dead-letter-queues.md").exists()
    assert (site / META).read_bytes() == meta_before
    assert not [e for e in _events(site) if e["event"] in ("draft", "write")] if (site / "sessions").exists() else True


def test_failure_writing_the_entry_removes_the_page(site: Path, capsys, monkeypatch):
    from authorkit import nav as navmod

    meta_before = (site / META).read_bytes()
    real_write = navmod.Unit.write

    def fail_on_nav(self, path, text, shown, **kw):
        if kw.get("nav"):
            raise OSError(28, "No space left on device", str(path))
        real_write(self, path, text, shown, **kw)

    monkeypatch.setattr(navmod.Unit, "write", fail_on_nav)
    code, out, err = _draft(site, capsys, "poc", "15", "--provider", "scaffold")
    assert code == 2 and "Traceback" not in err
    assert "No space left on device" in err and "removed content/pocs/dead-letter-queues.md" in err
    assert not (site / "content/pocs/dead-letter-queues.md").exists()
    assert (site / META).read_bytes() == meta_before


def test_unwritable_session_record_undoes_the_draft(site: Path, capsys, monkeypatch):
    import authorkit.session as session

    monkeypatch.setattr(session, "record", lambda *a, **k: None)
    meta_before = (site / META).read_bytes()
    code, out, err = _draft(site, capsys, "poc", "15", "--provider", "scaffold")
    assert code == 2 and "session record" in err
    assert not (site / "content/pocs/dead-letter-queues.md").exists()
    assert (site / META).read_bytes() == meta_before


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_at_any_moment_leaves_all_or_nothing(site: Path):
    """SIGINT at a spread of moments into a real `draft`: the page, its entry and its record
    are all there, or none of them."""
    env = dict(os.environ, NO_COLOR="1")
    env.pop("ANTHROPIC_API_KEY", None)
    env.pop("ANTHROPIC_BASE_URL", None)
    meta = site / META
    original = meta.read_bytes()
    page = site / "content/pocs/dead-letter-queues.md"
    outcomes = set()
    t0 = time.monotonic()
    full = subprocess.run([sys.executable, "-m", "authorkit", "draft", "poc", "15", "--provider", "scaffold", "--dry-run"],
                          cwd=site, env=env, capture_output=True, text=True, timeout=120)
    assert full.returncode == 0, full.stderr
    whole = time.monotonic() - t0  # how long a run takes on this machine now
    for share in (0.6, 0.75, 0.85, 0.95, 1.05, 1.3):
        delay = whole * share
        meta.write_bytes(original)
        page.unlink(missing_ok=True)
        for f in (site / "sessions").glob("*") if (site / "sessions").exists() else []:
            f.unlink()
        p = subprocess.Popen([sys.executable, "-m", "authorkit", "draft", "poc", "15", "--provider", "scaffold"],
                             cwd=site, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=120)
        has_page = page.exists()
        has_entry = b"dead-letter-queues" in meta.read_bytes()
        events = _events(site) if (site / "sessions").exists() else []
        has_record = any(e["event"] == "write" and e.get("path") == "content/pocs/dead-letter-queues.md" for e in events)
        assert has_page == has_entry == has_record, (delay, p.returncode, err, has_page, has_entry, has_record)
        if not has_page:
            assert meta.read_bytes() == original
        outcomes.add(has_page)
    assert outcomes  # at least one run observed


def test_a_symlinked_page_stays_a_link_when_written_and_when_undone(tmp_path: Path):
    from authorkit.nav import Unit

    real = tmp_path / "real.md"
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "page.md"
    link.symlink_to("real.md")
    unit = Unit()
    unit.write(link, "new\n", "page.md")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new\n"
    assert unit.undo() == "restored page.md"
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "old\n"


def test_a_runaway_heading_pattern_is_ignored_and_reported(monkeypatch):
    from authorkit.check import check_text
    from authorkit.styleguide import parse_guide

    monkeypatch.setenv("AUTHORKIT_REGEX_TIMEOUT", "0.2")
    guide = parse_guide(
        "name: slowheads\n"
        "sections:\n  - id: intro\n    headings: [Intro]\n"
        "  - id: steps\n    required: true\n    headings: [Steps]\n    patterns: ['^(a|aa)+$']\n",
        "slowheads.yaml",
    )
    text = "# T\n\n## Intro\n\nx\n\n## " + "a" * 60 + "b\n\ny\n"
    findings, cpu = _timed(check_text, text, guide, "doc.md")
    assert cpu < 5.0
    assert any("(a|aa)+$" in f.message and "ignored" in f.message for f in findings)
