"""Row encoding both backends share: column lists, session and message rows, text checks.

Each backend passes how it writes timestamps (`ts`): SQLite stores ISO text, PostgreSQL
timestamptz.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from ai_session.core import blob
from ai_session.core.errors import InvalidInput
from ai_session.core.models import Message, MessageKind, Role, Session, Usage
from ai_session.core.store.base import SessionFilter

Timestamp = Callable[[datetime], Any]

SESSION_COLS = "id, name, status, agent, role, worktree, branch, pool, created_at, last_active, data"
MESSAGE_COLS = "session_id, seq, id, role, kind, created_at, tokens, pinned, agent, run_id, body, zstd, extra"


def utf8_text(text: str, what: str) -> str:
    """Text a store can hold: valid Unicode (no lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{what} is not valid Unicode (lone surrogate)") from None
    return text


def extra_json(m: Message) -> str | None:
    """A message's optional fields as one JSON text (None when it has none)."""
    extra: dict[str, Any] = {}
    if m.covers is not None:
        extra["covers"] = list(m.covers)
    if m.usage is not None:
        extra["usage"] = m.usage.model_dump()
    if m.metadata:
        extra["metadata"] = m.metadata
    return json.dumps(extra) if extra else None


def extra_fields(text: str | None) -> dict[str, Any]:
    """The keyword arguments `extra_json` stored, ready for `Message.model_construct`."""
    extra = json.loads(text) if text else {}
    return {
        "covers": tuple(extra["covers"]) if "covers" in extra else None,
        "usage": Usage(**extra["usage"]) if "usage" in extra else None,
        "metadata": extra.get("metadata", {}),
    }


def session_filter_sql(f: SessionFilter, mark: str, ts: Any) -> tuple[str, list[Any]]:
    """The WHERE clause (or "") for a SessionFilter; `mark` is the driver's placeholder
    (? or %s) and `ts` how the backend writes timestamps."""
    where: list[str] = []
    params: list[Any] = []
    if f.statuses:
        where.append(f"status IN ({', '.join([mark] * len(f.statuses))})")
        params += sorted(s.value for s in f.statuses)
    for column in ("agent", "role", "worktree", "branch", "pool"):
        if (value := getattr(f, column)) is not None:
            where.append(f"{column} = {mark}")
            params.append(value)
    if f.inactive_before is not None:
        where.append(f"last_active < {mark}")
        params.append(ts(f.inactive_before))
    return (" WHERE " + " AND ".join(where)) if where else "", params


def session_row(s: Session, ts: Timestamp) -> tuple[Any, ...]:
    """Values for SESSION_COLS: the whole session as JSON, plus the columns queries filter on."""
    return (s.id, s.name, s.status.value, s.agent, s.role, s.worktree, s.branch, s.pool,
            ts(s.created_at), ts(s.last_active), s.model_dump_json())  # fmt: skip


def session_from_row(data: str, last_active: datetime) -> Session:
    session = Session.model_validate_json(data)
    session.last_active = last_active  # appends bump the column only
    return session


def import_seqs(messages: Sequence[Message]) -> list[int]:
    """Numbers for a new session's history: imports keep their (increasing) ones, others 1, 2, 3..."""
    seqs, last = [], 0
    for message in messages:
        last = message.seq if message.seq > last else last + 1
        seqs.append(last)
    return seqs


def numbered(messages: Sequence[Message], session_id: str, seqs: Iterable[int]) -> list[Message]:
    return [m.model_copy(update={"session_id": session_id, "seq": seq}) for m, seq in zip(messages, seqs)]


def message_row(m: Message, ts: Timestamp) -> tuple[Any, ...]:
    """Values for MESSAGE_COLS; the body is zstd-packed when large."""
    body, packed = blob.pack(utf8_text(m.content, f"message {m.id}"))
    return (m.session_id, m.seq, m.id, m.role.value, m.kind.value, ts(m.created_at), m.tokens, m.pinned,
            m.agent, m.run_id, body, packed, extra_json(m))  # fmt: skip


def message_from_row(r: Sequence[Any], created_at: datetime, content: str) -> Message:
    """A message from MESSAGE_COLS (the backend has decoded its timestamp and body)."""
    return Message.model_construct(
        session_id=r[0], seq=r[1], id=r[2], role=Role(r[3]), kind=MessageKind(r[4]), created_at=created_at,
        tokens=r[6], pinned=bool(r[7]), agent=r[8], run_id=r[9], content=content, **extra_fields(r[12]),
    )  # fmt: skip
