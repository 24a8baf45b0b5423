"""The definitions behind every "raw vs context" figure, in one place.

- A chat message costs its cl100k tokens plus `MESSAGE_OVERHEAD` (the role and framing
  tokens chat formats add); budgets and totals include it, so "under the budget" holds
  for what a chat endpoint actually counts.
- "Raw" for a command output is what an agent would have received without ai-session:
  the full output, but cut at the agent's own truncation limit (Claude Code keeps
  30,000 characters of a Bash result), so a 2 MB log does not count as 2 MB saved.
  The cap is the `[context] agent_output_cap` setting, in characters.
- Storage compression (zstd) never enters: every figure is a token count of text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ai_session.core.errors import InvalidInput
from ai_session.core.models import CommandRun

MESSAGE_OVERHEAD = 4
DEFAULT_AGENT_OUTPUT_CAP = 30_000  # characters, Claude Code's Bash tool limit


def agent_output_cap(sections: Mapping[str, Any] | None) -> int:
    """The configured cap (`[context] agent_output_cap`), validated."""
    raw = ((sections or {}).get("context") or {}).get("agent_output_cap", DEFAULT_AGENT_OUTPUT_CAP)
    if isinstance(raw, bool) or not isinstance(raw, int) or raw <= 0:
        raise InvalidInput(f"context.agent_output_cap must be a positive number of characters (got {raw!r})")
    return raw


def capped_raw_tokens(run: CommandRun, cap: int = DEFAULT_AGENT_OUTPUT_CAP) -> int:
    """Tokens of the run's raw output as far as an agent would have read it.

    Over the cap, the token count is scaled by cap/raw_bytes. Bytes are at least as many
    as characters, so this errs low: savings are never inflated by the estimate.
    A producer that knows the exact figure stores it as `metadata["raw_tokens_capped"]`.
    """
    exact = run.metadata.get("raw_tokens_capped")
    if isinstance(exact, int) and exact >= 0:
        return exact
    if run.raw_bytes > cap and run.raw_tokens:
        return min(run.raw_tokens, math.ceil(run.raw_tokens * cap / run.raw_bytes))
    return run.raw_tokens


def savings(raw: int, context: int) -> float:
    """1 − context/raw; 0 when there was nothing raw. Negative when context cost more."""
    return 1 - context / raw if raw else 0.0
