"""Stores as earlier versions of ai-session wrote them, for the upgrade tests.

Every schema shape a release ever created, taken from the project's history: SQLite v1 in
its three shapes (as first released; with `sessions.last_seq`; with a plain-rowid change
log) and the team store's v1 in its two (without and with `last_seq`). Rows are written as
those versions wrote them: no checksums, zstd frames without a content checksum, JSON
records without the fields added since.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import zstandard

from ai_session.core.models import CommandRun, Message, Session, utcnow
from ai_session.core.store import pg_schema, schema
from ai_session.core.tokens import count_tokens

# SQLite v1 as first released, statement for statement.
SQLITE_V1_FIRST = [
    """CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        agent TEXT, role TEXT, worktree TEXT, branch TEXT, pool TEXT,
        created_at TEXT NOT NULL,
        last_active TEXT NOT NULL,
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
    """CREATE TABLE changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
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
]


def _changed(statements: list[str], old: str, new: str) -> list[str]:
    out = [s.replace(old, new) for s in statements]
    assert out != statements, f"{old!r} not found: the historical shape no longer matches"
    return out


SQLITE_V1_COUNTER = _changed(SQLITE_V1_FIRST, "        last_active TEXT NOT NULL,\n        data TEXT NOT NULL",
                             "        last_active TEXT NOT NULL,\n        last_seq INTEGER NOT NULL DEFAULT 0,\n"
                             "        data TEXT NOT NULL")  # fmt: skip
SQLITE_V1_ROWID = _changed(SQLITE_V1_COUNTER, "id INTEGER PRIMARY KEY AUTOINCREMENT", "id INTEGER PRIMARY KEY")
SQLITE_V1 = {"first": SQLITE_V1_FIRST, "last_seq": SQLITE_V1_COUNTER, "rowid_changes": SQLITE_V1_ROWID}

# The team store's v1: as released today, and as first released (before `last_seq`).
PG_V1 = pg_schema.MIGRATIONS[0]
assert isinstance(PG_V1, list)
PG_V1_FIRST = _changed(_changed(PG_V1, ",\n            last_seq integer NOT NULL DEFAULT 0  -- the last message number handed out", ""),
                       " owner, members, appends, last_seq)", " owner, members, appends)")  # fmt: skip
PG_V1_SHAPES = {"first": PG_V1_FIRST, "last_seq": PG_V1}

# What each version's JSON records did not have yet.
NEW_SESSION_FIELDS = {"trashed_at", "damage"}
NEW_RUN_FIELDS = {"copy_of", "damage"}


def old_json(model: Session | CommandRun, new: set[str]) -> str:
    return json.dumps({k: v for k, v in model.model_dump(mode="json").items() if k not in new})


def old_body(text: str) -> tuple[bytes, int]:
    """A body as v1 stored it: zstd (no content checksum) from 1 KiB on, else plain."""
    raw = text.encode()
    return (zstandard.ZstdCompressor(level=3).compress(raw), 1) if len(raw) >= 1024 else (raw, 0)


def v1_rows(session: Session, texts: list[str], run: CommandRun, output: str) -> dict[str, Any]:
    """The rows a v1 store holds for one session: its record, messages 1..n and one run."""
    ts = utcnow().isoformat()
    messages = []
    for seq, text in enumerate(texts, start=1):
        body, packed = old_body(text)
        extra = json.dumps({"metadata": {"n": seq}})
        messages.append((session.id, seq, Message(role="user", content=text).id, "user", "chat", ts,
                         count_tokens(text), 0, None, None, body, packed, extra))  # fmt: skip
    raw, packed = old_body(output)
    return {
        "session": (session.id, session.name, session.status.value, None, None, None, None, None, ts, ts,
                    old_json(session, NEW_SESSION_FIELDS)),  # fmt: skip
        "messages": messages,
        "run": (run.id, session.id, ts, run.status.value, run.exit_code, old_json(run, NEW_RUN_FIELDS), raw, packed),
    }


def write_v1_sqlite(path: Path, shape: str, rows: dict[str, Any]) -> None:
    """A v1 store file of the given shape, holding `rows`, as that version left it."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("BEGIN")
    for statement in SQLITE_V1[shape]:
        db.execute(statement)
    db.execute("INSERT INTO sessions (id, name, status, agent, role, worktree, branch, pool, created_at, last_active, data)"
               " VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows["session"])  # fmt: skip
    if shape != "first":
        db.execute("UPDATE sessions SET last_seq = ? WHERE id = ?", (len(rows["messages"]), rows["session"][0]))
    db.executemany("INSERT INTO messages VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows["messages"])
    db.execute("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?)", rows["run"])
    db.execute("PRAGMA user_version=1")
    db.execute("COMMIT")
    db.close()


assert len(schema.MIGRATIONS) >= 2  # the tests upgrade from v1 to whatever is current
