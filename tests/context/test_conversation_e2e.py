"""A scripted 200-turn conversation with command runs, through the openai provider and a local server.

What the server receives must stay under the budget, carry the summary and the pinned item once
compaction has happened, and still contain every user correction and every failing test named earlier.
"""

from __future__ import annotations

import asyncio

from ai_session.core.accounting import MESSAGE_OVERHEAD
from ai_session.core.ask import AskResult
from ai_session.core.tokens import count_tokens
from tests.context.conftest import make_pytest_output, record_run

TURNS = 200
PINNED = "Pinned: the public API in src/api/v1.py must stay backwards compatible."


def _answer(turn: int, body: dict) -> str:
    return f"Turn {turn}: I looked at the code and made the change. " + "Explained the reasoning in detail. " * 25


def test_two_hundred_turns_stay_under_budget_and_keep_every_correction_and_failing_test(ask_manager, openai_server):
    m = ask_manager
    openai_server.answer = _answer
    session = m.create("long", provider="openai", model="gpt-4o-mini", system_prompt="You are a careful coding agent.")
    m.add_message(session, "user", PINNED, pinned=True)
    corrections: list[tuple[int, str]] = []  # (turn, text)
    failing: list[tuple[int, str]] = []
    results: list[AskResult] = []

    async def conversation() -> None:
        for turn in range(1, TURNS + 1):
            if turn % 20 == 10:  # a failing test run every 20 turns
                test = f"tests/test_feature_{turn}.py::test_edge_case_{turn}"
                raw, context = make_pytest_output(120, [(test, f"AssertionError: expected {turn} got {turn + 1}")])
                record_run(m, m.resolve(session.id), f"pytest tests/test_feature_{turn}.py", raw, context, 1)
                failing.append((turn, test))
            elif turn % 20 == 0:  # a passing one in between
                raw, context = make_pytest_output(80, [])
                record_run(m, m.resolve(session.id), "pytest -q", raw, context, 0)
            if turn % 25 == 5:
                prompt = f"No, don't use the global cache for module_{turn}; pass it explicitly instead."
                corrections.append((turn, prompt))
            else:
                prompt = f"Turn {turn}: please continue with the next step of the refactor of module_{turn}."
            async for event in m.ask(session.id, prompt):
                if isinstance(event, AskResult):
                    results.append(event)

    asyncio.run(conversation())
    requests = [r.body for r in openai_server.requests]
    assert len(requests) == TURNS
    compacted_at = min(i for i, r in enumerate(results) if r.compaction is not None)
    assert compacted_at > 0 and sum(r.compaction is not None for r in results) >= 2

    for index, body in enumerate(requests):
        turn = index + 1
        texts = [msg["content"] for msg in body["messages"]]
        sent = "\n".join(texts)
        assert sum(count_tokens(t) + MESSAGE_OVERHEAD for t in texts) <= session.max_tokens, f"turn {turn} over budget"
        assert PINNED in texts, f"turn {turn} lost the pinned item"
        if index >= compacted_at:
            assert "[ai-session] Summary of messages 1–" in sent, f"turn {turn} has no summary"
        for said_at, correction in corrections:
            if said_at < turn:
                assert correction in sent, f"turn {turn} lost the correction of turn {said_at}"
        for named_at, test in failing:
            if named_at <= turn:
                assert test in sent, f"turn {turn} lost the failing test of turn {named_at}"

    # The originals are all still stored: compaction added summaries, it removed nothing.
    stored = m.messages(session.id)
    assert sum(msg.role.value == "user" for msg in stored) == TURNS + 1
    assert sum(msg.kind.value == "command" for msg in stored) == 20
