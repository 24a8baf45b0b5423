"""ask through a real provider client against a local OpenAI-compatible server."""

from __future__ import annotations

import asyncio

import pytest

from ai_session.core.accounting import MESSAGE_OVERHEAD
from ai_session.core.ask import AskResult
from ai_session.core.errors import Conflict, InvalidInput, ProviderError
from ai_session.core.models import MessageKind, Role
from ai_session.core.providers import Conversation, Notice, TextDelta
from ai_session.core.tokens import count_tokens
from tests.context.conftest import make_pytest_output, record_run
from tests.providers.fakes import openai_error


def run_ask(manager, ref, prompt, **options):
    async def go():
        events = [e async for e in manager.ask(ref, prompt, **options)]
        return events

    events = asyncio.run(go())
    assert isinstance(events[-1], AskResult)
    return events


def test_ask_streams_and_records_user_and_assistant_with_usage_and_cost(ask_manager, openai_server):
    s = ask_manager.create("a", provider="openai", model="gpt-4o-mini", system_prompt="Be brief.")
    events = run_ask(ask_manager, s.id, "Why does login fail?")
    deltas = "".join(e.text for e in events if isinstance(e, TextDelta))
    result = events[-1]
    assert deltas == result.completion.text and len([e for e in events if isinstance(e, TextDelta)]) > 1
    body = openai_server.requests[0].body
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert body["messages"][-1] == {"role": "user", "content": "Why does login fail?"}
    user, assistant = ask_manager.messages(s)[-2:]
    assert (user.role, user.content, user.tokens) == (Role.USER, "Why does login fail?", count_tokens("Why does login fail?"))
    assert assistant.role is Role.ASSISTANT and assistant.content == deltas
    assert assistant.usage.reported and assistant.usage.input_tokens > 0 and assistant.usage.cost_usd > 0
    # the fake reports prompt tokens as cl100k count + 4 per message: our count of what was sent
    assert assistant.usage.input_tokens == result.context.tokens
    assert assistant.metadata["model"] and assistant.metadata["context"]["tokens"] == result.context.tokens
    assert ask_manager.show(s.id).totals.cost_usd == pytest.approx(assistant.usage.cost_usd)


def test_commands_and_history_reach_the_provider_in_context_form(ask_manager, openai_server):
    s = ask_manager.create("b", provider="openai")
    raw, context = make_pytest_output(500, [("tests/test_auth.py::test_token_expiry", "assert 3600 == 60")])
    record_run(ask_manager, s, "pytest -v", raw, context, 1)
    run_ask(ask_manager, s.id, "Fix the failing test.")
    sent = openai_server.requests[0].body["messages"]
    tool = next(m for m in sent if "pytest -v" in m["content"])
    assert tool["role"] == "user"  # command output goes to chat APIs as user text
    assert "FAILED tests/test_auth.py::test_token_expiry - assert 3600 == 60" in tool["content"]
    assert "PASSED" not in tool["content"]


def test_provider_override_is_kept_when_the_session_had_none(ask_manager):
    s = ask_manager.create("c")
    with pytest.raises(InvalidInput, match="no provider"):
        run_ask(ask_manager, s.id, "hi")
    run_ask(ask_manager, s.id, "hi", provider="openai")
    assert ask_manager.resolve(s.id).provider == "openai"
    run_ask(ask_manager, s.id, "again")  # now from the session


def test_shared_session_tags_each_message_with_its_agent(ask_manager):
    s = ask_manager.create("shared", provider="openai")
    with pytest.raises(InvalidInput, match="--agent"):
        run_ask(ask_manager, s.id, "hi", shared=True)
    run_ask(ask_manager, s.id, "frontend here", agent="frontend", shared=True)
    run_ask(ask_manager, s.id, "backend here", agent="backend", shared=True)
    assert ask_manager.resolve(s.id).metadata["shared"] is True
    assert [m.agent for m in ask_manager.messages(s)] == ["frontend", "frontend", "backend", "backend"]


def test_context_window_sends_only_the_last_pairs(ask_manager, openai_server):
    s = ask_manager.create("w", provider="openai")
    for i in range(5):
        run_ask(ask_manager, s.id, f"question {i}")
    run_ask(ask_manager, s.id, "last one", context_window=2)
    sent = [m["content"] for m in openai_server.requests[-1].body["messages"]]
    assert sent[0] == "question 3" and sent[-1] == "last one" and len(sent) == 5


def test_rate_limit_notice_is_streamed_and_errors_record_nothing(ask_manager, openai_server):
    s = ask_manager.create("r", provider="openai")
    (ask_manager.config.sections.setdefault("providers", {})["openai"])["max_retries"] = 1
    openai_server.queue(openai_error(429, "Rate limit reached", "rate_limit_error", retry_after="0"))
    events = run_ask(ask_manager, s.id, "hello")
    assert any(isinstance(e, Notice) for e in events)
    openai_server.queue(openai_error(400, "bad request body", "invalid_request_error"))
    with pytest.raises(Exception, match="bad request body"):
        run_ask(ask_manager, s.id, "this one fails")
    assert [m.content for m in ask_manager.messages(s) if m.role is Role.USER] == ["hello"]


def test_ended_session_and_empty_prompt(ask_manager):
    s = ask_manager.create("e", provider="openai")
    with pytest.raises(InvalidInput, match="empty prompt"):
        run_ask(ask_manager, s.id, "   ")
    ask_manager.end(s.id)
    with pytest.raises(Conflict):
        run_ask(ask_manager, s.id, "hi")


def test_ask_compacts_automatically_when_uncovered_turns_would_be_dropped(ask_manager, openai_server):
    s = ask_manager.create("auto", provider="openai", max_tokens=600)
    ask_manager.add_message(s, "user", "No, never use print debugging in src/app.py; use the logger.")
    for i in range(30):
        ask_manager.add_message(s, "assistant", f"Working on step {i}. " + "words " * 30)
    result = run_ask(ask_manager, s.id, "continue")[-1]
    assert result.compaction is not None and result.compaction.summary.metadata["auto"] is True
    sent = openai_server.requests[-1].body["messages"]
    assert sum(count_tokens(m["content"]) + MESSAGE_OVERHEAD for m in sent) <= 600
    assert any("never use print debugging in src/app.py" in m["content"] for m in sent)
    assert any(m.kind is MessageKind.SUMMARY for m in ask_manager.messages(s))


def test_claude_conversation_is_stored_and_resumed(home, fake_claude, monkeypatch):
    from ai_session.core.config import Config
    from ai_session.core.manager import SessionManager

    m = SessionManager(Config.load())
    try:
        s = m.create("cc", provider="claude")
        raw, context = make_pytest_output(20, [("tests/test_x.py::test_y", "assert 1 == 2")])
        first = run_ask(m, s.id, "Start.")[-1]
        stored = m.resolve(s.id).provider_sessions
        assert len(stored) == 1 and Conversation.decode(stored[0]).id == first.completion.conversation.id
        record_run(m, m.resolve(s.id), "pytest", raw, context, 1)
        run_ask(m, s.id, "Now fix it.")
        assert m.resolve(s.id).provider_sessions == stored  # same conversation, resumed
        calls = fake_claude.calls()
        assert "--resume" in calls[-1]["argv"]
        turn = calls[-1].get("stdin") or " ".join(calls[-1]["argv"])
        assert "FAILED tests/test_x.py::test_y - assert 1 == 2" in turn and "Now fix it." in turn
    finally:
        m.close()


def test_a_failed_ask_in_a_session_made_for_it_leaves_no_session_behind(ask_manager, openai_server):
    async def ask_new(prompt: str) -> None:
        session = ask_manager.create(provider="openai")
        async for _ in ask_manager.ask(session, prompt, new_session=True):
            pass

    for attempt in range(4):
        openai_server.queue(openai_error(400, f"bad request {attempt}", "invalid_request_error"))
        with pytest.raises(ProviderError, match="bad request"):
            asyncio.run(ask_new("Start"))
    assert ask_manager.list() == [] and ask_manager.trash_list() == []
    asyncio.run(ask_new("Start"))  # one that succeeds keeps its session and both turns
    (kept,) = ask_manager.list()
    assert [m.role for m in ask_manager.messages(kept)] == [Role.USER, Role.ASSISTANT]
