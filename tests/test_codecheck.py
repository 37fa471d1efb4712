"""Code-block validation: real parsers per language, exact document lines, lenient where the
document says the code is a bad example, a sketch or output; external checkers batched."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from authorkit import codecheck
from authorkit.codecheck import CodeStats, check_documents
from authorkit.document import Document, parse
from authorkit.findings import Severity

HAS_NODE = shutil.which("node") is not None
HAS_BASH = shutil.which("bash") is not None


def _doc(fixtures: Path, name: str) -> Document:
    return parse((fixtures / "code" / name).read_text(encoding="utf-8"))


def _line_of(doc: Document, needle: str) -> int:
    hits = [i for i, line in enumerate(doc.lines, 1) if needle in line]
    assert len(hits) == 1, f"fixture must contain {needle!r} exactly once"
    return hits[0]


def _modes(doc: Document) -> dict[int, str]:
    """What the check engine derives from the tutorial guide: Extend It = sketch, Expected Output = output."""
    modes: dict[int, str] = {}
    for h in doc.headings:
        end = next((n.line - 1 for n in doc.headings if n.line > h.line and n.level <= h.level), doc.line_count)
        if h.norm.startswith("extend it"):
            modes.update({b.line: "sketch" for b in doc.code_in(h.line, end)})
        elif h.norm.startswith("expected output"):
            modes.update({b.line: "output" for b in doc.code_in(h.line, end)})
    return modes


def _check(doc: Document, modes: dict[int, str] | None = None, stats: CodeStats | None = None):
    return check_documents([(doc, None, modes if modes is not None else _modes(doc))], stats=stats)[0]


@pytest.mark.skipif(not (HAS_NODE and HAS_BASH), reason="needs node and bash")
def test_valid_blocks_in_every_language_pass_and_are_counted(fixtures):
    doc = _doc(fixtures, "good.md")
    stats = CodeStats()
    findings = _check(doc, stats=stats)
    assert findings == []
    for lang in ("python", "json", "yaml", "compose", "sql", "shell", "js", "dockerfile", "toml", "ini", "graphql"):
        assert stats.checked[lang] >= 1, lang
    skipped = {s.lang: s.reason for s in stats.skipped}
    assert set(skipped) == {"rust", "proto"}  # text, diff and bare output blocks are not code at all
    assert "protobuf" in skipped["proto"]
    assert codecheck.last_stats() is stats


@pytest.mark.skipif(not (HAS_NODE and HAS_BASH), reason="needs node and bash")
def test_each_broken_block_is_reported_at_its_document_line(fixtures):
    doc = _doc(fixtures, "broken.md")
    findings = _check(doc)
    expected = {
        "def area(w, h:": "Python",
        '"version": "1.0.0"': "JSON",
        "  zone: a": "YAML",
        "  worker:": "Docker Compose",
        "CREATE TABLE c (id INT name TEXT);": "SQL",
        "SELECT count(*": "SQL",
        "UPSERTT INTO stock VALUES (1);": "SQL",
        "fi": "shell",
        "const b = {;": "JavaScript",
        "export const x = ;": "JavaScript",
        "COPPY . .": "Dockerfile",
        "port =": "TOML",
        "listen_port = 6432": "INI",
        "item(sku: ID!: Item": "GraphQL",
    }
    got = {(f.line, f.message.split(" syntax error")[0]) for f in findings}
    want = {(_line_of_exact(doc, k), v) for k, v in expected.items()}
    assert got == want
    assert all(f.rule == "code-syntax" and str(f.severity) == "error" for f in findings)


def _line_of_exact(doc: Document, needle: str) -> int:
    hits = [i for i, line in enumerate(doc.lines, 1) if line.strip() == needle.strip()]
    assert len(hits) == 1, needle
    return hits[0]


@pytest.mark.skipif(not HAS_NODE, reason="needs node")
def test_placeholders_fire_in_build_code_but_not_in_bad_examples_pairs_or_sketches(fixtures):
    doc = _doc(fixtures, "placeholders.md")
    findings = _check(doc)
    got = sorted((f.line, f.rule) for f in findings)
    # The first build block's stand-in, elision and key; python's elision and token; SQL's elision.
    build = [
        ("const { Pool }", 1),  # anchor: the stand-in is on the line after
        ("// ... rest of the code", 0),
        ("your-api-key", 0),
        ("# ... (rest)", 0),
        ("<your-token>", 0),
        ("-- ...", 0),
    ]
    want = sorted((_line_of(doc, n) + off, "code-placeholder") for n, off in build)
    assert got == want
    # Spread syntax is code, not an ellipsis.
    assert _line_of(doc, "[...items]") not in {f.line for f in findings}


def test_problem_and_output_modes_silence_a_broken_block():
    text = "# T\n\n## Mistakes\n\n```python\ndef f(:\n```\n\n## Output\n\n```json\n{not json\n```\n"
    doc = parse(text)
    assert len(_check(doc, {})) == 2
    modes = {doc.code_blocks[0].line: "problem", doc.code_blocks[1].line: "output"}
    stats = CodeStats()
    assert _check(doc, modes, stats) == []
    assert stats.lenient == 1


def test_bad_example_marker_in_heading_text_or_code_comment():
    text = (
        "# T\n\n## Compare\n\n### ❌ Without a pool\n\n```python\nconn = connect(\n```\n\n"
        "### Fixed version\n\nWrong way first:\n\n```python\nx = [\n```\n\n"
        "### Plain\n\n```python\n# ❌ do not do this\ny = (\n```\n\n"
        "### Real\n\n```python\nz = {\n```\n"
    )
    doc = parse(text)
    findings = _check(doc, {})
    assert [f.line for f in findings] == [_line_of(doc, "z = {")]


@pytest.mark.skipif(not HAS_BASH, reason="needs bash")
def test_shell_session_checks_commands_not_output():
    text = "# T\n\n```bash\n$ echo 'hi'\nhi there (with an unbalanced quote ')\n$ if true; then\n> x\n```\n"
    doc = parse(text)
    findings = _check(doc, {})
    # Only the prompt lines are code: the `if` without `fi` is the one real error.
    assert len(findings) == 1 and findings[0].rule == "code-syntax"


def test_js_is_skipped_not_failed_when_node_is_missing(monkeypatch):
    real_which = shutil.which
    monkeypatch.setattr(codecheck.shutil, "which", lambda name: None if name == "node" else real_which(name))
    doc = parse("# T\n\n```js\nconst a = {;\n```\n")
    stats = CodeStats()
    assert _check(doc, {}, stats) == []
    assert [(s.lang, s.reason) for s in stats.skipped] == [("js", "node is not installed")]


@pytest.mark.skipif(not HAS_NODE, reason="needs node")
def test_typescript_is_checked_or_reported_skipped_never_a_false_error():
    doc = parse("# T\n\n```typescript\ninterface Item { sku: string }\nconst qty: number = 3;\n```\n")
    stats = CodeStats()
    assert _check(doc, {}, stats) == []
    assert stats.checked["ts"] == 1 or [s.lang for s in stats.skipped] == ["ts"]


@pytest.mark.skipif(not (HAS_NODE and HAS_BASH), reason="needs node and bash")
def test_one_bash_per_call_and_one_node_for_all_calls_whatever_the_block_count(monkeypatch):
    calls: list[str] = []
    real_popen = subprocess.Popen

    def counting_popen(args, *a, **kw):  # subprocess.run starts its process through Popen too
        calls.append(Path(args[0]).name)
        return real_popen(args, *a, **kw)

    codecheck._NODES[0].close()  # a Node process left by an earlier test would hide the start
    monkeypatch.setattr(codecheck.subprocess, "Popen", counting_popen)
    block = "```js\nconst a = 1;\n```\n\n```bash\necho \"hi\" && true\n```\n\n"
    docs = [parse("# D\n\n" + block * 10 + "```js\nlet x = ;\n```\n") for _ in range(5)]
    for _ in range(2):  # two batches, as two groups of documents in one worker
        results = check_documents([(d, None, {}) for d in docs])
        # Findings land in the right document, at the right line.
        for d, res in zip(docs, results):
            assert [f.line for f in res] == [_line_of(d, "let x = ;")]
    assert sorted(calls) == ["bash", "bash", "node"]


@pytest.mark.skipif(not (HAS_NODE and HAS_BASH), reason="needs node and bash")
def test_node_checker_restarts_after_its_process_dies():
    docs = [parse("# D\n\n```js\nlet x = ;\n```\n")]
    assert [f.line for f in check_documents([(d, None, {}) for d in docs])[0]] == [4]
    proc = codecheck._NODES[0]._proc
    assert proc is not None
    proc.kill()
    proc.wait()
    assert [f.line for f in check_documents([(d, None, {}) for d in docs])[0]] == [4]


def test_sql_lenient_on_postgres_constructs_but_catches_real_mistakes():
    ok = (
        "# T\n\n```sql\nCREATE TABLE ev (id BIGINT GENERATED ALWAYS AS IDENTITY, at DATE) PARTITION BY LIST (at);\n"
        "ALTER TABLE ev ATTACH PARTITION ev_1 FOR VALUES IN ('2025-01-01');\n"
        "NOTIFY ev_channel, 'payload';\nCLUSTER ev USING ev_pkey;\n"
        "SELECT * FROM ev WHERE id = :'target_id';\n```\n"
    )
    assert _check(parse(ok), {}) == []
    bad = "# T\n\n```sql\nINSERT INTO ev (id) VALUES (1;\nSELECT 'unterminated;\n```\n"
    doc = parse(bad)
    findings = _check(doc, {})
    # One finding per block: the first mistake; what follows it is not judged.
    assert [f.line for f in findings] == [_line_of(doc, "VALUES (1;")]


@pytest.mark.skipif(not (HAS_NODE and HAS_BASH), reason="needs node and bash")
def test_no_false_alarms_on_the_accepted_samples(samples):
    for name in ("database-crud.md", "postgresql-partitioning-strategies.after.md"):
        doc = parse((samples / name).read_text(encoding="utf-8"))
        stats = CodeStats()
        findings = _check(doc, stats=stats)
        assert findings == [], (name, [(f.line, f.message) for f in findings])
        assert stats.checked["js"] >= 2 and stats.checked["sql"] >= 1


@pytest.mark.skipif(not HAS_NODE, reason="needs node")
def test_placeholder_in_the_accepted_sample_fires_once_the_bad_marker_is_gone(samples):
    """The sample's `{ /* config */ }` is silent only because it sits under a ❌ example."""
    text = (samples / "database-crud.md").read_text(encoding="utf-8")
    doc = parse(text)
    bad = next(b for b in doc.code_blocks if "/* config */" in b.code)
    stripped = text.replace("❌", "").replace("Bad approach", "First approach")
    doc2 = parse(stripped)
    findings = [f for f in _check(doc2) if f.rule == "code-placeholder"]
    assert bad.line + 1 + next(i for i, l in enumerate(bad.code.split("\n")) if "/* config */" in l) in {f.line for f in findings}


@pytest.mark.skipif(not HAS_BASH, reason="needs bash")
def test_plain_command_blocks_need_no_bash_but_real_scripts_do(monkeypatch):
    calls: list[str] = []
    real_run = subprocess.run

    def counting_run(args, *a, **kw):
        calls.append(Path(args[0]).name)
        return real_run(args, *a, **kw)

    monkeypatch.setattr(codecheck.subprocess, "run", counting_run)
    plain = parse("# T\n\n```bash\nnpm install pg\ndocker compose up -d \\\n  --wait\n```\n")
    assert check_documents([(plain, None, {})]) == [[]]
    assert calls == []
    broken = parse("# T\n\n```bash\nnpm install pg\ndone\n```\n")
    assert [f.line for f in check_documents([(broken, None, {})])[0]] == [5]
    assert calls == ["bash"]


def test_expected_output_one_level_down_is_output_not_code() -> None:
    from authorkit.matching import code_modes
    from authorkit.styleguide import load_guides

    doc = parse(
        "# POC #9: Output\n\n## Run It\n\n```bash\nnode app.js\n```\n\n### Expected Output\n\n"
        "```bash\nServer listening on :3000 (pid 42)\n  ✓ 12 requests in 0.4s (done)\n```\n"
    )
    modes = code_modes(doc, load_guides()["tutorial"])
    assert modes == {11: "output"}
    assert check_documents([(doc, load_guides()["tutorial"], modes)]) == [[]]
    # Without the mode the output would be parsed as shell and fail.
    assert check_documents([(doc, load_guides()["tutorial"], {})])[0]


def test_postgres_sql_uses_the_real_grammar_everywhere() -> None:
    from authorkit.codecheck import _check_sql

    valid = (
        "CREATE TABLE events (id bigserial, at timestamptz NOT NULL) PARTITION BY RANGE (at);\n"
        "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n"
        "ALTER TABLE events DETACH PARTITION events_2024;\n"
        "DO $$ BEGIN PERFORM pg_notify('jobs', 'x'); END $$;\n"
        "CREATE OR REPLACE FUNCTION bump() RETURNS trigger AS $fn$\nBEGIN NEW.at := now(); RETURN NEW; END;\n$fn$ LANGUAGE plpgsql;\n"
        "NOTIFY jobs, 'ready';\n"
        "SELECT id::text FROM events WHERE at > now() - interval '1 day';\n"
    )
    assert _check_sql(valid) == []
    broken = valid + "CREATE INDEX idx_at ON events (at\n;\nINSERT INTO events (at) VALUES (now()) (now());\n"
    errors = _check_sql(broken)
    assert errors and errors[0][0] == 10, errors  # the unclosed index definition, on its own line
    # psql's own syntax is not SQL and is not reported as an error
    assert _check_sql("\\c shop\nSELECT :'name';\n") == []


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_shell_blocks_share_bash_processes_and_errors_stay_on_their_block(monkeypatch) -> None:
    from authorkit import codecheck as cc

    calls = []
    real = subprocess.run

    def counting(*a, **k):
        calls.append(a[0])
        return real(*a, **k)

    monkeypatch.setattr(cc.subprocess, "run", counting)
    good = [f'for i in 1 2 3; do echo "{n} $i"; done\n' for n in range(60)]
    broken = 'if [ -f x ]; then\n  echo "found"\n'  # missing fi
    res = cc._run_bash(good[:30] + [broken] + good[30:])
    assert [i for i, r in enumerate(res) if r] == [30]
    assert res[30][0][0] == 3 and "end of file" in res[30][0][2]
    assert len(calls) <= 1 + 2 * 6 + 1  # halving down to one block, not a process per block
    calls.clear()
    assert not any(cc._run_bash(good))
    assert len(calls) == 1


def test_python_errors_the_interpreter_raises_before_running_are_found():
    # Parsed fine, but Python refuses to compile it: a reader who runs it gets a SyntaxError.
    doc = parse("# T\n\n```python\nimport os\n\n\ndef scale(size, size):\n    return size * 2\n```\n\n"
                "```python\nasync def main():\n    return await fetch()\n\nresult = await main()\n```\n")
    findings = _check(doc, {})
    assert [(f.line, "duplicate argument" in f.message) for f in findings] == [(_line_of(doc, "def scale"), True)]


def test_compose_services_may_take_their_image_from_a_merged_anchor():
    doc = parse("# T\n\n```yaml\nx-app: &app\n  image: node:20\n  restart: always\nx-log: &log\n  logging: {driver: local}\n"
                "services:\n  web:\n    <<: [*app, *log]\n  worker:\n    <<: *log\n```\n")
    findings = _check(doc, {})
    # `web` gets its image through the merge; `worker` merges only logging and has no image.
    assert [(f.line, "`worker`" in f.message) for f in findings] == [(_line_of(doc, "  worker:"), True)]


@pytest.mark.skipif(not HAS_NODE, reason="needs node")
def test_a_node_checker_that_never_answers_is_stopped_and_its_blocks_reported_skipped(tmp_path, monkeypatch):
    silent = tmp_path / "silent.js"
    silent.write_text("process.stdin.resume();\n", encoding="utf-8")  # reads, never answers
    checker = codecheck._NODES[0]
    checker.close()
    monkeypatch.setattr(codecheck, "JS_CHECKER", silent)
    monkeypatch.setattr(codecheck._NodeChecker, "TIMEOUT_S", 0.5)
    try:
        doc = parse("# D\n\n```js\nlet x = ;\n```\n")
        stats = CodeStats()
        assert _check(doc, {}, stats) == []
        assert [(s.lang, "did not answer" in s.reason) for s in stats.skipped] == [("js", True)]
    finally:
        checker.close()  # the next test starts the real checker again


# --- where code must run, and what counts as illustration (issue: findings an author trusts) ---

FIXTURES_CHECK = Path(__file__).parent / "fixtures" / "check"


def _tutorial_findings(name: str, code: bool = True):
    from authorkit.check import check_text
    from authorkit.styleguide import load_guides

    guide = load_guides()["tutorial"].model_copy(update={"lines": None})
    text = (FIXTURES_CHECK / name).read_text(encoding="utf-8")
    return text, check_text(text, guide, name, code_checks=code)


@pytest.mark.skipif(not (HAS_NODE and HAS_BASH), reason="needs node and bash")
def test_messages_say_what_was_tried_and_what_to_supply():
    text, found = _tutorial_findings("tutorial-code-shapes.md")
    by_rule = {}
    for f in found:
        by_rule.setdefault(f.rule, []).append(f)
    sql = [f for f in by_rule["code-syntax"] if f.message.startswith("SQL")]
    assert len(sql) == 1 and "tried PostgreSQL, MySQL, SQLite" in sql[0].message
    # The credential placeholder is a warning that names it; nothing about $MY_SHARD or your_crew.py.
    cred = [f for f in by_rule["code-placeholder"] if "YOUR_COHERE_API_KEY" in f.message]
    assert [str(f.severity) for f in cred] == ["warning"]
    assert not any("MY_SHARD" in f.message or "your_crew" in f.message for f in found)
    # Outside the build, run and test sections a block that does not parse is information only.
    why = text.splitlines().index("## Why This Matters") + 1
    illustrative = [f for f in by_rule["code-syntax"] if f.line < text.splitlines().index("## The Problem") + 1]
    assert [(str(f.severity), f.line > why) for f in illustrative] == [("info", True)]
    # Every error sits in a section where code runs.
    build = text.splitlines().index("## Step-by-Step Build") + 1
    assert all(f.line > build for f in found if f.severity == Severity.ERROR)


def test_at_most_one_syntax_finding_per_block():
    doc = parse("# T\n\n```python\ndef f(:\n    pass\ndef g(:\n```\n\n```sql\nSELECT (1;\nSELECT 'x;\nSELEC 1;\n```\n")
    findings = _check(doc, {})
    assert sorted(f.line for f in findings) == [4, 10]


def test_deep_nesting_is_a_finding_for_its_block_never_an_abort():
    from authorkit.check import check_text

    deep = "[" * 1000
    text = f"# T\n\n```json\n{deep}\n```\n\n```toml\na = {deep}\n```\n\n```python\nx = {deep}\n```\n\n```yaml\nk: {deep}\n```\n"
    found = check_text(text, None, "deep.md")
    assert sorted((f.line, f.rule) for f in found) == [(4, "code-syntax"), (8, "code-syntax"), (12, "code-syntax"), (16, "code-syntax")]
    assert "nested too deeply" in next(f.message for f in found if f.line == 4)


def test_a_heading_of_thousands_of_open_brackets_normalises_in_linear_time():
    import time

    from authorkit.document import normalize_heading

    for text in ("![" * 30000, "[" * 30000 + "](", "<" * 30000, "![a](" * 20000):
        start = time.perf_counter()
        normalize_heading(text)
        assert time.perf_counter() - start < 1.0, text[:6]
    assert normalize_heading("See [the docs](https://x.dev) ![logo](a.png) <b>now</b>") == "see the docs logo now"


def test_element_message_says_where_the_field_is():
    text, found = _tutorial_findings("tutorial-field-elsewhere.md", code=False)
    field = [f for f in found if f.rule == "element-field"]
    at = next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("**Time to complete**"))
    assert [f.message for f in field] == [f"`Time to complete` is at line {at}, outside What You'll Build"]


def test_renamed_heading_is_warned_on_its_own_line_with_the_name_to_use():
    text, found = _tutorial_findings("tutorial-renamed.md", code=False)
    renamed = {f.line: f.message for f in found if f.rule == "section-renamed"}
    lines = text.splitlines()
    assert "did you mean `## What You'll Build`?" in renamed[lines.index("## What We'll Build <!-- expect: section-renamed -->") + 1]
    assert "`## Step-by-Step Build`" in renamed[next(i for i, l in enumerate(lines, 1) if l.startswith("## Building It"))]
    # Counted as present: no missing section, and the renamed build's steps and code are checked.
    assert not [f for f in found if f.rule in ("section-missing", "element-steps", "element-code")]


def test_engagement_headings_score_as_engagement_and_match_its_sections():
    from authorkit.rules import detect_style, explain
    from authorkit.styleguide import load_guides

    doc = parse((FIXTURES_CHECK / "engagement-hooks.md").read_text(encoding="utf-8"))
    guides = load_guides()
    name, score, _ = detect_style(doc, guides)
    assert name == "engagement" and score >= 0.9
    eng = next(e for e in explain(doc, guides) if e["style"] == "engagement")
    assert eng["unmatched_headings"] == [] and eng["missing"] == []
    tut = next(e for e in explain(doc, guides) if e["style"] == "tutorial")
    assert len(tut["forbidden"]) >= 5


def test_kong_services_list_is_yaml_and_compose_is_compose():
    from authorkit.codecheck import looks_compose

    assert not looks_compose("_format_version: '3.0'\nservices:\n  - name: a\n    url: http://a\n")
    assert looks_compose("services:\n  db:\n    image: postgres:16\n")
    assert looks_compose("services:\n  api:\n    build: .\n  worker:\n    environment: {A: 1}\n")


@pytest.mark.skipif(not HAS_BASH, reason="needs bash")
def test_shell_output_and_user_host_prompts_are_not_commands():
    doc = parse("# T\n\n```bash\nnpm test\nTests: 5 passed (5 total)\n```\n\n```bash\nalice@box:~$ echo 'hi'\nhi (there\n```\n\n"
                "```bash\nif [ -f .env ]; then\n  source .env\n```\n")
    findings = _check(doc, {})
    # Only the unterminated `if` is the author's mistake.
    assert [(f.line, f.rule) for f in findings] == [(_line_of(doc, "  source .env"), "code-syntax")]


def test_a_table_in_the_wrong_section_is_named_where_it_is():
    from authorkit.check import check_text
    from authorkit.styleguide import load_guides

    text = ("# POC #1: T\n\n## What You'll Build\n\n## Why This Matters\n\nScale.\n\n## The Problem\n\n"
            "| Company | Scale |\n|---|---|\n| GitHub | 1M |\n| Stripe | 2M |\n")
    found = check_text(text, load_guides()["tutorial"], "t.md", code_checks=False)
    table = [f.message for f in found if f.rule == "element-table"]
    assert table == ["the table with a “Company” column is at line 11, outside Why This Matters"]


def test_a_credential_placeholder_in_setup_text_is_a_warning_naming_it():
    from authorkit.check import check_text

    found = check_text("# T\n\nExport <your-api-key> first, then open <your-dashboard-url>.\n", None, "t.md")
    assert sorted((str(f.severity), "<your-api-key>" in f.message) for f in found) == [("error", False), ("warning", True)]


@pytest.mark.skipif(not (HAS_NODE and HAS_BASH), reason="needs node and bash")
def test_five_planted_mistakes_in_an_accepted_poc_are_each_caught_inside_their_block(samples):
    """The accepted POC has no code errors; plant five real mistakes in its build and each is
    reported once, inside the block that holds it, and nothing else is."""
    from authorkit.check import check_text
    from authorkit.styleguide import load_guides

    text = (samples / "database-crud.md").read_text(encoding="utf-8")
    guide = load_guides()["tutorial"]
    clean = [f for f in check_text(text, guide, "crud.md") if f.rule.startswith("code-") and f.severity == Severity.ERROR]
    assert clean == []
    plants = {
        "    this.pool = new Pool({\n": "    this.pool = new Pool(\n",  # a missing brace in JavaScript
        "email VARCHAR(255) NOT NULL UNIQUE,": "email VARCHAR(255) NOT NULL UNIQUE",  # a missing comma in SQL
        "npm install pg express uuid csv-parser\n": "npm install pg express uuid csv-parser\nif [ ! -d node_modules ]; then\n  npm ci\n",
    }
    for old, new in plants.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    # A Compose file with a broken indent, and a function whose body is elided.
    step2 = text.index("### Step 2: Start PostgreSQL")
    text = (text[:step2] + "Or with Compose:\n\n```yaml\nservices:\n  db:\n    image: postgres:16\n   ports:\n      - \"5432:5432\"\n```\n\n"
            + "A helper:\n\n```javascript\nfunction retry(fn, times) {\n  // ... rest of the implementation\n}\n```\n\n" + text[step2:])
    doc = parse(text)
    found = [f for f in check_text(text, guide, "crud.md") if f.severity == Severity.ERROR and (f.rule.startswith("code-") or f.rule == "placeholder")]

    def block_with(needle: str) -> tuple[int, int]:
        b = next(b for b in doc.code_blocks if needle in b.code)
        return b.line, b.end_line

    blocks = [block_with(n) for n in ("this.pool = new Pool(\n", "email VARCHAR(255) NOT NULL UNIQUE\n", "npm ci", "   ports:", "rest of the implementation")]
    hits = sorted(next(i for i, (lo, hi) in enumerate(blocks) if lo < f.line < hi) for f in found)
    assert hits == [0, 1, 2, 3, 4], [(f.line, f.rule, f.message) for f in found]


@pytest.mark.skipif(not HAS_NODE, reason="needs node")
def test_jsx_in_a_javascript_block_is_skipped_not_failed():
    doc = parse("# T\n\n```javascript\nexport default function App() {\n  return (\n    <div><Header /></div>\n  );\n}\n```\n\n"
                "```javascript\nif (a < b && c > d) { x = 1 }\nconst y = ;\n```\n")
    stats = CodeStats()
    findings = _check(doc, {}, stats)
    assert [s.lang for s in stats.skipped] == ["jsx"]
    assert [f.line for f in findings] == [_line_of(doc, "const y = ;")]  # comparisons are not JSX


def test_renames_planted_in_an_accepted_poc_are_warned_on_their_own_lines(samples):
    from authorkit.check import check_text
    from authorkit.styleguide import load_guides

    text = (samples / "database-crud.md").read_text(encoding="utf-8")
    renames = {"## What You'll Build": "## What We'll Build", "## The Problem\n": "## The Challenge\n",
               "## Step-by-Step Build": "## Step-by-Step Guide", "## What's Next?": "## Where To Next"}
    for old, new in renames.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    found = check_text(text, load_guides()["tutorial"], "crud.md", code_checks=False)
    lines = text.splitlines()
    want = sorted(next(i for i, l in enumerate(lines, 1) if l == new.strip()) for new in renames.values())
    assert sorted(f.line for f in found if f.rule == "section-renamed") == want
    assert [f for f in found if f.severity == Severity.ERROR] == []


@pytest.mark.skipif(not (HAS_NODE and HAS_BASH), reason="needs node and bash")
def test_an_unclosed_fence_planted_in_an_accepted_poc_is_one_error_at_its_opening(samples):
    from authorkit.check import check_text
    from authorkit.styleguide import load_guides

    text = (samples / "database-crud.md").read_text(encoding="utf-8")
    guide = load_guides()["tutorial"].model_copy(update={"lines": None})
    doc = parse(text)
    step4 = next(h.line for h in doc.headings if h.text.startswith("Step 4"))
    block = next(b for b in doc.code_blocks if b.line > step4)
    lines = text.split("\n")
    del lines[block.end_line - 1]  # the closing fence
    found = [f for f in check_text("\n".join(lines), guide, "crud.md") if f.severity >= Severity.WARNING]
    assert [(f.line, f.rule) for f in found] == [(block.line, "code-fence-unclosed")]
    # A draft cut off inside a block: the same single finding, never a line past the end.
    cut = "\n".join(text.split("\n")[: block.line + 3]) + "\n"
    found = [f for f in check_text(cut, guide, "crud.md") if f.rule.startswith("code-")]
    assert [(f.line, f.rule) for f in found] == [(block.line, "code-fence-unclosed")]
