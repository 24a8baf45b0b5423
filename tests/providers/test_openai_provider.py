from __future__ import annotations

import pytest

from ai_session.core.errors import ProviderError
from ai_session.core.providers import (
    ChatMessage,
    ChatRequest,
    Completion,
    Notice,
    OpenAIProvider,
    TextDelta,
    get_provider,
)
from tests.providers.fakes import FakeOpenAIServer, Reply, openai_error, openai_stream

KEY = "sk-test-0123456789abcdef"


def provider(server: FakeOpenAIServer, sleeper=None, key: str | None = KEY, **settings) -> OpenAIProvider:
    env = {"OPENAI_API_KEY": key} if key else {}
    p = get_provider("openai", {"base_url": server.base_url, **settings}, env=env)
    assert isinstance(p, OpenAIProvider)
    if sleeper is not None:
        p._sleep = sleeper
    return p


def request(*texts: str, **kw) -> ChatRequest:
    roles = ["user", "assistant"]
    return ChatRequest(messages=[ChatMessage(roles[i % 2], t) for i, t in enumerate(texts)], **kw)


async def collect(p, req):
    return [event async for event in p.stream(req)]


async def test_streams_deltas_then_completion_with_reported_usage_and_cost(openai_server, sleeper):
    openai_server.queue(openai_stream("The failing test is test_parse.", model="gpt-4o-mini-2024-07-18",
                                      prompt_tokens=1200, completion_tokens=8, cached_tokens=1024, piece=5))
    p = provider(openai_server, sleeper)
    events = await collect(p, request("Which test fails?", system="Be brief.", model="gpt-4o-mini", max_output_tokens=256))

    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 1 and "".join(deltas) == "The failing test is test_parse."
    final = events[-1]
    assert isinstance(final, Completion) and final.text == "The failing test is test_parse."
    assert final.model == "gpt-4o-mini-2024-07-18" and final.stop_reason == "stop"
    # cached prompt tokens are split out of input_tokens
    assert (final.usage.input_tokens, final.usage.cache_read_tokens, final.usage.output_tokens) == (176, 1024, 8)
    assert final.usage.reported
    assert final.usage.cost_usd == pytest.approx((176 * 0.15 + 1024 * 0.075 + 8 * 0.60) / 1e6)

    sent = openai_server.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.body == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Which test fails?"}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": 256,
    }


async def test_default_responder_multi_turn_records_every_body(openai_server):
    p = provider(openai_server)
    history: list[str] = []
    for turn in range(1, 4):
        history.append(f"question {turn}")
        final = await p.complete(request(*history))
        assert final.text.startswith(f"Answer {turn}:")
        assert final.usage.input_tokens > 0 and final.usage.reported
        history.append(final.text)
    bodies = [r.body for r in openai_server.requests]
    assert [len(b["messages"]) for b in bodies] == [1, 3, 5]
    assert bodies[2]["messages"][1]["content"].startswith("Answer 1:")


async def test_server_without_usage_gets_our_count_marked_unreported(openai_server):
    openai_server.queue(openai_stream("four tokens here ok", model="llama3.1:8b", include_usage=False))
    final = await provider(openai_server).complete(request("count me", model="llama3.1:8b"))
    assert final.text == "four tokens here ok"
    assert not final.usage.reported
    assert final.usage.input_tokens > 0 and final.usage.output_tokens > 0
    assert final.usage.cost_usd == 0  # a local model has no price


async def test_settings_can_turn_usage_request_off_and_rename_max_tokens(openai_server):
    p = provider(openai_server, include_usage=False, max_tokens_param="max_completion_tokens")
    await p.complete(request("hi", max_output_tokens=50))
    body = openai_server.requests[0].body
    assert "stream_options" not in body and body["max_completion_tokens"] == 50 and "max_tokens" not in body


async def test_local_server_needs_no_key_and_gets_no_authorization_header():
    with FakeOpenAIServer() as server:
        final = await provider(server, key=None).complete(request("hello"))
        assert final.text.startswith("Answer 1")
        assert "authorization" not in server.requests[0].headers


async def test_tool_output_is_sent_as_user_text(openai_server):
    req = ChatRequest(messages=[ChatMessage("user", "run tests"), ChatMessage("tool", "$ pytest\n1 failed"),
                                ChatMessage("user", "why?")])  # fmt: skip
    await provider(openai_server).complete(req)
    roles = [m["role"] for m in openai_server.requests[0].body["messages"]]
    assert roles == ["user", "user", "user"]


async def test_429_with_retry_after_is_honoured_then_succeeds(openai_server, sleeper):
    openai_server.queue(
        openai_error(429, "Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3.", "requests",
                     "rate_limit_exceeded", retry_after="7"),
        openai_error(503, "The server is overloaded or not ready yet.", "server_error", retry_after_ms="1500"),
    )
    events = await collect(provider(openai_server, sleeper), request("hi"))
    assert sleeper.waits == [7.0, 1.5]
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert len(notices) == 2 and "429" in notices[0] and "7s" in notices[0]
    assert isinstance(events[-1], Completion) and events[-1].text.startswith("Answer 1")
    assert len(openai_server.requests) == 3
    assert events[-1].notices == tuple(notices)


async def test_retries_are_bounded_and_error_is_one_clear_line(openai_server, sleeper):
    openai_server.queue(*[openai_error(429, "Rate limit reached.", "requests", "rate_limit_exceeded", retry_after="1")] * 5)
    with pytest.raises(ProviderError) as err:
        await provider(openai_server, sleeper, max_retries=2).complete(request("hi"))
    message = str(err.value)
    assert "\n" not in message
    assert "HTTP 429" in message and "Rate limit reached." in message and "providers.openai.max_retries" in message
    assert sleeper.waits == [1.0, 1.0] and len(openai_server.requests) == 3


async def test_retry_after_beyond_the_cap_fails_at_once(openai_server, sleeper):
    openai_server.queue(openai_error(429, "Try again in 20 minutes.", "tokens", "rate_limit_exceeded", retry_after="1200"))
    with pytest.raises(ProviderError, match="max_retry_wait"):
        await provider(openai_server, sleeper).complete(request("hi"))
    assert sleeper.waits == []


async def test_bad_key_error_names_the_setting_and_never_shows_the_key(openai_server):
    with pytest.raises(ProviderError) as err:
        await provider(openai_server, key="sk-wrong-key-that-is-secret").complete(request("hi"))
    message = str(err.value)
    assert "HTTP 401" in message and "Incorrect API key provided" in message and "OPENAI_API_KEY" in message
    assert "sk-wrong-key-that-is-secret" not in message  # the server echoed it; we redact


async def test_no_key_for_the_public_api_is_an_error_before_any_request():
    p = get_provider("openai", {}, env={})
    with pytest.raises(ProviderError, match="OPENAI_API_KEY"):
        await p.complete(request("hi"))


async def test_wrong_path_is_a_404_naming_base_url(openai_server):
    p = get_provider("openai", {"base_url": openai_server.url}, env={"OPENAI_API_KEY": KEY})  # missing /v1
    with pytest.raises(ProviderError, match=r"HTTP 404 .*providers\.openai\.base_url"):
        await p.complete(request("hi"))


async def test_error_in_the_middle_of_the_stream(openai_server):
    ok = openai_stream("partial answer")
    err = b'data: {"error":{"message":"CUDA out of memory","type":"server_error","code":500}}\n\n'
    openai_server.queue(Reply(200, ok.headers, [*ok.chunks[:2], err]))
    events = []
    with pytest.raises(ProviderError, match="CUDA out of memory"):
        async for event in provider(openai_server).stream(request("hi")):
            events.append(event)
    assert all(isinstance(e, TextDelta) for e in events)


async def test_stalled_stream_times_out_with_the_setting_to_raise(openai_server):
    openai_server.queue(Reply(200, {"content-type": "text/event-stream"}, openai_stream("never finishes").chunks,
                              stall_after=2))  # fmt: skip
    with pytest.raises(ProviderError, match=r"no data .* for 0\.3s; raise providers\.openai\.timeout"):
        await provider(openai_server, timeout=0.3).complete(request("hi"))


async def test_connection_refused_after_retries(sleeper):
    with FakeOpenAIServer() as server:
        base = server.base_url
    p = get_provider("openai", {"base_url": base, "max_retries": 1}, env={})
    p._sleep = sleeper
    with pytest.raises(ProviderError, match=r"cannot connect to .*base_url"):
        await p.complete(request("hi"))
    assert len(sleeper.waits) == 1


async def test_env_overrides_config_for_base_url_and_model(openai_server):
    p = get_provider("openai", {"base_url": "http://127.0.0.1:9/v1", "model": "from-config"},
                     env={"OPENAI_BASE_URL": openai_server.base_url, "OPENAI_API_KEY": KEY, "OPENAI_MODEL": "from-env"})
    await p.complete(request("hi"))
    assert openai_server.requests[0].body["model"] == "from-env"
