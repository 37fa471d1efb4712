"""`authorkit draft poc N` with the model provider, end to end against a fake server."""

from __future__ import annotations

import pytest

from fake_anthropic import FakeAnthropic, FakeAnthropicServer, Reply, task_of, write_from_task
from test_convert import events, run_cli

PLAN = """# Two-Week Plan

## Week 2

### Day 8: Caching

- POC #61: Cache-aside pattern (read-through)
- POC #62: Write-through cache
- Article #12: Caching strategies

## Success criteria

### POCs
- runs with docker compose up
- has benchmarks
"""

REFERENCE = "# POC #11: Reference Tutorial\n\nREFERENCE-EXAMPLE-MARKER: a tutorial the author accepted.\n"


@pytest.fixture
def ws(tmp_path):
    (tmp_path / "authorkit.toml").write_text(
        '[model]\nname = "claude-test"\nconcurrency = 8\nmax_retries = 2\nrepair_rounds = 1\n\n'
        # Priced explicitly: a model served from ANTHROPIC_BASE_URL has no built-in prices.
        '[model.prices]\ninput = 3.0\noutput = 15.0\n\n'
        '[draft]\npoc_dir = "content/pocs"\nreference = "reference.md"\n\n[plans]\nfiles = ["plan.md"]\n\n'
        '[navigation]\nupdate = false\n'
    )
    (tmp_path / "plan.md").write_text(PLAN)
    (tmp_path / "reference.md").write_text(REFERENCE)
    (tmp_path / "content/pocs").mkdir(parents=True)
    return tmp_path


def test_draft_end_to_end_with_retries_and_continuation(ws, monkeypatch, capsys) -> None:
    state = {"n": 0}

    def responder(body):
        task = task_of(body)
        state["n"] += 1
        if "(section id: the-problem)" in task:
            text = write_from_task(task)
            # Cut at max_tokens halfway: the provider must continue from there.
            return Reply(text[: len(text) // 2], stop_reason="max_tokens") if body["messages"][-1]["role"] == "user" else Reply(text[len(text) // 2 :])
        return write_from_task(task)

    fake = FakeAnthropic(responder)
    # The first call is rate-limited, the second fails mid-stream: both are retried.
    fake.enqueue(Reply(status=429, headers={"retry-after": "0.01"}), Reply('{"title": "POC #61', error_after=8))
    with FakeAnthropicServer(fake) as srv:
        code, out, err = run_cli(ws, "draft", "poc", "61", "--provider", "anthropic", env={"ANTHROPIC_BASE_URL": srv.base_url},
                                 monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, out + err
    page = next((ws / "content/pocs").glob("*.md"))
    text = page.read_text()
    assert text.startswith("# POC #61: ")
    assert fake.http_log[:3] == [429, 200, 200]
    assert fake.requests[0] == fake.requests[1] == fake.requests[2]  # the outline, sent three times
    first = fake.requests[2]
    assert "What You'll Build" in first["system"][0]["text"] and first["system"][0]["cache_control"]
    prefix = first["messages"][0]["content"]
    assert "REFERENCE-EXAMPLE-MARKER" in prefix[0]["text"] and prefix[0]["cache_control"]
    assert "Cache-aside pattern (read-through)" in prefix[1]["text"] and prefix[1]["cache_control"]
    assert "POC #62: Write-through cache" in prefix[1]["text"]
    cont = [r for r in fake.requests if r["messages"][-1]["role"] == "assistant"]
    assert len(cont) == 1
    from authorkit.check import check_text
    from authorkit.styleguide import load_guides

    assert [f for f in check_text(text, load_guides()["tutorial"], "x") if str(f.severity) == "error"] == []
    ev = events(ws)
    calls = [e for e in ev if e["event"] == "model_call"]
    assert len(calls) >= 10 and sum(e["cache_read_tokens"] for e in calls) > 0
    assert "model calls" in out and "cost $" in out


def test_failed_draft_is_never_written_over_the_target(ws, monkeypatch, capsys) -> None:
    def responder(body):
        task = task_of(body)
        if "Why This Matters" in task and ("section id" in task or "part `" in task):
            return "## Why This Matters\n\nNo table.\n"
        return write_from_task(task)

    with FakeAnthropicServer(FakeAnthropic(responder)) as srv:
        env = {"ANTHROPIC_BASE_URL": srv.base_url}
        code, out, _ = run_cli(ws, "draft", "poc", "61", "--provider", "anthropic", env=env, monkeypatch=monkeypatch, capsys=capsys)
        assert code == 1 and "nothing was written" in out
        assert list((ws / "content/pocs").iterdir()) == []
        code, out, _ = run_cli(ws, "draft", "poc", "61", "--provider", "anthropic", "--keep-failed", env=env, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1
    files = [p.name for p in (ws / "content/pocs").iterdir()]
    assert len(files) == 1 and files[0].endswith(".failed.md")


def test_draft_dry_run_calls_nothing(ws, monkeypatch, capsys) -> None:
    fake = FakeAnthropic()
    with FakeAnthropicServer(fake) as srv:
        code, out, _ = run_cli(ws, "draft", "poc", "61", "--provider", "anthropic", "--dry-run", env={"ANTHROPIC_BASE_URL": srv.base_url},
                               monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0
    assert fake.requests == []
    assert "REFERENCE-EXAMPLE-MARKER" in out and "planned calls: 1 outline" in out and "no call was made" in out


def test_outline_takes_what_a_model_naturally_writes() -> None:
    import json

    from authorkit.generate import parse_outline

    o = parse_outline(json.dumps({
        "title": "# POC #61: Cache-Aside",
        "ports": {"app": 3000, "redis": "6379:6379"},
        "identifiers": {"getProduct": "reads through the cache"},
        "services": [{"name": "redis", "image": "redis:7"}, "postgres"],
        "companies": {"Shopify": 80000, "Netflix": "30M requests/s"},
        "steps": {"1": {"title": "Step 1: Setup", "files": "package.json"}, "2": {"title": "Cache", "files": {"cache.js": "the layer"}}},
        "sections": ["the-problem", {"id": "run-it", "summary": "commands"}],
        "env_vars": ["REDIS_URL=redis://localhost:6379"],
        "printed_lines": "=== Test 1 ===\n=== Test 2 ===",
        "success_criteria": {"runs with docker compose up": "run-it"},
        "extra_sections": ["Test It", {"title": "Performance Benchmarks", "covers": "latency"}],
        "containers": {"cache-redis": "redis:7"},
        "later": "an unknown key is kept",
    }))
    assert o.title == "POC #61: Cache-Aside"
    assert o.ports == {"app": 3000, "redis": 6379}
    assert o.identifiers == {"getProduct": "reads through the cache"}
    assert o.services == ["redis", "postgres"]
    assert [(c.name, c.fact) for c in o.companies] == [("Shopify", "80000"), ("Netflix", "30M requests/s")]
    assert [(s.number, s.title, s.file_names) for s in o.steps] == [(1, "Setup", ["package.json"]), (2, "Cache", ["cache.js"])]
    assert o.steps[1].files[0].purpose == "the layer"
    assert o.sections == {"the-problem": "", "run-it": "commands"}
    assert o.env == {"REDIS_URL": "redis://localhost:6379"}
    assert o.test_output == ["=== Test 1 ===", "=== Test 2 ==="]
    assert o.criteria == {"runs with docker compose up": "run-it"}
    assert [x.heading for x in o.extra_sections] == ["Test It", "Performance Benchmarks"]
    assert o.containers[0].name == "cache-redis" and o.containers[0].image == "redis:7"
    assert "an unknown key is kept" in o.model_dump_json()


def test_an_invalid_outline_gets_one_repair_call_with_the_error(ws, monkeypatch, capsys) -> None:
    replies = iter(['{"title": "POC #61: Cache", "ports": {"redis": "a port"}}'])

    def responder(body):
        task = task_of(body)
        if "Reply with one JSON object" in task and "could not be used" not in task:
            return next(replies, None) or write_from_task(task)
        return write_from_task(task)

    fake = FakeAnthropic(responder)
    with FakeAnthropicServer(fake) as srv:
        code, out, err = run_cli(ws, "draft", "poc", "61", "--provider", "anthropic", env={"ANTHROPIC_BASE_URL": srv.base_url},
                                 monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, out + err
    second = task_of(fake.requests[1])
    assert "could not be used" in second and "ports" in second and "'a port'" in second and '"a port"' in second


def test_draft_warns_when_no_reference_is_configured(ws, monkeypatch, capsys) -> None:
    toml = ws / "authorkit.toml"
    toml.write_text(toml.read_text().replace('reference = "reference.md"\n', ""))
    code, out, _ = run_cli(ws, "draft", "poc", "61", "--provider", "anthropic", "--dry-run", env={"ANTHROPIC_BASE_URL": "http://127.0.0.1:9"},
                           monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0
    assert "no reference example is configured (draft.reference" in out
