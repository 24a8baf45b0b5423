"""Embedded store: session create, message append throughput, listing 1,000 sessions,
memory per idle session. Seed figures for comparison: create 89 ms, ~3.6 MB per session.
Appends are compared with raw sqlite3 doing the same with the same pragmas, in the same run."""

from __future__ import annotations

import gc
import sqlite3
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from harness import Figure, at_least  # first: puts server/ on the path
from ai_session.core.config import Config
from ai_session.core.manager import SessionManager
from ai_session.core.models import Message


def _manager(home: Path) -> SessionManager:
    return SessionManager(Config(home=home, store_url=str(home / "sessions.db")))


def raw_sqlite_appends(path: Path, texts: list[str]) -> float:
    """The floor: rows of the same size appended one per transaction by sqlite3 itself, with
    the store's pragmas (WAL, synchronous=NORMAL, foreign keys, secure_delete, 2 KB pages)."""
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("page_size=2048", "journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "secure_delete=ON"):
        db.execute(f"PRAGMA {pragma}")
    db.execute("CREATE TABLE messages (id TEXT PRIMARY KEY, session_id TEXT, seq INTEGER, role TEXT, body BLOB, "
               "tokens INTEGER, created_at TEXT, UNIQUE (session_id, seq))")  # fmt: skip
    t = time.perf_counter()
    for i, text in enumerate(texts):
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (f"msg_{i:012x}", "sess_1", i, "user", text.encode(), 20, "2026-01-01T00:00:00Z"))  # fmt: skip
        db.execute("COMMIT")
    rate = len(texts) / (time.perf_counter() - t)
    db.close()
    return rate


def main() -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        m = _manager(Path(tmp))
        m.create("warm-up")
        samples = []
        for i in range(1000):
            t = time.perf_counter()
            m.create(f"s{i}", agent="bench", role="R")
            samples.append(time.perf_counter() - t)
        print(f"create session         median {statistics.median(samples) * 1e3:.3f} ms  (target <= 5 ms; seed 89 ms)")

        session = m.create("appender")
        m.add_message(session, "user", "warm-up: loads the tokenizer once")
        text = "ran pytest: 3 failed in tests/test_api.py, see line 42 for the assertion"
        n = 5000
        t = time.perf_counter()
        for i in range(n):
            m.add_messages(session, [Message(role="user", content=f"{text} #{i}")])
        single = n / (time.perf_counter() - t)
        batch = [Message(role="assistant", content=f"{text} #{i}") for i in range(n)]
        t = time.perf_counter()
        for i in range(0, n, 100):
            m.add_messages(session, batch[i : i + 100])
        batched = n / (time.perf_counter() - t)
        raw = raw_sqlite_appends(Path(tmp, "raw.db"), [f"{text} #{i}" for i in range(n)])
        print(f"append, one per write  {single:,.0f} messages/s  (target >= 15,000); raw sqlite3 {raw:,.0f}/s")
        print(f"append, 100 per write  {batched:,.0f} messages/s")

        lists = []
        for _ in range(20):
            t = time.perf_counter()
            sessions = m.list()
            lists.append(time.perf_counter() - t)
        print(f"list {len(sessions)} sessions     median {statistics.median(lists) * 1e3:.2f} ms  (target <= 50 ms)")

        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        held = m.list()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        per = (after - before) / len(held)
        print(f"memory per idle session {per / 1024:.2f} KB held in memory (target <= 100 KB; seed ~3.6 MB); "
              f"on disk {Path(tmp, 'sessions.db').stat().st_size / len(held) / 1024:.2f} KB")
        m.close()
    return [at_least("appends, one message per write", single, "/s", 15_000, reference=f"raw sqlite3 {raw:,.0f}/s",
                     ratio=single / raw, note=f"100 per write: {batched:,.0f}/s")]
