"""A POC draft and a conversion end to end, with replies a careful writer would give, served
through the fake Anthropic server: the written page passes `check` and `extract --check`, and
its Expected Output is what its test script prints. Then the same with one inconsistent reply
(an Expected Output that does not match the code), which the repair round fixes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fake_anthropic import FakeAnthropic, FakeAnthropicServer, task_of
from test_convert import events, run_cli

PLAN = """# Two-Week Plan

## Week 2

### Day 8: Caching

- POC #61: Cache-aside pattern (read-through)
- POC #62: Write-through cache

## Success criteria

### POCs
- runs with docker compose up
- shows the latency with and without the cache
"""

CONFIG = """[model]
name = "claude-sonnet-4-5"
concurrency = 6
max_retries = 1
repair_rounds = 2

[draft]
poc_dir = "content/pocs"
reference = "reference.md"

[plans]
files = ["plan.md"]

[navigation]
update = false

[style_overrides.tutorial.lines]
min = 120
target = 220
max = 1500
"""

# A short accepted page: sections separated by `---`, most of its lines in the build.
REFERENCE = """# POC #11: Counting Page Views with Redis

## What You'll Build

- ✅ A counter per page
- ✅ A daily rollup
- ✅ A test that prints the totals

**Time to complete**: 15 minutes
**Difficulty**: ⭐ Beginner

---

## Why This Matters

| Company | Scale | Use |
|---|---|---|
| **GitHub** | 1B views/day | repository traffic |
| **Medium** | 200M views/month | story stats |

---

## The Problem

Counting views in the primary database turns every page view into a write.

---

## Step-by-Step Build

### Step 1: Start Redis

Create `docker-compose.yml`:

```yaml
services:
  redis:
    image: redis:7
    ports:
      - "6379:6379"
```

### Step 2: Count

Create `counter.js`:

```javascript
const { createClient } = require('redis');
module.exports = { createClient };
```

### Step 3: Test

Create `test.js`:

```javascript
const { createClient } = require('./counter');
console.log('=== Counter ready ===', typeof createClient);
```

---

## Key Takeaways

- Counters belong in memory, rollups in the database.

---

## What's Next

Try POC #12.
"""

# --- the project the replies build ---------------------------------------------------------------

PACKAGE = """{
  "name": "cache-aside-poc",
  "version": "1.0.0",
  "private": true,
  "scripts": {
    "test": "node test.js"
  },
  "dependencies": {
    "pg": "^8.11.3",
    "redis": "^4.6.13"
  }
}"""

COMPOSE = """# docker-compose.yml
services:
  postgres:
    image: postgres:16
    container_name: cache-aside-postgres
    environment:
      POSTGRES_PASSWORD: postgres
      POSTGRES_DB: shop
    ports:
      - "5432:5432"
    volumes:
      - ./init.sql:/docker-entrypoint-initdb.d/init.sql
  redis:
    image: redis:7
    container_name: cache-aside-redis
    ports:
      - "6379:6379\""""

INIT_SQL = """-- init.sql
CREATE TABLE products (
  id SERIAL PRIMARY KEY,
  name TEXT NOT NULL,
  price_cents INTEGER NOT NULL
);

INSERT INTO products (name, price_cents)
SELECT 'Product ' || g, 100 + g
FROM generate_series(1, 10000) AS g;"""

DB_JS = """// db.js
const { Pool } = require('pg');

const pool = new Pool({
  host: 'localhost',
  port: 5432,
  user: 'postgres',
  password: 'postgres',
  database: 'shop',
});

async function findProduct(id) {
  const { rows } = await pool.query('SELECT id, name, price_cents FROM products WHERE id = $1', [id]);
  return rows[0] || null;
}

module.exports = { pool, findProduct };"""

CACHE_JS = """// cache.js
const { createClient } = require('redis');
const { findProduct } = require('./db');

const CACHE_TTL_SECONDS = 60;
const redis = createClient({ url: 'redis://localhost:6379' });

async function connect() {
  if (!redis.isOpen) await redis.connect();
}

async function getProduct(id) {
  const key = `product:${id}`;
  const cached = await redis.get(key);
  if (cached) return { product: JSON.parse(cached), source: 'cache' };
  const product = await findProduct(id);
  if (product) await redis.set(key, JSON.stringify(product), { EX: CACHE_TTL_SECONDS });
  return { product, source: 'database' };
}

async function invalidate(id) {
  await redis.del(`product:${id}`);
}

module.exports = { redis, connect, getProduct, invalidate, CACHE_TTL_SECONDS };"""

TEST_JS = """// test.js
const { redis, connect, getProduct, invalidate } = require('./cache');
const { pool } = require('./db');

async function timed(fn) {
  const start = process.hrtime.bigint();
  const result = await fn();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { result, ms };
}

async function main() {
  await connect();
  await invalidate(42);

  console.log('=== Test 1: Cache miss reads PostgreSQL ===');
  const miss = await timed(() => getProduct(42));
  console.log(`Source: ${miss.result.source}, ${miss.ms.toFixed(1)}ms`);

  console.log('=== Test 2: Cache hit reads Redis ===');
  const hit = await timed(() => getProduct(42));
  console.log(`Source: ${hit.result.source}, ${hit.ms.toFixed(1)}ms`);

  console.log('=== Test 3: Invalidation ===');
  await invalidate(42);
  const again = await getProduct(42);
  console.log(`After invalidate: ${again.result ? again.source : again.source}`);

  console.log(`Speedup: ${(miss.ms / hit.ms).toFixed(1)}x`);
  await redis.quit();
  await pool.end();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});"""

GOOD_OUTPUT = """=== Test 1: Cache miss reads PostgreSQL ===
Source: database, 4.8ms
=== Test 2: Cache hit reads Redis ===
Source: cache, 0.4ms
=== Test 3: Invalidation ===
After invalidate: database
Speedup: 12.0x"""

# What a writer guessing from the outline alone would show: other headers, no Test 3.
BAD_OUTPUT = """=== Test 1: Cold read ===
Read from database in 4.8ms
=== Test 2: Warm read ===
Read from cache in 0.4ms
Cache hit ratio: 50%"""


def fence(lang: str, body: str) -> str:
    return f"```{lang}\n{body}\n```"


def prose(topic: str, n: int) -> str:
    lines = [
        f"The {topic} keeps the read path short: a product page asks Redis first and PostgreSQL only on a miss.",
        "A miss costs one query of about 5 ms; a hit costs one round trip to Redis of under 1 ms.",
        "Entries expire after 60 seconds, so a price change shows within a minute even without invalidation.",
        "Writes delete the key instead of updating it, which avoids racing two writers on the cached value.",
        "At 10,000 reads per second with a 95% hit rate, PostgreSQL sees 500 queries per second instead of 10,000.",
        "The pattern needs no change to the database schema and can be added one endpoint at a time.",
    ]
    return "\n".join(lines[i % len(lines)] for i in range(n))


STEPS = {
    1: ("Project Setup", "Create `package.json`:\n\n" + fence("json", PACKAGE) + "\n\nInstall the two clients:\n\n" + fence("bash", "npm install")),
    2: ("Start PostgreSQL and Redis", fence("yaml", COMPOSE) + "\n\nThe schema and 10,000 sample products load on first start:\n\n"
        + fence("sql", INIT_SQL) + "\n\nStart both containers:\n\n" + fence("bash", "docker compose up -d")),
    3: ("Database Access", "Create `db.js`:\n\n" + fence("javascript", DB_JS.split("\n", 1)[1])),
    4: ("The Cache-Aside Layer", fence("javascript", CACHE_JS)),
    5: ("Test Script", fence("javascript", TEST_JS)),
}


def outline_reply(number: int, title: str, *, blocks: dict | None = None) -> str:
    # Natural forms on purpose: ports as a map, identifiers as a map, services as objects,
    # a number as a company fact, files as a string, sections as a list.
    data = {
        "title": f"POC #{number}: {title}",
        "summary": "A product lookup that reads Redis first and PostgreSQL on a miss. A test shows the latency of both paths.",
        "checklist": ["Read-through lookups", "TTL expiry", "Invalidation on write", "Latency comparison"],
        "time_to_complete": "25 minutes",
        "difficulty": "⭐⭐ Intermediate",
        "stack": {"Node.js": "20", "PostgreSQL": "16", "Redis": "7"},
        "files": {"package.json": "dependencies", "docker-compose.yml": "services", "init.sql": "schema and data",
                  "db.js": {"purpose": "queries", "exports": ["pool", "findProduct"]},
                  "cache.js": {"purpose": "cache-aside", "exports": ["getProduct", "invalidate"]}, "test.js": "the test"},
        "steps": [
            {"number": n, "title": t, "files": f, "summary": "see title"}
            for n, (t, f) in enumerate([("Project Setup", "package.json"), ("Start PostgreSQL and Redis", ["docker-compose.yml", "init.sql"]),
                                        ("Database Access", "db.js"), ("The Cache-Aside Layer", "cache.js"), ("Test Script", "test.js")], 1)
        ],
        "identifiers": {"getProduct": "read through the cache", "invalidate": "delete a key", "CACHE_TTL_SECONDS": "60"},
        "ports": {"postgres": 5432, "redis": "6379:6379"},
        "services": [{"name": "postgres", "image": "postgres:16"}, {"name": "redis", "image": "redis:7"}],
        "containers": {"cache-aside-postgres": "postgres:16", "cache-aside-redis": "redis:7"},
        "env": ["POSTGRES_PASSWORD=postgres", "POSTGRES_DB=shop"],
        "commands": {"start": "docker compose up -d", "test": "node test.js", "cleanup": "docker compose down -v"},
        "test_output": "=== Test 1: Cache miss reads PostgreSQL ===\n=== Test 2: Cache hit reads Redis ===\n=== Test 3: Invalidation ===",
        "criteria": [{"criterion": "runs with docker compose up", "section": "run-it"},
                     {"criterion": "shows the latency with and without the cache", "section": "expected-output"}],
        "companies": [{"name": "Amazon", "fact": "product pages served from ElastiCache"}, {"name": "Shopify", "fact": 80000},
                      {"name": "Netflix", "fact": "30M requests/s from EVCache"}],
        "sections": ["what-youll-build", "why-this-matters", "the-problem"],
        "an_unknown_key": "kept, not an error",
    }
    if blocks is not None:
        data["blocks"] = blocks
    return "Here is the plan:\n```json\n" + json.dumps(data, indent=1) + "\n```"


def section_reply(section_id: str, heading: str, *, expected: str = GOOD_OUTPUT) -> str:
    h = f"## {heading}\n\n"
    bodies = {
        "what-youll-build": "- ✅ A read-through product lookup\n- ✅ Expiry after 60 seconds\n- ✅ Invalidation on write\n- ✅ A latency comparison\n\n"
                            "**Time to complete**: 25 minutes\n**Difficulty**: ⭐⭐ Intermediate\n\n" + prose("cache", 3),
        "why-this-matters": "| Company | Scale | How they cache |\n|---|---|---|\n| **Amazon** | product pages | ElastiCache in front of the catalog |\n"
                            "| **Netflix** | 30M requests/s | EVCache |\n| **Shopify** | 80,000 shops | Redis per pod |\n\n" + prose("cache", 6),
        "the-problem": prose("database", 10),
        "run-it": "Start the services, install the clients and run the test:\n\n" + fence("bash", "docker compose up -d\nnpm install\nnode test.js") + "\n\n" + prose("run", 3),
        "test-it": "Run the test script again after changing a price in PostgreSQL:\n\n" + fence("bash", "node test.js") + "\n\n" + prose("test", 3),
        "expected-output": fence("", expected) + "\n\n" + prose("output", 3),
        "real-world": prose("production cache", 10),
        "summary": "- Read Redis first, PostgreSQL on a miss.\n- Delete on write.\n- Expire after 60 seconds.\n\n" + prose("summary", 4),
        "extend-it": "Add a metric for the hit rate and print it from the test.\n\n" + prose("extension", 4),
        "related": "- POC #62: Write-through cache\n- POC #11: Counting page views with Redis",
        "cleanup": fence("bash", "docker compose down -v"),
        "next-steps": "Next, POC #62 writes through the cache instead of deleting keys.\n\n" + prose("next", 2),
    }
    return h + bodies.get(section_id, prose(heading.lower(), 6)) + "\n"


def step_reply(n: int) -> str:
    title, body = STEPS[n]
    return f"### Step {n}: {title}\n\n{prose('step', 2)}\n\n{body}\n\n{prose('step', 3)}\n"


class Writer:
    """Answers each call from its task; `bad_expected` makes the first Expected Output wrong."""

    def __init__(self, number: int, title: str, *, bad_expected: bool = False, blocks: dict | None = None) -> None:
        self.number, self.title, self.bad_expected, self.blocks = number, title, bad_expected, blocks
        self.labels: list[str] = []

    def __call__(self, body: dict) -> str:
        task = task_of(body)
        if "Reply with one JSON object" in task:
            self.labels.append("outline")
            return outline_reply(self.number, self.title, blocks=self.blocks)
        if task.startswith("The checker found"):
            heading = re.search(r"in the part `([^`]+)`", task).group(1)  # type: ignore[union-attr]
            self.labels.append(f"repair:{heading}")
            if heading == "Expected Output":
                return section_reply("expected-output", heading)
            prev = task.split("<previous>\n", 1)[1].split("\n</previous>", 1)[0]
            return prev
        m = re.search(r"start with the line\s+`### Step (\d+):", task)
        if m:
            self.labels.append(f"step:{m.group(1)}")
            return step_reply(int(m.group(1)))
        m = re.search(r"Write only the section `([^`]+)` \(section id: ([^)]+)\)", task)
        assert m, task[:300]
        heading, sid = m.group(1), m.group(2)
        self.labels.append(f"section:{sid}")
        return section_reply(sid, heading, expected=BAD_OUTPUT if self.bad_expected and sid == "expected-output" else GOOD_OUTPUT)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    (tmp_path / "authorkit.toml").write_text(CONFIG)
    (tmp_path / "plan.md").write_text(PLAN)
    (tmp_path / "reference.md").write_text(REFERENCE)
    (tmp_path / "content/pocs").mkdir(parents=True)
    return tmp_path


def assert_runnable(ws: Path, page: Path, monkeypatch, capsys) -> str:
    """The page passes `check` and `extract --check`, and Expected Output is what test.js prints."""
    from authorkit.check import check_text
    from authorkit.document import parse
    from authorkit.extract import expected_output_issues, plan_extract
    from authorkit.config import load_workspace
    from authorkit.styleguide import workspace_guide

    text = page.read_text()
    guide = workspace_guide(load_workspace(ws), "tutorial")  # the workspace's line targets
    assert [f for f in check_text(text, guide, "x") if str(f.severity) == "error"] == []
    code, out, err = run_cli(ws, "extract", str(page), str(ws / "project"), "--check", env={}, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, out + err
    assert sorted(p.name for p in (ws / "project").iterdir()) == sorted(
        ["EXPECTED_OUTPUT.txt", "cache.js", "db.js", "docker-compose.yml", "init.sql", "package.json", "setup.sh", "test.js"])
    doc = parse(text)
    assert expected_output_issues(doc, plan_extract(doc)) == []
    return text


def test_poc_draft_is_a_runnable_project_whose_output_matches(ws: Path, monkeypatch, capsys) -> None:
    writer = Writer(61, "Cache-Aside Pattern with Redis")
    fake = FakeAnthropic(writer)
    with FakeAnthropicServer(fake) as srv:
        code, out, err = run_cli(ws, "draft", "poc", "61", "--provider", "anthropic", env={"ANTHROPIC_BASE_URL": srv.base_url},
                                 monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, out + err
    page = next((ws / "content/pocs").glob("*.md"))
    text = assert_runnable(ws, page, monkeypatch, capsys)
    assert text.startswith("# POC #61: Cache-Aside Pattern with Redis")
    # The reference separates its sections with `---`: so does the draft.
    assert text.count("\n---\n") >= 8
    # Run It, Expected Output and Cleanup were written after every step, from the built code.
    labels = writer.labels
    last_step = max(i for i, l in enumerate(labels) if l.startswith("step:"))
    for sid in ("run-it", "expected-output", "cleanup", "test-it"):
        assert labels.index(f"section:{sid}") > last_step, labels
    expected_task = next(b for b in fake.requests if "(section id: expected-output)" in task_of(b))
    blocks = [c["text"] for c in expected_task["messages"][0]["content"]]
    assert any("<built_code>" in t and "console.log('=== Test 3: Invalidation ===')" in t for t in blocks)
    # The outline is its own cached block in every section call.
    step_call = next(b for b in fake.requests if "`### Step 4:" in task_of(b))
    outline_block = step_call["messages"][0]["content"][-2]
    assert outline_block["text"].startswith("<outline>") and outline_block.get("cache_control")
    assert '"cache-aside-redis"' in outline_block["text"] and "an_unknown_key" in outline_block["text"]
    # Budgets follow the reference: the build gets far more lines than Cleanup.
    step_tasks = [task_of(b) for b in fake.requests if "`### Step" in task_of(b)]
    cleanup_task = next(task_of(b) for b in fake.requests if "(section id: cleanup)" in task_of(b))
    per_step = int(re.search(r"Aim for about (\d+) lines", step_tasks[0]).group(1))  # type: ignore[union-attr]
    cleanup = int(re.search(r"Aim for about (\d+) lines", cleanup_task).group(1))  # type: ignore[union-attr]
    assert per_step > 2 * cleanup
    assert not any("at least 3 complete fenced code blocks" in t for t in step_tasks)
    assert "0 repair round(s)" in out
    calls = [e for e in events(ws) if e["event"] == "model_call"]
    assert len(calls) == 1 + 13 + 4  # outline, 13 sections (the build counted once), 5 steps


def test_inconsistent_expected_output_is_repaired_against_the_test_script(ws: Path, monkeypatch, capsys) -> None:
    writer = Writer(61, "Cache-Aside Pattern with Redis", bad_expected=True)
    fake = FakeAnthropic(writer)
    with FakeAnthropicServer(fake) as srv:
        code, out, err = run_cli(ws, "draft", "poc", "61", "--provider", "anthropic", env={"ANTHROPIC_BASE_URL": srv.base_url},
                                 monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, out + err
    assert [l for l in writer.labels if l.startswith("repair:")] == ["repair:Expected Output"]
    repair = next(task_of(b) for b in fake.requests if task_of(b).startswith("The checker found"))
    assert "project-expected-output" in repair and "`Read from cache in 0.4ms`" in repair and "=== Test 3: Invalidation ===" in repair
    assert "1 repair round(s)" in out
    page = next((ws / "content/pocs").glob("*.md"))
    text = assert_runnable(ws, page, monkeypatch, capsys)
    assert "Cold read" not in text


SOURCE = """# 6️⃣2️⃣ Cache-Aside Under Load

## 💰 The $1.2M Checkout Stall

During a sale, 40,000 requests/s hit the product table and p99 latency rose from 12 ms to 2.4 seconds.
**Shopify** and **Amazon** put a cache in front of their catalogs for this reason.

## 🚫 Anti-Patterns

### ❌ Query on every request

```javascript
app.get('/products/:id', async (req, res) => res.json(await db.query('SELECT * FROM products WHERE id = $1', [req.params.id])));
```

### ❌ A cache that never expires

```sql
SELEC * FROM products WHERE;
```

## ✅ The Solution

```yaml
services:
  redis:
    image: redis:7
```

```sql
CREATE TABLE products (id SERIAL PRIMARY KEY, name TEXT NOT NULL, price_cents INTEGER NOT NULL);
```

```javascript
async function getProduct(id) {
  const cached = await redis.get(`product:${id}`);
  return cached ? JSON.parse(cached) : db.findProduct(id);
}
```

## 🏢 Real-World Validation

| Company | Scale |
|---|---|
| **Netflix** | 30M requests/s |
| **Amazon** | 1B product views/day |
"""


def test_conversion_folds_the_source_into_a_runnable_project(ws: Path, monkeypatch, capsys) -> None:
    (ws / "content/cache-aside-under-load.md").write_text(SOURCE)
    blocks = {"0": {"drop": "anti-pattern: a query per request"}, "1": {"drop": "broken example: invalid SQL"},
              "2": {"step": 2, "file": "docker-compose.yml"}, "3": {"merge": "init.sql"}, "4": {"step": 4, "file": "cache.js"}}
    writer = Writer(62, "Cache-Aside Under Load", bad_expected=True, blocks=blocks)
    fake = FakeAnthropic(writer)
    with FakeAnthropicServer(fake) as srv:
        code, out, err = run_cli(ws, "convert", "content/cache-aside-under-load.md", "--to", "tutorial",
                                 env={"ANTHROPIC_BASE_URL": srv.base_url}, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, out + err
    page = ws / "content/cache-aside-under-load.md"
    # The keycap title gives the number.
    text = assert_runnable(ws, page, monkeypatch, capsys)
    assert text.startswith("# POC #62: ")
    # The plan's block map decides where code goes: the Compose file to step 2, the cache to step 4.
    tasks = {l: task_of(b) for l, b in zip(writer.labels, fake.requests)}
    assert "image: redis:7" in tasks["step:2"] and "async function getProduct(id)" in tasks["step:4"]
    assert not any("SELEC * FROM" in t for t in tasks.values() if "Write only" in t)
    # Dropping and rewriting are reported, not errors; the repair fixed Expected Output.
    assert "anti-pattern: a query per request" in out and "broken example: invalid SQL" in out
    assert "rewritten code block" in out
    assert [l for l in writer.labels if l.startswith("repair:")] == ["repair:Expected Output"]


def measure() -> None:
    """Calls, tokens and cost of one draft (and one with an inconsistent reply) and one
    conversion with these replies, at Claude Sonnet list prices. Run: python tests/test_draft_e2e.py"""
    import sys
    import tempfile

    from authorkit.config import load_workspace
    from authorkit.convert import convert_job
    from authorkit.generate import Generator, draft_job, load_reference
    from authorkit.providers.anthropic import AnthropicProvider
    from authorkit.styleguide import workspace_guide

    root = Path(tempfile.mkdtemp(prefix="authorkit-measure-"))
    prices = "\n[model.prices]\ninput = 3.0\ncache_write = 3.75\ncache_read = 0.30\noutput = 15.0\n"
    (root / "authorkit.toml").write_text(CONFIG.replace("repair_rounds = 2\n", "repair_rounds = 2\n" + prices))
    (root / "reference.md").write_text(REFERENCE)
    ws = load_workspace(root)
    guide = workspace_guide(ws, "tutorial")
    context = {"item": {"kind": "poc", "number": 61, "title": "Cache-aside pattern (read-through)"},
               "label": "POC #61: Cache-aside pattern (read-through)", "criteria": ["runs with docker compose up"]}
    blocks = {"0": {"drop": "anti-pattern"}, "1": {"drop": "broken example"}, "2": {"step": 2, "file": "docker-compose.yml"},
              "3": {"merge": "init.sql"}, "4": {"step": 4, "file": "cache.js"}}
    runs = [("draft", Writer(61, "Cache-Aside Pattern with Redis"), None),
            ("draft, one inconsistent reply", Writer(61, "Cache-Aside Pattern with Redis", bad_expected=True), None),
            ("convert", Writer(62, "Cache-Aside Under Load", blocks=blocks), SOURCE)]
    for name, writer, source in runs:
        with FakeAnthropicServer(FakeAnthropic(writer)) as srv:
            gen = Generator(ws, AnthropicProvider("claude-sonnet-4-5", api_key="measure", base_url=srv.base_url), guide,
                            reference=load_reference(ws), record=False)
            job = draft_job(ws, guide, context, "poc-61.md") if source is None else convert_job(ws, guide, source, "poc-62.md")[0]
            r = gen.run(job)
        u = r.usage
        sys.stdout.write(f"{name}: {r.calls} calls, {r.rounds} repair round(s), {r.text.count(chr(10))} lines; input {u.input_tokens:,} "
                         f"+ cache write {u.cache_write_tokens:,} + cache read {u.cache_read_tokens:,}, output {u.output_tokens:,}; "
                         f"${r.cost_usd:.4f}\n")


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    measure()
