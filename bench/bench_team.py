"""The team store under load: 50 writer processes appending at once (one message per write,
several writers on each session) and 20 listening processes (language servers following the
store). Per append: p50/p99 latency; afterwards every session's sequence is checked: nothing
lost, no gap. Per announced write: the time until all 20 listeners have it (LISTEN/NOTIFY).

PostgreSQL is the tests' throw-away local cluster (fsync on, synchronous_commit=off), or
AI_SESSION_BENCH_PG. The same writers on the embedded store are measured as the reference."""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing as mp
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench_postgres import postgres_url
from harness import Figure, at_most

from ai_session.core.models import Message, Session
from ai_session.core.store import open_store

WRITERS = 50
LISTENERS = 20
SESSIONS = 10  # five writers on each
APPENDS = 40  # per writer
ANNOUNCED = 10  # writes whose arrival at every listener is timed


def writer(url: str, session_id: str, n: int, start: mp.synchronize.Event, out: mp.Queue) -> None:
    store = open_store(url)
    latencies = []
    start.wait()
    for i in range(n):
        t = time.perf_counter()
        store.append_messages(session_id, [Message(role="user", content=f"writer append #{i}", tokens=4)])
        latencies.append(time.perf_counter() - t)
    store.close()
    out.put(latencies)


def listener(url: str, since: int, wanted: int, ready: mp.synchronize.Event, out: mp.Queue) -> None:
    """Follows the store as a language server does; reports when it saw each announced write."""
    store = open_store(url)

    async def follow() -> dict[str, float]:
        seen: dict[str, float] = {}
        ready.set()
        async for batch in store.watch(since):
            now = time.time()
            for change in batch:
                if change.kind == "created" and change.session_id:  # only the announced sessions are created now
                    seen.setdefault(change.session_id, now)
            if len(seen) >= wanted:
                return seen
        return seen

    out.put(asyncio.run(follow()))
    store.close()


def run(url: str, writer_count: int = WRITERS) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    store = open_store(url)
    sessions = [store.create_session(Session(name=f"team-{i}-{time.time_ns()}")) for i in range(min(SESSIONS, writer_count))]
    since = store.last_change_id()
    start, results, seen = ctx.Event(), ctx.Queue(), ctx.Queue()
    readies = [ctx.Event() for _ in range(LISTENERS)]
    listeners = [ctx.Process(target=listener, args=(url, since, ANNOUNCED, r, seen)) for r in readies]
    writers = [ctx.Process(target=writer, args=(url, sessions[i % len(sessions)].id, APPENDS, start, results))
               for i in range(writer_count)]  # fmt: skip
    for p in listeners + writers:
        p.start()
    for r in readies:
        r.wait(60)
    time.sleep(1)  # every writer connected too
    start.set()
    latencies = [x for _ in writers for x in results.get(timeout=600)]
    announced = {}
    for i in range(ANNOUNCED):  # while the listeners follow: a session created, timed to its arrival
        s = store.create_session(Session(name=f"announced-{i}-{time.time_ns()}"))
        announced[s.id] = time.time()
        time.sleep(0.05)
    arrivals = [seen.get(timeout=60) for _ in listeners]
    for p in listeners + writers:
        p.join(30)
    lost = gaps = 0
    for k, s in enumerate(sessions):
        seqs = [m.seq for m in store.list_messages(s.id)]
        lost += len(range(k, writer_count, len(sessions))) * APPENDS - len(seqs)
        gaps += sum(1 for a, b in itertools.pairwise(seqs) if b != a + 1) + (seqs[:1] != [1])
    store.close()
    delays = [max(a[sid] for a in arrivals if sid in a) - at for sid, at in announced.items()]
    missing = sum(1 for sid in announced for a in arrivals if sid not in a)
    latencies.sort()
    return {"p50": statistics.median(latencies) * 1e3, "p99": latencies[int(len(latencies) * 0.99)] * 1e3,
            "lost": lost, "gaps": gaps, "announce_max": max(delays) * 1e3, "announce_median": statistics.median(delays) * 1e3,
            "missing": missing, "appends": len(latencies)}  # fmt: skip


def main() -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp, postgres_url() as pg:
        embedded = run(str(Path(tmp) / "sessions.db"))
        print(f"embedded store: {embedded}")
        if pg is None:
            print("PostgreSQL server binaries not found: the team store was not measured")
            return []
        team = run(pg)
        print(f"team store:     {team}")
        # The same with one writer per core: what a writer's append costs when it need not
        # wait for a core (on a 2-core machine, 50 writers and 20 listeners share two).
        cores = os.cpu_count() or 1
        per_core = run(pg, cores)
        print(f"team store, {cores} writers: {per_core}")
    ref = f"embedded store p99 {embedded['p99']:.1f} ms; {cores} writers (one per core): p99 {per_core['p99']:.1f} ms"
    return [
        at_most(f"team store: {WRITERS} writer processes, p99 append", team["p99"], "ms", 20, reference=ref,
                ratio=team["p99"] / embedded["p99"], note=f"p50 {team['p50']:.1f} ms, {team['appends']:,} appends"),
        at_most(f"team store: {WRITERS} writers, messages lost + sequence gaps", team["lost"] + team["gaps"], "rows", 0,
                note=f"lost {team['lost']}, gaps {team['gaps']}"),
        at_most(f"team store: a write announced to {LISTENERS} listeners (slowest)", team["announce_max"], "ms", 1000,
                note=f"median {team['announce_median']:.0f} ms; missed {team['missing']}"),
    ]


if __name__ == "__main__":
    from harness import table

    print(table(main()))
