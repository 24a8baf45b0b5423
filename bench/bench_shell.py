"""Session shell: exec overhead against a bare PTY, and memory during a 50 MB output flood.

Overhead: the median wall time of `exec` through a persistent ShellProcess (`true`, a builtin,
and `/bin/true`, a fork+exec like the baseline) against spawning `/bin/true` directly in a
fresh PTY and reading it to EOF. Memory: peak RSS (VmHWM) of a fresh process that starts a
shell and runs a command printing 50 MB, once awaited (capture only) and once streamed to a
consumer, with the capture cap at its default (8 MiB).

    python bench/bench_shell.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "server")]

from ptyprocess import PtyProcess

from ai_session.core.shell import ShellProcess

FLOOD_BYTES = 50_000_000


def _env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tempfile.gettempdir(), "LANG": "C.UTF-8"}


def direct_pty_true() -> float:
    t0 = time.perf_counter()
    p = PtyProcess.spawn(["/bin/true"], env=_env())
    while True:
        try:
            if not os.read(p.fd, 65536):
                break
        except OSError:  # EIO: the child closed the terminal
            break
    p.wait()
    p.delayafterclose = 0  # ptyprocess sleeps 0.1 s on close by default
    p.close()
    return time.perf_counter() - t0


async def exec_times(command: str, runs: int) -> list[float]:
    sh = await ShellProcess.start(tempfile.gettempdir(), _env())
    try:
        for _ in range(20):
            await sh.exec(command)
        out = []
        for _ in range(runs):
            t0 = time.perf_counter()
            r = await sh.exec(command)
            out.append(time.perf_counter() - t0)
            assert r.exit_code == 0
        return out
    finally:
        await sh.close()


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _flood(mode: str) -> None:
    sh = await ShellProcess.start(tempfile.gettempdir(), _env())
    before = _peak_rss_mb()
    t0 = time.perf_counter()
    cmd = f"head -c {FLOOD_BYTES} /dev/urandom | base64 -w 100 | head -c {FLOOD_BYTES}"
    if mode == "stream":
        seen = 0
        run = sh.exec(cmd)
        async for chunk in run:
            seen += len(chunk)
        result = await run
    else:
        result = await sh.exec(cmd)
    took = time.perf_counter() - t0
    await sh.close()
    print(f"{before:.1f} {_peak_rss_mb():.1f} {took:.2f} {result.output_bytes} {len(result.output)}")


def flood(mode: str) -> tuple[float, float, float, int, int]:
    out = subprocess.run(
        [sys.executable, __file__, "--flood-child", mode], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1]), float(out[2]), int(out[3]), int(out[4])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--flood-child", choices=["await", "stream"])
    args = ap.parse_args()
    if args.flood_child:
        asyncio.run(_flood(args.flood_child))
        return

    direct = [direct_pty_true() for _ in range(args.runs)]
    builtin = asyncio.run(exec_times("true", args.runs))
    binary = asyncio.run(exec_times("/bin/true", args.runs))
    med = {k: statistics.median(v) * 1000 for k, v in (("direct", direct), ("builtin", builtin), ("binary", binary))}
    print(f"exec overhead ({args.runs} runs each, median):")
    print(f"  /bin/true spawned directly in a fresh PTY : {med['direct']:.3f} ms")
    print(f"  exec 'true' through ShellProcess         : {med['builtin']:.3f} ms  (ratio {med['builtin'] / med['direct']:.2f})")
    print(f"  exec '/bin/true' through ShellProcess    : {med['binary']:.3f} ms  (ratio {med['binary'] / med['direct']:.2f})")
    print(f"  engine overhead on a fork+exec command   : {med['binary'] - med['direct']:+.3f} ms (target <= 3 ms)")
    print(f"  round trip of a builtin (pure overhead)  : {med['builtin']:.3f} ms (target <= 3 ms)")
    for mode in ("await", "stream"):
        before, peak, took, total, kept = flood(mode)
        print(
            f"50 MB flood ({mode}): peak RSS {peak:.1f} MB (after start-up {before:.1f} MB, target <= ~100 MB), "
            f"{total / took / 1e6:.0f} MB/s, captured {total} bytes, kept {kept}"
        )


if __name__ == "__main__":
    main()
