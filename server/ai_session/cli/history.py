"""A session's history: add and pin messages, merge sessions, fork one."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ai_session.cli.render import Result
from ai_session.cli.spec import arg, command
from ai_session.cli.views import model_json, session_json

if TYPE_CHECKING:
    from ai_session.core.manager import SessionManager


@command(
    "add",
    arg("content", nargs="?", help="the text (default: stdin)"),
    arg("--role", default="user", choices=["user", "assistant", "system", "tool"]),
    arg("--kind", default="chat", choices=["chat", "command", "summary", "decision"]),
    arg("--pin", action="store_true", help="always keep it in the context"),
    arg("--agent", help="agent that wrote it (shared sessions)"),
    target="session",
    trailing="content",
)
def add(m: SessionManager, a: argparse.Namespace) -> Result:
    content = a.content if a.content is not None else sys.stdin.read()
    msg = m.add_message(a.session, a.role, content, kind=a.kind, pinned=a.pin, agent=a.agent)
    return Result(data=model_json(msg), view=f"added message #{msg.seq} ({msg.tokens} tokens)")


@command("pin", arg("seq", type=int, metavar="SEQ"), arg("--unpin", action="store_true"), target="session")
def pin(m: SessionManager, a: argparse.Namespace) -> Result:
    msg = m.pin(a.session, a.seq, not a.unpin)
    return Result(data=model_json(msg), view=f"message #{msg.seq} {'pinned' if msg.pinned else 'unpinned'}")


@command(
    "merge",
    arg("sessions", nargs="+", metavar="SESSION"),
    arg("--output", "-o", metavar="NAME", help="name of the merged session"),
)
def merge(m: SessionManager, a: argparse.Namespace) -> Result:
    s = m.merge(a.sessions, a.output)
    return Result(data=session_json(s), view=f"merged {len(a.sessions)} sessions into {s.name} ({s.id})")


@command(
    "fork",
    arg("--at", type=int, metavar="SEQ", help="last message to keep (default: all)"),
    arg("--name", help="name of the new session"),
    target="session",
)
def fork(m: SessionManager, a: argparse.Namespace) -> Result:
    s = m.fork(a.session, at=a.at, name=a.name)
    return Result(data=session_json(s), view=f"forked into {s.name} ({s.id})")
