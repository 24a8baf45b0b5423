"""Embedded store: session create, message append throughput, listing 1,000 sessions,
memory per idle session. Seed figures for comparison: create 89 ms, ~3.6 MB per session."""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from ai_session.core.config import Config
from ai_session.core.manager import SessionManager
from ai_session.core.models import Message


def _manager(home: Path) -> SessionManager:
    return SessionManager(Config(home=home, store_url=str(home / "sessions.db")))


def main() -> None:
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
        print(f"append, one per write  {single:,.0f} messages/s  (target >= 10,000)")
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
