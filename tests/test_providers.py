"""The Anthropic provider against the real SDK over a mock transport / a local fake server."""

from __future__ import annotations

import time

import pytest

from authorkit.errors import ProviderError
from authorkit.providers import Block, Request, get_provider
from authorkit.providers.anthropic import AnthropicProvider
from authorkit.providers.fake import FakeProvider, Reply as FakeReply
from fake_anthropic import FakeAnthropic, FakeAnthropicServer, Reply, mock_client


def _req(label: str = "section:intro") -> Request:
    return Request(
        system=[Block("You write tutorials.", cache=True)],
        user=[Block("STYLE GUIDE AND REFERENCE " * 50, cache=True), Block("Write the intro.")],
        max_tokens=100,
        label=label,
        document="content/poc-61.md",
    )


def _provider(fake: FakeAnthropic, **kw) -> AnthropicProvider:
    kw.setdefault("max_retries", 2)
    return AnthropicProvider("claude-test", api_key="sk-ant-test-key-123456789", http_client=mock_client(fake), retry_delay=0.001, **kw)


def test_streams_text_and_reports_usage_with_cache() -> None:
    fake = FakeAnthropic().enqueue("Hello, streaming world.", "Second answer.")
    p = _provider(fake)
    chunks: list[str] = []
    c = p.stream(_req(), chunks.append)
    assert c.text == "Hello, streaming world."
    assert "".join(chunks) == c.text and len(chunks) >= 1
    assert c.stop_reason == "end_turn"
    assert c.usage.cache_write_tokens > 0 and c.usage.cache_read_tokens == 0
    assert c.usage.output_tokens > 0
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


def test_max_tokens_is_continued_from_where_it_stopped() -> None:
    fake = FakeAnthropic().enqueue(Reply("## Step 1: Set up the  ", stop_reason="max_tokens"), Reply(" project\n\nDone."))
    c = _provider(fake).stream(_req())
    assert c.text == "## Step 1: Set up the project\n\nDone."
    assert c.calls == 2
    second = fake.requests[1]["messages"]
    assert second[-1] == {"role": "assistant", "content": "## Step 1: Set up the"}


def test_continuations_are_bounded() -> None:
    fake = FakeAnthropic().enqueue(*[Reply("more", stop_reason="max_tokens")] * 5)
    with pytest.raises(ProviderError, match="max_tokens"):
        _provider(fake, max_continuations=2).stream(_req())
    assert len(fake.requests) == 3


def test_refusal_is_a_clear_error() -> None:
    fake = FakeAnthropic().enqueue(Reply("", stop_reason="refusal"))
    with pytest.raises(ProviderError, match="refused to write section:intro of content/poc-61.md"):
        _provider(fake).stream(_req())


def test_429_with_retry_after_is_retried() -> None:
    fake = FakeAnthropic().enqueue(Reply(status=429, headers={"retry-after": "0.01"}), Reply("after the limit"))
    t = time.monotonic()
    c = _provider(fake).stream(_req())
    assert c.text == "after the limit"
    assert fake.http_log == [429, 200]
    assert time.monotonic() - t < 2


def test_overloaded_mid_stream_is_retried() -> None:
    fake = FakeAnthropic().enqueue(Reply("partial text that will be lost", error_after=12), Reply("complete text"))
    c = _provider(fake).stream(_req())
    assert c.text == "complete text"
    assert len(fake.requests) == 2


def test_dropped_connection_mid_stream_is_retried() -> None:
    fake = FakeAnthropic().enqueue(Reply("partial text", drop_after=8), Reply("whole"))
    assert _provider(fake).stream(_req()).text == "whole"


def test_exhausted_retries_are_a_clear_error_without_the_key() -> None:
    fake = FakeAnthropic().enqueue(*[Reply(status=529, headers={"retry-after-ms": "1"})] * 5)
    with pytest.raises(ProviderError) as ei:
        _provider(fake, max_retries=2).stream(_req())
    msg = str(ei.value)
    assert "529" in msg and "after 2 retries" in msg and "nothing was written" in msg
    assert "sk-ant-test-key" not in msg
    assert len(fake.requests) == 3


def test_exhausted_mid_stream_retries() -> None:
    fake = FakeAnthropic().enqueue(*[Reply("xxxxxxxxxxxx", error_after=4)] * 4)
    with pytest.raises(ProviderError, match="failed mid-stream 3 times"):
        _provider(fake, max_retries=2).stream(_req())


def test_no_key_and_no_base_url(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from authorkit.config import load_workspace

    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    with pytest.raises(ProviderError) as ei:
        get_provider("anthropic", load_workspace(tmp_path))
    text = str(ei.value)
    assert "ANTHROPIC_API_KEY" in text and "export" in text and "--provider scaffold" in text


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


def test_fake_provider_scripted_and_history() -> None:
    p = FakeProvider().enqueue("one", FakeReply(error="boom"))
    assert p.stream(_req("a")).text == "one"
    with pytest.raises(ProviderError, match="boom"):
        p.stream(_req("b"))
    assert [r.label for r in p.history] == ["a", "b"]
    with pytest.raises(ProviderError, match="no reply queued"):
        p.stream(_req("c"))
