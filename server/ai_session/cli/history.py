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
    """Append a message (TEXT, or stdin). Secrets are redacted and tokens counted before it is stored."""
    content = a.content if a.content is not None else sys.stdin.read()
    msg = m.add_message(a.session, a.role, content, kind=a.kind, pinned=a.pin, agent=a.agent)
    return Result(data=model_json(msg), view=f"added message #{msg.seq} ({msg.tokens} tokens)")


@command("pin", arg("seq", type=int, metavar="SEQ"), arg("--unpin", action="store_true"), target="session")
def pin(m: SessionManager, a: argparse.Namespace) -> Result:
    """Pin (or --unpin) message SEQ: context assembly always keeps pinned messages."""
    msg = m.pin(a.session, a.seq, not a.unpin)
    return Result(data=model_json(msg), view=f"message #{msg.seq} {'pinned' if msg.pinned else 'unpinned'}")


@command(
    "merge",
    arg("sessions", nargs="+", metavar="SESSION", help="two or more sessions: `A B` or `A,B`"),
    arg("--output", "-o", metavar="NAME", help="name of the merged session"),
)
def merge(m: SessionManager, a: argparse.Namespace) -> Result:
    """Merge two or more sessions into a new one, messages interleaved by time (the sources stay).
    Each message remembers its origin (`metadata.origin`), the new session its sources
    (`metadata.merged_from`)."""
    refs = [ref for word in a.sessions for ref in word.split(",") if ref]
    s = m.merge(refs, a.output)
    return Result(data=session_json(s), view=f"merged {len(refs)} sessions into {s.name} ({s.id})")


@command(
    "fork",
    arg("--at", type=int, metavar="SEQ", help="last message to keep (default: all)"),
    arg("--name", help="name of the new session"),
    target="session",
)
def fork(m: SessionManager, a: argparse.Namespace) -> Result:
    """A new session with the history up to message SEQ (all of it without --at); the source stays."""
    s = m.fork(a.session, at=a.at, name=a.name)
    return Result(data=session_json(s), view=f"forked into {s.name} ({s.id})")


@command(
    "prune",
    arg("--keep-recent", type=int, required=True, metavar="N", help="messages to keep as they are"),
    arg("--delete", action="store_true", help="really delete the older messages (pinned ones stay); asks first"),
    arg("--force", "-f", action="store_true", help="with --delete: do not ask"),
    target="session",
)
def prune(m: SessionManager, a: argparse.Namespace) -> Result:
    """Shrink a session's history to its N most recent messages. By default nothing is deleted:
    the older turns are covered by a stored summary (the context sends it instead of them;
    `ai-session summary S SEQ` shows the originals). --delete removes them for good."""
    from ai_session.cli.sessions import confirm
    from ai_session.core.errors import InvalidInput

    if a.keep_recent < 0:
        raise InvalidInput(f"--keep-recent must be zero or more (got {a.keep_recent})")
    if not a.delete:
        result = m.compact(a.session, keep_last=a.keep_recent)
        if result is None:
            return Result(data=None, view=f"nothing to prune: {a.session} has no more than {a.keep_recent} uncovered turns")
        return Result(data=result.as_dict(), view=(
            f"summary #{result.summary.seq} now stands for messages {result.covers[0]}–{result.covers[1]} "
            f"({result.covered_messages} new); the last {result.kept} stay verbatim; nothing deleted "
            f"(--delete removes the originals)"))  # fmt: skip
    doomed = m.prunable(a.session, keep_recent=a.keep_recent)
    if not doomed:
        return Result(data={"deleted": []}, view="nothing to delete")
    question = f"delete {len(doomed)} message(s) of {a.session} (#{doomed[0]}–#{doomed[-1]}, pinned ones stay)?"
    if not a.force:
        if not sys.stdin.isatty():
            return Result(status=1, data={"deleted": [], "wouldDelete": doomed},
                          notes=[f"ai-session: nothing deleted: {question[:-1]} needs --force without a terminal"])
        if not confirm(question):
            return Result(status=1, notes=["nothing deleted"])
    m.delete_messages(a.session, doomed)
    return Result(data={"deleted": doomed}, view=f"deleted {len(doomed)} message(s); the last {a.keep_recent} and pinned ones stay")
