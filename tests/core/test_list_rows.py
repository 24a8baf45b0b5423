"""A listing's rows (core/listing.py): what `list` and `stats` read of each session in one
query, without parsing a record or building a model, agree with the sessions and the totals
the store keeps for them (every backend), also when read from an SQLite store opened
read-only, as `ai-session list` does without a session host."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from ai_session.core import listing, versions
from ai_session.core.config import Config
from ai_session.core.manager import SessionManager
from ai_session.core.models import Message, SessionStatus, utcnow
from ai_session.core.store import schema
from ai_session.core.store.base import Totals

FILTERS = [{}, {"statuses": [SessionStatus.PAUSED, SessionStatus.ENDED]}, {"agent": "claude"}, {"role": "Backend"},
           {"include_pool": True}, {"statuses": [SessionStatus.IDLE]}, {"statuses": [SessionStatus.ACTIVE]}]  # fmt: skip


def _sessions(m: SessionManager) -> None:
    """Sessions of every status, one active but untouched for hours (listed as idle), copies."""
    a = m.create("a", agent="claude", role="Backend")
    m.add_messages(a, [Message(role="user", content="the login test fails"),
                       Message(role="assistant", content="fixed src/login.py:12")])  # fmt: skip
    b = m.create("b", role="Backend")
    m.add_message(b, "user", "hello")
    m.pause("b")
    m.end(m.create("c", agent="claude").id)
    m.merge(["a", "b"], name="ab")  # copies of a's and b's messages
    m.fork("a", name="a2")
    stale = m.create("stale", agent="codex")
    m.sessions.update(stale, status=SessionStatus.ACTIVE, last_active=utcnow() - timedelta(hours=3))
    m.create("pooled", role="Backend", into_pool=True)


def _reference(m: SessionManager, **filters: object) -> list[list[object]]:
    """The rows as `list` built them from the session records and their kept totals."""
    sessions = m.list(**filters)  # type: ignore[arg-type]
    totals = m.totals(sessions)
    return [[s.name, s.status.value, s.agent, s.role, t.messages, t.message_tokens, t.raw_tokens, t.context_tokens,
             s.last_active.isoformat()] for s in sessions for t in [totals.get(s.id, Totals())]]  # fmt: skip


def test_rows_are_the_listed_sessions_with_their_kept_totals(manager: SessionManager) -> None:
    _sessions(manager)
    for filters in FILTERS:
        listed = [s.table_row() for s in manager.listing(**filters)]  # type: ignore[arg-type]
        assert listed and listed == _reference(manager, **filters), filters
    by_name = {s.name: s for s in manager.listing(include_pool=True)}
    assert by_name["ab"].copied.messages == 3 and by_name["a"].copied.messages == 0
    assert by_name["ab"].messages == 3 and by_name["stale"].status == "idle"


@pytest.fixture
def sqlite_manager(home: Path) -> Iterator[SessionManager]:
    """The embedded store: the one the read-only listing reads (a team store is read through its connection)."""
    m = SessionManager(Config.load())
    assert m.store_file is not None
    yield m
    m.close()


def test_the_read_only_listing_is_the_same_and_writes_nothing(sqlite_manager: SessionManager) -> None:
    manager = sqlite_manager
    _sessions(manager)
    path = str(manager.store_file)
    before = {f: os.stat(f).st_mtime_ns for f in (path, path + "-wal") if os.path.exists(f)}
    read = []
    for filters in FILTERS:
        statuses = listing.wanted([s.value for s in filters.get("statuses", ())], bool(filters.get("include_pool")))
        read.append(listing.read_only(path, statuses=statuses, agent=filters.get("agent"), role=filters.get("role")))  # type: ignore[arg-type]
    assert {f: os.stat(f).st_mtime_ns for f in before} == before  # (the stale session is still stored as active)
    for filters, rows in zip(FILTERS, read, strict=True):
        assert rows is not None and [s.table_row() for s in rows] == _reference(manager, **filters), filters


def test_a_store_it_cannot_read_as_it_is_is_left_to_the_usual_path(tmp_path: Path, sqlite_manager: SessionManager) -> None:
    assert listing.read_only(str(tmp_path / "none.db")) is None
    assert listing.read_only("postgresql://localhost/x") is None
    path = str(sqlite_manager.store_file)
    assert listing.read_only(path) == []
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {versions.SQLITE_SCHEMA - 1}")  # one to upgrade first
    db.commit()
    assert listing.read_only(path) is None
    db.execute(f"PRAGMA user_version = {versions.SQLITE_SCHEMA}")
    db.execute("UPDATE meta SET value = '0' WHERE key = 'redaction'")  # one to redact again first
    db.commit()
    db.close()
    assert listing.read_only(path) is None


def test_the_versions_the_read_only_listing_checks_are_the_store_s() -> None:
    assert len(schema.MIGRATIONS) == versions.SQLITE_SCHEMA
