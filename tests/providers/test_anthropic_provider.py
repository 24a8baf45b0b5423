from __future__ import annotations

import pytest

from ai_session.core.errors import ProviderError
from ai_session.core.providers import AnthropicProvider, ChatMessage, ChatRequest, Completion, Notice, TextDelta, get_provider
from tests.providers.fakes import FakeAnthropicServer, anthropic_error, anthropic_stream

KEY = "sk-ant-test-key"


def provider(server: FakeAnthropicServer, sleeper=None, key: str | None = KEY, **settings) -> AnthropicProvider:
    env = {"ANTHROPIC_API_KEY": key} if key else {}
    p = get_provider("anthropic", {"base_url": server.url, **settings}, env=env)
    assert isinstance(p, AnthropicProvider)
    if sleeper is not None:
        p._sleep = sleeper
    return p


async def collect(p, req):
    return [event async for event in p.stream(req)]


async def test_stream_with_cache_usage_and_cost(anthropic_server):
    anthropic_server.queue(anthropic_stream("Fixed: src/app.py:12 raised KeyError.", input_tokens=40,
                                            output_tokens=12, cache_read=3000, cache_write=500, piece=6))  # fmt: skip
    req = ChatRequest(messages=[ChatMessage("user", "what broke?")], system="You are terse.", model="claude-sonnet-4-5")
    events = await collect(provider(anthropic_server), req)

    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 1 and "".join(deltas) == "Fixed: src/app.py:12 raised KeyError."
    final = events[-1]
    assert isinstance(final, Completion)
    assert final.model == "claude-sonnet-4-5-20250929" and final.stop_reason == "end_turn"
    u = final.usage
    assert (u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_write_tokens, u.reported) == (40, 12, 3000, 500, True)
    assert u.cost_usd == pytest.approx((40 * 3 + 12 * 15 + 3000 * 0.30 + 500 * 3.75) / 1e6)

    sent = anthropic_server.requests[0]
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == KEY and sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.body == {
        "model": "claude-sonnet-4-5",
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": "what broke?"}],
        "stream": True,
        "system": [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
    }


async def test_assembled_context_is_made_valid_for_the_api(anthropic_server):
    # system turns, consecutive same-role turns, tool output and an assistant first turn
    req = ChatRequest(
        messages=[
            ChatMessage("assistant", "Earlier summary: the build failed."),
            ChatMessage("system", "Pinned: never edit generated files."),
            ChatMessage("user", "run the tests"),
            ChatMessage("tool", "$ pytest\nFAILED tests/test_x.py::test_y"),
            ChatMessage("user", "fix it"),
        ],
        system="Base prompt.",
        max_output_tokens=300,
    )
    final = await provider(anthropic_server, prompt_caching=False).complete(req)
    assert final.text.startswith("Answer 1")  # the fake accepts only what the real API accepts
    body = anthropic_server.requests[0].body
    assert body["system"] == [{"type": "text", "text": "Base prompt.\n\nPinned: never edit generated files."}]
    assert body["max_tokens"] == 300
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][2]["content"] == "run the tests\n\n$ pytest\nFAILED tests/test_x.py::test_y\n\nfix it"


async def test_cached_system_prompt_is_read_from_cache_on_the_next_turn(anthropic_server):
    p = provider(anthropic_server)
    req = ChatRequest(messages=[ChatMessage("user", "one")], system="Long stable instructions. " * 50)
    first = await p.complete(req)
    second = await p.complete(req)
    assert first.usage.cache_write_tokens > 0 and first.usage.cache_read_tokens == 0
    assert second.usage.cache_read_tokens == first.usage.cache_write_tokens
    assert second.usage.cost_usd < first.usage.cost_usd


async def test_529_overloaded_and_429_honour_retry_after(anthropic_server, sleeper):
    anthropic_server.queue(
        anthropic_error(529, "overloaded_error", "Overloaded", retry_after="3"),
        anthropic_error(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit",
                        retry_after="11"),
    )
    events = await collect(provider(anthropic_server, sleeper), ChatRequest(messages=[ChatMessage("user", "hi")]))
    assert sleeper.waits == [3.0, 11.0]
    assert [type(e) for e in events if not isinstance(e, TextDelta)] == [Notice, Notice, Completion]
    assert len(anthropic_server.requests) == 3


async def test_error_event_mid_stream(anthropic_server):
    anthropic_server.queue(anthropic_stream("a long answer that breaks", error_after=2))
    with pytest.raises(ProviderError, match=r"Overloaded \(overloaded_error\)"):
        await provider(anthropic_server).complete(ChatRequest(messages=[ChatMessage("user", "hi")]))


async def test_stream_cut_before_message_stop_is_an_error(anthropic_server):
    reply = anthropic_stream("cut short")
    reply.chunks = reply.chunks[:-1]
    with pytest.raises(ProviderError, match="ended before message_stop"):
        anthropic_server.queue(reply)
        await provider(anthropic_server).complete(ChatRequest(messages=[ChatMessage("user", "hi")]))


async def test_invalid_request_shows_the_api_message(anthropic_server):
    anthropic_server.queue(anthropic_error(400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"))
    with pytest.raises(ProviderError) as err:
        await provider(anthropic_server).complete(ChatRequest(messages=[ChatMessage("user", "hi")]))
    assert "HTTP 400" in str(err.value) and "prompt is too long" in str(err.value) and "--max-tokens" in str(err.value)


async def test_wrong_key_names_the_env_var_and_hides_the_key(anthropic_server):
    with pytest.raises(ProviderError) as err:
        await provider(anthropic_server, key="sk-ant-wrong-secret").complete(ChatRequest(messages=[ChatMessage("user", "x")]))
    assert "HTTP 401" in str(err.value) and "ANTHROPIC_API_KEY" in str(err.value)
    assert "sk-ant-wrong-secret" not in str(err.value)


async def test_missing_key_fails_before_sending(anthropic_server):
    with pytest.raises(ProviderError, match="no API key; set ANTHROPIC_API_KEY"):
        await provider(anthropic_server, key=None).complete(ChatRequest(messages=[ChatMessage("user", "x")]))
    assert anthropic_server.requests == []


async def test_key_from_a_named_env_var(anthropic_server):
    p = get_provider("anthropic", {"base_url": anthropic_server.url, "api_key_env": "WORK_ANTHROPIC_KEY"},
                     env={"WORK_ANTHROPIC_KEY": KEY})  # fmt: skip
    assert (await p.complete(ChatRequest(messages=[ChatMessage("user", "x")]))).text.startswith("Answer 1")
