"""Context assembly: what is sent under the budget, per strategy, and the raw vs context counts."""

from __future__ import annotations

import pytest

from ai_session.core.accounting import MESSAGE_OVERHEAD, capped_raw_tokens
from ai_session.core.config import Config
from ai_session.core.context import assemble
from ai_session.core.errors import InvalidInput
from ai_session.core.manager import SessionManager
from ai_session.core.models import Message, MessageKind, Role
from ai_session.core.tokens import count_tokens
from tests.context.conftest import make_pytest_output, record_run


def _chat(manager: SessionManager, name: str, turns: int, **create: object):
    s = manager.create(name, **create)
    batch = []
    for i in range(1, turns + 1):
        batch.append(Message(role=Role.USER, content=f"Question {i}: what about src/mod{i}.py?"))
        batch.append(Message(role=Role.ASSISTANT, content=f"Answer {i}: src/mod{i}.py looks fine. " + "detail " * 30))
    manager.add_messages(s, batch)
    return s


def _sent_tokens(ctx) -> int:
    return sum(count_tokens(m.content) + MESSAGE_OVERHEAD for m in ctx.messages)


def test_sliding_sends_the_newest_turns_that_fit_and_reports_the_rest_as_dropped(manager):
    s = _chat(manager, "s", 40, system_prompt="You are terse.")
    ctx = manager.context(s.id, max_tokens=600, strategy="sliding")
    assert ctx.tokens <= 600 and _sent_tokens(ctx) == ctx.tokens
    assert ctx.messages[0].role == "system" and ctx.messages[0].content == "You are terse."
    recent = ctx.part("recent")
    assert recent.items == list(range(recent.items[0], 81))  # contiguous, ends with the newest
    assert recent.dropped == list(range(1, recent.items[0]))
    assert ctx.messages[-1].content.startswith("Answer 40:")
    assert not ctx.needs_compaction  # sliding never asks for a summary
    assert sum(p.tokens for p in ctx.parts) == ctx.tokens


def test_preserve_important_always_sends_pinned_items_and_decisions(manager):
    s = _chat(manager, "s", 40)
    manager.pin(s.id, 3)
    manager.add_message(s, "assistant", "Decision: we use SQLite WAL, not a server database.", kind="decision")
    _chat_more = [Message(role=Role.USER, content=f"later {i} " + "filler " * 40) for i in range(10)]
    manager.add_messages(s, _chat_more)
    sliding = manager.context(s.id, max_tokens=500, strategy="sliding")
    kept = manager.context(s.id, max_tokens=500, strategy="preserve_important")
    texts = [m.content for m in kept.messages]
    assert "Question 2: what about src/mod2.py?" in texts  # message #3 is the pinned one
    assert any(t.startswith("Decision: we use SQLite WAL") for t in texts)
    assert "Question 2: what about src/mod2.py?" not in [m.content for m in sliding.messages]
    assert kept.part("pinned").items == [3, 81]
    assert kept.tokens <= 500
    # In send order, seq order: the pinned turn comes before the recent ones.
    seqs = [i.seq for i in kept.items if i.seq is not None]
    assert seqs == sorted(seqs)


def test_summarize_sends_the_stored_summary_instead_of_the_turns_it_covers(manager):
    s = _chat(manager, "s", 40)
    manager.pin(s.id, 5)
    before = manager.context(s.id, max_tokens=800)
    assert before.needs_compaction and before.part("recent").dropped
    result = manager.compact(s.id, budget=800)
    assert result is not None and result.covers[0] == 1
    for strategy in ("summarize", "preserve_important"):
        ctx = manager.context(s.id, max_tokens=800, strategy=strategy)
        assert ctx.part("summary").items == [result.summary.seq]
        assert ctx.messages[0].content.startswith("[ai-session] Summary of messages 1–")
        covered = set(range(result.covers[0], result.covers[1] + 1))
        assert not covered & set(ctx.part("recent").items)
        assert not ctx.needs_compaction and ctx.part("recent").dropped == []
        assert ctx.tokens <= 800
    # Only preserve_important repeats a pinned turn that the summary covers.
    assert 5 in manager.context(s.id, max_tokens=800).part("pinned").items
    assert 5 not in [i.seq for i in manager.context(s.id, max_tokens=800, strategy="summarize").items]


def test_context_window_keeps_only_the_last_n_pairs(manager):
    s = _chat(manager, "s", 10)
    ctx = manager.context(s.id, max_tokens=4096, window=3)
    assert ctx.part("recent").items == [15, 16, 17, 18, 19, 20]
    assert ctx.part("recent").dropped == list(range(1, 15))
    assert "outside the 3-pair window" in ctx.part("recent").note
    assert not ctx.needs_compaction  # they fit; the window, not the budget, left them out


def test_new_prompt_is_last_and_counted(manager):
    s = _chat(manager, "s", 2, system_prompt="Be brief.")
    ctx = manager.context(s.id, prompt="And now the tests?")
    assert ctx.messages[-1].role == "user" and ctx.messages[-1].content == "And now the tests?"
    assert ctx.part("prompt").tokens == count_tokens("And now the tests?") + MESSAGE_OVERHEAD


def test_uses_cached_counts_without_tokenising_again(manager):
    s = _chat(manager, "s", 3)
    messages = [m.model_copy(update={"tokens": 7}) for m in manager.messages(s)]
    ctx = assemble(s, messages, max_tokens=4096)
    assert [i.tokens for i in ctx.items] == [7 + MESSAGE_OVERHEAD] * 6


def test_command_runs_go_in_their_context_form_and_raw_is_capped_at_the_agents_limit(manager):
    s = manager.create("s")
    raw, context = make_pytest_output(3000, [("tests/test_api.py::test_login", "assert 401 == 200")])
    run, message = record_run(manager, s, "pytest -v", raw, context, 1)
    assert len(raw) > 30_000
    ctx = manager.context(s.id)
    sent = ctx.messages[-1].content
    assert "FAILED tests/test_api.py::test_login - assert 401 == 200" in sent and "PASSED" not in sent
    acct = ctx.accounting
    assert acct.context_commands == message.tokens + MESSAGE_OVERHEAD
    capped = capped_raw_tokens(run)
    assert capped < run.raw_tokens  # the agent would have read 30,000 characters, not all of it
    assert capped <= run.raw_tokens * 30_000 / len(raw) + 1
    assert acct.raw_commands == capped + MESSAGE_OVERHEAD
    assert ctx.part("recent").compressed == 1


def test_agent_output_cap_is_a_setting(home, manager):
    (home.parent / "config.toml").write_text("[context]\nagent_output_cap = 10000\n")
    s = manager.create("s")
    raw, context = make_pytest_output(3000, [("tests/test_api.py::test_login", "assert 401 == 200")])
    run, _ = record_run(manager, s, "pytest -v", raw, context, 1)
    narrow = SessionManager(Config.load())
    try:
        assert narrow.context(s.id).accounting.raw_commands == capped_raw_tokens(run, 10_000) + MESSAGE_OVERHEAD
        (home.parent / "config.toml").write_text("[context]\nagent_output_cap = 'lots'\n")
        with pytest.raises(InvalidInput, match="agent_output_cap"):
            SessionManager(Config.load()).context(s.id)
    finally:
        narrow.close()


def test_raw_history_is_the_whole_history_and_context_what_is_sent(manager):
    s = _chat(manager, "s", 30, system_prompt="Sys.")
    ctx = manager.context(s.id, max_tokens=700)
    everything = sum(m.tokens + MESSAGE_OVERHEAD for m in manager.messages(s)) + count_tokens("Sys.") + MESSAGE_OVERHEAD
    assert ctx.accounting.raw_history == everything
    assert ctx.accounting.context_history == ctx.tokens == _sent_tokens(ctx)
    assert ctx.accounting.raw_commands == ctx.accounting.context_commands == 0


def test_bad_budget_strategy_and_window_are_clear_errors(manager):
    s = manager.create("s", system_prompt="word " * 200)
    with pytest.raises(InvalidInput, match="too small"):
        manager.context(s.id, max_tokens=50)
    with pytest.raises(InvalidInput, match="unknown context strategy"):
        manager.context(s.id, strategy="newest")
    with pytest.raises(InvalidInput, match="context-window"):
        manager.context(s.id, window=0)


def test_system_role_messages_from_a_template_are_always_sent(manager):
    s = manager.create("base")
    manager.add_message(s, "system", "Project rule: never edit generated files.", pinned=True)
    manager.save_template("base", "tpl")
    t = _chat(manager, "t", 30, template="tpl")
    ctx = manager.context(t.id, max_tokens=400, strategy="sliding")
    assert ctx.part("system").items == [1]
    assert ctx.messages[0].content == "Project rule: never edit generated files."
    assert all(m.kind is not MessageKind.SUMMARY for m in manager.messages(t))


def test_commands_a_person_typed_stay_out_of_the_context_unless_the_terminal_is_shared(manager):
    from ai_session.core.context import command_message
    from ai_session.core.models import CommandRun, RunStatus

    s = manager.create("s")
    agent_run = CommandRun(session_id=s.id, command="pytest -q", status=RunStatus.FINISHED, exit_code=1,
                           context="FAILED test_a.py::test_x\n[ai-session] exit 1", raw_tokens=900, context_tokens=20)
    typed_run = agent_run.model_copy(update={"id": "run_typed", "command": "cd src && pwd", "context": "/w/src",
                                             "raw_tokens": 3, "context_tokens": 12, "metadata": {"origin": "typed"}})
    manager.add_messages(s, [command_message(agent_run), command_message(typed_run)])
    private = manager.context(s.id)
    assert [i.content.splitlines()[0] for i in private.items] == ["$ pytest -q"]
    assert private.accounting.raw_commands < 900 + 50  # the typed run is not counted on either side
    shared = manager.context(manager.share_terminal(s.id, True).id)
    assert [i.content.splitlines()[0] for i in shared.items] == ["$ pytest -q", "$ cd src && pwd"]
    assert shared.accounting.raw_commands > private.accounting.raw_commands
    history = manager.show(s.id, history=True).messages
    assert history[-1].metadata["origin"] == "typed"  # kept in the history, as the person's


def test_a_name_is_checked_by_one_rule_for_create_and_rename(manager):
    manager.create("taken")
    assert manager.name_problem("café") is None and manager.name_problem("東京-1") is None
    assert "already exists" in manager.name_problem("taken")
    assert manager.name_problem("taken", renaming="taken") is None
    for bad in ("my session", "✨", "_x", "a\n"):
        assert "not a valid session name" in manager.name_problem(bad), bad
