"""A flood through the language server: a command printing 200 MB in a session's shell, run by
a real session host and followed by a real `ai-session serve` over stdio, while the client
keeps asking for `sessions/list`. Measured: how many runOutput notifications (and bytes of
JSON) reached the client, the server's peak RSS, and the list's p99 during the flood beside
its p99 on the same server just before (the same-run reference).

    python bench/bench_flood.py [--mb N]
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench_lsp import Client
from fixtures import add_sessions, manager
from harness import Figure, at_most, bench_env

LIST_CALLS = 300


class CountingClient(Client):
    """Counts the run's output notifications (and their JSON bytes) as they pass."""

    outputs = 0
    output_bytes = 0
    finished = False

    def read(self) -> dict:
        msg = super().read()
        method = msg.get("method")
        if method == "aiSession/runOutput":
            self.outputs += 1
            self.output_bytes += len(msg["params"]["data"]) + 100
        elif method == "aiSession/runFinished":
            self.finished = True
        return msg


def _p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] * 1e3 if len(samples) > 1 else samples[0] * 1e3


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> list[Figure]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=int, default=200)
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="ai-session-flood-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    m = manager(home)
    add_sessions(m, 100)
    m.create("flood")
    m.close()
    c = CountingClient(bench_env(home))
    try:
        c.call("initialize", {"processId": None, "capabilities": {}, "rootUri": None})
        c.send("initialized", {}, notify=True)
        page = {"offset": 0, "limit": 200}

        def list_once() -> float:
            t = time.perf_counter()
            c.call("aiSession/sessions/list", page)
            return time.perf_counter() - t

        quiet = [list_once() for _ in range(LIST_CALLS)]
        command = f"yes 'flood line: the same text again and again, as a runaway log prints it' | head -c {args.mb}000000"
        c.call("aiSession/exec", {"session": "flood", "command": command})
        started = time.perf_counter()
        during = []
        while not c.finished:
            during.append(list_once())
        took = time.perf_counter() - started
        rss = _peak_rss_mb(c.proc.pid)
    finally:
        c.close()
    reference = f"list p99 without a flood {_p99(quiet):.1f} ms (median {statistics.median(quiet) * 1e3:.1f})"
    figures = [
        Figure(f"flood of {args.mb} MB: runOutput notifications", c.outputs, "",
               note=f"{c.output_bytes / 1e6:.0f} MB of JSON in {took:.1f} s; ≤ 1 per 50 ms or 64 KiB"),
        at_most(f"server peak RSS in a {args.mb} MB flood", rss, "MB", 150),
        at_most(f"sessions/list p99 during a {args.mb} MB flood", _p99(during), "ms", 15, reference=reference,
                ratio=_p99(during) / _p99(quiet), note=f"{len(during)} calls, max {max(during) * 1e3:.0f} ms"),
    ]
    for f in figures:
        print(f"{f.name:<52} {f.shown():>10}  {f.target}  {f.reference}  {f.note}")
    return figures


if __name__ == "__main__":
    from harness import table

    print(table(main()))
