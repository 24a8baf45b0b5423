"""An agent's own conversation, followed live into the worktree's session.

An agent that keeps its own transcript (Claude Code: one JSON event a line) tells us, from
its hooks, its conversation id and where the transcript is. The conversation is bound to
the session of the worktree it runs in (`provider_sessions`, so `ask` and `resume` go on
with it) and the transcript is read from where the last read stopped: only whole lines,
each event once. What is read is stored, so a transcript the agent later deletes stays.

Tool results that are the context form of a run recorded in this session are not stored a
second time: the run's own history message already holds them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ai_session.core.interop.claude_code import TranscriptReader
from ai_session.core.models import Message, Role, Session
from ai_session.core.providers.base import Conversation

if TYPE_CHECKING:
    from ai_session.core.manager import SessionManager

KEY = "agent_transcripts"  # session metadata: conversation id -> {"path", "offset", "agent"}
RECENT = 500  # stored messages looked at for events and usage already imported
MAX_READ = 64 * 1024 * 1024  # bytes read per call; the rest on the next event
RUN_REF = re.compile(r"^\[ai-session\] .*?\b(run_[0-9a-f]{6,})\b", re.MULTILINE)  # a run named on our own line


@dataclass
class Followed:
    session: Session
    bound: bool  # the conversation was new to the session
    imported: int  # messages stored by this call
    skipped: int  # events not stored (bad lines, meta events, run outputs stored already)


def follow(m: SessionManager, cwd: str, conversation_id: str, *, transcript: str | None, agent: str,
           provider: str = "claude") -> Followed:  # fmt: skip
    session, _ = m.worktree_session(cwd, agent=agent)
    conversation = Conversation(id=conversation_id, cwd=cwd).encode()
    known = [Conversation.decode(c).id for c in session.provider_sessions]
    bound = conversation_id not in known
    followed = dict(session.metadata.get(KEY) or {})
    state = dict(followed.get(conversation_id) or {"offset": 0, "agent": agent})
    if transcript:
        state["path"] = transcript
    imported = skipped = 0
    path = state.get("path")
    if path and Path(path).is_file():
        messages, state["offset"], skipped = _read_new(m, session, Path(path), int(state.get("offset", 0)))
        if messages:
            imported = len(m.add_messages(session, messages))
    followed[conversation_id] = state
    session = m.resolve(session.id)  # add_messages may have changed its state
    changes: dict[str, object] = {"metadata": {**session.metadata, KEY: followed}}
    if bound:
        changes["provider_sessions"] = [*session.provider_sessions, conversation]
        if session.provider is None:
            changes["provider"] = provider
    session = m.sessions.update(session, **changes)
    return Followed(session, bound, imported, skipped)


def _read_new(m: SessionManager, session: Session, path: Path, offset: int) -> tuple[list[Message], int, int]:
    """The messages of the whole lines after `offset`, the new offset, and how many were skipped."""
    with path.open("rb") as f:
        size = f.seek(0, 2)
        if size < offset:  # rewritten from scratch: read it again (imported events are skipped)
            offset = 0
        f.seek(offset)
        data = f.read(min(size - offset, MAX_READ))
    end = data.rfind(b"\n") + 1  # a line still being written waits for the next read
    if end == 0:
        return [], offset, 0
    recent = m.messages(session, last=RECENT)
    reader = TranscriptReader(
        strict=False,
        seen_uuids={u for x in recent if isinstance(u := x.metadata.get("uuid"), str)},
        seen_messages={i for x in recent if isinstance(i := x.metadata.get("message_id"), str)},
    )
    lines = data[:end].decode("utf-8", "replace").splitlines()
    messages = reader.feed(lines)
    runs = {r.id for r in m.runs(session, last=RECENT)}
    kept = [x for x in messages if not _stored_run_output(x, runs)]
    return kept, offset + end, reader.skipped + len(messages) - len(kept)


def _stored_run_output(message: Message, runs: set[str]) -> bool:
    if message.role is not Role.TOOL:
        return False
    return any(found in runs for found in RUN_REF.findall(message.content))
