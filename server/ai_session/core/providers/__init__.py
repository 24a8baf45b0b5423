"""AI providers behind one streaming interface, and the price table for their usage.

    provider = get_provider("openai", config.sections.get("providers", {}).get("openai"),
                            prices=config.sections.get("prices"))
    async for event in provider.stream(ChatRequest(messages=[...], system=..., cwd=...)):
        ...  # TextDelta, Notice, then one Completion
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, get_args

from ai_session.core.errors import InvalidInput
from ai_session.core.models import ProviderName
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
from ai_session.core.providers.pricing import DEFAULT_PRICES, Price, PriceTable

if TYPE_CHECKING:
    from ai_session.core.providers.anthropic import AnthropicProvider
    from ai_session.core.providers.claude_code import ClaudeCodeProvider
    from ai_session.core.providers.openai import OpenAIProvider

# Imported when first used: the HTTP client stack costs every CLI command start-up time.
_IMPLEMENTATIONS: dict[ProviderName, tuple[str, str]] = {
    "claude": ("claude_code", "ClaudeCodeProvider"),
    "openai": ("openai", "OpenAIProvider"),
    "anthropic": ("anthropic", "AnthropicProvider"),
}
PROVIDERS: tuple[ProviderName, ...] = get_args(ProviderName)


def _implementation(module: str, cls: str) -> type[Provider]:
    implementation: type[Provider] = getattr(importlib.import_module(f"ai_session.core.providers.{module}"), cls)
    return implementation


def __getattr__(name: str) -> Any:
    for module, cls in _IMPLEMENTATIONS.values():
        if name == cls:
            return _implementation(module, cls)
    raise AttributeError(name)


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
    if name not in _IMPLEMENTATIONS:
        raise InvalidInput(f"unknown provider {name!r}; choose one of: {', '.join(PROVIDERS)}")
    table = prices if isinstance(prices, PriceTable) else PriceTable(prices)
    provider = _implementation(*_IMPLEMENTATIONS[name])
    configured: Provider = provider.from_config(settings, os.environ if env is None else env, table)  # type: ignore[attr-defined]
    return configured


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
