#!/usr/bin/env python3
"""Generate a deterministic corpus of POC-like Markdown documents for the `check` benchmark.

The corpus imitates a large tutorial site: ~1,100 documents of 500–1,500 lines (~20 MB), mostly
in the tutorial style, about 10% in the engagement style, and a few with deliberate problems
(a missing section, mojibake, a placeholder, a broken JSON or Python block) so the checker has
real work to do. All text comes from the word lists below; the same seed always gives the same
bytes.

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
GENERATOR_VERSION = 1

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
        steps += [f"### Step {step}: {r.choice(VERBS).capitalize()} the {r.choice(NOUNS).capitalize()} Layer (`{fname}`)", "",
                  paragraph(c), "", *fence(lang, GENERATORS[lang](c, size)), ""]
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
        lines += [f"### **{i}. {r.choice(VERBS).capitalize()} {r.choice(NOUNS).capitalize()}s**", "", paragraph(c), "",
                  *fence(lang, GENERATORS[lang](c, size)), ""]
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
        for i, ln in enumerate(lines):
            if "✅" in ln or "⭐" in ln:
                lines[i] = ln.replace("✅", "✅".encode().decode("cp1252")).replace("⭐", "⭐".encode().decode("mac_roman"))
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
            at = next(i for i, ln in enumerate(lines) if ln.startswith("### "))
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


PROBLEMS = ["missing", "mojibake", "placeholder", "broken_json", "broken_python"]


def plan(n_docs: int, seed: int) -> list[dict]:
    """Decide every document's kind, size and problem up front, so sizes don't drift with content."""
    r = random.Random(seed)
    docs = []
    for n in range(1, n_docs + 1):
        # Mostly 500–800 lines (the tutorial target) with a few long ones up to 1,500.
        if r.random() < 0.04:
            lines = r.randint(1100, 1440)
        else:
            lines = 510 + int(r.betavariate(1.0, 10.0) * 1000)
        kind = "engagement" if r.random() < 0.10 else "tutorial"
        problem = r.choice(PROBLEMS) if r.random() < 0.04 else None
        docs.append({"n": n, "lines": lines, "kind": kind, "problem": problem})
    return docs


def render(spec: dict, seed: int) -> tuple[str, str]:
    r = random.Random(seed * 1_000_003 + spec["n"])
    subject = r.choice(SUBJECTS)
    tech = r.choice(TECH)
    title = f"{subject} with {tech} {r.choice(SUFFIXES)}"
    c = Ctx(rng=r, n=spec["n"], title=title, tech=tech, subject=subject)
    if spec["kind"] == "engagement":
        lines = engagement_doc(c, spec["lines"])
    else:
        lines = tutorial_doc(c, spec["lines"], spec["problem"])
    if spec["problem"] and spec["problem"] != "missing":
        lines = inject_problem(c, lines, spec["problem"])
    slug = f"{spec['n']:04d}-" + "-".join(w.lower().strip(".") for w in subject.split())
    rel = f"practice-pocs/{CATEGORIES[spec['n'] % len(CATEGORIES)]}/{slug}.md"
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
    for sub in ("practice-pocs",):
        shutil.rmtree(out / sub, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    total_bytes = total_lines = 0
    kinds = {"tutorial": 0, "engagement": 0}
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
          f"in {time.perf_counter() - started:.1f} s (engagement: {m['kinds']['engagement']}, "
          f"with problems: {sum(m['problems'].values())} {m['problems']})")
    if args.validate:
        for lang, (ok, bad) in sorted(validate(args.out).items()):
            print(f"  {lang:<10} {ok:>6} valid {bad:>4} invalid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
