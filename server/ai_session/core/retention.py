"""Message retention: `[session_management.message_retention]`, applied by `optimize` and `clear`.

`max_messages` keeps a session's newest N messages, `max_age` removes messages older than
that. Pinned messages, summaries and system messages (template preloads) always stay, and
ended sessions are read-only, so retention leaves them alone. With `compression` (the
default) the turns it removes are first covered by a stored summary, so their facts stay
in the context. Never applied silently: the commands that apply it say what it removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from ai_session.core.models import Message, MessageKind, Role, Session, SessionStatus, utcnow

if TYPE_CHECKING:
    from ai_session.core.config import SessionManagement
    from ai_session.core.manager import SessionManager


@dataclass
class RetentionReport:
    session: Session
    removed: list[int]  # message numbers
    why: str
    summary_seq: int | None = None  # the summary written to keep their facts

    def describe(self, *, done: bool = True) -> str:
        kept = f"; summary #{self.summary_seq} keeps their facts" if self.summary_seq else ""
        verb = "removed" if done else "would remove"
        return f"retention: {self.session.name}: {verb} {len(self.removed)} message(s) {self.why}{kept}"


def doomed(policy: SessionManagement, messages: list[Message]) -> tuple[list[Message], str]:
    """The messages the policy removes (oldest first) and why."""
    candidates = [m for m in messages if not m.pinned and m.kind is not MessageKind.SUMMARY and m.role is not Role.SYSTEM]
    drop: dict[int, Message] = {}
    why = []
    if policy.max_messages is not None and len(candidates) > policy.max_messages:
        drop.update((m.seq, m) for m in candidates[: len(candidates) - policy.max_messages])
        why.append(f"beyond the newest {policy.max_messages}")
    if policy.max_age is not None:
        cutoff = utcnow() - timedelta(seconds=policy.max_age)
        old = [m for m in candidates if m.created_at < cutoff]
        if old:
            drop.update((m.seq, m) for m in old)
            why.append(f"older than {_age(policy.max_age)}")
    return sorted(drop.values(), key=lambda m: m.seq), " and ".join(why)


def _age(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def apply(manager: SessionManager, sessions: list[Session], *, dry_run: bool = False) -> list[RetentionReport]:
    """Apply the configured retention to `sessions`; one report per session it changes (or would)."""
    policy = manager.config.session_management
    if not policy.retention:
        return []
    reports = []
    for session in sessions:
        if session.status is SessionStatus.ENDED:
            continue
        messages = manager.messages(session)
        gone, why = doomed(policy, messages)
        if not gone:
            continue
        report = RetentionReport(session, [m.seq for m in gone], why)
        if not dry_run:
            if policy.retention_compression:
                last = gone[-1].seq
                keep = len([m for m in messages if m.seq > last and m.kind is not MessageKind.SUMMARY and m.role is not Role.SYSTEM])
                compacted = manager.compact(session, keep_last=keep)
                report.summary_seq = compacted.summary.seq if compacted else None
            manager.delete_messages(session, report.removed)
        reports.append(report)
    return reports
