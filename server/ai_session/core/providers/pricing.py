"""What an answer cost: a price table per model, overridable from config.

Prices are USD per million tokens. A model name matches the longest table key it starts
with, so dated names (`claude-sonnet-4-5-20250929`, `gpt-4o-2024-08-06`) find their
family. Models the table does not know (local Ollama/llama.cpp models) cost 0. When a
provider reports the cost itself (Claude Code's `total_cost_usd`), that figure wins.

Config shape (the `[prices]` section):

    [prices."my-model"]
    input = 0.5
    output = 1.5
    cache_read = 0.05
    cache_write = 0.6
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ai_session.core.errors import InvalidInput
from ai_session.core.models import Usage

PER = 1_000_000


@dataclass(frozen=True)
class Price:
    input: float
    output: float
    cache_read: float = 0.0
    cache_write: float = 0.0


# Public list prices at the time of writing; config overrides any of them.
DEFAULT_PRICES: dict[str, Price] = {
    # Anthropic: cache write is 1.25x input (5-minute cache), cache read 0.1x input.
    "claude-opus-4-5": Price(5.0, 25.0, 0.50, 6.25),
    "claude-opus-4": Price(15.0, 75.0, 1.50, 18.75),
    "claude-sonnet-4": Price(3.0, 15.0, 0.30, 3.75),
    "claude-3-7-sonnet": Price(3.0, 15.0, 0.30, 3.75),
    "claude-3-5-sonnet": Price(3.0, 15.0, 0.30, 3.75),
    "claude-haiku-4-5": Price(1.0, 5.0, 0.10, 1.25),
    "claude-3-5-haiku": Price(0.80, 4.0, 0.08, 1.0),
    "claude-3-haiku": Price(0.25, 1.25, 0.03, 0.30),
    "claude-3-opus": Price(15.0, 75.0, 1.50, 18.75),
    # OpenAI: cached input is discounted, there is no separate cache-write charge.
    "gpt-5": Price(1.25, 10.0, 0.125),
    "gpt-5-mini": Price(0.25, 2.0, 0.025),
    "gpt-5-nano": Price(0.05, 0.40, 0.005),
    "gpt-4.1": Price(2.0, 8.0, 0.50),
    "gpt-4.1-mini": Price(0.40, 1.60, 0.10),
    "gpt-4.1-nano": Price(0.10, 0.40, 0.025),
    "gpt-4o": Price(2.50, 10.0, 1.25),
    "gpt-4o-mini": Price(0.15, 0.60, 0.075),
    "o3": Price(2.0, 8.0, 0.50),
    "o3-mini": Price(1.10, 4.40, 0.55),
    "o4-mini": Price(1.10, 4.40, 0.275),
}

_FIELDS = ("input", "output", "cache_read", "cache_write")


def _parse_price(model: str, raw: Any) -> Price:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"prices.{model}: expected a table with {', '.join(_FIELDS)} (got {raw!r})")
    unknown = set(raw) - set(_FIELDS)
    if unknown:
        raise InvalidInput(f"prices.{model}: unknown key(s) {', '.join(sorted(unknown))}; use {', '.join(_FIELDS)}")
    values: dict[str, float] = {}
    for name in _FIELDS:
        value = raw.get(name, 0.0)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise InvalidInput(f"prices.{model}.{name} must be a non-negative number (got {value!r})")
        values[name] = float(value)
    if "input" not in raw or "output" not in raw:
        raise InvalidInput(f"prices.{model}: input and output prices are required")
    return Price(**values)


class PriceTable:
    def __init__(self, overrides: Mapping[str, Any] | None = None, *, defaults: bool = True) -> None:
        self._prices: dict[str, Price] = dict(DEFAULT_PRICES) if defaults else {}
        for model, raw in (overrides or {}).items():
            self._prices[str(model).lower()] = raw if isinstance(raw, Price) else _parse_price(str(model), raw)

    def lookup(self, model: str | None) -> Price | None:
        if not model:
            return None
        name = model.lower()
        # "openai/gpt-4o" (routers) and "anthropic.claude-..." (cloud ids) name the same model.
        candidates = [name, name.rsplit("/", 1)[-1]]
        vendor, _, rest = name.partition(".")
        if rest and vendor.isalpha():
            candidates.append(rest)
        for candidate in candidates:
            if candidate in self._prices:
                return self._prices[candidate]
            best = max((key for key in self._prices if candidate.startswith(key)), key=len, default="")
            if best:
                return self._prices[best]
        return None

    def cost(self, usage: Usage, model: str | None) -> float:
        price = self.lookup(model)
        if price is None:
            return 0.0
        return (
            usage.input_tokens * price.input
            + usage.output_tokens * price.output
            + usage.cache_read_tokens * price.cache_read
            + usage.cache_write_tokens * price.cache_write
        ) / PER

    def priced(self, usage: Usage, model: str | None, reported_cost: float | None = None) -> Usage:
        """`usage` with `cost_usd` filled: the provider's own figure when it gave one."""
        cost = reported_cost if reported_cost is not None else self.cost(usage, model)
        return usage.model_copy(update={"cost_usd": round(cost, 8)})
