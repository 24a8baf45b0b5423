from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from ai_session.core.errors import InvalidInput, ProviderError
from ai_session.core.providers import (
    ChatMessage,
    ChatRequest,
    ClaudeCodeProvider,
    Completion,
    Conversation,
    Notice,
    TextDelta,
    get_provider,
)
from ai_session.core.providers import claude_code


def claude(**settings) -> ClaudeCodeProvider:
    p = get_provider("claude", settings)
    assert isinstance(p, ClaudeCodeProvider)
    return p


def turn(text: str, cwd: Path, conversation: Conversation | None = None, history: list[ChatMessage] | None = None,
         **kw) -> ChatRequest:  # fmt: skip
    return ChatRequest(messages=[*(history or []), ChatMessage("user", text)], cwd=str(cwd), conversation=conversation, **kw)


def flag_value(argv: list[str], flag: str) -> str | None:
    return argv[argv.index(flag) + 1] if flag in argv else None


async def test_first_turn_names_the_conversation_and_later_turns_resume_it(fake_claude, tmp_path):
    work = tmp_path / "worktree"
    work.mkdir()
    p = claude()

    first = await p.complete(turn("list the failing tests", work, system="Session prompt."))
    conv = first.conversation
    assert conv is not None and conv.cwd == str(work)
    uuid.UUID(conv.id)  # a real uuid we chose
    assert first.text == f"Turn 1 of {conv.id[:8]}: list the failing tests"
    assert first.note is None

    second = await p.complete(turn("now fix them", work, conversation=conv))
    third = await p.complete(turn("and rerun", work, conversation=second.conversation))
    assert second.conversation == conv and third.conversation == conv
    assert third.text.startswith("Turn 3 of ")  # the CLI saw one continuous conversation

    calls = fake_claude.calls()
    assert len(calls) == 3
    first_argv = calls[0]["argv"]
    assert first_argv[:5] == ["-p", "--output-format", "stream-json", "--verbose", "--session-id"]
    assert flag_value(first_argv, "--session-id") == conv.id and "--resume" not in first_argv
    assert flag_value(first_argv, "--append-system-prompt") == "Session prompt."
    for call in calls[1:]:
        assert flag_value(call["argv"], "--resume") == conv.id
        assert "--session-id" not in call["argv"]
    for call in calls:
        assert "--continue" not in call["argv"] and "-c" not in call["argv"]
        assert call["cwd"] == str(work)
        assert call["argv"][-2] == "--"
    # on resume only the new turn is sent: the CLI holds the history
    assert calls[1]["argv"][-1] == "now fix them"
    assert [m["message"]["content"] for m in fake_claude.transcript(conv.id) if m["type"] == "user"] == [
        "list the failing tests", "now fix them", "and rerun"]  # fmt: skip


async def test_usage_cost_and_model_come_from_the_stream_json(fake_claude, tmp_path):
    first = await claude().complete(turn("hi", tmp_path))
    second = await claude().complete(turn("again", tmp_path, conversation=first.conversation))
    assert first.model == "claude-sonnet-4-5-20250929"
    u = second.usage
    assert (u.input_tokens, u.output_tokens, u.cache_write_tokens, u.cache_read_tokens) == (12, 9, 2048, 13000)
    assert u.reported and u.cost_usd == pytest.approx(0.0123)  # the CLI's own total_cost_usd wins


async def test_resume_runs_in_the_stored_cwd_not_the_current_one(fake_claude, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    first = await claude().complete(turn("start", a))
    # The session moved on (another cwd), but the conversation lives under a/.
    second = await claude().complete(turn("continue", b, conversation=first.conversation))
    assert second.note is None and second.conversation == first.conversation
    assert fake_claude.calls()[1]["cwd"] == str(a)


async def test_failed_resume_starts_fresh_with_the_assembled_context_and_says_so(fake_claude, tmp_path):
    lost = Conversation(id=str(uuid.uuid4()), cwd=str(tmp_path))
    history = [ChatMessage("user", "the build fails in src/app.py"), ChatMessage("assistant", "KeyError at line 12")]
    events = [e async for e in claude().stream(turn("fix it", tmp_path, conversation=lost, history=history))]

    notices = [e for e in events if isinstance(e, Notice)]
    final = events[-1]
    assert isinstance(final, Completion)
    assert len(notices) == 1 and lost.id in notices[0].message and "No conversation found" in notices[0].message
    assert final.note == notices[0].message and "started a new conversation" in final.note
    assert final.conversation is not None and final.conversation.id != lost.id

    resume_call, fresh_call = fake_claude.calls()
    assert flag_value(resume_call["argv"], "--resume") == lost.id
    assert flag_value(fresh_call["argv"], "--session-id") == final.conversation.id
    prompt = fresh_call["argv"][-1]
    assert "the build fails in src/app.py" in prompt and "KeyError at line 12" in prompt
    assert prompt.rstrip().endswith("fix it")
    # and the next turn resumes the new conversation
    nxt = await claude().complete(turn("thanks", tmp_path, conversation=final.conversation))
    assert nxt.note is None and flag_value(fake_claude.calls()[-1]["argv"], "--resume") == final.conversation.id


async def test_resume_whose_directory_is_gone_starts_fresh(fake_claude, tmp_path):
    gone = Conversation(id=str(uuid.uuid4()), cwd=str(tmp_path / "deleted-worktree"))
    final = await claude().complete(turn("hello", tmp_path, conversation=gone))
    assert final.note is not None and "deleted-worktree" in final.note
    assert len(fake_claude.calls()) == 1 and "--session-id" in fake_claude.calls()[0]["argv"]


async def test_cli_that_gives_a_resumed_conversation_a_new_id(fake_claude, tmp_path, monkeypatch):
    first = await claude().complete(turn("one", tmp_path))
    monkeypatch.setenv("FAKE_CLAUDE_MODE", "new_id_on_resume")
    second = await claude().complete(turn("two", tmp_path, conversation=first.conversation))
    assert second.conversation is not None and second.conversation.id != first.conversation.id
    assert second.note is None and second.text.startswith("Turn 2 of")


async def test_error_result_is_a_provider_error(fake_claude, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_CLAUDE_MODE", "error_result")
    with pytest.raises(ProviderError, match="Invalid API key"):
        await claude().complete(turn("hi", tmp_path))


async def test_error_on_resume_and_on_fresh_start_reports_both(fake_claude, tmp_path, monkeypatch):
    first = await claude().complete(turn("one", tmp_path))
    monkeypatch.setenv("FAKE_CLAUDE_MODE", "error_result")
    with pytest.raises(ProviderError, match=r"resume failed and a new conversation failed too: .*Invalid API key"):
        await claude().complete(turn("two", tmp_path, conversation=first.conversation))


async def test_partial_messages_stream_deltas_without_duplicating_text(fake_claude, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_CLAUDE_REPLY", "a streamed reply in small pieces")
    events = [e async for e in claude(partial_messages=True).stream(turn("hi", tmp_path))]
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 3 and "".join(deltas) == "a streamed reply in small pieces"
    assert events[-1].text == "a streamed reply in small pieces"
    assert "--include-partial-messages" in fake_claude.calls()[0]["argv"]


async def test_prompt_starting_with_a_dash_is_not_an_option(fake_claude, tmp_path):
    final = await claude().complete(turn("--help me read this diff", tmp_path))
    assert final.text.endswith("--help me read this diff")


async def test_huge_prompt_goes_through_stdin(fake_claude, tmp_path, monkeypatch):
    monkeypatch.setattr(claude_code, "ARGV_PROMPT_LIMIT", 1000)
    big = "line of context\n" * 200 + "the question"
    final = await claude().complete(turn(big, tmp_path))
    call = fake_claude.calls()[0]
    assert call["stdin"] == big and "--" not in call["argv"]
    assert final.text.endswith("the question")


async def test_missing_executable_names_the_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ProviderError, match=r"'claude' was not found on PATH.*AI_SESSION_CLAUDE_BIN"):
        await claude().complete(turn("hi", tmp_path))


async def test_executable_from_env_and_model_and_extra_args(fake_claude, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    p = get_provider("claude", {"model": "claude-opus-4-1", "extra_args": ["--permission-mode", "acceptEdits"]},
                     env={"AI_SESSION_CLAUDE_BIN": str(fake_claude.executable)})  # fmt: skip
    final = await p.complete(turn("hi", tmp_path))
    argv = fake_claude.calls()[0]["argv"]
    assert flag_value(argv, "--model") == "claude-opus-4-1" and flag_value(argv, "--permission-mode") == "acceptEdits"
    assert final.model == "claude-opus-4-1"


def test_settings_refuse_flags_that_would_pick_another_conversation():
    with pytest.raises(InvalidInput, match="--continue"):
        get_provider("claude", {"extra_args": ["--continue"]}, env={})


async def test_stopping_early_kills_the_cli(fake_claude, tmp_path, monkeypatch):
    # A CLI that prints init and then hangs: closing the stream must not leave it running.
    script = fake_claude.bin_dir / "claude"
    hang = tmp_path / "hang" / "claude"
    hang.parent.mkdir()
    pidfile = tmp_path / "pid"
    hang.write_text(
        f"#!/bin/sh\necho $$ > {pidfile}\n"
        'echo \'{"type":"system","subtype":"init","session_id":"x","model":"m"}\'\n'
        'echo \'{"type":"assistant","message":{"content":[{"type":"text","text":"partial"}]}}\'\nexec sleep 300\n'
    )
    hang.chmod(0o755)
    assert script.exists()
    p = get_provider("claude", {}, env={"AI_SESSION_CLAUDE_BIN": str(hang)})
    stream = p.stream(turn("hi", tmp_path))
    first = await anext(stream)
    assert isinstance(first, TextDelta) and first.text == "partial"
    await stream.aclose()
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_a_cli_that_never_answers_times_out_and_is_stopped(tmp_path):
    silent = tmp_path / "silent" / "claude"
    silent.parent.mkdir()
    pidfile = tmp_path / "pid"
    silent.write_text(f"#!/bin/sh\necho $$ > {pidfile}\nexec sleep 300\n")
    silent.chmod(0o755)
    p = get_provider("claude", {"timeout": 2}, env={"AI_SESSION_CLAUDE_BIN": str(silent)})
    with pytest.raises(ProviderError, match=r"no answer within 2s; raise providers\.claude\.timeout"):
        await p.complete(turn("hi", tmp_path))
    with pytest.raises(ProcessLookupError):
        os.kill(int(pidfile.read_text()), 0)
