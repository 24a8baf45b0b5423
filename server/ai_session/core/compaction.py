"""Stored, auditable, non-destructive history compaction.

A compaction writes one new message of kind SUMMARY whose `covers` is the seq range it
stands for (from the first message to the cut). Nothing is deleted or rewritten: the
originals stay in the store, `show --history` still lists them, and `summary SESSION SEQ`
shows a summary beside the messages it covers. Context assembly sends the newest summary
chain instead of the covered turns.

The newest summary in force is fed back into the next compaction, and the summarizer
re-reads its items (core/summarize.py), so compacting again replaces it with one summary
of bounded size instead of stacking summaries.

What to cover: every uncovered turn except the most recent ones, which stay verbatim. By
default the kept tail is what fits in half the session's budget; `keep_last` overrides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ai_session.core.context import active_summaries, message_cost
from ai_session.core.errors import InvalidInput
from ai_session.core.models import CommandRun, Message, MessageKind, Role
from ai_session.core.providers.base import Provider
from ai_session.core.summarize import DEFAULT_SUMMARY_TOKENS, Summary, summarize_extractive, summarize_with_model

Method = Literal["extractive", "model"]
METHODS = ("extractive", "model")


@dataclass
class CompactionPlan:
    inputs: list[Message]  # the summary in force (if any), then the turns to cover
    new_turns: list[Message]  # the turns not covered before
    kept: int  # turns left verbatim after the cut


@dataclass
class CompactionResult:
    summary: Message  # the stored summary message
    method: str
    covers: tuple[int, int]
    covered_messages: int  # turns newly covered by this compaction
    covered_tokens: int  # their tokens (plus the earlier summary it replaces)
    summary_tokens: int
    omitted: int  # items the summary left out to fit (their originals remain)
    kept: int

    def as_dict(self) -> dict[str, object]:
        return {
            "summarySeq": self.summary.seq,
            "method": self.method,
            "covers": list(self.covers),
            "coveredMessages": self.covered_messages,
            "coveredTokens": self.covered_tokens,
            "summaryTokens": self.summary_tokens,
            "omitted": self.omitted,
            "kept": self.kept,
        }


def plan(messages: Sequence[Message], budget: int, *, keep_last: int | None = None) -> CompactionPlan | None:
    """What a compaction of `messages` (oldest first) would summarize; None when nothing."""
    if keep_last is not None and keep_last < 0:
        raise InvalidInput(f"--keep-last must be zero or more (got {keep_last})")
    summaries = active_summaries(messages)
    until = max((s.covers[1] for s in summaries if s.covers), default=0)
    uncovered = [
        m for m in messages if m.kind != MessageKind.SUMMARY and m.role != Role.SYSTEM and m.seq > until
    ]
    if keep_last is None:
        # Keep verbatim what fits in half the budget: room for summary, pinned items and the answer.
        room, keep_last = budget // 2, 0
        for m in reversed(uncovered):
            room -= message_cost(m)
            if room < 0:
                break
            keep_last += 1
    cut = len(uncovered) - keep_last
    if cut <= 0:
        return None
    return CompactionPlan(inputs=[*summaries, *uncovered[:cut]], new_turns=uncovered[:cut], kept=keep_last)


async def summarize_plan(
    the_plan: CompactionPlan,
    *,
    runs: Mapping[str, CommandRun],
    max_tokens: int = DEFAULT_SUMMARY_TOKENS,
    method: Method = "extractive",
    provider: Provider | None = None,
    model: str | None = None,
    cwd: str | None = None,
) -> Summary:
    if method not in METHODS:
        raise InvalidInput(f"unknown summary method {method!r}; choose extractive or model")
    if method == "model":
        if provider is None:
            raise InvalidInput("a model-written summary needs a provider: set one on the session or pass --provider")
        return await summarize_with_model(the_plan.inputs, provider, runs=runs, max_tokens=max_tokens, model=model, cwd=cwd)
    return summarize_extractive(the_plan.inputs, runs=runs, max_tokens=max_tokens, model=model)


def summary_message(summary: Summary, the_plan: CompactionPlan, *, auto: bool = False) -> Message:
    covered_tokens = sum(m.tokens or 0 for m in the_plan.inputs)
    return Message(
        role=Role.SYSTEM,
        kind=MessageKind.SUMMARY,
        content=summary.text,
        covers=summary.covers,
        usage=summary.usage,
        metadata={
            "method": summary.method,
            "omitted": summary.omitted,
            "covered_messages": len(the_plan.new_turns),
            "covered_tokens": covered_tokens,
            "replaces": [m.seq for m in the_plan.inputs if m.kind == MessageKind.SUMMARY],
            "auto": auto,
        },
    )


def default_summary_tokens(budget: int) -> int:
    """A summary gets at most a quarter of the budget (and at most 800 tokens)."""
    return max(64, min(DEFAULT_SUMMARY_TOKENS, budget // 4))
