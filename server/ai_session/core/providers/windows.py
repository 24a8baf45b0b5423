"""How many tokens a model reads at most (its context window), for `ask --context-window 0`.

A model name matches the longest table key it starts with, as prices do. Models the table
does not know (local Ollama/llama.cpp models) get theirs from config:

    [context_windows]
    "qwen2.5-coder:7b" = 32768
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ai_session.core.errors import InvalidInput

# Published context windows at the time of writing; config overrides any of them.
DEFAULT_WINDOWS: dict[str, int] = {
    "claude-": 200_000,
    "gpt-5": 400_000,
    "gpt-4.1": 1_047_576,
    "gpt-4o": 128_000,
    "o3": 200_000,
    "o4-mini": 200_000,
}
# A provider whose every model has one window, for when the model is left to it (Claude Code's default).
PROVIDER_WINDOWS: dict[str, int] = {"claude": 200_000}
# What `ask --context-window 0` leaves free for the answer.
ANSWER_RESERVE = 4096


def context_window(model: str | None, configured: Mapping[str, Any] | None = None,
                   provider: str | None = None) -> int | None:  # fmt: skip
    """The model's window in tokens, or None when neither config nor the table knows it."""
    table: dict[str, int] = dict(DEFAULT_WINDOWS)
    for name, size in (configured or {}).items():
        if isinstance(size, bool) or not isinstance(size, int) or size <= ANSWER_RESERVE:
            raise InvalidInput(f"context_windows.{name} must be a whole number of tokens above {ANSWER_RESERVE} "
                               f"(got {size!r})")  # fmt: skip
        table[name] = size
    if not model:
        return PROVIDER_WINDOWS.get(provider or "")
    key = max((k for k in table if model == k or model.startswith(k)), key=len, default=None)
    return table[key] if key else None


def whole_history_budget(model: str | None, configured: Mapping[str, Any] | None = None,
                         provider: str | None = None) -> int:  # fmt: skip
    """The budget of a context that may hold the whole history: the model's window less room to answer."""
    window = context_window(model, configured, provider)
    if window is None:
        raise InvalidInput(
            f"--context-window 0 sends the whole history up to the model's own context window, and the window of "
            f"{model or 'the default model'} is not known: set it in the config file, e.g. "
            f"[context_windows] \"{model or 'MODEL'}\" = 32768"
        )
    return window - ANSWER_RESERVE
