"""What a session's model calls cost: in total, per model, and per interaction.

An interaction is one answer recorded by `ask` (a user turn and the assistant's reply).
Figures come from the usage stored on each answer: the provider's report when it gave
one, else our own tiktoken count (see core/providers); cost is priced when the model has
a price.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ai_session.core.models import Message, MessageKind, Role


@dataclass
class ModelUsage:
    model: str
    interactions: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


@dataclass
class SessionUsage:
    interactions: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    by_model: list[ModelUsage] = field(default_factory=list)

    @property
    def tokens_per_interaction(self) -> float | None:
        """Mean input + output tokens of one interaction; undefined before the first."""
        return (self.input_tokens + self.output_tokens) / self.interactions if self.interactions else None

    def as_dict(self) -> dict[str, object]:
        return {
            "interactions": self.interactions,
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "tokensPerInteraction": self.tokens_per_interaction,
            "costUsd": round(self.cost_usd, 6),
            "byModel": [{"model": m.model, "interactions": m.interactions, "inputTokens": m.input_tokens,
                         "outputTokens": m.output_tokens, "costUsd": round(m.cost_usd, 6)} for m in self.by_model],
        }  # fmt: skip


def summarize_usage(messages: Iterable[Message]) -> SessionUsage:
    total = SessionUsage()
    models: dict[str, ModelUsage] = {}
    for m in messages:
        if m.role is not Role.ASSISTANT or m.kind is not MessageKind.CHAT or m.usage is None:
            continue
        name = str(m.metadata.get("model") or m.metadata.get("provider") or "unknown model")
        row = models.setdefault(name, ModelUsage(name))
        for target in (row, total):
            target.interactions += 1
            target.input_tokens += m.usage.input_tokens
            target.output_tokens += m.usage.output_tokens
            target.cost_usd += m.usage.cost_usd
    total.by_model = sorted(models.values(), key=lambda r: (-r.cost_usd, r.model))
    return total
