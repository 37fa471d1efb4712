"""Outline-first generation against the scripted provider and the tutorial style guide."""

from __future__ import annotations

import re

import pytest

from authorkit.config import load_workspace
from authorkit.errors import ProviderError
from authorkit.findings import Severity
from authorkit.generate import Generator, draft_job, parse_outline
from authorkit.providers.fake import FakeProvider
from authorkit.styleguide import load_guides
from fake_anthropic import write_from_task

CONTEXT = {
    "item": {"kind": "poc", "number": 61, "title": "Cache-aside pattern (read-through)", "extra": {"Why Critical": "most read-heavy systems"}},
    "label": "POC #61: Cache-aside pattern (read-through)",
    "plan": "Two-week plan",
    "group": "Week 2 › Day 8",
    "theme": "Caching",
    "siblings": ["POC #62: Write-through cache"],
    "related": ["Article #12: Caching strategies"],
    "criteria": ["runs with docker compose up", "has benchmarks"],
}


@pytest.fixture
def guide():
    return load_guides()["tutorial"]


@pytest.fixture
def ws(tmp_path):
    return load_workspace(tmp_path)


def writer(req):
    return write_from_task(req.user[-1].text)


def test_draft_outline_then_sections_passes_check(ws, guide) -> None:
    fake = FakeProvider(responder=writer)
    gen = Generator(ws, fake, guide, reference="# POC #11: A reference tutorial\n\nREFERENCE-MARKER", record=False)
    result = gen.run(draft_job(ws, guide, CONTEXT, "content/practice-pocs/poc-61.md"))
    assert [f for f in result.findings if f.severity >= Severity.ERROR] == []
    assert result.text.startswith("# POC #61: ")
    first = fake.history[0]
    assert first.label == "outline"
    # The cached prefix: the style guide as instructions, the reference, the plan context.
    assert "What You'll Build" in first.system[0].text and first.system[0].cache
    assert "REFERENCE-MARKER" in first.user[0].text and first.user[0].cache
    assert "Cache-aside pattern (read-through)" in first.user[1].text and first.user[1].cache
    assert "Week 2 › Day 8" in first.user[1].text and "has benchmarks" in first.user[1].text
    assert "POC #62: Write-through cache" in first.user[1].text
    assert not first.user[-1].cache
    # Every later call shares exactly the same prefix (so it is read from the cache), then
    # the outline as its own cached block.
    for r in fake.history[1:]:
        assert [b.text for b in r.user[:2]] == [b.text for b in first.user[:-1]]
        assert r.user[2].text.startswith("<outline>") and "POC #61" in r.user[2].text
    assert all(r.user[2].cache for r in fake.history[1:] if len(r.user) == 4)
    labels = [r.label for r in fake.history[1:]]
    assert "section:what-youll-build" in labels and "section:step-by-step/step-5" in labels
    # Sections assembled in the guide's order, steps numbered without gaps.
    heads = re.findall(r"^## (.+)$", result.text, re.M)
    assert heads[:4] == ["What You'll Build", "Why This Matters", "The Problem", "Step-by-Step Build"]
    assert re.findall(r"^### Step (\d+)", result.text, re.M) == ["1", "2", "3", "4", "5"]


def test_repair_round_fixes_a_missing_section(ws, guide) -> None:
    seen: list[str] = []

    def responder(req):
        task = req.user[-1].text
        seen.append(req.label)
        if req.label == "section:why-this-matters":
            return "## Some Background\n\nA paragraph without the table.\n"
        if req.label == "repair:why-this-matters":
            assert "missing required section “Why This Matters”" in task
            return write_from_task(re.sub(r"(?s)^.*", "Write only the section `Why This Matters` (section id: why-this-matters),\n\nIt must contain:\n- a Markdown table whose header has a `Company` column with at least 2 rows\n\n", task))
        return writer(req)

    gen = Generator(ws, FakeProvider(responder=responder), guide, record=False)
    result = gen.run(draft_job(ws, guide, CONTEXT, "poc-61.md"))
    assert result.rounds == 1
    assert "repair:why-this-matters" in seen
    assert [s for s in seen if s.startswith("repair:")] == ["repair:why-this-matters"]
    assert result.errors == []
    assert "## Why This Matters" in result.text and "| Company |" in result.text


def test_repair_rounds_are_bounded(ws, guide) -> None:
    def responder(req):
        if req.label.endswith("why-this-matters"):
            return "## Some Background\n\nStill no table.\n"
        return writer(req)

    fake = FakeProvider(responder=responder)
    result = Generator(ws, fake, guide, repair_rounds=2, record=False).run(draft_job(ws, guide, CONTEXT, "poc-61.md"))
    assert result.rounds == 2
    assert sum(r.label == "repair:why-this-matters" for r in fake.history) == 2
    assert any(f.rule == "section-missing" for f in result.errors)


def test_invalid_outline_is_asked_again_then_fails(ws, guide) -> None:
    fake = FakeProvider().enqueue("not json at all", '{"title": ""}')
    with pytest.raises(ProviderError, match="outline .* not valid after one repair"):
        Generator(ws, fake, guide, record=False).run(draft_job(ws, guide, CONTEXT, "poc-61.md"))
    assert "Your previous reply could not be used" in fake.history[1].user[-1].text
    assert len(fake.history) == 2


def test_outline_title_gets_the_poc_number() -> None:
    o = parse_outline('Here you go:\n```json\n{"title": "# Cache-Aside", "steps": [{"number": 3, "title": "b"}, {"number": 1, "title": "a"}]}\n```')
    assert o.title == "Cache-Aside"
    assert [(s.number, s.title) for s in o.steps] == [(1, "a"), (2, "b")]


def test_model_calls_are_recorded_with_cost(tmp_path, guide) -> None:
    (tmp_path / "authorkit.toml").write_text('[model]\nname = "fake-model"\n[model.prices]\ninput = 3.0\noutput = 15.0\n')
    ws = load_workspace(tmp_path)
    Generator(ws, FakeProvider(responder=writer), guide).run(draft_job(ws, guide, CONTEXT, "poc-61.md"))
    from authorkit.session import Session

    events = [e for e in Session.current(ws, create=False).events() if e["event"] == "model_call"]
    assert len(events) >= 10
    e = events[0]
    assert e["document"] == "poc-61.md" and e["model"] == "fake-model" and e["outcome"] == "ok"
    assert e["cost_usd"] == pytest.approx((e["input_tokens"] * 3 + e["output_tokens"] * 15) / 1e6, rel=1e-3)


def test_a_model_without_prices_is_unpriced_not_free(tmp_path, guide) -> None:
    from authorkit.costs import format_usage
    from authorkit.session import Session

    (tmp_path / "authorkit.toml").write_text('[model]\nname = "claude-sonnet-4-5"\n')
    ws = load_workspace(tmp_path)
    result = Generator(ws, FakeProvider("local-llama", responder=writer), guide).run(draft_job(ws, guide, CONTEXT, "poc-61.md"))
    assert result.cost_usd is None and result.usage.output_tokens > 0
    assert format_usage(result.usage, result.cost_usd).endswith("cost unpriced")
    events = [e for e in Session.current(ws, create=False).events() if e["event"] == "model_call"]
    assert events and all(e["cost_usd"] is None and e["priced"] is False for e in events)


def test_a_failing_section_is_retried_alone_then_marks_the_document(ws, guide) -> None:
    """One section that keeps failing: the others are written and kept; the document fails
    with a finding naming the section, and nothing more is sent for it (no repair round)."""
    failing = "section:why-this-matters"

    def responder(req):
        if req.label == failing:
            raise ProviderError("section:why-this-matters failed 5 times, last after connection reset; nothing was written")
        return writer(req)

    fake = FakeProvider(responder=responder)
    result = Generator(ws, fake, guide, record=False, concurrency=1).run(draft_job(ws, guide, CONTEXT, "poc-61.md"))
    labels = [r.label for r in fake.history]
    assert labels.count(failing) == 2  # tried once more on its own
    after = labels[[i for i, x in enumerate(labels) if x == failing][-1] + 1:]
    assert after == []  # the document failed: no further request
    assert not any(x.startswith("repair:") for x in labels)
    failed = [f.message for f in result.errors if f.rule == "generation-failed"]
    assert any(m.startswith("Why This Matters could not be written: section:why-this-matters failed 5 times") for m in failed)
    # Sections that were still waiting are reported as not sent, not silently dropped.
    assert all("failed 5 times" in m or "not sent: the document had already failed" in m for m in failed)
    assert "## Why This Matters" in result.text and "this section could not be written" in result.text
    # What was written before the failure is kept, in order.
    assert "## What You'll Build" in result.text


def test_a_fatal_error_stops_the_document_at_once(ws, guide) -> None:
    from authorkit.providers import Fatal

    def responder(req):
        if req.label.startswith("section:"):
            raise Fatal("the prompt does not fit the server's context of 8,192 tokens")
        return writer(req)

    fake = FakeProvider(responder=responder)
    with pytest.raises(Fatal, match="8,192"):
        Generator(ws, fake, guide, record=False, concurrency=1).run(draft_job(ws, guide, CONTEXT, "poc-61.md"))
    assert [r.label for r in fake.history][1:] == [fake.history[1].label]  # one section call, then nothing


def test_server_context_smaller_than_the_prompt_is_refused_before_any_call(ws, guide) -> None:
    from authorkit.providers import Fatal

    class SmallServer(FakeProvider):
        endpoint = "http://127.0.0.1:8080"
        official = False

        def server_context(self):
            return 1024

    events: list[tuple[str, dict]] = []
    fake = SmallServer(responder=writer)
    gen = Generator(ws, fake, guide, record=False, on_event=lambda kind, **d: events.append((kind, d)))
    with pytest.raises(Fatal, match="server's context of 1,024 tokens"):
        gen.run(draft_job(ws, guide, CONTEXT, "poc-61.md"))
    assert fake.history == []
    notice = next(d["message"] for k, d in events if k == "notice")
    assert "the server needs a context of at least" in notice and "(it reports 1,024)" in notice


def test_document_deadline_stops_sending(tmp_path, guide) -> None:
    import time as _time

    (tmp_path / "authorkit.toml").write_text("[model]\ndocument_deadline = 0.3\n")
    ws = load_workspace(tmp_path)

    def slow(req):
        _time.sleep(0.2)
        return writer(req)

    fake = FakeProvider(responder=slow)
    result = Generator(ws, fake, guide, record=False, concurrency=1).run(draft_job(ws, guide, CONTEXT, "poc-61.md"))
    assert len(fake.history) <= 3
    assert any(f.rule == "generation-failed" and "document_deadline" in f.message for f in result.errors)


# --- end to end against the fake server ------------------------------------------------------


def test_convert_keeps_what_was_produced_and_records_what_the_server_counted(tmp_path, monkeypatch, capsys) -> None:
    """One section's stream is always cut before message_stop: the cut text is never used,
    the other sections are kept in <name>.failed.md with --keep-failed, the source is not
    touched, and the session record holds every attempt with the server's own token counts."""
    from fake_anthropic import FakeAnthropic, FakeAnthropicServer, Reply, task_of, write_from_task
    from test_convert import events, run_cli, source_doc

    (tmp_path / "authorkit.toml").write_text('[model]\nmax_retries = 1\nrepair_rounds = 0\n[model.model_prices.local-model]\ninput = 1.0\ncache_write = 1.0\ncache_read = 0.1\noutput = 2.0\n')
    (tmp_path / "content").mkdir()
    src = tmp_path / "content/poc-54.md"
    src.write_text(source_doc(54))
    before = src.read_bytes()

    def responder(body):
        text = write_from_task(task_of(body))
        if "(section id: why-this-matters)" in task_of(body):
            return Reply("CUT-MARKER " + text, end_after=40)
        return text

    fake = FakeAnthropic(responder)
    with FakeAnthropicServer(fake) as srv:
        code, out, err = run_cli(tmp_path, "convert", "content/poc-54.md", "--to", "tutorial", "--keep-failed", "--model", "local-model",
                                 env={"ANTHROPIC_BASE_URL": srv.base_url}, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1, err
    assert src.read_bytes() == before
    kept = (tmp_path / "content/poc-54.failed.md").read_text()
    assert "CUT-MARKER" not in kept
    assert "this section could not be written" in kept and "## What You'll Build" in kept
    assert "retrying in" in out and "ended before message_stop" in out
    assert "the server needs a context of at least" in out
    calls = [e for e in events(tmp_path) if e["event"] == "model_call"]
    assert len(calls) == len(fake.usage_log)
    assert sum(e["outcome"] in ("retried", "failed") for e in calls) == 4  # 2 attempts, the unit tried twice
    for key, server_key in (("input_tokens", "input_tokens"), ("cache_write_tokens", "cache_creation_input_tokens"),
                            ("cache_read_tokens", "cache_read_input_tokens"), ("output_tokens", "output_tokens")):
        assert sum(e[key] for e in calls) == sum(u[server_key] for u in fake.usage_log), key
    total_usd = sum(e["cost_usd"] for e in calls)
    assert total_usd > 0
    assert f"${total_usd:.4f}" in out or f"${total_usd:.2f}" in out


def test_per_slot_caches_prefer_one_call_at_a_time(tmp_path, guide) -> None:
    """A llama.cpp-like server with 4 slots, each with its own prompt cache: 4 calls at once
    make each slot process the shared prefix; one at a time processes it once."""
    from authorkit.providers.anthropic import AnthropicProvider
    from fake_anthropic import FakeAnthropic, FakeAnthropicServer, task_of, write_from_task

    processed = {}
    for concurrency in (1, 4):
        fake = FakeAnthropic(lambda body: write_from_task(task_of(body)), slots=4, prompt_tokens_per_second=50_000)
        with FakeAnthropicServer(fake) as srv:
            prov = AnthropicProvider("local-model", api_key="", base_url=srv.base_url, max_retries=0)
            assert prov.cache_warming == "none"
            ws = load_workspace(tmp_path)
            result = Generator(ws, prov, guide, record=False, concurrency=concurrency, repair_rounds=0).run(
                draft_job(ws, guide, CONTEXT, "poc-61.md"))
        assert result.calls >= 10
        processed[concurrency] = fake.processed_prompt_tokens
    # Each busy slot fills its own cache with the shared prefix.
    assert processed[4] > processed[1] * 1.25


# --- without credentials ------------------------------------------------------------------------


def _no_key_run(argv: list[str], cwd) -> tuple[int, str, bool]:
    """Run the CLI in a fresh interpreter without credentials: (exit code, stderr, SDK imported)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    code = ("import sys\nfrom authorkit.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
            "    print('EXIT', e.code, 'anthropic' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    last = out.stdout.strip().splitlines()[-1].split()
    return int(last[1]), out.stderr, last[2] == "True"


def test_without_credentials_model_commands_fail_fast_with_one_message(tmp_path, fixtures) -> None:
    from test_convert import source_doc
    from tests.clihelp import make_planned_site

    make_planned_site(tmp_path, fixtures)
    (tmp_path / "content/poc-54.md").write_text(source_doc(54))
    code, err, sdk = _no_key_run(["draft", "poc", "15"], tmp_path)
    assert code == 2 and not sdk
    assert "ANTHROPIC_API_KEY" in err and "ANTHROPIC_BASE_URL" in err and "--provider scaffold" in err
    first = err.splitlines()[0]
    code, err, sdk = _no_key_run(["convert", "content/poc-54.md", "--to", "tutorial"], tmp_path)
    assert code == 2 and not sdk
    assert err.splitlines()[0] == first  # the same message
    assert "--dry-run" in err and "--provider scaffold" not in err  # convert refuses scaffold


def test_dry_runs_need_no_key_and_estimate_dollars_with_output(tmp_path, fixtures, monkeypatch, capsys) -> None:
    from test_convert import source_doc
    from tests.clihelp import invoke, make_planned_site

    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    make_planned_site(tmp_path, fixtures)
    (tmp_path / "content/poc-54.md").write_text(source_doc(54))
    code, out, err = invoke(["draft", "poc", "15", "--dry-run"], capsys, cwd=tmp_path)
    assert code == 0, err
    assert "planned calls: 1 outline" in out
    assert "estimated tokens:" in out and "output" in out and "cost ≈$" in out and "output included" in out
    code, out, err = invoke(["convert", "content/poc-54.md", "--to", "tutorial", "--dry-run"], capsys, cwd=tmp_path)
    assert code == 0, err
    assert "calls planned" in out and "cost ≈$" in out and "output included" in out and "no call was made" in out
    # A model without prices (here: a local one) is unpriced, not $0.
    code, out, err = invoke(["convert", "content/poc-54.md", "--to", "tutorial", "--dry-run", "--model", "qwen-local"], capsys, cwd=tmp_path)
    assert code == 0 and "cost: unpriced" in out


def test_draft_with_a_section_that_cannot_be_written_keeps_only_the_failed_copy(tmp_path, monkeypatch, capsys) -> None:
    from fake_anthropic import FakeAnthropic, FakeAnthropicServer, Reply, task_of, write_from_task
    from test_convert import run_cli
    from test_generate_draft import PLAN, REFERENCE

    (tmp_path / "authorkit.toml").write_text(
        '[model]\nname = "claude-test"\nmax_retries = 0\nrepair_rounds = 1\n\n'
        '[draft]\npoc_dir = "content/pocs"\nreference = "reference.md"\n\n[plans]\nfiles = ["plan.md"]\n\n[navigation]\nupdate = false\n')
    (tmp_path / "plan.md").write_text(PLAN)
    (tmp_path / "reference.md").write_text(REFERENCE)
    (tmp_path / "content/pocs").mkdir(parents=True)

    def responder(body):
        text = write_from_task(task_of(body))
        return Reply(text, end_after=30) if "(section id: what-youll-build)" in task_of(body) else text

    fake = FakeAnthropic(responder)
    with FakeAnthropicServer(fake) as srv:
        code, out, err = run_cli(tmp_path, "draft", "poc", "61", "--keep-failed", env={"ANTHROPIC_BASE_URL": srv.base_url},
                                 monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1, out + err
    pages = sorted(p.name for p in (tmp_path / "content/pocs").glob("*.md"))
    assert len(pages) == 1 and pages[0].endswith(".failed.md")  # the target itself is not written
    kept = (tmp_path / "content/pocs" / pages[0]).read_text()
    assert "<!-- TODO: this section could not be written" in kept and "## Why This Matters" in kept
    assert not any(r["messages"][-1]["role"] == "user" and "The checker found" in str(r) for r in fake.requests)
