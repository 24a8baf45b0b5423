from __future__ import annotations

import pytest

from ai_session.core.errors import InvalidInput
from ai_session.core.models import Usage
from ai_session.core.providers import (
    PROVIDERS,
    AnthropicProvider,
    ClaudeCodeProvider,
    Conversation,
    OpenAIProvider,
    Price,
    PriceTable,
    get_provider,
)
from ai_session.core.providers.http import error_detail, retry_delay


def test_longest_prefix_finds_the_model_family():
    table = PriceTable()
    assert table.lookup("claude-opus-4-5-20251101") == Price(5.0, 25.0, 0.50, 6.25)
    assert table.lookup("claude-opus-4-1-20250805") == Price(15.0, 75.0, 1.50, 18.75)
    assert table.lookup("gpt-4o-mini-2024-07-18").input == 0.15
    assert table.lookup("gpt-4o-2024-08-06").input == 2.50
    assert table.lookup("openai/gpt-4.1-mini").input == 0.40
    assert table.lookup("anthropic.claude-3-5-haiku-20241022-v1:0").output == 4.0
    assert table.lookup("llama3.1:8b") is None and table.lookup(None) is None


def test_cost_adds_the_four_token_kinds():
    usage = Usage(input_tokens=1_000_000, output_tokens=100_000, cache_read_tokens=2_000_000, cache_write_tokens=400_000)
    assert PriceTable().cost(usage, "claude-sonnet-4-5") == pytest.approx(3 + 1.5 + 0.6 + 1.5)
    assert PriceTable().cost(usage, "qwen2.5-coder:7b") == 0.0


def test_config_overrides_and_adds_models():
    table = PriceTable({"gpt-4o": {"input": 1, "output": 2}, "qwen2.5-coder": {"input": 0.1, "output": 0.2, "cache_read": 0.01}})
    assert table.lookup("gpt-4o-2024-11-20") == Price(1.0, 2.0)
    assert table.lookup("gpt-4o-mini").input == 0.15  # the longer built-in key still wins for mini
    usage = Usage(input_tokens=10_000_000, output_tokens=1_000_000)
    assert table.cost(usage, "Qwen2.5-Coder:32b") == pytest.approx(1.2)


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"m": {"input": 1}}, "input and output prices are required"),
        ({"m": {"input": 1, "output": -2}}, r"prices.m.output must be a non-negative number"),
        ({"m": {"input": 1, "output": 2, "cached": 1}}, "unknown key"),
        ({"m": 3}, "expected a table"),
    ],
)
def test_bad_price_config_is_a_clear_error(raw, message):
    with pytest.raises(InvalidInput, match=message):
        PriceTable(raw)


def test_provider_reported_cost_wins():
    usage = Usage(input_tokens=1000, output_tokens=1000, reported=True)
    assert PriceTable().priced(usage, "claude-sonnet-4-5", reported_cost=0.5).cost_usd == 0.5
    assert PriceTable().priced(usage, "claude-sonnet-4-5").cost_usd == pytest.approx(0.018)


def test_registry_builds_each_provider_and_rejects_unknowns():
    assert PROVIDERS == ("claude", "openai", "anthropic")
    assert isinstance(get_provider("claude", None, env={}), ClaudeCodeProvider)
    assert isinstance(get_provider("openai", None, env={}), OpenAIProvider)
    assert isinstance(get_provider("anthropic", None, env={}), AnthropicProvider)
    with pytest.raises(InvalidInput, match="unknown provider 'gemini'; choose one of: claude, openai, anthropic"):
        get_provider("gemini")
    with pytest.raises(InvalidInput, match=r"providers.openai: unknown setting\(s\) base-url"):
        get_provider("openai", {"base-url": "http://x"}, env={})
    with pytest.raises(InvalidInput, match=r"providers.anthropic.timeout must be a number"):
        get_provider("anthropic", {"timeout": "soon"}, env={})


def test_registry_passes_the_price_table():
    p = get_provider("openai", {}, prices={"gpt-4o-mini": {"input": 9, "output": 9}}, env={})
    assert isinstance(p, OpenAIProvider) and p.prices.lookup("gpt-4o-mini") == Price(9.0, 9.0)


def test_conversation_round_trips_through_the_session_field():
    conv = Conversation(id="5f0c0f0e-9a51-4a53-8f0b-6f1f4e0f9c11", cwd="/home/dev/repo")
    assert Conversation.decode(conv.encode()) == conv
    assert Conversation.decode("5f0c0f0e-9a51-4a53-8f0b-6f1f4e0f9c11") == Conversation(id=conv.id)


def test_retry_after_forms():
    assert retry_delay({"retry-after": "12"}, 0) == 12
    assert retry_delay({"retry-after-ms": "250", "retry-after": "12"}, 0) == 0.25
    assert retry_delay({"retry-after": "Wed, 21 Oct 2015 07:28:30 GMT"}, 0, now=1445412500.0) == 10.0
    assert [retry_delay({}, n) for n in range(6)] == [0.5, 1, 2, 4, 8, 8]


def test_error_detail_reads_every_body_shape():
    assert error_detail(b'{"error":{"message":"bad model","type":"invalid_request_error"}}') == "bad model (invalid_request_error)"
    assert error_detail(b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}') == "Overloaded (overloaded_error)"
    assert error_detail(b'{"error":"model \\"llama9\\" not found, try pulling it first"}') == 'model "llama9" not found, try pulling it first'
    assert error_detail(b"<html>\n<body>502 Bad Gateway</body></html>") == "<html> <body>502 Bad Gateway</body></html>"
