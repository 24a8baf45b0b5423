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
from collections import namedtuple
from datetime import UTC, datetime, timedelta

from ai_session.core.versions import REDACTION_RULES, SQLITE_SCHEMA

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

# Active sessions untouched this long are reported (and, by a writer, stored) as idle.
IDLE_AFTER = timedelta(hours=1)
STATUSES = ("active", "idle", "paused", "ended", "pool")

# A session's figures (each whole, its copies included, then the part its copies make in the
# query's columns), from its kept message totals, then from its kept run totals.
Figures = namedtuple("Figures", ["messages", "message_tokens", "cost_usd", "history_raw_tokens",
                                 "history_context_tokens", "runs", "raw_tokens", "context_tokens"])  # fmt: skip
MESSAGE_FIGURES, RUN_FIGURES = Figures._fields[:5], Figures._fields[5:]
COLUMNS = ("id", "name", "status", "agent", "role", "last_active", "model", "summaries", "counted")


def _sum(expression: str) -> str:
    """A sum as the same type on both databases (PostgreSQL sums integers as numeric)."""
    kind = "DOUBLE PRECISION" if "cost" in expression else "BIGINT"
    return f"CAST(SUM({expression}) AS {kind})"


def _both(expression: str, name: str) -> str:
    return f"{_sum(expression)} AS {name}, {_sum(f'CASE WHEN copies THEN {expression} ELSE 0 END')} AS copied_{name}"


_MESSAGES = ", ".join(_both(column, name) for column, name in zip(
    ("messages", "tokens", "cost_usd", "history_raw", "history_context"), MESSAGE_FIGURES, strict=True))  # fmt: skip
_RUNS = ", ".join(_both(column, column) for column in RUN_FIGURES)
_SUMMARIES = _sum("CASE WHEN kind = 'summary' THEN messages ELSE 0 END")
_FIGURES = ", ".join(f"COALESCE({t}.{n}, {zero}), COALESCE({t}.copied_{n}, {zero})"
                     for t, names in (("m", MESSAGE_FIGURES), ("r", RUN_FIGURES)) for n in names
                     for zero in ["0.0" if n == "cost_usd" else "0"])  # fmt: skip


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
        f"SELECT s.id, s.name, {status}, s.agent, s.role, s.last_active, {model}, COALESCE(m.summaries, 0),"
        f" m.session_id IS NOT NULL OR r.session_id IS NOT NULL, {_FIGURES}"
        f" FROM sessions s"
        f" LEFT JOIN (SELECT session_id, {_MESSAGES}, {_SUMMARIES}"
        f" AS summaries FROM message_totals GROUP BY session_id) m ON m.session_id = s.id"
        f" LEFT JOIN (SELECT session_id, {_RUNS} FROM run_totals GROUP BY session_id) r ON r.session_id = s.id"
        f" WHERE {' AND '.join(where)} ORDER BY s.last_active DESC, s.id DESC"
    )
    return sql, params


class Listed:
    """One session of a listing: its columns and kept totals as plain values. `copied` holds
    the part of each figure its copies (merge, fork, import) make."""

    __slots__ = (*COLUMNS, *MESSAGE_FIGURES, *RUN_FIGURES, "copied")
    id: str
    name: str
    status: str  # as listed: an active session untouched for IDLE_AFTER is idle
    agent: str | None
    role: str | None
    last_active: str | datetime  # as the store keeps it: ISO text (SQLite) or a datetime
    model: str | None  # None where the store was not asked for it
    summaries: int
    counted: bool  # whether it has kept totals at all (a message or a run)
    messages: int
    message_tokens: int
    cost_usd: float
    history_raw_tokens: int
    history_context_tokens: int
    runs: int
    raw_tokens: int
    context_tokens: int
    copied: Figures

    def __init__(self, row: Sequence[Any]) -> None:
        (self.id, self.name, self.status, self.agent, self.role, self.last_active, self.model, self.summaries,
         self.counted) = row[:9]  # fmt: skip
        (self.messages, self.message_tokens, self.cost_usd, self.history_raw_tokens, self.history_context_tokens,
         self.runs, self.raw_tokens, self.context_tokens) = row[9::2]  # fmt: skip
        self.copied = Figures._make(row[10::2])

    def table_row(self) -> list[Any]:
        """What `ai-session list` shows of it (cli/listing.py), as the session host sends it: a
        list, not an object, so the host's reply is small and its redaction has no keys to scan."""
        last = self.last_active if isinstance(self.last_active, str) else self.last_active.isoformat()
        return [self.name, self.status, self.agent, self.role, self.messages, self.message_tokens, self.raw_tokens,
                self.context_tokens, last]  # fmt: skip


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
        return [Listed(row) for row in db.execute(sql, params)]
    except (sqlite3.Error, ValueError):
        return None
    finally:
        db.close()
