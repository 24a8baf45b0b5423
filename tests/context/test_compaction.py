"""Compaction: stored as a summary message over a seq range, originals kept, facts never lost."""

from __future__ import annotations

import pytest

from ai_session.core.errors import Conflict, InvalidInput
from ai_session.core.models import Message, MessageKind, Role
from tests.context.conftest import make_pytest_output, record_run

CORRECTION = "No, don't mock the database in tests/test_store.py; use a real SQLite file in tmp_path."
DECISION = "Decided: we keep WAL mode and BEGIN IMMEDIATE for every write."
REJECTED = "We tried a global threading lock but it didn't work across processes."
FAILING = "tests/test_store.py::test_concurrent_writers"
ERROR = "sqlite3.OperationalError: database is locked"


def _filler(n: int, start: int = 0) -> list[Message]:
    out = []
    for i in range(start, start + n):
        out.append(Message(role=Role.USER, content=f"Next step {i}, please continue with the refactor."))
        out.append(Message(role=Role.ASSISTANT, content=f"Step {i} done. " + "Refactored helpers and docs. " * 12))
    return out


def _session_with_facts(manager):
    s = manager.create("facts", system_prompt="You are a coding agent.")
    manager.add_messages(s, [Message(role=Role.USER, content="Make the store safe for two writers.")])
    raw, context = make_pytest_output(400, [(FAILING, ERROR)])
    record_run(manager, s, "pytest tests/test_store.py", raw, context, 1)
    manager.add_messages(s, [
        Message(role=Role.ASSISTANT, content=f"The failure is `{ERROR}` in server/store/sqlite.py:120."),
        Message(role=Role.USER, content=CORRECTION),
        Message(role=Role.ASSISTANT, content=REJECTED),
        Message(role=Role.ASSISTANT, content=DECISION, kind=MessageKind.DECISION),
    ])  # fmt: skip
    manager.add_messages(s, _filler(40))
    return s


def test_compaction_is_a_new_summary_message_and_the_originals_stay(manager):
    s = _session_with_facts(manager)
    before = manager.messages(s)
    result = manager.compact(s.id)
    assert result is not None and result.method == "extractive"
    after = manager.messages(s)
    assert after[: len(before)] == before  # nothing rewritten or deleted
    summary = after[-1]
    assert summary.kind is MessageKind.SUMMARY and summary.covers == result.covers == (1, result.covers[1])
    assert summary.metadata["covered_messages"] == result.covered_messages
    shown, originals = manager.covered(s.id, summary.seq)
    assert shown == summary
    assert [m.seq for m in originals] == list(range(1, result.covers[1] + 1))
    with pytest.raises(InvalidInput, match="not a summary"):
        manager.covered(s.id, 1)


def test_compaction_keeps_corrections_decisions_rejections_paths_failing_tests_and_errors(manager):
    s = _session_with_facts(manager)
    result = manager.compact(s.id)
    text = result.summary.content
    for fact in (CORRECTION, DECISION, REJECTED, FAILING, ERROR, "server/store/sqlite.py:120",
                 "`pytest tests/test_store.py` → exit 1"):  # fmt: skip
        assert fact in text, fact
    # ... and they reach the model: the summary is in the context sent next.
    sent = "\n".join(m.content for m in manager.context(s.id).messages)
    for fact in (CORRECTION, FAILING, ERROR, REJECTED):
        assert fact in sent


def test_repeated_compaction_replaces_the_summary_and_stays_bounded(manager):
    s = _session_with_facts(manager)
    first = manager.compact(s.id, max_summary_tokens=300)
    sizes = [first.summary_tokens]
    for round_ in range(4):
        manager.add_messages(s, _filler(40, start=100 * (round_ + 1)))
        again = manager.compact(s.id, max_summary_tokens=300)
        assert again.covers[0] == 1 and again.covers[1] > first.covers[1]
        assert first.summary.seq in again.summary.metadata["replaces"]
        sizes.append(again.summary_tokens)
        first = again
    assert max(sizes) <= 300
    ctx = manager.context(s.id)
    assert ctx.part("summary").items == [first.summary.seq]  # one summary in force, not a stack
    assert CORRECTION in first.summary.content and FAILING in first.summary.content


def test_nothing_to_compact_and_ended_sessions(manager):
    s = manager.create("small")
    manager.add_message(s, "user", "hello")
    assert manager.compact(s.id) is None
    with pytest.raises(InvalidInput, match="keep-last"):
        manager.compact(s.id, keep_last=-1)
    manager.end(s.id)
    with pytest.raises(Conflict):
        manager.compact(s.id)


def test_keep_last_sets_the_cut(manager):
    s = manager.create("k")
    manager.add_messages(s, _filler(10))
    result = manager.compact(s.id, keep_last=4)
    assert result.covers == (1, 16) and result.kept == 4


def test_model_written_summary_through_the_sessions_provider(ask_manager, openai_server):
    m = ask_manager
    s = m.create("model-sum", provider="openai")
    raw, context = make_pytest_output(50, [(FAILING, ERROR)])
    m.add_messages(s, [Message(role=Role.USER, content=CORRECTION)])
    record_run(m, s, "pytest", raw, context, 1)
    m.add_messages(s, _filler(30))
    openai_server.answer = lambda turn, body: "User asks:\n- refactor the store\nCommands:\n- pytest → exit 1"
    result = m.compact(s.id, method="model")
    assert result.method == "model"
    prompt = openai_server.requests[-1].body["messages"]
    assert "every correction the user made" in prompt[0]["content"]
    # What the model left out is completed from the originals.
    assert FAILING in result.summary.content and CORRECTION in result.summary.content
    assert result.summary.usage is not None and result.summary.usage.input_tokens > 0


def test_model_summary_without_a_provider_is_a_clear_error(manager):
    s = manager.create("nop")
    manager.add_messages(s, _filler(30))
    with pytest.raises(InvalidInput, match="no provider"):
        manager.compact(s.id, method="model")
