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


def _changed(statements: list[str], old: str, new: str) -> list[str]:
    out = [s.replace(old, new) for s in statements]
    assert out != statements, f"{old!r} not found: the historical shape no longer matches"
    return out


# SQLite v1 as it was last released (a released migration is never edited), and the two
# shapes before it, each one change back in the history.
SQLITE_V1_ROWID = schema.MIGRATIONS[0]
assert isinstance(SQLITE_V1_ROWID, list)
SQLITE_V1_COUNTER = _changed(SQLITE_V1_ROWID, "id INTEGER PRIMARY KEY,", "id INTEGER PRIMARY KEY AUTOINCREMENT,")
SQLITE_V1_FIRST = _changed(SQLITE_V1_COUNTER,
                           "            last_seq INTEGER NOT NULL DEFAULT 0,  -- the last message number handed out\n", "")  # fmt: skip
SQLITE_V1 = {"first": SQLITE_V1_FIRST, "last_seq": SQLITE_V1_COUNTER, "rowid_changes": SQLITE_V1_ROWID}

# The team store's v1: as last released, and as first released (before `last_seq`).
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
                    old_json(session, NEW_SESSION_FIELDS)),
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
