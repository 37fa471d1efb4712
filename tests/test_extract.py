"""`authorkit extract FILE DIR`: files named by heading, preceding text or info string;
"continued" appends; setup.sh and EXPECTED_OUTPUT.txt; missing, conflicting and unnamed
files reported; never a write outside DIR; --check cross-file checks."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.clihelp import invoke

from authorkit.document import parse
from authorkit.extract import plan_extract

HAS_NODE = shutil.which("node") is not None


@pytest.fixture(autouse=True)
def _outside_any_workspace(tmp_path_factory, monkeypatch):
    """Run from a folder with no authorkit.toml so no session record is touched."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


run = invoke


def poc(fixtures: Path, name: str) -> Path:
    return fixtures / "code" / name


def test_reference_poc_extracts_its_files_with_block_contents(samples, tmp_path, capsys):
    src = samples / "database-crud.md"
    doc = parse(src.read_text(encoding="utf-8"))
    code, out, _ = run(["extract", str(src), str(tmp_path / "crud")], capsys)
    assert code == 0, out
    for name in ("schema.sql", "initDb.js", "database.js", "server.js", "test.js"):
        path = tmp_path / "crud" / name
        assert path.is_file(), name
        # The file is exactly the block under the heading that names it.
        heading = next(h for h in doc.headings if f"`{name}`" in h.text)
        block = next(b for b in doc.code_blocks if b.line > heading.line)
        assert path.read_text(encoding="utf-8") == block.code
    setup = (tmp_path / "crud" / "setup.sh").read_text()
    assert setup.index("npm install") < setup.index("docker run")
    assert os.access(tmp_path / "crud" / "setup.sh", os.X_OK)
    assert "=== Test 1" in (tmp_path / "crud" / "EXPECTED_OUTPUT.txt").read_text(encoding="utf-8")


def test_naming_continued_setup_and_expected_output(fixtures, tmp_path, capsys):
    code, out, _ = run(["extract", str(poc(fixtures, "poc_good.md")), str(tmp_path)], capsys)
    assert code == 0, out
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["EXPECTED_OUTPUT.txt", "db.js", "docker-compose.yml", "schema.sql", "setup.sh", "test.js"]
    schema = (tmp_path / "schema.sql").read_text()
    assert schema.index("CREATE TABLE stock") < schema.index("CREATE INDEX idx_stock_qty")  # continued = appended
    setup = (tmp_path / "setup.sh").read_text()
    assert setup.index("npm install pg") < setup.index("docker compose up -d")
    assert "node test.js" not in setup and "rm -rf" not in setup  # run and cleanup steps are not setup
    assert "\ncd inventory-poc" not in setup  # the target folder already is the project folder
    assert (tmp_path / "EXPECTED_OUTPUT.txt").read_text() == "ok\n"


def test_missing_conflicting_and_unnamed_files_are_reported(fixtures, tmp_path, capsys):
    src = poc(fixtures, "poc_missing.md")
    code, out, _ = run(["extract", str(src), str(tmp_path)], capsys)
    assert code == 1
    lines = src.read_text().split("\n")
    run_line = lines.index("npm start")  # the fence is the line before (1-based = index)
    assert f"{src}:{run_line}: missing-file: `npm start` needs a `package.json`" in out
    assert "`node server.js` needs `server.js`" in out
    assert f"{src}:{lines.index('### Step 3: Again (`app.js`)') + 3}: conflict" in out
    assert "unnamed" in out and "Step 2: Worker" in out
    # The first app.js block is kept.
    assert (tmp_path / "app.js").read_text() == "console.log('app');\n"


def test_names_that_escape_the_folder_are_refused(fixtures, tmp_path, capsys):
    dest = tmp_path / "inner" / "dest"
    code, out, err = run(["extract", str(poc(fixtures, "poc_escape.md")), str(dest)], capsys)
    # Refused up front: nothing at all is written, not even the safe file.
    assert code == 2, out + err
    assert "nothing was written" in err and "../escaped.js" in err and "/tmp/authorkit-absolute.js" in err
    assert not dest.exists()
    assert {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")} == set()
    assert not Path("/tmp/authorkit-absolute.js").exists()


def _blocks(*names: str) -> str:
    parts = ["# POC #904: Odd names", "", "## Step-by-Step Build", "", "### Step 1: Files", ""]
    for n in names:
        parts += [f'```js title="{n}"', "module.exports = 1;", "```", ""]
    return "\n".join(parts)


@pytest.mark.parametrize("names, says", [
    ((".",), "target folder itself"),
    (("..",), "outside the target folder"),
    (("/etc/x.js",), "absolute"),
    (("lib", "lib/a.js"), "`lib` is a file but `lib/a.js` needs it to be a folder"),
    (("a" * 300 + ".js",), "longer than file systems allow"),
])
def test_odd_names_are_refused_before_anything_is_written(tmp_path, capsys, names, says):
    src = tmp_path / "odd.md"
    src.write_text(_blocks("ok.js", *names))
    dest = tmp_path / "out"
    code, out, err = run(["extract", str(src), str(dest)], capsys)
    assert code == 2 and says in err and "nothing was written" in err, out + err
    assert not dest.exists()


def test_first_line_comment_names_the_file(tmp_path, capsys):
    src = tmp_path / "poc.md"
    src.write_text(
        "# POC #905: Comments\n\n## Step-by-Step Build\n\n### Step 1: Database\n\n"
        "```yaml\n# docker-compose.yml\nservices:\n  db:\n    image: postgres:16\n    volumes:\n      - ./init.sql:/docker-entrypoint-initdb.d/init.sql\n```\n\n"
        "```sql\n-- init.sql\nCREATE TABLE t (id int);\n```\n\n"
        "### Step 2: Code\n\n```javascript\n// cache-aside.js\nconst db = require('./db');\nmodule.exports = db;\n```\n\n"
        "```python\n# load.py\nprint('ok')\n```\n\n"
        "```javascript\n// Connect to the database first\nconst x = 1;\n```\n"
    )
    dest = tmp_path / "out"
    code, out, _ = run(["extract", str(src), str(dest), "--check"], capsys)
    assert sorted(p.name for p in dest.iterdir()) == ["cache-aside.js", "docker-compose.yml", "init.sql", "load.py"]
    assert (dest / "init.sql").read_text().startswith("-- init.sql\nCREATE TABLE")
    # A comment that is a sentence names nothing; the missing module is reported.
    assert code == 1 and "unnamed" in out and "`./db` is required" in out


def test_placeholders_for_code_are_found_and_code_is_not():
    from authorkit.extract import placeholder_lines

    js = (
        "const all = [...items, ...more];\n"
        "// ... PUT /products/:id/price handler (same pattern as above)\n"
        "app.get('/x', (req, res) => { ... });\n"
        "const label = 'Loading...';\n"
        "/* ... */\n"
        "function f(...args) { return args; }\n"
    )
    assert [n for n, _ in placeholder_lines(js, "js")] == [2, 3, 5]
    assert [n for n, _ in placeholder_lines("def f():\n    ...\n# ...\n", "python")] == [3]
    assert [n for n, _ in placeholder_lines("-- ...\nSELECT 1;\n", "sql")] == [1]


def test_expected_output_is_compared_with_what_the_test_prints():
    from authorkit.extract import expected_output_issues

    test_js = (
        "console.log('=== Test 1: Cache miss ===');\n"
        "console.log(`Latency: ${ms}ms`);\n"
        "console.log('Hits:', hits);\n"
        "console.log('=== Test 2: Cache hit ===');\n"
    )

    def doc(output: str):
        return parse(
            "# POC #906: Output\n\n## Step-by-Step Build\n\n### Step 1: Test\n\nCreate `test.js`:\n\n```javascript\n"
            + test_js + "```\n\n## Expected Output\n\n```\n" + output + "```\n"
        )

    good = doc("=== Test 1: Cache miss ===\nLatency: 42ms\nHits: 0\n=== Test 2: Cache hit ===\nLatency: 1ms\nHits: 1\n")
    assert expected_output_issues(good, plan_extract(good)) == []
    bad = doc("=== Test 1: Cache miss ===\nResponse time: 42ms\nHits: 0\n")
    issues = expected_output_issues(bad, plan_extract(bad))
    text = " ".join(i.message for i in issues)
    assert "`Response time: 42ms`" in text and "test.js" in text
    assert "`=== Test 2: Cache hit ===`" in text  # printed, but not shown
    assert issues[0].line == bad.code_blocks[1].line + 2


def test_existing_different_file_is_not_overwritten_without_force(fixtures, tmp_path, capsys):
    (tmp_path / "db.js").write_text("// mine\n")
    code, _, err = run(["extract", str(poc(fixtures, "poc_good.md")), str(tmp_path)], capsys)
    assert code == 2 and "--force" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.js"]  # nothing half-written
    assert (tmp_path / "db.js").read_text() == "// mine\n"
    code, _, _ = run(["extract", str(poc(fixtures, "poc_good.md")), str(tmp_path), "--force"], capsys)
    assert code == 0 and "require('pg')" in (tmp_path / "db.js").read_text()


def test_bad_input_exits_2(tmp_path, capsys):
    code, _, err = run(["extract", str(tmp_path / "nope.md"), str(tmp_path / "out")], capsys)
    assert code == 2 and "nope.md" in err
    target = tmp_path / "file.txt"
    target.write_text("x")
    doc = tmp_path / "d.md"
    doc.write_text("# T\n\n### Step 1 (`a.js`)\n\n```js\nlet a = 1;\n```\n")
    code, _, err = run(["extract", str(doc), str(target)], capsys)
    assert code == 2 and "not a folder" in err


def test_check_reports_cross_file_problems(fixtures, tmp_path, capsys):
    code, out, _ = run(["extract", str(poc(fixtures, "poc_crossfile.md")), str(tmp_path), "--check"], capsys)
    assert code == 1
    assert "mounts `./init.sql`" in out
    assert "`api/Dockerfile` is not in the extracted tree" in out
    assert "[test.js:1]" in out and "`./repo` is required" in out
    assert "[test.js:3]" in out and "port 5433" in out and "publish 5432" in out


@pytest.mark.skipif(not HAS_NODE, reason="needs node")
def test_check_runs_validators_on_the_extracted_files(tmp_path, capsys):
    doc = tmp_path / "d.md"
    doc.write_text("# T\n\n## Step-by-Step Build\n\n### Step 1: App (`app.js`)\n\n```js\nconst a = 1;\nconst b = (;\n```\n")
    code, out, _ = run(["extract", str(doc), str(tmp_path / "out"), "--check"], capsys)
    assert code == 1
    assert "syntax [app.js:2]" in out
    code, out, _ = run(["extract", str(doc), str(tmp_path / "out2")], capsys)
    assert code == 0  # without --check the file is written and nothing is judged


def test_good_fixture_passes_check(fixtures, tmp_path, capsys):
    code, out, _ = run(["extract", str(poc(fixtures, "poc_good.md")), str(tmp_path), "--check"], capsys)
    assert code == 0, out


def test_plan_is_pure_and_names_from_info_string():
    doc = parse('# T\n\n```python title="tools/run.py"\nprint(1)\n```\n\nSave as `cfg.toml`:\n\n```toml\na = 1\n```\n')
    res = plan_extract(doc)
    assert sorted(res.files) == ["cfg.toml", "tools/run.py"]
    assert res.issues == []


def test_compose_follow_flag_is_not_a_file_but_a_leading_file_flag_is(tmp_path, capsys):
    doc = tmp_path / "poc.md"
    doc.write_text(
        "# POC #1: Logs\n\n### Step 1: Compose (`docker-compose.yml`)\n\n```yaml\nservices:\n  postgres:\n    image: postgres:16\n```\n\n"
        "```bash\ndocker-compose up -d\ndocker-compose logs -f postgres\ndocker compose -f other.yml up\n```\n"
    )
    code, out, err = run(["extract", str(doc), str(tmp_path / "out")], capsys)
    assert code == 1
    assert "needs `other.yml`" in out + err
    assert "needs `postgres`" not in out + err


def test_check_reports_an_elided_route(tmp_path, capsys):
    src = tmp_path / "poc.md"
    src.write_text(
        "# POC #907: Elided\n\n## Step-by-Step Build\n\n### Step 1: Server\n\nCreate `server.js`:\n\n```javascript\n"
        "const express = require('express');\nconst app = express();\n"
        "app.get('/products/:id', (req, res) => res.json({ id: req.params.id }));\n"
        "// ... PUT /products/:id/price handler (same pattern as above)\n"
        "app.listen(3000);\n```\n"
    )
    code, out, _ = run(["extract", str(src), str(tmp_path / "out"), "--check"], capsys)
    assert code == 1 and "placeholder [server.js:4]" in out and "PUT /products/:id/price" in out


def test_expected_output_of_the_authors_pages(samples):
    """The author's CRUD page agrees with its test script; the partitioning rewrite shows a
    partition its code does not name and leaves out the test script's fifth test."""
    from authorkit.extract import expected_output_issues

    crud = parse((samples / "database-crud.md").read_text(encoding="utf-8"))
    assert expected_output_issues(crud, plan_extract(crud)) == []
    part = parse((samples / "postgresql-partitioning-strategies.after.md").read_text(encoding="utf-8"))
    messages = [i.message for i in expected_output_issues(part, plan_extract(part))]
    assert len(messages) == 2
    assert "1 Expected Output line(s)" in messages[0] and "messages_2024_06 was scanned" in messages[0]
    assert "Test 5" in messages[1]


def test_rows_printed_as_data_are_not_judged_but_labels_are():
    from authorkit.extract import expected_output_issues

    doc = parse(
        "# POC #908: Rows\n\n## Step-by-Step Build\n\n### Step 1: Test\n\nCreate `test.js`:\n\n```javascript\n"
        "console.log('Plan:');\nrows.forEach((row) => console.log(row['QUERY PLAN']));\nconsole.log(`Rows: ${n}`);\n```\n\n"
        "## Expected Output\n\n```\nPlan:\nSeq Scan on t (cost=0.00..35.50 rows=2550)\nRows: 2550\nTotal: 2550\n```\n"
    )
    messages = " ".join(i.message for i in expected_output_issues(doc, plan_extract(doc)))
    # Data lines pass; `Total:` is no label the code prints, but with data printed it may be data.
    assert messages == ""
    marked = parse(
        "# POC #908: Rows\n\n## Step-by-Step Build\n\n### Step 1: Test\n\nCreate `test.js`:\n\n```javascript\n"
        "rows.forEach((row) => console.log(row['QUERY PLAN']));\n```\n\n"
        "## Expected Output\n\n```\nSeq Scan on t\n✅ Only one partition was scanned\n```\n"
    )
    messages = " ".join(i.message for i in expected_output_issues(marked, plan_extract(marked)))
    assert "`✅ Only one partition was scanned`" in messages and "Seq Scan" not in messages


def test_check_reports_expected_output_the_code_does_not_print(tmp_path, capsys):
    src = tmp_path / "poc.md"
    src.write_text(
        "# POC #909: Output\n\n## Step-by-Step Build\n\n### Step 1: Test\n\nCreate `test.js`:\n\n```javascript\n"
        "console.log('=== Test 1: Insert ===');\nconsole.log(`Inserted ${n} rows`);\n```\n\n"
        "## Expected Output\n\n```\n=== Test 1: Insert ===\nInserted 500 rows\n=== Test 2: Update ===\n```\n"
    )
    code, out, _ = run(["extract", str(src), str(tmp_path / "out"), "--check"], capsys)
    assert code == 1 and "expected-output" in out and "`=== Test 2: Update ===`" in out
    assert "Inserted 500 rows" not in out.split("expected-output", 1)[1]
