"""The team store under load: 50 writer processes appending at once, 20 listening processes
(each one as a language server watches: LISTEN/NOTIFY over the change log), on a real
PostgreSQL (a throw-away cluster, or AI_SESSION_BENCH_PG; see bench_postgres.py).

Three rounds: every writer in its own session appending flat out (a closed loop: latency is
then queueing for the machine's cores), the same at a team's pace (each writer appends once
every PACE seconds), and all writers flat out in one shared session (the worst case: appends
to one session queue on its row lock). Each prints the
append latency median and p99 (target p99 <= 20 ms), messages lost (target 0), whether each
session's numbers are gap-free, and how long a marker write, made by the main process during
the load, took to reach each of the 20 listeners (target <= 1 s), median and max.

`python bench/bench_team.py [APPENDS_PER_WRITER]` (default 100).
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import statistics
import sys
import time
from multiprocessing.synchronize import Event
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_postgres import postgres_url

from ai_session.core.models import Message, Session
from ai_session.core.store import open_store

WRITERS = 50
LISTENERS = 20
MARKERS = 10  # marker writes per round, spread over the load
P99_TARGET_MS = 20.0
ANNOUNCE_TARGET_S = 1.0
PACE = 0.5  # seconds between a paced writer's appends: 50 agents writing twice a second, 100/s in all


def _writer(url: str, session_id: str, appends: int, pace: float, go: Event, out: mp.Queue) -> None:
    store = open_store(url)
    store.list_messages(session_id, last=1)  # connected and warm before the clock starts
    go.wait()
    latencies = []
    start = time.perf_counter()
    for i in range(appends):
        if pace:  # open loop: a writer that keeps its pace, however slow the store
            time.sleep(max(0.0, start + i * pace - time.perf_counter()))
        t = time.perf_counter()
        store.append_messages(session_id, [Message(role="user", content=f"writer message {i}", tokens=3)])
        latencies.append(time.perf_counter() - t)
    store.close()
    out.put(latencies)


def _listener(url: str, marker_id: str, ready: mp.Queue, out: mp.Queue) -> None:
    store = open_store(url)
    since = store.last_change_id()

    async def listen() -> list[float]:
        arrivals: list[float] = []
        changes = store.watch(since)
        ready.put(True)
        async for batch in changes:
            now = time.time()
            arrivals += [now for c in batch if c.session_id == marker_id and c.kind == "message"]
            if len(arrivals) >= MARKERS:
                return arrivals
        return arrivals

    out.put(asyncio.run(listen()))
    store.close()


def _round(url: str, shared: bool, appends: int, pace: float = 0.0) -> dict[str, str]:
    ctx = mp.get_context("fork")
    store = open_store(url)
    marker = store.create_session(Session(name=f"marker-{time.monotonic_ns()}"))
    if shared:
        one = store.create_session(Session(name=f"shared-{time.monotonic_ns()}"))
        targets = [one.id] * WRITERS
    else:
        targets = [store.create_session(Session(name=f"w{i}-{time.monotonic_ns()}")).id for i in range(WRITERS)]
    go, ready, heard, done = ctx.Event(), ctx.Queue(), ctx.Queue(), ctx.Queue()
    listeners = [ctx.Process(target=_listener, args=(url, marker.id, ready, heard)) for _ in range(LISTENERS)]
    writers = [ctx.Process(target=_writer, args=(url, sid, appends, pace, go, done)) for sid in targets]
    for p in listeners + writers:
        p.start()
    for _ in listeners:
        ready.get(timeout=120)
    time.sleep(1.0)  # the writers connect and warm up too
    go.set()
    sent: list[float] = []
    for _ in range(MARKERS):
        time.sleep(0.2)
        sent.append(time.time())  # before the call: the figure includes the marker append itself
        store.append_messages(marker.id, [Message(role="user", content="marker", tokens=1)])
    latencies = [x for _ in writers for x in done.get(timeout=600)]
    delays = [max(0.0, at - sent[i]) for _ in listeners for i, at in enumerate(heard.get(timeout=120)[:MARKERS])]
    for p in listeners + writers:
        p.join(timeout=30)
    expected = {sid: targets.count(sid) * appends for sid in set(targets)}
    lost = 0
    gap_free = True
    for sid, count in expected.items():
        seqs = [m.seq for m in store.list_messages(sid)]
        lost += count - len(seqs)
        gap_free = gap_free and seqs == list(range(1, len(seqs) + 1))
    store.close()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1e3
    return {
        "append median (ms)": f"{statistics.median(latencies) * 1e3:.2f}",
        f"append p99 (ms, target <= {P99_TARGET_MS:.0f})": f"{p99:.2f} {'met' if p99 <= P99_TARGET_MS else 'MISSED'}",
        "messages lost (target 0)": f"{lost}",
        "seqs gap-free": "yes" if gap_free else "NO",
        f"announce to {LISTENERS} median (ms)": f"{statistics.median(delays) * 1e3:.1f}",
        f"announce max (ms, target <= {ANNOUNCE_TARGET_S * 1e3:.0f})": (
            f"{max(delays) * 1e3:.1f} {'met' if max(delays) <= ANNOUNCE_TARGET_S else 'MISSED'}"
        ),
        "busy throughput (msg/s)": f"{len(latencies) / sum(latencies) * WRITERS:,.0f}",
    }


def main() -> None:
    appends = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with postgres_url() as url:
        if url is None:
            print("PostgreSQL server binaries not found: nothing measured")
            return
        rounds = {
            "own, flat out": _round(url, False, appends),
            f"own, 1 per {PACE}s": _round(url, False, max(1, appends // 4), PACE),
            "shared, flat out": _round(url, True, appends),
        }
    print(
        f"team store: {WRITERS} writer processes, {LISTENERS} listeners; flat out: {appends} appends each,"
        f" as fast as they return; paced: {max(1, appends // 4)} each, one per {PACE}s per writer"
    )
    print(f"{'':36}" + "".join(f"{name:>22}" for name in rounds))
    for metric in rounds["own, flat out"]:
        print(f"{metric:36}" + "".join(f"{r[metric]:>22}" for r in rounds.values()))


if __name__ == "__main__":
    main()
