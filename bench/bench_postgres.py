"""Team store against the embedded store, side by side in one run: message append throughput
(one message per write, and 100 per write) and listing latency with 1,000 sessions.

PostgreSQL is a throw-away local cluster over a Unix socket (set AI_SESSION_BENCH_PG to a
migrated postgresql:// URL to measure a real server instead). It runs with fsync on and
synchronous_commit=off: the same durability class as the embedded store's WAL mode with
synchronous=NORMAL (nothing lost on a process crash; the last moments may be lost on a power cut).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' throw-away cluster helper

from ai_session.core.models import Message, Session
from ai_session.core.store import SessionStore, open_store

TEXT = "ran pytest: 3 failed in tests/test_api.py, see line 42 for the assertion"
APPENDS = 2000
SESSIONS = 1000


@contextmanager
def postgres_url() -> Iterator[str | None]:
    if url := os.environ.get("AI_SESSION_BENCH_PG"):
        yield url
        return
    from tests.pgcluster import Cluster, find_bindir

    bindir = find_bindir()
    if bindir is None:
        yield None
        return
    from ai_session.core.store.postgres import PostgresStore

    cluster = Cluster(bindir, durable=True)
    try:
        with cluster.admin() as admin:
            admin.execute("CREATE DATABASE bench")
        PostgresStore.migrate(cluster.url(dbname="bench"))
        with cluster.admin() as admin:
            admin.execute("CREATE ROLE bench LOGIN IN ROLE ai_session_users")
        yield cluster.url("bench", "bench")
    finally:
        cluster.stop()


def _rate(n: int, work: Callable[[], None]) -> float:
    t = time.perf_counter()
    work()
    return n / (time.perf_counter() - t)


def measure(store: SessionStore) -> dict[str, float]:
    session = store.create_session(Session(name="appender"))
    store.append_messages(session.id, [Message(role="user", content="warm-up", tokens=1)])

    def singles() -> None:
        for i in range(APPENDS):
            store.append_messages(session.id, [Message(role="user", content=f"{TEXT} #{i}", tokens=17)])

    batch = [Message(role="assistant", content=f"{TEXT} #{i}", tokens=17) for i in range(APPENDS * 5)]

    def batches() -> None:
        for i in range(0, len(batch), 100):
            store.append_messages(session.id, batch[i : i + 100])

    single = _rate(APPENDS, singles)
    batched = _rate(len(batch), batches)
    for i in range(SESSIONS):
        store.create_session(Session(name=f"s{i}", agent="bench", role="R"))
    lists, totals = [], []
    for _ in range(20):
        t = time.perf_counter()
        sessions = store.list_sessions()
        lists.append(time.perf_counter() - t)
        t = time.perf_counter()
        store.totals([s.id for s in sessions])
        totals.append(time.perf_counter() - t)
    reads = []
    for _ in range(20):
        t = time.perf_counter()
        store.list_messages(session.id, last=50)
        reads.append(time.perf_counter() - t)
    return {
        "append 1/write (msg/s)": single,
        "append 100/write (msg/s)": batched,
        f"list {SESSIONS + 1} sessions (ms)": statistics.median(lists) * 1e3,
        f"totals {SESSIONS + 1} sessions (ms)": statistics.median(totals) * 1e3,
        "last 50 messages (ms)": statistics.median(reads) * 1e3,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, postgres_url() as pg:
        sqlite = open_store(str(Path(tmp) / "sessions.db"))
        results = {"sqlite": measure(sqlite)}
        sqlite.close()
        if pg is None:
            print("PostgreSQL server binaries not found: only the embedded store was measured")
        else:
            team = open_store(pg)
            results["postgres"] = measure(team)
            team.close()
        names = list(results)
        print(f"{'':28}" + "".join(f"{n:>14}" for n in names) + ("   postgres/sqlite" if len(names) == 2 else ""))
        for metric in results["sqlite"]:
            values = [results[n][metric] for n in names]
            ratio = f"   {values[1] / values[0]:>10.2f}x" if len(values) == 2 else ""
            print(f"{metric:28}" + "".join(f"{v:>14,.2f}" for v in values) + ratio)
