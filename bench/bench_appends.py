"""Appends one message per write through SessionManager (redaction, token count, checksum,
change log, one transaction each), against raw sqlite3 with the store's own pragmas and a
table of the same shape, measured in the same run: the ratio is what the store's guarantees
cost. Between them, the store's own statements alone (values ready): the floor of its writes
(it writes five pages a commit, the reference two). Target: >= 15,000 messages/s.

`python bench/bench_appends.py [ROUNDS]`; medians of ROUNDS (default 5) rounds of 2,000 appends.
"""

from __future__ import annotations

import itertools
import sqlite3
import statistics
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from ai_session.core.config import Config
from ai_session.core.manager import SessionManager
from ai_session.core.models import Message
from ai_session.core.store import kept_totals
from ai_session.core.store.codec import MESSAGE_COLS

TEXT = "ran pytest: 3 failed in tests/test_api.py, see line 42 for the assertion"
APPENDS = 2000
TARGET = 15_000


def _raw_sqlite(path: Path) -> Callable[[int], None]:
    """The reference: the same pragmas, a message row of the same shape, one BEGIN IMMEDIATE each."""
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("page_size=2048", "journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "secure_delete=ON"):
        db.execute(f"PRAGMA {pragma}")
    db.execute("CREATE TABLE messages (session_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL UNIQUE,"
               " role TEXT NOT NULL, created_at TEXT NOT NULL, tokens INTEGER, body BLOB NOT NULL,"
               " checksum INTEGER, PRIMARY KEY (session_id, seq)) WITHOUT ROWID")  # fmt: skip
    seqs = itertools.count(1)

    def write(body: bytes) -> None:
        seq = next(seqs)
        db.execute("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   ("s", seq, f"msg_{seq}", "user", "2026-01-01T00:00:00", 17, body, zlib.crc32(body)))  # fmt: skip

    return _one_per_transaction(db, write)


def _one_per_transaction(db: sqlite3.Connection, write: Callable[[bytes], None]) -> Callable[[int], None]:
    """`n` appends of a numbered message body, each `write` in its own BEGIN IMMEDIATE transaction."""

    def appends(n: int) -> None:
        for i in range(n):
            db.execute("BEGIN IMMEDIATE")
            write(f"{TEXT} #{i}".encode())
            db.execute("COMMIT")

    return appends


def _store_sql(home: Path) -> Callable[[int], None]:
    """The floor of the store's own writes: the statements `SQLiteStore.append_messages` runs
    (numbers and last activity, the row, the change-log row, the kept totals, one BEGIN
    IMMEDIATE each) on the store's schema, with the values ready (no redaction, token count or
    models): what is left to gain in Python is the gap between this and the manager."""
    m = SessionManager(Config(home=home, store_url=str(home / "sessions.db")))
    session_id = m.create("floor").id
    m.close()
    db = sqlite3.connect(home / "sessions.db", isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "secure_delete=ON"):
        db.execute(f"PRAGMA {pragma}")
    insert = f"INSERT INTO messages ({MESSAGE_COLS}) VALUES ({', '.join('?' * (MESSAGE_COLS.count(',') + 1))})"
    totals = kept_totals.add_sql("?")
    numbers = itertools.count(1)

    def write(body: bytes) -> None:
        count = next(numbers)
        at = f"2026-01-01T00:00:00.{count:06d}+00:00"
        db.execute("UPDATE sessions SET last_seq = last_seq + ?, last_active = ? WHERE id = ?", (1, at, session_id))
        seq = db.execute("SELECT last_seq FROM sessions WHERE id = ?", (session_id,)).fetchone()[0]
        db.execute(insert, (session_id, seq, f"msg_{count}", "user", "chat", at, 17, False, None, None, body, False,
                            None, zlib.crc32(body), None))  # fmt: skip
        db.execute("INSERT INTO changes (session_id, kind) VALUES (?, 'message')", (session_id,))
        db.execute(totals, (session_id, "chat", False, 1, 17, 0.0, 0, 0))

    return _one_per_transaction(db, write)


def _manager(home: Path) -> Callable[[int], None]:
    m = SessionManager(Config(home=home, store_url=str(home / "sessions.db")))
    session = m.create("appender")
    m.add_message(session, "user", "warm-up: loads the tokenizer once")

    def appends(n: int) -> None:
        for i in range(n):
            m.add_messages(session, [Message(role="user", content=f"{TEXT} #{i}")])

    return appends


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "floor").mkdir()
        runners = {"raw sqlite3 (reference)": _raw_sqlite(Path(tmp) / "raw.db"),
                   "the store's SQL alone": _store_sql(Path(tmp) / "floor"),
                   "SessionManager.add_messages": _manager(Path(tmp))}  # fmt: skip
        rates: dict[str, list[float]] = {name: [] for name in runners}
        for _ in range(rounds):  # interleaved, so load on a shared machine hits both alike
            for name, appends in runners.items():
                t = time.perf_counter()
                appends(APPENDS)
                rates[name].append(APPENDS / (time.perf_counter() - t))
    reference = statistics.median(rates["raw sqlite3 (reference)"])
    print(f"appends, one per write: medians of {rounds} rounds of {APPENDS:,}")
    print(f"{'':32}{'messages/s':>12}{'ratio':>8}")
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"{name:32}{median:>12,.0f}{median / reference:>8.2f}")
    print(f"target >= {TARGET:,}/s (0.36x of the reference's 41k/s on a quiet run)")


if __name__ == "__main__":
    main()
