"""`authorkit convert` end to end against a fake Anthropic server on 127.0.0.1."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from authorkit.convert import extract_facts, lost_facts, missing_code, split_source
from fake_anthropic import FakeAnthropic, FakeAnthropicServer, Reply, task_of, write_from_task

CONFIG = """
[model]
name = "claude-test"
concurrency = 3
max_retries = 1
repair_rounds = 1

[style_overrides.tutorial.lines]
min = 40
target = 90
max = 1500
"""


def source_doc(n: int) -> str:
    return f"""# POC #{n}: Token Bucket Rate Limiting — The $2.4M Outage

## The $2.4M Outage

A ticketing service took 45,000 requests/s during a launch and fell over in 90 seconds.
The incident cost $2.4M in refunds.

| Company | Scale | What they limit |
|---|---|---|
| **Stripe** | 100 req/s per key | API calls |
| **Shopify** | 40 req/s per app | Admin API |

## Why Obvious Solutions Fail

A fixed window lets 2x the limit through at the boundary:

```python
def allowed(key, now):
    window = int(now // 60)
    return hits[(key, window)] < LIMIT
```

## The Paradigm Shift

Refill tokens continuously instead, at 10 tokens per second:

```javascript
function take(bucket, now) {{
  const refill = (now - bucket.at) * RATE;
  bucket.tokens = Math.min(CAPACITY, bucket.tokens + refill);
  bucket.at = now;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}}
```

## Quick Win

```bash
docker run -d -p 6379:6379 redis:7
```
"""


@pytest.fixture
def ws_dir(tmp_path: Path) -> Path:
    (tmp_path / "authorkit.toml").write_text(CONFIG)
    docs = tmp_path / "content"
    docs.mkdir()
    for n in (54, 55, 56):
        (docs / f"poc-{n}.md").write_text(source_doc(n))
    return tmp_path


def run_cli(ws: Path, *args: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys) -> tuple[int, str, str]:
    from authorkit.cli import main

    monkeypatch.chdir(ws)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(SystemExit) as ei:
        main(list(args))
    out = capsys.readouterr()
    return int(ei.value.code or 0), out.out, out.err


def events(ws: Path) -> list[dict]:
    out = []
    for p in sorted((ws / "sessions").glob("*.jsonl")):
        out += [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
    return out


def code_blocks(text: str) -> list[str]:
    return [re.sub(r"\s+", " ", b).strip() for b in re.findall(r"```[^\n]*\n(.*?)```", text, re.S)]


def test_split_source_and_facts() -> None:
    secs = split_source(source_doc(54))
    assert [s.label.split(" › ")[-1] for s in secs][:3] == ["The $2.4M Outage", "Why Obvious Solutions Fail", "The Paradigm Shift"]
    assert [len(s.code_blocks) for s in secs] == [0, 1, 1, 1]
    facts = extract_facts(source_doc(54))
    for f in ("$2.4M", "45,000 requests/s", "90 seconds", "Stripe", "Shopify"):
        assert f in facts
    assert lost_facts(["Stripe", "45,000 requests/s"], "stripe handles 45000 requests/s") == []
    blocks = [b for s in secs for b in s.code_blocks]
    assert len(missing_code(blocks, "\n".join("```\n" + b.code + "\n```" for b in blocks[1:]))) == 1


def _with_block_map(body):
    """The fake writer, with a plan that places the source's blocks: the fixed-window fragment
    is dropped as an anti-pattern, the token bucket goes into step 2, `docker run` into step 1."""
    text = write_from_task(task_of(body))
    if "The source code blocks, numbered:" in task_of(body):
        outline = json.loads(text)
        outline["blocks"] = {"0": {"drop": "anti-pattern: the fixed window the article warns against"},
                             "1": {"step": 2, "file": "src/part2.js"}, "2": "step 1"}
        text = json.dumps(outline)
    # The placed block is named as the prompt asks (it extends the step's file).
    return text.replace("```javascript\nfunction take(", "Add to `src/part2.js` (continued):\n\n```javascript\nfunction take(")


def test_convert_follows_the_plan_block_map_and_records(ws_dir: Path, monkeypatch, capsys) -> None:
    fake = FakeAnthropic(_with_block_map)
    with FakeAnthropicServer(fake) as srv:
        code, out, err = run_cli(ws_dir, "convert", "content/poc-54.md", "content/poc-55.md", "--to", "tutorial",
                                 env={"ANTHROPIC_BASE_URL": srv.base_url}, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, out + err
    tasks = [task_of(b) for b in fake.requests]
    step2 = [t for t in tasks if "`### Step 2:" in t]
    assert step2 and all("function take(bucket, now)" in t for t in step2)
    assert not any("def allowed(key, now)" in t for t in tasks if "Write only" in t)  # dropped: given to no section
    for n in (54, 55):
        text = (ws_dir / f"content/poc-{n}.md").read_text()
        assert text.startswith(f"# POC #{n}: ")
        assert "## What You'll Build" in text and "## Why Obvious Solutions Fail" not in text
    # Dropping is reported with the plan's reason; it is not an error.
    assert "dropped code block (source line" in out and "anti-pattern: the fixed window" in out
    assert (ws_dir / "content/poc-56.md").read_text() == source_doc(56)  # not asked for
    assert "✓ content/poc-54.md: converted" in out and "tokens:" in out
    # The prefix (style guide, then the source) carries cache_control; the task does not.
    body = fake.requests[0]
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert "What You'll Build" in body["system"][0]["text"]
    assert body["messages"][0]["content"][0]["cache_control"] == {"type": "ephemeral"}
    assert "Token Bucket Rate Limiting" in body["messages"][0]["content"][0]["text"]
    assert "cache_control" not in body["messages"][0]["content"][-1]
    ev = events(ws_dir)
    writes = [e for e in ev if e["event"] == "write"]
    assert {e["path"] for e in writes} == {"content/poc-54.md", "content/poc-55.md"}
    assert all(e["action"] == "converted" and e["style"] == "tutorial" and e["lines_after"] > 0 for e in writes)
    calls = [e for e in ev if e["event"] == "model_call"]
    # One outline and one unit per section and per step (5) of each document, each recorded
    # once: no repair round was needed.
    from authorkit.convert import planned_calls
    from authorkit.styleguide import load_guides

    assert len(calls) == 2 * planned_calls(load_guides()["tutorial"], steps=5) <= len(fake.requests)
    assert {e["document"] for e in calls} == {"content/poc-54.md", "content/poc-55.md"}
    assert sum(e["cache_read_tokens"] for e in calls) > 0


def test_provider_failure_leaves_files_byte_identical(ws_dir: Path, monkeypatch, capsys) -> None:
    before = (ws_dir / "content/poc-54.md").read_bytes()

    def responder(body):
        task = task_of(body)
        if "Why This Matters" in task and "Write only the section" in task:
            return Reply("", stop_reason="refusal")
        return write_from_task(task)

    with FakeAnthropicServer(FakeAnthropic(responder)) as srv:
        code, out, err = run_cli(ws_dir, "convert", "content/poc-54.md", "--to", "tutorial",
                                 env={"ANTHROPIC_BASE_URL": srv.base_url}, monkeypatch=monkeypatch, capsys=capsys)
    # A section the model refuses fails the document (exit 1, like any document that cannot be
    # completed); the reason is named and nothing is written without --keep-failed.
    assert code == 1
    assert "refus" in out
    assert (ws_dir / "content/poc-54.md").read_bytes() == before
    assert sorted(p.name for p in (ws_dir / "content").iterdir()) == ["poc-54.md", "poc-55.md", "poc-56.md"]


def test_errors_after_repair_write_nothing_unless_keep_failed(ws_dir: Path, monkeypatch, capsys) -> None:
    before = (ws_dir / "content/poc-54.md").read_bytes()

    def responder(body):
        task = task_of(body)
        if "(section id: why-this-matters)" in task or "part `Why This Matters`" in task:
            return "## Why This Matters\n\nNo table here.\n"
        return write_from_task(task)

    with FakeAnthropicServer(FakeAnthropic(responder)) as srv:
        env = {"ANTHROPIC_BASE_URL": srv.base_url}
        code, out, _ = run_cli(ws_dir, "convert", "content/poc-54.md", "--to", "tutorial", env=env, monkeypatch=monkeypatch, capsys=capsys)
        assert code == 1 and "element-table" in out and "left unchanged" in out
        assert (ws_dir / "content/poc-54.md").read_bytes() == before
        assert not (ws_dir / "content/poc-54.failed.md").exists()
        code, out, _ = run_cli(ws_dir, "convert", "content/poc-54.md", "--to", "tutorial", "--keep-failed", env=env, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1
    assert (ws_dir / "content/poc-54.md").read_bytes() == before
    assert "No table here." in (ws_dir / "content/poc-54.failed.md").read_text()


def test_rewritten_code_block_is_reported_not_an_error(ws_dir: Path, monkeypatch, capsys) -> None:
    def responder(body):
        text = write_from_task(task_of(body))
        return text.replace("docker run -d -p 6379:6379 redis:7", "docker run redis")

    with FakeAnthropicServer(FakeAnthropic(responder)) as srv:
        code, out, _ = run_cli(ws_dir, "convert", "content/poc-54.md", "--to", "tutorial",
                               env={"ANTHROPIC_BASE_URL": srv.base_url}, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0
    assert "rewritten code block (source line" in out and "docker run -d -p 6379:6379 redis:7" in out


@pytest.mark.parametrize("title, n", [("# POC #54: Partitioning", 54), ("# 5️⃣4️⃣ PostgreSQL Partitioning Strategies", 54),
                                      ("# 5\u20e34\u20e3 Partitioning", 54), ("# POC 54 — Partitioning", 54), ("# 🔟 Ten", 10),
                                      ("# Partitioning", None)])
def test_poc_number_is_read_in_every_title_form(title: str, n) -> None:
    from authorkit.convert import title_number_any

    assert title_number_any(title) == n


def test_uncommitted_edits_are_refused_without_force(ws_dir: Path, monkeypatch, capsys) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=ws_dir, check=True)
    subprocess.run([*git, "add", "-A"], cwd=ws_dir, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=ws_dir, check=True)
    p = ws_dir / "content/poc-54.md"
    p.write_text(p.read_text() + "\nA local edit.\n")
    before = p.read_bytes()
    code, _, err = run_cli(ws_dir, "convert", "content/poc-54.md", "--to", "tutorial",
                           env={"ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and "uncommitted edits" in err and "--allow-dirty" in err
    assert p.read_bytes() == before
    fake = FakeAnthropic(lambda body: write_from_task(task_of(body)))
    with FakeAnthropicServer(fake) as srv:
        code, out, _ = run_cli(ws_dir, "convert", "content/poc-54.md", "--to", "tutorial", "--allow-dirty",
                               env={"ANTHROPIC_BASE_URL": srv.base_url}, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, out


def test_dry_run_makes_no_call(ws_dir: Path, monkeypatch, capsys) -> None:
    code, out, _ = run_cli(ws_dir, "convert", "content/poc-54.md", "--to", "tutorial", "--dry-run",
                           env={"ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0
    assert "=== system prompt (cached) ===" in out and "What You'll Build" in out
    assert re.search(r"content/poc-54.md: \d+ calls planned \(1 outline \+ \d+ sections\), 4 source sections, 3 code blocks", out)
    assert "no call was made" in out


def test_no_key_is_exit_2_naming_the_variable(ws_dir: Path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    code, _, err = run_cli(ws_dir, "convert", "content/poc-54.md", "--to", "tutorial", env={}, monkeypatch=monkeypatch, capsys=capsys)
    # One shared message naming both variables, and only what works offline for convert.
    assert code == 2 and "ANTHROPIC_API_KEY" in err and "ANTHROPIC_BASE_URL" in err and "--dry-run" in err
    assert "--provider scaffold" not in err  # convert refuses the scaffold provider


def test_interrupt_keeps_finished_files_and_leaves_the_rest(ws_dir: Path, monkeypatch) -> None:
    from authorkit.config import load_workspace
    from authorkit.convert import convert_files, preflight
    from authorkit.styleguide import workspace_guide as guide_for
    from authorkit.generate import Generator
    from authorkit.providers.anthropic import AnthropicProvider

    monkeypatch.chdir(ws_dir)
    ws = load_workspace(ws_dir)
    fake = FakeAnthropic(lambda body: write_from_task(task_of(body)), tokens_per_second=4000)
    paths = [ws_dir / f"content/poc-{n}.md" for n in (54, 55, 56)]
    before = {p: p.read_bytes() for p in paths}
    with FakeAnthropicServer(fake) as srv:
        prov = AnthropicProvider("claude-test", api_key="x", base_url=srv.base_url, max_retries=0)
        gen = Generator(ws, prov, guide_for(ws, "tutorial"), concurrency=1)
        finished: list[Path] = []

        def on_done(o):
            finished.append(o.path)
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            convert_files(ws, preflight(ws, paths, True), guide_for(ws, "tutorial"), gen, on_done=on_done)
    assert len(finished) == 1
    assert finished[0].read_bytes() != before[finished[0]]
    for p in paths:
        if p != finished[0]:
            assert p.read_bytes() == before[p]
    assert not list((ws_dir / "content").glob(".*.tmp"))
