"""Import and export: our own versioned JSON, ChannelCoder sessions, Claude Code transcripts."""

from __future__ import annotations

from dataclasses import dataclass, field

from ai_session.core.models import CommandRun, Message, Session


@dataclass
class ImportBundle:
    """A session read from a file, validated, not yet stored."""

    session: Session
    messages: list[Message] = field(default_factory=list)
    runs: list[tuple[CommandRun, str | None]] = field(default_factory=list)
    source: str = "native"
