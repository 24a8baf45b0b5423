"""Claude Code's SessionStart, Stop and SessionEnd hooks: its conversation, followed.

Each binds Claude Code's session id to the session of the worktree it runs in and stores
what the transcript gained since the last hook (SessionStart: what a resumed conversation
already holds; Stop: the turn just finished; SessionEnd: the rest). SessionStart also tells
the model, in one line, where its Bash commands run and how to see a raw output.

A hook that fails says why on stderr and exits 0: Claude Code goes on either way, and the
next hook reads from where the last successful one stopped.
"""

from __future__ import annotations

import json
import sys
from typing import Any

STARTED = ("[ai-session] Bash commands here run in the worktree session {name}'s shell and their output "
           "comes in a compact form that keeps every failing test, error and file:line. A run's full output: "
           "`ai-session output RUN --raw`, or `--lines A:B` / `--grep PATTERN` for part of it.")  # fmt: skip


def handle(event_name: str, event: dict[str, Any]) -> str | None:
    """Follow the conversation; returns what to print for Claude Code (SessionStart: context)."""
    from ai_session.core.manager import SessionManager

    session_id, cwd = event.get("session_id"), event.get("cwd")
    if not isinstance(session_id, str) or not isinstance(cwd, str):
        raise ValueError("the hook input has no session_id or cwd")
    transcript = event.get("transcript_path") if isinstance(event.get("transcript_path"), str) else None
    m = SessionManager()
    try:
        followed = m.follow_conversation(cwd, session_id, transcript=transcript, agent="claude-code")
    finally:
        m.close()
    if event_name == "SessionStart":
        return STARTED.format(name=followed.session.name)
    return None


def main(event_name: str) -> int:
    try:
        event = json.loads(sys.stdin.buffer.read() or b"{}")
        text = handle(event_name, event if isinstance(event, dict) else {})
        if text:
            print(text)
    except Exception as exc:  # Claude Code goes on whatever happens here
        print(f"ai-session: {event_name} hook: {exc}", file=sys.stderr)
    return 0
