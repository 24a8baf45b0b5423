"""A live transcript followed into the worktree session: whole lines, each event once, kept."""

from __future__ import annotations

import json
from pathlib import Path

from ai_session.core.config import Config
from ai_session.core.manager import SessionManager
from ai_session.core.providers.base import Conversation

SID = "6f1d2c3b-1111-4222-8333-444455556666"


def line(kind: str, uuid: str, content, **extra) -> str:
    message = {"role": kind, "content": content, **extra}
    return json.dumps({"type": kind, "uuid": uuid, "sessionId": SID, "timestamp": "2026-01-05T10:00:00Z",
                       "cwd": "/x", "message": message}) + "\n"


def test_follow_reads_only_new_whole_lines_and_counts_usage_once(repo: Path, home: Path):
    m = SessionManager(Config.load())
    path = repo.parent / "t.jsonl"
    usage = {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 100}
    path.write_text(line("user", "u1", "fix it") +
                    line("assistant", "a1", [{"type": "text", "text": "Looking."}], id="msg_1", usage=usage) +
                    line("assistant", "a2", [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "make"}}],
                         id="msg_1", usage=usage)[:-20])  # the last line is still being written
    first = m.follow_conversation(repo, SID, transcript=str(path))
    assert first.bound and first.imported == 2
    assert [Conversation.decode(c).id for c in first.session.provider_sessions] == [SID]
    assert first.session.provider == "claude"
    with path.open("w") as f:  # the line completes, a tool result and an answer follow
        f.write(line("user", "u1", "fix it") +
                line("assistant", "a1", [{"type": "text", "text": "Looking."}], id="msg_1", usage=usage) +
                line("assistant", "a2", [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "make"}}],
                     id="msg_1", usage=usage) +
                line("user", "u2", [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]) +
                line("assistant", "a3", [{"type": "text", "text": "Fixed."}], id="msg_2", usage=usage))
    second = m.follow_conversation(repo, SID, transcript=str(path))
    assert not second.bound and second.imported == 3
    again = m.follow_conversation(repo, SID)  # nothing new: nothing stored twice
    assert again.imported == 0
    messages = m.messages(second.session)
    assert [x.content for x in messages][:2] == ["fix it", "Looking."]
    assert sum(1 for x in messages if x.usage is not None) == 2  # one per message id, not per line
    path.unlink()  # Claude Code cleans old transcripts up; what was read stays
    assert len(m.messages(second.session)) == len(messages)
    assert m.follow_conversation(repo, SID).imported == 0
    m.close()


def test_a_tool_result_that_is_a_stored_runs_output_is_not_stored_again(repo: Path, home: Path):
    from ai_session.hooks.runner import agent_text, run_for_agent

    run = run_for_agent(str(repo), "echo hello", agent="claude-code")  # through the session host
    text = agent_text(run)
    assert text.endswith(f"[ai-session] exit 0 · run {run.run_id}\n") or f"ai-session output {run.run_id}" in text
    m = SessionManager(Config.load())
    path = repo.parent / "t.jsonl"
    path.write_text(line("user", "u9", [{"type": "tool_result", "tool_use_id": "t", "content": text}]) +
                    line("user", "u10", [{"type": "tool_result", "tool_use_id": "t2", "content": "something else"}]))
    followed = m.follow_conversation(repo, SID, transcript=str(path))
    assert followed.imported == 1 and followed.skipped == 1
    m.close()
