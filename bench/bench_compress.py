"""Compressor throughput and streaming memory. Run: python bench/bench_compress.py

Generates real-looking outputs (a pytest -v run with failures, a cargo build with warnings,
a generic log), compresses 1 MB and 10 MB of each, and prints the median MB/s of the
reducers (cleaning + detection + reduction + diagnostics) and, separately, of counting
tokens. Then streams 100 MB through StreamCompressor and reports peak traced memory.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from ai_session.core.compress import StreamCompressor, compress  # noqa: E402
from ai_session.core.tokens import count_tokens  # noqa: E402


def pytest_output(target: int) -> str:
    parts = ["\x1b[1m============================= test session starts ==============================\x1b[0m\n",
             "platform linux -- Python 3.12.1, pytest-8.0.0\ncollected 99999 items\n\n"]
    size = 0
    k = 0
    fails = []
    while size < target * 0.8:
        mod = f"tests/unit/test_module_{k // 50}.py"
        status = "\x1b[31mFAILED\x1b[0m" if k % 997 == 0 else "\x1b[32mPASSED\x1b[0m"
        line = f"{mod}::test_case_{k} {status}{' ' * 20}[ {k % 100:>2}%]\n"
        if k % 997 == 0:
            fails.append((mod, k))
        parts.append(line)
        size += len(line)
        k += 1
    parts.append("\n=================================== FAILURES ===================================\n")
    for mod, n in fails:
        block = (f"_________________________________ test_case_{n} _________________________________\n\n"
                 f"    def test_case_{n}():\n        value = compute({n})\n>       assert value == {n + 1}\n"
                 f"E       assert {n} == {n + 1}\n\n{mod}:{n % 300}: AssertionError\n")
        parts.append(block)
        size += len(block)
    parts.append("=========================== short test summary info ============================\n")
    for mod, n in fails:
        parts.append(f"FAILED {mod}::test_case_{n} - assert {n} == {n + 1}\n")
    parts.append(f"================ {len(fails)} failed, {k - len(fails)} passed in 812.33s ================\n")
    return "".join(parts)


def cargo_output(target: int) -> str:
    parts = []
    size = 0
    k = 0
    while size < target:
        block = (f"   Compiling crate_{k} v0.{k % 9}.0\n"
                 f"warning: unused variable: `x{k % 40}`\n  --> src/m{k % 70}.rs:{k % 500}:9\n   |\n"
                 f"{k % 500} |     let x{k % 40} = 1;\n   |         ^^ help: prefix it with an underscore\n   |\n"
                 "   = note: `#[warn(unused_variables)]` on by default\n\n")
        parts.append(block)
        size += len(block)
        k += 1
    parts.append("error: could not compile `app` (bin \"app\") due to 1 previous error\n")
    return "".join(parts)


def generic_output(target: int) -> str:
    parts = []
    size = 0
    k = 0
    while size < target:
        line = f"2026-01-01T00:{k // 60 % 60:02d}:{k % 60:02d}Z worker-{k % 8} processed job {k:08x} in {k % 97}ms\r\n"
        if k % 5000 == 0:
            line = f"2026-01-01T00:00:00Z worker-3 ERROR job {k:08x} failed: timeout after 30s\n"
        parts.append(line)
        size += len(line)
        k += 1
    return "".join(parts)


def bench(name: str, text: str, cmd: str, runs: int) -> None:
    mb = len(text.encode()) / 1e6
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = compress(text, cmd, 1)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    t0 = time.perf_counter()
    raw_tok = count_tokens(text)
    tok_s = time.perf_counter() - t0
    ctx_tok = count_tokens(r.text)
    print(f"{name:<8} {mb:6.1f} MB  reducers {mb / med:7.1f} MB/s (median of {runs})  "
          f"tokens {mb / tok_s:5.1f} MB/s  raw {raw_tok} -> context {ctx_tok} tokens "
          f"({100 * (1 - ctx_tok / raw_tok):.2f}% saved)")


def _stream(total_mb: int) -> tuple[int, float, str]:
    chunk = generic_output(1 << 20).encode()
    sc = StreamCompressor("./long-job.sh")
    t0 = time.perf_counter()
    fed = 0
    while fed < total_mb * 1e6:
        sc.feed(chunk)
        fed += len(chunk)
    r = sc.finish(0)
    return fed, time.perf_counter() - t0, r.text


def stream_memory(total_mb: int) -> None:
    fed, elapsed, text = _stream(total_mb)  # timed without tracing (tracemalloc slows allocation)
    tracemalloc.start()
    _stream(total_mb)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"stream   {fed / 1e6:6.1f} MB  {fed / 1e6 / elapsed:7.1f} MB/s  peak traced memory {peak / 1e6:.1f} MB  "
          f"context {len(text)} chars")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--stream-mb", type=int, default=100)
    args = ap.parse_args()
    for size, label in ((1_000_000, "1MB"), (10_000_000, "10MB")):
        print(f"-- {label}")
        bench("pytest", pytest_output(size), "pytest -v", args.runs)
        bench("cargo", cargo_output(size), "cargo build", args.runs)
        bench("generic", generic_output(size), "./run.sh", args.runs)
    stream_memory(args.stream_mb)


if __name__ == "__main__":
    main()
