#!/usr/bin/env python3
"""Generate a deterministic corpus that looks like a real documentation site, for the `check` benchmark.

About 1,100 documents (~21 MB) in the shapes such a site holds: tutorials (most of it),
engagement pages (keycap titles, money-hook headings), articles, concept pages, interview Q&A
with numbered questions, system-design problems, short POCs and index (landing) pages; mostly
500–1,500 lines with a few very long ones (2,000+ lines). Code blocks are mostly whole programs,
but also what real pages hold: fragments (JSON bodies in javascript fences, pseudo-HTTP,
function-body excerpts, `...` elisions), tool output pasted in sql/bash fences (EXPLAIN plans,
psql tables, `$ cmd` and its output), command templates with [optional] parts, MySQL/SQLite DDL
in plain `sql` fences and a few GraphQL schemas. A few documents carry deliberate problems
(a missing section, cp1252 / Mac Roman mojibake, a placeholder, a broken JSON or Python block).
All text comes from the word lists below; the same seed always gives the same bytes.

    python bench/make_corpus.py                      # bench/corpus/, 1,100 docs, seed 2
    python bench/make_corpus.py --out /tmp/c --docs 50 --seed 7
    python bench/make_corpus.py --validate           # also count invalid code blocks
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "corpus"
MANIFEST = ".corpus.json"
# Bump when the generator's output changes, so a stale corpus is rebuilt by the benchmark.
GENERATOR_VERSION = 3

# ---------------------------------------------------------------------------------------------
# Word lists (written for this generator)

CATEGORIES = [
    "databases", "caching", "messaging", "api-design", "search", "observability",
    "storage", "networking", "security", "stream-processing", "scheduling", "consensus",
]
SUBJECTS = [
    "Connection Pooling", "Read Replicas", "Write-Ahead Logging", "Cache-Aside Loading",
    "Rate Limiting", "Idempotent Retries", "Outbox Publishing", "Consistent Hashing",
    "Leader Election", "Bloom Filters", "Cursor Pagination", "Batch Inserts", "Token Buckets",
    "Circuit Breakers", "Dead-Letter Queues", "Sharded Counters", "Geo Indexing",
    "Full-Text Ranking", "Event Sourcing", "Snapshot Isolation", "Bulk Upserts",
    "Hot Key Mitigation", "Request Coalescing", "Backpressure", "Change Data Capture",
    "Materialized Views", "Partition Pruning", "Distributed Locks", "Session Stores",
    "Fan-Out Timelines", "Presigned Uploads", "Webhook Delivery", "Saga Orchestration",
    "Vector Clocks", "Log Compaction", "Tail Latency Hedging", "Blue-Green Deploys",
    "Schema Migrations", "Query Plan Tuning", "Secondary Indexes",
]
TECH = ["PostgreSQL", "Redis", "Kafka", "MySQL", "MongoDB", "Elasticsearch", "RabbitMQ",
        "Cassandra", "Node.js", "NGINX", "etcd", "DynamoDB", "ClickHouse", "S3"]
SUFFIXES = ["in Practice", "at Scale", "from Scratch", "for Production", "Step by Step",
            "Without Downtime", "Under Load", "the Right Way"]
COMPANIES = ["Netflix", "Uber", "Airbnb", "Discord", "Slack", "GitHub", "Shopify", "Stripe",
             "Pinterest", "Spotify", "Dropbox", "LinkedIn", "Twitter", "Instagram", "Notion",
             "Figma", "Cloudflare", "Reddit", "Zoom", "DoorDash"]
NOUNS = ["request", "query", "connection", "partition", "replica", "index", "worker", "queue",
         "message", "shard", "lease", "snapshot", "cursor", "batch", "schema", "tenant",
         "counter", "payload", "checkpoint", "consumer", "producer", "node", "bucket", "table"]
ADJS = ["slow", "hot", "stale", "idle", "busy", "large", "small", "cold", "warm", "noisy",
        "dirty", "pending", "active", "expired", "healthy", "degraded"]
VERBS = ["reuse", "batch", "retry", "shard", "cache", "index", "prune", "replay", "compact",
         "throttle", "route", "drain", "warm", "evict", "replicate", "validate"]
METRICS = ["p99 latency", "throughput", "error rate", "memory use", "CPU time", "disk I/O",
           "queue depth", "connection count", "cache hit ratio", "cost per month"]
UNITS = ["ms", "req/s", "%", "MB", "GB", "ops/s", "s"]
LEVELS = [("⭐", "Beginner"), ("⭐⭐", "Intermediate"), ("⭐⭐⭐", "Advanced")]
FILES_JS = ["server.js", "database.js", "worker.js", "test.js", "benchmark.js", "client.js",
            "queue.js", "cache.js", "router.js", "metrics.js", "seed.js", "monitor.js"]
FILES_OTHER = {
    "sql": ["schema.sql", "init.sql", "indexes.sql", "seed.sql", "migrate.sql"],
    "yaml": ["docker-compose.yml", "config.yml", "alerts.yml"],
    "python": ["load_test.py", "report.py", "consumer.py", "verify.py"],
    "json": ["package.json", "settings.json", "fixtures.json"],
    "bash": ["setup.sh", "run.sh"],
}

SENTENCES = [
    "Every {noun} that waits on a {adj} {noun2} adds latency the user can feel.",
    "The naive version opens a new {noun} per call, which is fine until traffic doubles.",
    "We {verb} each {noun} before it reaches the {noun2}, so the hot path stays short.",
    "Measure the {metric} first; guessing at bottlenecks wastes an afternoon.",
    "With {tech} in front, a {adj} {noun} no longer blocks the {noun2} behind it.",
    "This step keeps the {noun} count bounded, which protects {tech} from overload.",
    "If a {noun} fails, we {verb} it with backoff instead of hammering the {noun2}.",
    "The {metric} dropped from {n1}{unit} to {n2}{unit} after this change alone.",
    "Production systems {verb} aggressively because a {adj} {noun} is expensive.",
    "Keep the {noun2} small enough to fit in memory and the rest follows.",
    "A single {adj} {noun} can stall every {noun2} that shares its lock.",
    "Notice how the code separates the {noun} logic from the {noun2} plumbing.",
    "At {company}, the same pattern handles {n3} {noun}s per second at peak.",
    "The test below proves the {noun} path works before we add {tech}.",
    "Skipping this is how teams end up paging someone at 3 a.m. over a {adj} {noun}.",
]


@dataclass
class Ctx:
    rng: random.Random
    n: int
    title: str
    tech: str
    subject: str
    lines: list[str] = field(default_factory=list)

    def pick(self, seq):  # noqa: ANN001, ANN201 - tiny helper
        return self.rng.choice(seq)


def ident(rng: random.Random, style: str = "camel") -> str:
    verb, adj, noun = rng.choice(VERBS), rng.choice(ADJS), rng.choice(NOUNS)
    if style == "snake":
        return f"{verb}_{adj}_{noun}"
    return verb + adj.capitalize() + noun.capitalize()


def sentence(c: Ctx) -> str:
    r = c.rng
    n1 = r.randint(40, 900)
    return r.choice(SENTENCES).format(
        noun=r.choice(NOUNS), noun2=r.choice(NOUNS), adj=r.choice(ADJS), verb=r.choice(VERBS),
        metric=r.choice(METRICS), tech=c.tech, company=r.choice(COMPANIES),
        n1=n1, n2=max(1, n1 // r.randint(3, 40)), n3=f"{r.randint(2, 900)},000",
        unit=r.choice(UNITS),
    )


def paragraph(c: Ctx, k: int | None = None) -> str:
    return " ".join(sentence(c) for _ in range(k or c.rng.randint(1, 3)))


# ---------------------------------------------------------------------------------------------
# Code generators: each returns syntactically valid code in its language.

def js_code(c: Ctx, n_lines: int) -> list[str]:
    r = c.rng
    out = [
        f"// {c.subject}: {r.choice(VERBS)} the {r.choice(NOUNS)} path",
        "const { Pool } = require('pg');",
        "const bump = (t, id) => pool.query(`UPDATE ${t} SET hits = hits + 1 WHERE id = $1`, [id]);",
        f"const pool = new Pool({{ host: 'localhost', port: {r.choice([5432, 6379, 9092])}, max: {r.randint(5, 50)} }});",
        "",
    ]
    names: list[str] = []
    while len(out) < n_lines - 2:
        name = ident(r)
        names.append(name)
        noun = r.choice(NOUNS)
        out += [
            f"async function {name}(id, options = {{}}) {{",
            "  const started = Date.now();",
            f"  const limit = options.limit ?? {r.randint(10, 500)};",
        ]
        for k in range(r.randint(1, 6)):
            kind = r.randrange(5)
            if kind == 0:
                out += [f"  const {r.choice(ADJS)}{k} = await pool.query(",
                        f"    'SELECT * FROM {noun}s WHERE id = $1 LIMIT $2',",
                        "    [id, limit],", "  );"]
            elif kind == 1:
                out += ["  if (!id) {",
                        f"    throw new Error('{noun} id is required');",
                        "  }"]
            elif kind == 2:
                out += [f"  for (let i = 0; i < {r.randint(2, 20)}; i++) {{",
                        f"    await bump('{noun}s', id);",
                        "  }"]
            elif kind == 3:
                out.append(f"  console.log(`{name} took ${{Date.now() - started}}ms`);")
            else:
                out += ["  try {",
                        f"    await pool.query('DELETE FROM {noun}s WHERE expires_at < NOW()');",
                        "  } catch (err) {",
                        "    console.error('cleanup failed', err.message);",
                        "  }"]
        out += ["  return { id, ms: Date.now() - started };", "}", ""]
    out.append(f"module.exports = {{ {', '.join(names[:6]) or 'pool'} }};")
    return out


def py_code(c: Ctx, n_lines: int) -> list[str]:
    r = c.rng
    out = ['"""' + f"{c.subject}: {r.choice(VERBS)} and measure." + '"""', "import time",
           "import statistics", ""]
    while len(out) < n_lines - 4:
        name = ident(r, "snake")
        noun = r.choice(NOUNS)
        out += ["", f"def {name}({noun}s, limit={r.randint(10, 900)}):",
                f'    """Return the {r.choice(ADJS)} {noun}s, at most `limit` of them."""',
                "    started = time.perf_counter()", "    picked = []"]
        for _ in range(r.randint(1, 4)):
            kind = r.randrange(3)
            if kind == 0:
                out += [f"    for item in {noun}s:", f"        if item.get('{r.choice(ADJS)}'):",
                        "            picked.append(item)"]
            elif kind == 1:
                out += ["    if len(picked) > limit:", "        picked = picked[:limit]"]
            else:
                out.append(f"    print(f'{name}: {{len(picked)}} items')")
        out += ["    elapsed = time.perf_counter() - started", "    return picked, elapsed"]
    out += ["", "", 'if __name__ == "__main__":',
            f"    samples = [{', '.join(str(r.randint(1, 99)) for _ in range(5))}]",
            "    print(statistics.median(samples))"]
    return out


def sql_code(c: Ctx, n_lines: int) -> list[str]:
    r = c.rng
    out: list[str] = [f"-- {c.subject} schema"]
    while len(out) < n_lines:
        noun = r.choice(NOUNS)
        cols = [f"  {r.choice(ADJS)}_{r.choice(NOUNS)} {r.choice(['INTEGER', 'BIGINT', 'TEXT', 'BOOLEAN', 'TIMESTAMPTZ', 'NUMERIC(12, 2)'])}"
                for _ in range(r.randint(2, 6))]
        cols = list(dict.fromkeys(cols))
        out += [f"CREATE TABLE IF NOT EXISTS {noun}s_{r.randint(1, 99)} (",
                "  id BIGSERIAL PRIMARY KEY,", *[col + "," for col in cols],
                "  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()", ");", ""]
        out += [f"CREATE INDEX IF NOT EXISTS idx_{noun}s_created ON {noun}s (created_at);", "",
                f"SELECT id, created_at FROM {noun}s",
                f"WHERE created_at > NOW() - INTERVAL '{r.randint(1, 30)} days'",
                f"ORDER BY created_at DESC LIMIT {r.randint(10, 100)};", ""]
    return out


def yaml_code(c: Ctx, n_lines: int) -> list[str]:
    r = c.rng
    out = ["services:"]
    while len(out) < n_lines:
        svc = f"{r.choice(NOUNS)}-{r.choice(['db', 'cache', 'api', 'worker', 'broker'])}{r.randint(1, 9)}"
        out += [f"  {svc}:", f"    image: {r.choice(['postgres:16', 'redis:7', 'node:20', 'nginx:1.27'])}",
                "    ports:", f"      - \"{r.randint(3000, 9999)}:{r.randint(3000, 9999)}\"",
                "    environment:", f"      LOG_LEVEL: {r.choice(['info', 'debug', 'warn'])}",
                f"      MAX_CONNECTIONS: \"{r.randint(10, 500)}\"",
                "    healthcheck:", "      test: [\"CMD\", \"true\"]",
                f"      interval: {r.randint(2, 30)}s"]
    return out


def bash_code(c: Ctx, n_lines: int) -> list[str]:
    r = c.rng
    cmds = [
        "mkdir -p {noun}-poc && cd {noun}-poc",
        "npm init -y",
        "npm install pg ioredis express",
        "docker run -d --name {noun}-db -p 5432:5432 -e POSTGRES_PASSWORD=secret postgres:16",
        "docker exec -i {noun}-db psql -U postgres < schema.sql",
        "curl -s http://localhost:3000/{noun}s | head -n 20",
        "node {file}",
        "sleep {k}",
        "docker compose up -d",
        "for i in $(seq 1 {k}); do curl -s -X POST http://localhost:3000/{noun}s > /dev/null; done",
    ]
    out = []
    while len(out) < n_lines:
        if r.random() < 0.3:
            out.append(f"# {r.choice(VERBS).capitalize()} the {r.choice(NOUNS)}s")
        out.append(r.choice(cmds).format(noun=r.choice(NOUNS), file=r.choice(FILES_JS), k=r.randint(2, 50)))
    return out


def json_code(c: Ctx, n_lines: int) -> list[str]:
    r = c.rng
    data: dict = {"name": c.subject.lower().replace(" ", "-"), "version": f"1.{r.randint(0, 9)}.0"}
    while json.dumps(data, indent=2).count("\n") < n_lines - 1:
        key = f"{r.choice(ADJS)}_{r.choice(NOUNS)}_{r.randint(1, 999)}"
        data[key] = r.choice([r.randint(0, 10_000), r.choice(ADJS), r.random() < 0.5,
                              {"limit": r.randint(1, 99), "unit": r.choice(UNITS)},
                              [r.randint(1, 9) for _ in range(3)]])
    return json.dumps(data, indent=2, ensure_ascii=False).splitlines()


GENERATORS = {"javascript": js_code, "python": py_code, "sql": sql_code, "yaml": yaml_code,
              "bash": bash_code, "json": json_code}


def fence(lang: str, body: list[str]) -> list[str]:
    return [f"```{lang}", *body, "```"]


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("-" * (len(h) + 2) for h in header) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def company_table(c: Ctx, rows: int) -> list[str]:
    r = c.rng
    return table(
        ["Company", "Scale", "Pattern", "Result"],
        [[f"**{co}**", f"{r.randint(2, 900)}M {r.choice(NOUNS)}s/day", f"{r.choice(VERBS).capitalize()} by `{r.choice(NOUNS)}_id`",
          f"{r.randint(2, 80)}x lower {r.choice(METRICS)}"] for co in r.sample(COMPANIES, rows)],
    )


def metrics_table(c: Ctx, rows: int) -> list[str]:
    r = c.rng
    out = []
    for m in r.sample(METRICS, rows):
        before = r.randint(100, 9000)
        after = max(1, before // r.randint(2, 60))
        out.append([m.capitalize(), f"{before}", f"{after}", f"{before / after:.1f}x"])
    return table(["Metric", "Before", "After", "Improvement"], out)


# ---------------------------------------------------------------------------------------------
# Fragments, output and dialects: what real pages put in code fences besides whole programs.

def js_json_body(c: Ctx, n_lines: int) -> list[str]:
    """A request or response body shown in a javascript fence (an object literal on its own)."""
    return json_code(c, n_lines)


def pseudo_http(c: Ctx, n_lines: int) -> list[str]:
    r = c.rng
    noun = r.choice(NOUNS)
    out = [f"{r.choice(['GET', 'POST', 'PUT', 'DELETE'])} /api/v{r.randint(1, 3)}/{noun}s/{r.randint(1, 9999)} HTTP/1.1",
           "Host: api.example.com", "Content-Type: application/json", f"Idempotency-Key: {r.getrandbits(64):016x}", ""]
    body = json_code(c, max(3, n_lines - len(out) - 4))
    out += body + ["", f"HTTP/1.1 {r.choice(['200 OK', '201 Created', '409 Conflict', '429 Too Many Requests'])}",
                   f"Retry-After: {r.randint(1, 30)}"]
    return out


def js_excerpt(c: Ctx, n_lines: int) -> list[str]:
    """Lines cut from inside a function: a bare `return`, an `await` at top level, `...` elisions."""
    r = c.rng
    body = js_code(c, max(8, n_lines))
    inner = [ln[2:] for ln in body if ln.startswith("  ")]
    out = ["// inside the request handler", "..."]
    for ln in inner[: max(4, n_lines - 4)]:
        out.append(ln)
        if r.random() < 0.08:
            out.append("  // ... validation omitted ...")
    out += ["return res.json({ ok: true });", "..."]
    return out


def py_excerpt(c: Ctx, n_lines: int) -> list[str]:
    r = c.rng
    body = py_code(c, max(8, n_lines))
    inner = [ln[4:] for ln in body if ln.startswith("    ")]
    return ["# ...", *inner[: max(3, n_lines - 3)], "return picked  # rest unchanged", "..."][: max(4, n_lines)] if r.random() < 0.5 else \
        ["class Worker:", "    ...", "", *[f"    {ln}" for ln in body[4: max(6, n_lines)]]]


def explain_plan(c: Ctx, n_lines: int) -> list[str]:
    """EXPLAIN ANALYZE output pasted into an sql fence."""
    r = c.rng
    noun = r.choice(NOUNS)
    out = [f"EXPLAIN ANALYZE SELECT * FROM {noun}s WHERE {noun}_id = {r.randint(1, 9999)};", "",
           "                                   QUERY PLAN",
           "-" * 78]
    depth = 0
    while len(out) < n_lines - 2:
        node = r.choice(["Seq Scan", "Index Scan using idx_" + noun, "Bitmap Heap Scan", "Hash Join", "Nested Loop", "Sort", "Gather"])
        cost = r.randint(0, 9000)
        out.append(f"{'  ' * depth}{'->  ' if depth else ''}{node} on {noun}s  (cost=0.{r.randint(10, 99)}..{cost}.{r.randint(10, 99)} "
                   f"rows={r.randint(1, 99999)} width={r.randint(8, 200)}) (actual time=0.0{r.randint(10, 99)}..{r.randint(1, 900)}.{r.randint(100, 999)} rows={r.randint(1, 9999)} loops=1)")
        if r.random() < 0.5:
            out.append(f"{'  ' * (depth + 2)}Filter: ({r.choice(ADJS)} = true)")
        depth = min(depth + 1, 5) if r.random() < 0.6 else max(0, depth - 1)
    out += [f"Planning Time: 0.{r.randint(100, 999)} ms", f"Execution Time: {r.randint(1, 4000)}.{r.randint(100, 999)} ms"]
    return out


def psql_table(c: Ctx, n_lines: int) -> list[str]:
    """psql's aligned output, often pasted into an sql fence after the query."""
    r = c.rng
    noun = r.choice(NOUNS)
    out = [f"{noun}_db=# SELECT id, status, {r.choice(ADJS)}_count FROM {noun}s LIMIT {max(1, n_lines - 6)};",
           "  id  |  status  | count", "------+----------+-------"]
    for _ in range(max(1, n_lines - 5)):
        out.append(f" {r.randint(1, 9999):>4} | {r.choice(ADJS):<8} | {r.randint(0, 99999):>5}")
    out += [f"({max(1, n_lines - 5)} rows)", ""]
    return out


def shell_session(c: Ctx, n_lines: int) -> list[str]:
    """`$ command` lines followed by what they print, in a bash fence."""
    r = c.rng
    out: list[str] = []
    while len(out) < n_lines:
        cmd = r.choice(["curl -s localhost:3000/health", "docker ps", "npm test", f"redis-cli INFO {r.choice(['memory', 'stats'])}",
                        "node benchmark.js", f"ab -n {r.randint(100, 9000)} -c 50 http://localhost:3000/"])
        out.append(f"$ {cmd}")
        for _ in range(r.randint(1, 6)):
            out.append(r.choice([
                f"{r.choice(NOUNS)}_total:{r.randint(0, 99999)}",
                f"Requests per second:    {r.randint(100, 20000)}.{r.randint(10, 99)} [#/sec] (mean)",
                f"  ✓ {r.choice(VERBS)}s the {r.choice(NOUNS)} ({r.randint(1, 400)} ms)",
                f"CONTAINER ID   IMAGE   STATUS   {r.choice(['Up 3 minutes', 'Up 2 hours', 'Exited (0)'])}",
                '{"status":"ok","uptime":' + str(r.randint(1, 99999)) + "}",
            ]))
    return out


def template_cmd(c: Ctx, n_lines: int) -> list[str]:
    """A command template with [optional] parts and <placeholders>, not a runnable script."""
    r = c.rng
    return [r.choice([
        "docker run [--rm] [-d] -p <HOST_PORT>:<PORT> [-e KEY=VALUE ...] <image>[:tag]",
        "pg_dump [-h host] [-p port] -U <user> [--schema-only] <database> > dump.sql",
        "redis-cli [-h host] [-p port] [-a password] <command> [args ...]",
        "kafka-topics.sh --create --topic <name> [--partitions N] [--replication-factor R]",
        "SELECT [DISTINCT] <columns> FROM <table> [WHERE <condition>] [ORDER BY <col> [ASC|DESC]] [LIMIT n];",
        "curl -X <METHOD> [-H 'Header: value' ...] [-d '<body>'] <url>",
    ]) for _ in range(max(1, min(n_lines, 6)))]


def mysql_ddl(c: Ctx, n_lines: int) -> list[str]:
    """MySQL or SQLite DDL in a plain `sql` fence (the checker must not judge it as PostgreSQL)."""
    r = c.rng
    out: list[str] = []
    mysql = r.random() < 0.6
    while len(out) < n_lines:
        noun = r.choice(NOUNS)
        if mysql:
            out += [f"CREATE TABLE `{noun}s_{r.randint(1, 99)}` (",
                    "  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,",
                    f"  `{r.choice(ADJS)}_{noun}` VARCHAR({r.choice([64, 128, 255])}) NOT NULL,",
                    "  `payload` JSON,",
                    "  `created_at` DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,",
                    "  PRIMARY KEY (`id`),", f"  KEY `idx_{noun}` (`{r.choice(ADJS)}_{noun}`)",
                    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;", ""]
        else:
            out += [f"CREATE TABLE IF NOT EXISTS {noun}s (", "  id INTEGER PRIMARY KEY AUTOINCREMENT,",
                    f"  {r.choice(ADJS)} TEXT NOT NULL,", "  ts DATETIME DEFAULT (datetime('now'))", ") STRICT;",
                    f"PRAGMA journal_mode = WAL;", ""]
    return out


def graphql_code(c: Ctx, n_lines: int) -> list[str]:
    r = c.rng
    noun = r.choice(NOUNS)
    out = [f"type {noun.capitalize()} {{", "  id: ID!"]
    for _ in range(max(1, n_lines - 8)):
        out.append(f"  {r.choice(ADJS)}{r.choice(NOUNS).capitalize()}: {r.choice(['Int', 'String', 'Boolean', 'Float'])}")
    out += ["}", "", "type Query {", f"  {noun}(id: ID!): {noun.capitalize()}", "}"]
    return list(dict.fromkeys(out[:2])) + out[2:]


FRAGMENTS = {
    "javascript": [js_json_body, js_excerpt, pseudo_http],
    "python": [py_excerpt],
    "sql": [explain_plan, psql_table, mysql_ddl, template_cmd],
    "bash": [shell_session, template_cmd],
    "http": [pseudo_http],
    "text": [explain_plan, shell_session],
}


def any_block(c: Ctx, size: int, fragment_share: float = 0.2) -> list[str]:
    """A fenced block: usually a whole program, sometimes a fragment, output, template or dialect."""
    r = c.rng
    if r.random() < fragment_share:
        lang = r.choices(list(FRAGMENTS), weights=[6, 1, 3, 3, 1, 1])[0]
        gen = r.choice(FRAGMENTS[lang])
        return fence(lang, gen(c, min(size, 16 if gen is mysql_ddl else 40)))
    if r.random() < 0.004:
        return fence("graphql", graphql_code(c, min(size, 20)))
    lang = r.choices(list(GENERATORS), weights=[6, 2, 3, 1, 2, 1])[0]
    return fence(lang, GENERATORS[lang](c, size))


def fill(c: Ctx, out: list[str], target: int, head: str, sub: str = "###") -> list[str]:
    """Sub-sections of prose, lists, tables and code until `out` reaches `target` lines."""
    r = c.rng
    k = 1
    while len(out) < target:
        out += [f"{sub} {head.format(k=k, verb=r.choice(VERBS).capitalize(), noun=r.choice(NOUNS).capitalize())}", "", paragraph(c), ""]
        roll = r.random()
        if roll < 0.55:
            out += [*any_block(c, max(6, min(target - len(out), r.randint(15, 90)))), ""]
        elif roll < 0.75:
            out += [*metrics_table(c, r.randint(3, 5)), ""]
        else:
            out += [*[f"- **{r.choice(ADJS).capitalize()} {r.choice(NOUNS)}s**: {sentence(c)}" for _ in range(r.randint(3, 6))], ""]
        k += 1
    return out


def article_doc(c: Ctx, target: int) -> list[str]:
    r = c.rng
    out = [f"# {c.title}", "", f"> {sentence(c)}", "", "## Problem Statement", "", paragraph(c, 3), "",
           "## Real-World Context", "", paragraph(c, 2), "", *company_table(c, 4), "",
           "## Architecture", "", paragraph(c, 2), "",
           "```mermaid", "flowchart TD", f"  A[Client] --> B[{c.tech}]", "  B --> C[(Store)]", "```", "",
           "## Implementation", ""]
    tail = ["## Trade-offs", "", *metrics_table(c, 3), "", "## Real Examples", "", paragraph(c, 2), "",
            "## Common Pitfalls", "", *[f"{i}. {sentence(c)}" for i in range(1, 5)], "",
            "## Key Takeaways", "", *[f"- {sentence(c)}" for _ in range(4)], ""]
    out = fill(c, out, target - len(tail), "{verb} the {noun} Path")
    return out + tail


def concept_doc(c: Ctx, target: int) -> list[str]:
    r = c.rng
    out = [f"# {c.subject}: {r.choice(['The Concept', 'How It Really Works', 'A Mental Model'])}", "",
           "## Quick Overview", "", paragraph(c, 2), "", "## The Problem Class", "", paragraph(c, 3), "",
           "## Why the Obvious Solution Fails", "", *any_block(c, 14, 0.8), "", paragraph(c, 2), "",
           "## Solution Landscape", ""]
    out = fill(c, out, target - 12, "Approach {k}: {verb} {noun}s")
    return out + ["## Production Failure Story", "", paragraph(c, 3), "", "## Key Takeaways", "",
                  *[f"- {sentence(c)}" for _ in range(4)], ""]


def interview_doc(c: Ctx, target: int) -> list[str]:
    """Interview questions and answers: numbered questions as headings."""
    r = c.rng
    out = [f"# {c.tech} Interview Questions: {c.subject}", "", paragraph(c, 2), "",
           "## Table of Contents", "", *[f"- [{t}](#{t.lower().replace(' ', '-')})" for t in ("Fundamentals", "Scaling", "Failure Modes")], ""]
    q = 1
    for part in ("Fundamentals", "Scaling", "Failure Modes"):
        out += [f"## {part}", ""]
        part_end = len(out) + (target - len(out)) // (4 - ["Fundamentals", "Scaling", "Failure Modes"].index(part))
        while len(out) < part_end:
            form = r.randrange(3)
            noun = r.choice(NOUNS)
            question = f"How would you {r.choice(VERBS)} a {r.choice(ADJS)} {noun} in {c.tech}?"
            out += [[f"### Q{q}: {question}", f"### {q}. {question}", f"**Q{q}. {question}**"][form], "",
                    f"**Answer:** {paragraph(c, 2)}", ""]
            if r.random() < 0.5:
                out += [*any_block(c, r.randint(6, 30), 0.5), ""]
            if r.random() < 0.3:
                out += ["**Follow-up:** " + sentence(c), ""]
            q += 1
    return out


def system_design_doc(c: Ctx, target: int) -> list[str]:
    r = c.rng
    product = r.choice(["URL Shortener", "Chat Service", "News Feed", "Ride Matching", "Rate Limiter", "Payment Ledger", "Web Crawler"])
    out = [f"# Design a {product}", "", "## Quick Overview", "", *table(["Aspect", "Choice"], [[a, r.choice(TECH)] for a in ("Storage", "Cache", "Queue")]), "",
           "## Requirements", "", *[f"- {sentence(c)}" for _ in range(5)], "",
           "## Capacity Estimation", "", "```text", f"Daily active users: {r.randint(1, 900)}M",
           f"Writes/s = {r.randint(1, 90)}M / 86,400 ≈ {r.randint(100, 9000)}", f"Storage/yr ≈ {r.randint(1, 90)} TB", "```", "",
           "## Data Model", "", *any_block(c, 20, 0.6), "", "## API Design", "", *fence("http", pseudo_http(c, 14)), "",
           "## Component Deep Dive", ""]
    out = fill(c, out, target - 14, "Component {k}: {noun} {verb}er")
    return out + ["## Scale Bottlenecks", "", *[f"{i}. {sentence(c)}" for i in range(1, 5)], "",
                  "## Interview Angle", "", paragraph(c, 2), ""]


def short_poc_doc(c: Ctx, target: int) -> list[str]:
    out = [f"# POC #{c.n}: {c.title}", "", "## What You'll Learn", "", *[f"- {sentence(c)}" for _ in range(3)], "",
           "## Implementation", "", *fence("javascript", js_code(c, min(60, max(10, target - 30)))), "",
           "## Run It", "", *fence("bash", shell_session(c, 8)), "",
           "## Related POCs", "", *[f"- [POC #{c.rng.randint(1, 1100)}](../{c.rng.choice(CATEGORIES)}/)" for _ in range(3)], ""]
    return out


def index_doc(c: Ctx, category: str) -> list[str]:
    """A landing page: a title, a line of prose and links, no sections to speak of."""
    r = c.rng
    out = [f"# {category.replace('-', ' ').title()}", "", paragraph(c, 1), ""]
    for _ in range(r.randint(8, 40)):
        s = r.choice(SUBJECTS)
        out.append(f"- [{s}](./{s.lower().replace(' ', '-')}) — {sentence(c)}")
    return out + [""]


# ---------------------------------------------------------------------------------------------
# Documents

def tutorial_doc(c: Ctx, target_lines: int, problem: str | None) -> list[str]:
    r = c.rng
    stars, level = r.choice(LEVELS)
    sec: dict[str, list[str]] = {}
    sec["build"] = ["## What You'll Build", "",
                    f"A **{r.choice(['production-ready', 'minimal', 'benchmarked'])} {c.subject.lower()} setup** on {c.tech} demonstrating:"]
    for _ in range(r.randint(4, 7)):
        sec["build"].append(f"- ✅ **{r.choice(VERBS).capitalize()} {r.choice(NOUNS)}s** - {sentence(c)}")
    sec["build"] += ["", f"**Time to complete**: {r.choice([15, 20, 25, 30, 45])} minutes",
                     f"**Difficulty**: {stars} {level}", f"**Prerequisites**: Basic {c.tech}, Docker", "", "---"]
    sec["why"] = ["## Why This Matters", "", "### Real-World Usage", "", *company_table(c, r.randint(4, 6)), "",
                  f"### The Problem: {r.choice(ADJS).capitalize()} {r.choice(NOUNS)}s Hurt", "", paragraph(c, 2), "",
                  *[f"- **{r.choice(ADJS).capitalize()} {r.choice(NOUNS)}s**: {sentence(c)}" for _ in range(4)], "", "---"]
    sec["problem"] = ["## The Problem", "", f"### Scenario: {r.choice(NOUNS).capitalize()} Service at {r.choice(COMPANIES)} Scale",
                      "", paragraph(c, 3), ""]
    sec["problem"] += [f"{i}. **{sentence(c)}**" for i in range(1, r.randint(4, 6))]
    sec["problem"] += ["", "**Without the fix**:", *fence("sql", sql_code(c, r.randint(6, 12))), "", "---"]
    run_file = r.choice(FILES_JS)
    sec["run"] = ["## Run It", "", "### Terminal 1: Start the Stack", "", *fence("bash", bash_code(c, r.randint(3, 6))), "",
                  "### Terminal 2: Run the Tests", "", *fence("bash", [f"node {run_file}"]), "", "---"]
    out_lines = [f"{ident(r)} ... {r.choice(['ok', 'passed', 'done'])} ({r.randint(1, 900)}ms)" for _ in range(r.randint(8, 25))]
    sec["expected"] = ["## Expected Output", "", "```text", *out_lines, "```", "", "---"]
    sec["fits"] = ["## How This Fits Larger Systems", "", f"### {r.choice(COMPANIES)}'s {r.choice(NOUNS).capitalize()} Architecture", "",
                   paragraph(c, 3), ""]
    if r.random() < 0.4:
        a, b, d = (r.choice(NOUNS).capitalize() for _ in range(3))
        sec["fits"] += ["```mermaid", "graph LR", f"  A[{a}] --> B[{b}]", f"  B --> C[{d}]", "  C --> A", "```", ""]
    sec["fits"] += ["---"]
    sec["takeaways"] = ["## Key Takeaways", "", "### What You Learned", "",
                        *[f"{i}. **{r.choice(VERBS).capitalize()} early** - {sentence(c)}" for i in range(1, 6)], "",
                        "### Production Checklist", "", *[f"- [ ] {sentence(c)}" for _ in range(r.randint(4, 7))], "", "---"]
    sec["extend"] = ["## Extend It", ""]
    for lvl in range(1, r.randint(3, 5)):
        sec["extend"] += [f"### Level {lvl}: {r.choice(VERBS).capitalize()} {r.choice(NOUNS).capitalize()}s ({lvl * 15} min)", "",
                          paragraph(c, 1), "", *fence("javascript", js_code(c, r.randint(8, 14))), ""]
    sec["extend"] += ["---"]
    sec["related"] = ["## Related POCs", "", *[f"- **POC #{r.randint(1, 1100)}: {r.choice(SUBJECTS)}** - {sentence(c)}" for _ in range(4)], "", "---"]
    sec["cleanup"] = ["## Cleanup", "", *fence("bash", ["docker compose down -v", "rm -rf node_modules"]), "", "---"]
    sec["next"] = ["## What's Next?", "", f"**POC #{c.n + 1}: {r.choice(SUBJECTS)}** - {sentence(c)}", ""]

    order = ["build", "why", "problem", "steps", "run", "expected", "fits", "takeaways", "extend",
             "related", "cleanup", "next"]
    if problem == "missing":
        del sec[r.choice(["build", "takeaways", "run", "expected"])]

    used = 2 + sum(len(v) + 1 for v in sec.values()) + 3
    steps = ["## Step-by-Step Build", ""]
    step = 1
    while used + len(steps) < target_lines or step <= 3:
        remaining = target_lines - used - len(steps)
        lang = r.choices(list(GENERATORS), weights=[6, 2, 3, 1, 2, 1])[0]
        fname = r.choice(FILES_JS if lang == "javascript" else FILES_OTHER[lang])
        size = max(6, min(remaining - 8, r.randint(25, 140)))
        block = fence(lang, GENERATORS[lang](c, size)) if r.random() < 0.9 else any_block(c, size, 1.0)
        steps += [f"### Step {step}: {r.choice(VERBS).capitalize()} the {r.choice(NOUNS).capitalize()} Layer (`{fname}`)", "",
                  paragraph(c), "", *block, ""]
        if r.random() < 0.25:
            steps += [*metrics_table(c, r.randint(3, 5)), ""]
        step += 1
    steps.append("---")
    sec["steps"] = steps

    lines = [f"# POC #{c.n}: {c.title}", ""]
    for key in order:
        if key in sec:
            lines += sec[key] + [""]
    return lines


def engagement_doc(c: Ctx, target_lines: int) -> list[str]:
    r = c.rng
    digits = "".join(d + "\ufe0f\u20e3" for d in str(c.n))
    cost = f"${r.randint(1, 9)}.{r.randint(1, 9)}M"
    lines = [f"# {digits} {c.title}", "", "## 🎯 What You'll Learn", "", paragraph(c, 2), "",
             f"## 💰 The {cost} Problem", "", paragraph(c, 3), "",
             *[f"- {sentence(c)}" for _ in range(4)], "",
             "## 🚫 Anti-Patterns (What NOT to Do)", ""]
    for _ in range(r.randint(2, 3)):
        lines += [f"### ❌ **Wrong: {r.choice(ADJS).capitalize()} {r.choice(NOUNS).capitalize()}s Everywhere**", "",
                  *fence("javascript", js_code(c, r.randint(8, 18))), "", f"**Why it fails**: {sentence(c)}", ""]
    lines += ["## 💡 Paradigm Shift", "", f"> {sentence(c)}", "", paragraph(c, 2), "",
              f"## ✅ The Solution: {c.subject}", ""]
    body_end = ["## 📊 Benchmark Results", "", *metrics_table(c, 4), "",
                "## 🏆 Key Takeaways", "", *[f"- **{sentence(c)}**" for _ in range(5)], "",
                "## 🚀 Real-World Impact", "", paragraph(c, 3), "",
                "## 🎯 Next Steps", "", *[f"{i}. {sentence(c)}" for i in range(1, 4)], "",
                "## 📚 References", "", *[f"- {r.choice(TECH)} documentation: {r.choice(SUBJECTS)}" for _ in range(3)], ""]
    i = 1
    while len(lines) + len(body_end) + 40 < target_lines or i <= 2:
        lang = r.choices(list(GENERATORS), weights=[5, 2, 3, 1, 1, 1])[0]
        size = max(6, min(target_lines - len(lines) - len(body_end) - 30, r.randint(25, 120)))
        block = fence(lang, GENERATORS[lang](c, size)) if r.random() < 0.75 else any_block(c, size, 1.0)
        lines += [f"### **{i}. {r.choice(VERBS).capitalize()} {r.choice(NOUNS).capitalize()}s**", "", paragraph(c), "",
                  *block, ""]
        i += 1
    lines += [f"## 🏢 Real-World Example: {r.choice(COMPANIES)}'s {r.choice(NOUNS).capitalize()} Store", "", paragraph(c, 3), "",
              "## 🔥 Complete Docker POC", "", "### **docker-compose.yml**", "", *fence("yaml", yaml_code(c, 12)), "",
              "### **Run the POC**", "", *fence("bash", bash_code(c, 5)), ""]
    return lines + body_end


def inject_problem(c: Ctx, lines: list[str], problem: str) -> list[str]:
    """Spoil a finished document in one way a real draft goes wrong."""
    r = c.rng
    if problem == "mojibake":
        # UTF-8 bytes read as cp1252 / mac_roman: the two forms the user's documents show.
        codec = r.choice(["cp1252", "mac_roman"])
        for i, ln in enumerate(lines):
            if not ln.isascii() and r.random() < 0.7:
                lines[i] = "".join(_mangle(ch, codec) for ch in ln)
    elif problem == "placeholder":
        starts = [i for i, ln in enumerate(lines) if ln == "```javascript"]
        if starts:
            i = r.choice(starts)
            lines.insert(i + 3, "// ... rest of code")
    elif problem in ("broken_json", "broken_python"):
        lang = "json" if problem == "broken_json" else "python"
        starts = [i for i, ln in enumerate(lines) if ln == f"```{lang}"]
        if not starts:
            # Make sure there is a block to break.
            at = next((i for i, ln in enumerate(lines) if ln.startswith("## ")), len(lines) - 1)
            lines[at + 1:at + 1] = ["", *fence(lang, GENERATORS[lang](c, 12))]
            starts = [at + 2]
        i = r.choice(starts) + 2
        if lang == "json":
            lines[i] = lines[i].rstrip(",")  # a missing comma between members
        else:
            while not lines[i].startswith("def ") and lines[i] != "```":
                i += 1
            if lines[i].startswith("def "):
                lines[i] = lines[i].rstrip(":")
            else:
                lines.insert(i, "def broken(:")
    return lines


def _mangle(ch: str, codec: str) -> str:
    if ch.isascii():
        return ch
    try:
        return ch.encode("utf-8").decode(codec)
    except UnicodeDecodeError:
        return ch


PROBLEMS = ["missing", "mojibake", "placeholder", "broken_json", "broken_python"]
# Document shapes and their share of the site (the rest are tutorials).
KINDS = [("engagement", 0.12), ("article", 0.09), ("concept", 0.07), ("interview", 0.07),
         ("system-design", 0.06), ("short-poc", 0.06), ("index", 0.04)]


def plan(n_docs: int, seed: int) -> list[dict]:
    """Decide every document's kind, size and problem up front, so sizes don't drift with content."""
    r = random.Random(seed)
    docs = []
    for n in range(1, n_docs + 1):
        # Mostly 500–800 lines (the tutorial target), some long ones up to 1,500 and a few
        # very long ones (2,000–3,200 lines, a whole course on one page).
        roll = r.random()
        if roll < 0.025:
            lines = r.randint(2000, 3200)
        elif roll < 0.07:
            lines = r.randint(1100, 1440)
        else:
            lines = 510 + int(r.betavariate(1.0, 10.0) * 1000)
        kind, acc, roll = "tutorial", 0.0, r.random()
        for k, share in KINDS:
            acc += share
            if roll < acc:
                kind = k
                break
        if kind in ("short-poc", "index"):
            lines = r.randint(30, 160)
        problem = r.choice(PROBLEMS) if r.random() < 0.05 else None
        if problem == "missing" and kind != "tutorial":
            problem = "mojibake"
        docs.append({"n": n, "lines": lines, "kind": kind, "problem": problem})
    return docs


def render(spec: dict, seed: int) -> tuple[str, str]:
    r = random.Random(seed * 1_000_003 + spec["n"])
    subject = r.choice(SUBJECTS)
    tech = r.choice(TECH)
    title = f"{subject} with {tech} {r.choice(SUFFIXES)}"
    c = Ctx(rng=r, n=spec["n"], title=title, tech=tech, subject=subject)
    category = CATEGORIES[spec["n"] % len(CATEGORIES)]
    kind = spec["kind"]
    if kind == "engagement":
        lines = engagement_doc(c, spec["lines"])
    elif kind == "tutorial":
        lines = tutorial_doc(c, spec["lines"], spec["problem"])
    elif kind == "index":
        lines = index_doc(c, category)
    else:
        lines = {"article": article_doc, "concept": concept_doc, "interview": interview_doc,
                 "system-design": system_design_doc, "short-poc": short_poc_doc}[kind](c, spec["lines"])
    if spec["problem"] and spec["problem"] != "missing":
        lines = inject_problem(c, lines, spec["problem"])
    slug = f"{spec['n']:04d}-" + "-".join(w.lower().strip(".") for w in subject.split())
    folder = {"tutorial": "practice-pocs", "short-poc": "practice-pocs", "engagement": "practice-pocs",
              "interview": "interview-prep", "system-design": "system-design", "concept": "concepts",
              "article": "articles", "index": "practice-pocs"}[kind]
    if kind == "index":
        slug = f"part-{spec['n']:04d}/index"
    rel = f"{folder}/{category}/{slug}.md"
    return rel, "\n".join(lines).rstrip("\n") + "\n"


WORKSPACE_TOML = """\
# Benchmark corpus generated by bench/make_corpus.py: its own workspace, so the benchmark
# never reads the surrounding project's config and keeps its cache inside the corpus.
default_style = "auto"

[content]
roots = ["."]
"""


def validate(root: Path) -> dict[str, list[int]]:
    """Count (valid, invalid) code blocks per language, for a generator self-check."""
    import ast
    import re
    import subprocess
    import tempfile

    import yaml

    counts: dict[str, list[int]] = {}
    fence_rx = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)
    js_blocks: list[str] = []
    for path in sorted(root.rglob("*.md")):
        for lang, body in fence_rx.findall(path.read_text(encoding="utf-8")):
            ok = True
            try:
                if lang == "python":
                    ast.parse(body)
                elif lang == "json":
                    json.loads(body)
                elif lang == "yaml":
                    yaml.safe_load(body)
                elif lang == "javascript":
                    js_blocks.append(body)
                    continue
                elif lang == "sql":
                    import sqlglot

                    sqlglot.parse(body, read="postgres")
            except Exception:  # noqa: BLE001 - any parse failure counts as invalid
                ok = False
            counts.setdefault(lang, [0, 0])[0 if ok else 1] += 1
    if js_blocks and shutil.which("node"):
        with tempfile.TemporaryDirectory() as tmp:
            for i, body in enumerate(js_blocks[:300]):
                p = Path(tmp) / f"b{i}.js"
                p.write_text(body, encoding="utf-8")
                ok = subprocess.run(["node", "--check", str(p)], capture_output=True).returncode == 0
                counts.setdefault("javascript", [0, 0])[0 if ok else 1] += 1
    return counts


class CorpusError(Exception):
    pass


def build(out: Path, n_docs: int, seed: int) -> dict:
    manifest_path = out / MANIFEST
    if out.exists() and any(out.iterdir()) and not manifest_path.exists():
        raise CorpusError(f"{out} is not empty and holds no {MANIFEST}; refusing to overwrite it. "
                          "Pick an empty directory with --out.")
    for sub in ("practice-pocs", "interview-prep", "system-design", "concepts", "articles"):
        shutil.rmtree(out / sub, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    total_bytes = total_lines = 0
    kinds = {"tutorial": 0, **{k: 0 for k, _ in KINDS}}
    problems: dict[str, int] = {}
    for spec in plan(n_docs, seed):
        rel, text = render(spec, seed)
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        path.write_bytes(data)
        total_bytes += len(data)
        total_lines += text.count("\n")
        kinds[spec["kind"]] += 1
        if spec["problem"]:
            problems[spec["problem"]] = problems.get(spec["problem"], 0) + 1
    (out / "authorkit.toml").write_text(WORKSPACE_TOML, encoding="utf-8")
    manifest = {"generator_version": GENERATOR_VERSION, "seed": seed, "docs": n_docs,
                "bytes": total_bytes, "lines": total_lines, "kinds": kinds, "problems": problems}
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: bench/corpus)")
    ap.add_argument("--docs", type=int, default=1100, help="number of documents (default: 1100)")
    ap.add_argument("--seed", type=int, default=2, help="random seed (default: 2)")
    ap.add_argument("--validate", action="store_true", help="parse every code block and report invalid ones")
    args = ap.parse_args(argv)
    if args.docs < 1:
        ap.error("--docs must be at least 1")
    started = time.perf_counter()
    try:
        m = build(args.out, args.docs, args.seed)
    except (CorpusError, OSError) as exc:
        print(f"make_corpus: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {m['docs']} documents, {m['bytes'] / 1e6:.1f} MB, {m['lines']:,} lines to {args.out} "
          f"in {time.perf_counter() - started:.1f} s (shapes: {m['kinds']}, "
          f"with problems: {sum(m['problems'].values())} {m['problems']})")
    if args.validate:
        for lang, (ok, bad) in sorted(validate(args.out).items()):
            print(f"  {lang:<10} {ok:>6} valid {bad:>4} invalid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
