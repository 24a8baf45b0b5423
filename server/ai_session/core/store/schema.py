"""Schema migrations for the SQLite store: MIGRATIONS[n] upgrades v(n) to v(n+1).

Append new migrations; never edit a released one. `PRAGMA user_version` records the version.
A migration is a list of statements, or a function for what SQL alone cannot do; the store
runs every pending one in a single transaction, so an upgrade happens whole or not at all.

v1 shipped in three shapes (the first without `sessions.last_seq`, the first two with an
AUTOINCREMENT change log, which works as the plain one does); v2 upgrades each of them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from ai_session.core.accounting import recount_runs
from ai_session.core.store.codec import checksum_bodies

Migration = list[str] | Callable[[sqlite3.Connection], None]


def _v2(db: sqlite3.Connection) -> None:
    """Per-row checksums, the quarantine, the trash and copy provenance."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(sessions)")}
    if "last_seq" not in columns:  # the first v1 numbered messages by MAX(seq)
        db.execute("ALTER TABLE sessions ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0")
        db.execute("UPDATE sessions SET last_seq = COALESCE((SELECT MAX(seq) FROM messages m WHERE m.session_id = sessions.id), 0)")
    for statement in (
        "ALTER TABLE sessions ADD COLUMN trashed_at TEXT",
        "ALTER TABLE messages ADD COLUMN checksum INTEGER",
        "ALTER TABLE messages ADD COLUMN copy_of TEXT",
        "ALTER TABLE runs ADD COLUMN checksum INTEGER",
        "ALTER TABLE runs ADD COLUMN copy_of TEXT",
        # Damaged originals `repair` moved out of the way, byte for byte: `row` holds the other
        # columns as JSON, `body` the body or raw output. They go with their session.
        """CREATE TABLE quarantine (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            ref TEXT NOT NULL,
            seq INTEGER,
            damage TEXT NOT NULL,
            at TEXT NOT NULL,
            row TEXT NOT NULL,
            body BLOB
        )""",
        "CREATE INDEX quarantine_session ON quarantine(session_id)",
        "CREATE TRIGGER quarantine_chg AFTER INSERT ON quarantine BEGIN INSERT INTO changes (session_id, kind) VALUES (NEW.session_id, 'updated'); END",
    ):
        db.execute(statement)
    checksum_bodies(db.execute, "?")


# v3: small facts about the store itself; "redaction" is the rules version every stored row
# was last rewritten with (older rows are redacted again when the rules grow).
META_TABLE = ["CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"]


def _v4(db: sqlite3.Connection) -> None:
    """Raw tokens as an agent's pipe would carry each output (colours and redraws removed)."""
    recount_runs(db.execute, "?")


def _v5(db: sqlite3.Connection) -> None:
    """Per-session totals kept as the store is written (core/store/kept_totals.py), filled
    from the history already stored; copies found by an index of their own. Running it again
    counts every session again (a store set back to an earlier version keeps its tables)."""
    from ai_session.core.store import kept_totals
    from ai_session.core.store.sqlite import DIALECT  # the dialect module imports this one

    for statement in (
        """CREATE TABLE IF NOT EXISTS message_totals (
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            copies INTEGER NOT NULL,  -- 1: the figures of rows that copy another (copy_of)
            messages INTEGER NOT NULL, tokens INTEGER NOT NULL, cost_usd REAL NOT NULL,
            history_raw INTEGER NOT NULL, history_context INTEGER NOT NULL,
            PRIMARY KEY (session_id, kind, copies)
        ) WITHOUT ROWID""",
        """CREATE TABLE IF NOT EXISTS run_totals (
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            copies INTEGER NOT NULL,
            runs INTEGER NOT NULL, raw_tokens INTEGER NOT NULL, context_tokens INTEGER NOT NULL,
            PRIMARY KEY (session_id, copies)
        ) WITHOUT ROWID""",
        "CREATE INDEX IF NOT EXISTS messages_copies ON messages(copy_of) WHERE copy_of IS NOT NULL",
        "CREATE INDEX IF NOT EXISTS runs_copies ON runs(copy_of) WHERE copy_of IS NOT NULL",
        # The listing's order, ties broken by id (pages), with the columns its filter reads:
        # a page and its count read this index, not every session's record.
        "DROP INDEX sessions_last_active",
        "CREATE INDEX sessions_last_active ON sessions(last_active, id, status, trashed_at)",
    ):
        db.execute(statement)
    kept_totals.refresh_all(db.execute, DIALECT.mark, DIALECT.run_raw, DIALECT.run_context)


MIGRATIONS: list[Migration] = [
    [
        """CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL,
            agent TEXT, role TEXT, worktree TEXT, branch TEXT, pool TEXT,
            created_at TEXT NOT NULL,
            last_active TEXT NOT NULL,
            last_seq INTEGER NOT NULL DEFAULT 0,  -- the last message number handed out
            data TEXT NOT NULL
        )""",
        "CREATE INDEX sessions_last_active ON sessions(last_active)",
        "CREATE INDEX sessions_worktree ON sessions(worktree, branch)",
        """CREATE TABLE messages (
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            id TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            kind TEXT NOT NULL,
            created_at TEXT NOT NULL,
            tokens INTEGER,
            pinned INTEGER NOT NULL DEFAULT 0,
            agent TEXT,
            run_id TEXT,
            body BLOB NOT NULL,
            zstd INTEGER NOT NULL DEFAULT 0,
            extra TEXT,
            PRIMARY KEY (session_id, seq)
        ) WITHOUT ROWID""",
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            started_at TEXT NOT NULL,
            status TEXT NOT NULL,
            exit_code INTEGER,
            data TEXT NOT NULL,
            raw BLOB,
            zstd INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX runs_session ON runs(session_id, started_at)",
        "CREATE TABLE templates (name TEXT PRIMARY KEY, data TEXT NOT NULL)",
        "CREATE TABLE pools (role TEXT PRIMARY KEY, data TEXT NOT NULL)",
        # The change log other processes (a language server) follow for live updates. Plain
        # rowid ids (no AUTOINCREMENT bookkeeping): pruning removes the oldest rows only, so
        # an id is never handed out twice.
        """CREATE TABLE changes (
            id INTEGER PRIMARY KEY,
            session_id TEXT,
            kind TEXT NOT NULL,
            at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
        )""",
        "CREATE TRIGGER sessions_ins AFTER INSERT ON sessions BEGIN INSERT INTO changes (session_id, kind) VALUES (NEW.id, 'created'); END",
        "CREATE TRIGGER sessions_upd AFTER UPDATE OF name, status, data ON sessions BEGIN INSERT INTO changes (session_id, kind) VALUES (NEW.id, 'updated'); END",
        "CREATE TRIGGER sessions_del AFTER DELETE ON sessions BEGIN INSERT INTO changes (session_id, kind) VALUES (OLD.id, 'deleted'); END",
        "CREATE TRIGGER runs_ins AFTER INSERT ON runs BEGIN INSERT INTO changes (session_id, kind) VALUES (NEW.session_id, 'run'); END",
        "CREATE TRIGGER runs_upd AFTER UPDATE ON runs BEGIN INSERT INTO changes (session_id, kind) VALUES (NEW.session_id, 'run'); END",
        "CREATE TRIGGER templates_chg AFTER INSERT ON templates BEGIN INSERT INTO changes (session_id, kind) VALUES (NULL, 'template'); END",
        "CREATE TRIGGER pools_chg AFTER INSERT ON pools BEGIN INSERT INTO changes (session_id, kind) VALUES (NULL, 'pool'); END",
    ],
    _v2,
    META_TABLE,
    _v4,
    _v5,
]
