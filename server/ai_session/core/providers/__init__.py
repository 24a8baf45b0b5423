"""AI providers behind one streaming interface, and the price table for their usage.

    provider = get_provider("openai", config.sections.get("providers", {}).get("openai"),
                            prices=config.sections.get("prices"))
    async for event in provider.stream(ChatRequest(messages=[...], system=..., cwd=...)):
        ...  # TextDelta, Notice, then one Completion
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from ai_session.core.errors import InvalidInput
from ai_session.core.providers.anthropic import AnthropicProvider
from ai_session.core.providers.base import (
    ChatMessage,
    ChatRequest,
    Completion,
    Conversation,
    Notice,
    Provider,
    StreamEvent,
    TextDelta,
)
from ai_session.core.providers.claude_code import ClaudeCodeProvider
from ai_session.core.providers.openai import OpenAIProvider
from ai_session.core.providers.pricing import DEFAULT_PRICES, Price, PriceTable

_FACTORIES: dict[str, Callable[[Mapping[str, Any] | None, Mapping[str, str], PriceTable], Provider]] = {
    "claude": ClaudeCodeProvider.from_config,
    "openai": OpenAIProvider.from_config,
    "anthropic": AnthropicProvider.from_config,
}
PROVIDERS = tuple(_FACTORIES)


def get_provider(
    name: str,
    settings: Mapping[str, Any] | None = None,
    *,
    prices: Mapping[str, Any] | PriceTable | None = None,
    env: Mapping[str, str] | None = None,
) -> Provider:
    """The provider `name` configured from its `[providers.<name>]` table and the environment.

    `prices` is the config's `[prices]` table (overrides of the built-in price list).
    """
    factory = _FACTORIES.get(name)
    if factory is None:
        raise InvalidInput(f"unknown provider {name!r}; choose one of: {', '.join(PROVIDERS)}")
    table = prices if isinstance(prices, PriceTable) else PriceTable(prices)
    return factory(settings, os.environ if env is None else env, table)


__all__ = [
    "DEFAULT_PRICES",
    "PROVIDERS",
    "AnthropicProvider",
    "ChatMessage",
    "ChatRequest",
    "ClaudeCodeProvider",
    "Completion",
    "Conversation",
    "Notice",
    "OpenAIProvider",
    "Price",
    "PriceTable",
    "Provider",
    "StreamEvent",
    "TextDelta",
    "get_provider",
]
