"""Language server round trips over real stdio on a large store (10,000 sessions, one of
100,000 messages): sessions/list a page at a time and context/get, cached and after
another process wrote (to another session, or to the one asked about), and how long a
write by another process takes to reach the client as sessionsChanged (promise: < 1 s)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from fixtures import large_store, manager
from harness import Figure, at_most, bench_env, median_ms

SESSIONS = 10_000
HISTORY = 100_000
PAGE = 200


class Client:
    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "ai_session", "serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        self.next_id = 0

    def send(self, method: str, params: object, notify: bool = False) -> int:
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "method": method, "params": params}
        if not notify:
            msg["id"] = self.next_id
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()
        return self.next_id

    def read(self) -> dict:
        length = 0
        while (line := self.proc.stdout.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length"):
                length = int(line.split(b":")[1])
        return json.loads(self.proc.stdout.read(length))

    def call(self, method: str, params: object) -> dict:
        rid = self.send(method, params)
        while (msg := self.read()).get("id") != rid or "method" in msg:
            pass
        return msg

    def wait_for(self, method: str) -> dict:
        while (msg := self.read()).get("method") != method:
            pass
        return msg

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def main() -> list[Figure]:
    home = large_store(SESSIONS, HISTORY)
    env = bench_env(home)
    m = manager(home)
    big, spare = m.resolve("big"), m.resolve("spare")
    c = Client(env)
    try:
        c.call("initialize", {"processId": None, "capabilities": {}, "rootUri": None})
        c.send("initialized", {}, notify=True)
        page = {"offset": 0, "limit": PAGE}
        c.call("aiSession/sessions/list", page)  # warm-up
        cached_page = median_ms(lambda: c.call("aiSession/sessions/list", page), 30)
        context = {"session": "big", "withItems": False}
        c.call("aiSession/context/get", context)
        cached_context = median_ms(lambda: c.call("aiSession/context/get", context), 15)

        def after(write: Callable[[int], object], method: str, params: dict, runs: int = 9) -> float:
            samples = []
            for i in range(runs):
                write(i)  # another process's write: the server learns of it from the store
                t = time.perf_counter()
                c.call(method, params)
                samples.append(time.perf_counter() - t)
            return statistics.median(samples) * 1e3

        def elsewhere(i: int) -> object:
            return m.add_message(spare, "user", f"change {i}")

        def to_big(i: int) -> object:
            return m.add_message(big, "user", f"one more turn {i}")

        page_after = after(elsewhere, "aiSession/sessions/list", page)
        whole_after = after(elsewhere, "aiSession/sessions/list", {}, 3)
        context_elsewhere = after(elsewhere, "aiSession/context/get", context)
        context_to_it = after(to_big, "aiSession/context/get", context, 3)
        latencies = []
        for i in range(10):
            t = time.perf_counter()
            m.create(f"external-{i}")
            c.wait_for("aiSession/sessionsChanged")
            latencies.append(time.perf_counter() - t)
    finally:
        c.close()
        m.close()
    n = f"{SESSIONS:,} sessions"
    figures = [
        Figure(f"LSP sessions/list page of {PAGE}, cached, {n}", cached_page, "ms"),
        at_most(f"LSP sessions/list page of {PAGE} after a write, {n}", page_after, "ms", 30,
                reference=f"cached {cached_page:.1f} ms", ratio=page_after / cached_page),
        Figure(f"LSP sessions/list unpaged after a write, {n}", whole_after, "ms", note="what a client that does not page gets"),
        Figure(f"LSP context/get, {HISTORY:,} messages, cached", cached_context, "ms"),
        at_most(f"LSP context/get, {HISTORY:,} messages, after a write elsewhere", context_elsewhere, "ms",
                max(cached_context * 2, cached_context + 5), reference=f"cached {cached_context:.1f} ms",
                ratio=context_elsewhere / cached_context, note="target: unchanged (cached)"),
        at_most(f"LSP context/get, {HISTORY:,} messages, after a write to it", context_to_it, "ms", 50,
                reference=f"cached {cached_context:.1f} ms", ratio=context_to_it / cached_context),
        at_most("another process's write -> sessionsChanged", statistics.median(latencies) * 1e3, "ms", 1000,
                note=f"max {max(latencies) * 1e3:.0f} ms"),
    ]
    for f in figures:
        print(f"{f.name:<64} {f.shown():>10}  {f.target}  {f.note}")
    return figures


if __name__ == "__main__":
    from harness import table

    print(table(main()))
