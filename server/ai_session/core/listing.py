"""What a listing shows of many sessions, in one query of plain rows: each session's columns
and its kept totals (core/store/kept_totals.py), summed per session in the database. No
session record is parsed and no model is built, so a listing of 10,000 sessions costs the
query and the printing.

Stores run it through their open connection (`SessionStore.listing`: the session host's
listSessions, `stats`); `ai-session list` without a session host runs it on the SQLite store
opened read-only (`read_only`), importing the standard library only: no pydantic, no
tokenizer. Standard library only, and no `dataclasses` or `typing` at run time.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta

from ai_session.core.versions import REDACTION_RULES, SQLITE_SCHEMA

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

# Active sessions untouched this long are reported (and, by a writer, stored) as idle.
IDLE_AFTER = timedelta(hours=1)
STATUSES = ("active", "idle", "paused", "ended", "pool")

# A session's figures, whole (its copies included), each followed by the part its copies make.
MESSAGE_FIGURES = ("messages", "message_tokens", "cost_usd", "history_raw_tokens", "history_context_tokens")
RUN_FIGURES = ("runs", "raw_tokens", "context_tokens")
COLUMNS = ("id", "name", "status", "agent", "role", "last_active", "model", "summaries")


def _both(expression: str, name: str) -> str:
    return f"SUM({expression}) AS {name}, SUM(CASE WHEN copies THEN {expression} ELSE 0 END) AS copied_{name}"


_MESSAGES = ", ".join(_both(column, name) for column, name in zip(
    ("messages", "tokens", "cost_usd", "history_raw", "history_context"), MESSAGE_FIGURES, strict=True))  # fmt: skip
_RUNS = ", ".join(_both(column, column) for column in RUN_FIGURES)
_FIGURES = ", ".join(f"COALESCE({t}.{n}, 0), COALESCE({t}.copied_{n}, 0)"
                     for t, names in (("m", MESSAGE_FIGURES), ("r", RUN_FIGURES)) for n in names)  # fmt: skip


def wanted(statuses: Sequence[str] | None, include_pool: bool) -> list[str] | None:
    """The statuses a listing selects: those asked for, else every one but pooled (unless
    `include_pool`); None for all."""
    if statuses:
        return sorted(set(statuses))
    return None if include_pool else [s for s in STATUSES if s != "pool"]


def query(mark: str, idle_before: Any, *, statuses: Sequence[str] | None = None, agent: str | None = None,
          role: str | None = None, model: str = "NULL") -> tuple[str, list[Any]]:  # fmt: skip
    """The listing's SQL and parameters, newest activity first (ties by id), live sessions only.
    `idle_before`: the cutoff as the store writes timestamps (an active session older than it is
    listed as idle); `model`: the SQL spelling of the session's model, from its record."""
    status = f"CASE WHEN s.status = 'active' AND s.last_active < {mark} THEN 'idle' ELSE s.status END"
    params: list[Any] = [idle_before]
    where = ["s.trashed_at IS NULL"]
    if statuses is not None:
        where.append(f"{status} IN ({', '.join([mark] * len(statuses))})")
        params += [idle_before, *statuses]
    for column, value in (("agent", agent), ("role", role)):
        if value is not None:
            where.append(f"s.{column} = {mark}")
            params.append(value)
    sql = (
        f"SELECT s.id, s.name, {status}, s.agent, s.role, s.last_active, {model}, COALESCE(m.summaries, 0), {_FIGURES}"
        f" FROM sessions s"
        f" LEFT JOIN (SELECT session_id, {_MESSAGES}, SUM(CASE WHEN kind = 'summary' THEN messages ELSE 0 END)"
        f" AS summaries FROM message_totals GROUP BY session_id) m ON m.session_id = s.id"
        f" LEFT JOIN (SELECT session_id, {_RUNS} FROM run_totals GROUP BY session_id) r ON r.session_id = s.id"
        f" WHERE {' AND '.join(where)} ORDER BY s.last_active DESC, s.id DESC"
    )
    return sql, params


class Listed:
    """One session of a listing: its columns and kept totals as plain values. `copied` holds
    the part of each figure its copies (merge, fork, import) make, by figure name."""

    __slots__ = (*COLUMNS, *MESSAGE_FIGURES, *RUN_FIGURES, "copied")
    id: str
    name: str
    status: str  # as listed: an active session untouched for IDLE_AFTER is idle
    agent: str | None
    role: str | None
    last_active: str
    model: str | None  # None where the store was not asked for it
    summaries: int
    messages: int
    message_tokens: int
    cost_usd: float
    history_raw_tokens: int
    history_context_tokens: int
    runs: int
    raw_tokens: int
    context_tokens: int

    def __init__(self, row: Sequence[Any], last_active: str) -> None:
        self.id, self.name, self.status, self.agent, self.role, _, self.model, summaries = row[:8]
        self.last_active = last_active  # ISO text
        self.summaries = int(summaries)
        self.copied: dict[str, int | float] = {}
        for i, figure in enumerate((*MESSAGE_FIGURES, *RUN_FIGURES)):
            whole, copied = row[8 + 2 * i], row[9 + 2 * i]
            number = float if figure == "cost_usd" else int  # PostgreSQL sums come back as Decimal
            setattr(self, figure, number(whole))
            self.copied[figure] = number(copied)

    def table_row(self) -> list[Any]:
        """What `ai-session list` shows of it (cli/listing.py), as the session host sends it: a
        list, not an object, so the host's reply is small and its redaction has no keys to scan."""
        return [self.name, self.status, self.agent, self.role, self.messages, self.message_tokens, self.raw_tokens,
                self.context_tokens, self.last_active]  # fmt: skip


def read_only(store: str, *, statuses: Sequence[str] | None = None, agent: str | None = None,
              role: str | None = None) -> list[Listed] | None:  # fmt: skip
    """The listing from an SQLite store file opened read-only; None when it cannot be read
    that way as it is (a team store, no store yet, one to upgrade or redact again first, a
    locked or damaged file): the caller opens the store as usual, which says what is wrong."""
    if "://" in store and not store.startswith("sqlite:///"):
        return None
    path = store.removeprefix("sqlite://")
    if not os.path.isfile(path):
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        if db.execute("PRAGMA user_version").fetchone()[0] != SQLITE_SCHEMA:
            return None
        level = db.execute("SELECT value FROM meta WHERE key = 'redaction'").fetchone()
        if level is None or int(level[0]) < REDACTION_RULES:
            return None
        sql, params = query("?", (datetime.now(UTC) - IDLE_AFTER).isoformat(), statuses=statuses, agent=agent, role=role)
        return [Listed(row, row[5]) for row in db.execute(sql, params)]
    except (sqlite3.Error, ValueError):
        return None
    finally:
        db.close()
