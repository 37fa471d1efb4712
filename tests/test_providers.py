"""The Anthropic backend against the real SDK, over a mock transport or a local fake server:
complete replies only, every attempt reported with the server's usage, visible retries,
timeouts, context errors, sampling settings."""

from __future__ import annotations

import threading
import time

import pytest

from authorkit.errors import ProviderError
from authorkit.providers import Block, Cancelled, Fatal, Hooks, Request, Truncated, get_provider
from authorkit.providers.anthropic import AnthropicProvider
from authorkit.providers.fake import FakeProvider, Reply as FakeReply
from fake_anthropic import FakeAnthropic, FakeAnthropicServer, Reply, mock_client, tokens_of


def _req(label: str = "section:intro", **kw) -> Request:
    return Request(
        system=[Block("You write tutorials.", cache=True)],
        user=[Block("STYLE GUIDE AND REFERENCE " * 50, cache=True), Block("Write the intro.")],
        max_tokens=100,
        label=label,
        document="content/poc-61.md",
        **kw,
    )


def _provider(fake: FakeAnthropic, **kw) -> AnthropicProvider:
    kw.setdefault("max_retries", 2)
    kw.setdefault("retry_delay", 0.001)
    return AnthropicProvider("claude-test", api_key="sk-ant-test-key-123456789", http_client=mock_client(fake), **kw)


def _served(srv: FakeAnthropicServer, **kw) -> AnthropicProvider:
    kw.setdefault("max_retries", 3)
    kw.setdefault("retry_delay", 0.05)
    return AnthropicProvider("local-model", api_key="", base_url=srv.base_url, **kw)


class Seen:
    """Hooks that remember what the backend reported."""

    def __init__(self) -> None:
        self.attempts: list = []
        self.retries: list[str] = []
        self.text: list[str] = []
        self.tokens = 0
        self.stop = False

    def hooks(self, **kw) -> Hooks:
        return Hooks(on_text=self.text.append, on_attempt=self.attempts.append, on_retry=self.retries.append,
                     on_tokens=lambda n: setattr(self, "tokens", self.tokens + n), should_stop=lambda: self.stop, **kw)


def test_streams_text_and_reports_usage_with_cache() -> None:
    fake = FakeAnthropic().enqueue("Hello, streaming world.", "Second answer.")
    p = _provider(fake)
    chunks: list[str] = []
    c = p.stream(_req(), chunks.append)
    assert c.text == "Hello, streaming world."
    assert "".join(chunks) == c.text and len(chunks) >= 1
    assert c.stop_reason == "end_turn"
    assert c.usage.cache_write_tokens > 0 and c.usage.cache_read_tokens == 0
    assert c.usage.output_tokens == tokens_of("Hello, streaming world.")
    # The same prefix again is read from the cache.
    c2 = p.stream(_req())
    assert c2.usage.cache_read_tokens == c.usage.cache_write_tokens
    assert c2.usage.cache_write_tokens == 0


def test_request_carries_cache_control_on_prefix_blocks() -> None:
    fake = FakeAnthropic().enqueue("ok")
    _provider(fake).stream(_req())
    body = fake.requests[0]
    assert body["stream"] is True
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    content = body["messages"][0]["content"]
    assert content[0]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in content[-1]  # the task itself is not cached


@pytest.mark.parametrize("setting, value", [("temperature", 0.7), ("top_p", 0.9), ("top_k", 40)])
def test_every_sampling_setting_reaches_the_request(setting, value) -> None:
    """Whatever the SDK's method signature names, a configured setting is in the body."""
    fake = FakeAnthropic().enqueue("ok")
    req = _req(temperature=value) if setting == "temperature" else _req(sampling={setting: value})
    _provider(fake).stream(req)
    assert fake.requests[0][setting] == value


def test_configured_sampling_settings_all_reach_the_server(tmp_path) -> None:
    """Every sampling field of [model] in authorkit.toml arrives in the request body: a new
    setting that is configured but dropped on the way fails here."""
    from authorkit.config import ModelConfig, load_workspace
    from authorkit.generate import Generator, Job
    from authorkit.styleguide import load_guides

    sampling = {"temperature": 0.55, "top_p": 0.8, "top_k": 17}
    assert set(sampling) <= set(ModelConfig.model_fields)
    (tmp_path / "authorkit.toml").write_text("[model]\n" + "".join(f"{k} = {v}\n" for k, v in sampling.items()))
    ws = load_workspace(tmp_path)
    fake = FakeAnthropic().enqueue("ok")
    gen = Generator(ws, _provider(fake), load_guides()["tutorial"], record=False)
    job = Job("doc.md", gen.guide, "draft", "<ctx/>", "outline please")
    gen.call(job, gen.request(job, "task", "outline"))
    body = fake.requests[0]
    for k, v in sampling.items():
        assert body.get(k) == v, f"{k} was configured but not sent"


def test_max_tokens_is_continued_from_where_it_stopped() -> None:
    fake = FakeAnthropic().enqueue(Reply("## Step 1: Set up the  ", stop_reason="max_tokens"), Reply(" project\n\nDone."))
    c = _provider(fake).stream(_req())
    assert c.text == "## Step 1: Set up the project\n\nDone."
    assert c.calls == 2
    second = fake.requests[1]["messages"]
    assert second[-1] == {"role": "assistant", "content": "## Step 1: Set up the"}


def test_continuations_are_bounded_and_keep_the_text() -> None:
    fake = FakeAnthropic().enqueue(*[Reply("more", stop_reason="max_tokens")] * 5)
    with pytest.raises(Truncated, match="max_tokens") as ei:
        _provider(fake, max_continuations=2).stream(_req())
    assert len(fake.requests) == 3
    assert ei.value.text.startswith("more")


def test_no_continuation_once_the_document_has_failed() -> None:
    fake = FakeAnthropic().enqueue(Reply("first part", stop_reason="max_tokens"), Reply(" rest"))
    seen = Seen()
    hooks = seen.hooks()
    hooks.on_attempt = lambda a: (seen.attempts.append(a), setattr(seen, "stop", True))
    with pytest.raises(Cancelled):
        _provider(fake).run(_req(), hooks)
    assert len(fake.requests) == 1


def test_refusal_is_a_clear_error() -> None:
    fake = FakeAnthropic().enqueue(Reply("", stop_reason="refusal"))
    with pytest.raises(ProviderError, match="refused to write section:intro of content/poc-61.md"):
        _provider(fake).stream(_req())


def test_429_with_retry_after_is_retried_visibly() -> None:
    fake = FakeAnthropic().enqueue(Reply(status=429, headers={"retry-after": "0.01"}), Reply("after the limit"))
    seen = Seen()
    t = time.monotonic()
    c = _provider(fake).run(_req(), seen.hooks())
    assert c.text == "after the limit"
    assert fake.http_log == [429, 200]
    assert time.monotonic() - t < 2
    assert seen.retries == ["content/poc-61.md: section:intro: retrying in 0 s after HTTP 429, attempt 2/3"]
    assert [(a.outcome, a.usage_reported) for a in seen.attempts] == [("retried", False), ("ok", True)]


def test_stream_cut_before_message_stop_is_retried_and_never_assembled() -> None:
    """A body that ends cleanly but without message_delta/message_stop is not a reply."""
    fake = FakeAnthropic().enqueue(Reply("half of a section that must not be used", end_after=12), Reply("complete text"))
    seen = Seen()
    c = _provider(fake).run(_req(), seen.hooks())
    assert c.text == "complete text"
    assert len(fake.requests) == 2
    assert "ended before message_stop" in seen.retries[0]
    cut, ok = seen.attempts
    # The cut attempt still cost its prompt: recorded as the server reported it.
    assert cut.outcome == "retried" and cut.usage_reported and cut.usage.all_input > 0
    assert ok.outcome == "ok" and ok.usage.output_tokens == tokens_of("complete text")


def test_a_stop_without_stop_reason_is_not_complete() -> None:
    fake = FakeAnthropic().enqueue(Reply("looks finished", no_stop_reason=True), Reply("finished"))
    assert _provider(fake).stream(_req()).text == "finished"


def test_a_stream_that_is_always_cut_fails_and_every_attempt_is_reported() -> None:
    fake = FakeAnthropic().enqueue(*[Reply("partial partial", end_after=8)] * 3)
    seen = Seen()
    with pytest.raises(ProviderError, match="failed 3 times, last after a stream that ended before message_stop") as ei:
        _provider(fake).run(_req(), seen.hooks())
    assert "nothing was written" in str(ei.value)
    assert [a.outcome for a in seen.attempts] == ["retried", "retried", "failed"]
    assert all(a.usage.all_input > 0 for a in seen.attempts)
    assert seen.text and not any("partial partial" == "".join(seen.text) for _ in [0])


def test_overloaded_mid_stream_is_retried() -> None:
    fake = FakeAnthropic().enqueue(Reply("partial text that will be lost", error_after=12), Reply("complete text"))
    c = _provider(fake).stream(_req())
    assert c.text == "complete text"
    assert len(fake.requests) == 2


def test_dropped_connection_mid_stream_is_retried() -> None:
    fake = FakeAnthropic().enqueue(Reply("partial text", drop_after=8), Reply("whole"))
    seen = Seen()
    assert _provider(fake).run(_req(), seen.hooks()).text == "whole"
    assert "after connection reset, attempt 2/3" in seen.retries[0]


def test_exhausted_retries_are_a_clear_error_without_the_key() -> None:
    fake = FakeAnthropic().enqueue(*[Reply(status=529, headers={"retry-after-ms": "1"})] * 5)
    with pytest.raises(ProviderError) as ei:
        _provider(fake, max_retries=2).stream(_req())
    msg = str(ei.value)
    assert "529" in msg and "failed 3 times" in msg and "nothing was written" in msg
    assert "sk-ant-test-key" not in msg
    assert len(fake.requests) == 3


def test_context_too_small_is_a_fatal_error_with_the_number() -> None:
    fake = FakeAnthropic(n_ctx=300)
    with pytest.raises(Fatal) as ei:
        _provider(fake).stream(_req())
    text = str(ei.value)
    assert "does not fit its context of 300 tokens" in text
    assert "llama-server with `-c" in text and "OLLAMA_CONTEXT_LENGTH" in text
    assert len(fake.requests) == 1  # not retried


def test_no_key_and_no_base_url(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from authorkit.config import load_workspace

    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    with pytest.raises(ProviderError) as ei:
        get_provider("anthropic", load_workspace(tmp_path))
    text = str(ei.value)
    assert "ANTHROPIC_API_KEY" in text and "ANTHROPIC_BASE_URL" in text and "export" in text


def test_no_key_is_reported_before_the_sdk_is_imported() -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    code = ("import sys\nfrom pathlib import Path\nfrom authorkit.providers import get_provider\nfrom authorkit.config import load_workspace\n"
            "try:\n    get_provider('anthropic', load_workspace(Path('.')))\nexcept Exception as e:\n    print(type(e).__name__)\n"
            "print('anthropic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout.split() == ["ProviderError", "False"], out.stderr


# --- against a real HTTP server -------------------------------------------------------------


def test_real_server_base_url_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """A local Anthropic-compatible server works through ANTHROPIC_BASE_URL, no key needed."""
    from authorkit.config import load_workspace

    fake = FakeAnthropic().enqueue(Reply(status=429, headers={"retry-after": "0.01"}), Reply("from the local server", stop_reason="max_tokens"), "… and on.")
    with FakeAnthropicServer(fake) as srv:
        monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", srv.base_url)
        p = get_provider("anthropic", load_workspace(tmp_path), model="local-model")
        c = p.stream(_req())
    assert c.text == "from the local server… and on."
    assert fake.requests[-1]["model"] == "local-model"
    assert fake.http_log == [429, 200, 200]
    # A local server: no built-in prices, its own caches per slot, one call at a time.
    assert p.default_prices("claude-sonnet-4-5") is None
    assert p.cache_warming == "none" and p.default_concurrency == 1


def test_stall_after_message_stop_does_not_wait() -> None:
    """A body held open after message_stop: the reply is complete, nothing waits for the close."""
    fake = FakeAnthropic().enqueue(Reply("all of it", hold_open=60))
    with FakeAnthropicServer(fake) as srv:
        prov = _served(srv, idle_timeout=30)  # built first: importing the SDK is not the call
        t = time.monotonic()
        c = prov.stream(_req())
        took = time.monotonic() - t
    assert c.text == "all of it" and c.stop_reason == "end_turn"
    assert took < 5


def test_a_stalled_stream_is_detected_by_the_idle_timeout() -> None:
    fake = FakeAnthropic().enqueue(Reply("first words, then silence", stall_after=8, stall=60), Reply("second try"))
    seen = Seen()
    with FakeAnthropicServer(fake) as srv:
        prov = _served(srv, idle_timeout=0.5, timeout=30)
        t = time.monotonic()
        c = prov.run(_req(), seen.hooks())
        took = time.monotonic() - t
    assert c.text == "second try"
    assert took < 10
    assert "no data for 0 s (model.idle_timeout)" in seen.retries[0] or "no data for 1 s" in seen.retries[0]


def test_a_slow_first_byte_is_waited_for() -> None:
    """A server that answers only after processing the prompt (headers after the first token)
    is not cut by the idle timeout: the first-byte timeout covers it."""
    fake = FakeAnthropic(ttft=1.5, late_headers=True).enqueue("late but complete")
    with FakeAnthropicServer(fake) as srv:
        c = _served(srv, idle_timeout=0.5, timeout=30).stream(_req())
    assert c.text == "late but complete"
    assert len(fake.requests) == 1


def test_server_killed_and_restarted_mid_stream() -> None:
    text = "a long reply streamed slowly " * 20
    fake = FakeAnthropic(tokens_per_second=40).enqueue(Reply(text), Reply(text))
    seen = Seen()
    streaming = threading.Event()
    with FakeAnthropicServer(fake) as srv:
        prov = _served(srv, max_retries=6, retry_delay=0.2)

        def kill_then_restart() -> None:
            streaming.wait(30)  # the first reply has started
            srv.kill()
            time.sleep(0.6)  # down: connections are refused meanwhile
            srv.restart()

        t = threading.Thread(target=kill_then_restart)
        t.start()
        hooks = seen.hooks()
        hooks.on_text = lambda chunk: (seen.text.append(chunk), streaming.set())
        c = prov.run(_req(), hooks)
        t.join()
    assert c.text == text
    assert seen.retries and "after connection reset, attempt 2/7" in seen.retries[0]
    assert seen.attempts[-1].outcome == "ok"
    assert all(a.outcome == "retried" for a in seen.attempts[:-1])
    assert len(fake.requests) == 2  # the cut reply and the whole one


def test_call_deadline_bounds_retries() -> None:
    fake = FakeAnthropic().enqueue(*[Reply(status=529, headers={"retry-after": "1"})] * 10)
    t = time.monotonic()
    with pytest.raises(ProviderError, match="deadline"):
        _provider(fake, max_retries=10, call_deadline=1.5).stream(_req())
    assert time.monotonic() - t < 4


def test_server_reported_context_is_read_from_props() -> None:
    fake = FakeAnthropic(n_ctx=8192)
    with FakeAnthropicServer(fake) as srv:
        assert _served(srv).server_context() == 8192


# --- the test double ------------------------------------------------------------------------


def test_fake_provider_scripted_and_history() -> None:
    p = FakeProvider().enqueue("one", FakeReply(error="boom"))
    assert p.stream(_req("a")).text == "one"
    with pytest.raises(ProviderError, match="boom"):
        p.stream(_req("b"))
    assert [r.label for r in p.history] == ["a", "b"]
    with pytest.raises(ProviderError, match="no reply queued"):
        p.stream(_req("c"))
