"""Compressor throughput and memory. Run: python bench/bench_compress.py [--runs N] [--stream-mb M]

Times are medians of N runs; MB/s is given in this process's CPU time (its own cost on a
shared machine) and in wall time.

1. A 10 MiB mixed CI log (a colour PTY capture: pip progress bars, a Rust build with
   warnings, a pytest run with failures, service logs with warnings and errors, a search
   hitting vendored code), through the path a finished run takes: `describe_output` =
   cleaning, the fact guard, detection, reduction, diagnostics, the raw figure and the
   context's tokens. Reported as the median MB/s of N runs, with the reducers alone and
   cleaning alone (the floor any compressor pays) measured on the same text in the same
   run as references.
2. The same for single-tool outputs of 1 MB and 10 MB (pytest -v, cargo build, a log).
0. `ai-session compress` of 1 MB of pytest output, the whole command (target <= 0.1 s).
3. 100 MB of the mixed log streamed through `ai-session compress` in a child process: its
   MB/s and its peak RSS (what bounded memory means for a person piping a huge log into it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from harness import SERVER, Figure, at_most, bench_env, cli, time_command  # first: puts server/ on the path
from ai_session.core.compress import compress
from ai_session.core.compress.text import clean_lines
from ai_session.core.models import CommandRun

MIB = 1 << 20


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


def mixed_log(target: int) -> str:
    """A CI job's log as a colour PTY records it: a matrix of stages, each with its own shapes
    (the same tests and sources in every stage, as a matrix build has), over and over."""
    parts: list[str] = []
    size = 0
    k = 0
    while size < target:
        stage: list[str] = [f"\x1b[36m2026-01-01T00:{k % 60:02d}:00Z ##[group]stage {k}\x1b[0m\n"]
        for p in range(40):  # pip: collecting, a progress bar redrawn with \r
            stage.append(f"Collecting package-{p}-{k}==1.{p}.0\n  Downloading package_{p}-1.{p}.0-py3-none-any.whl (1{p} kB)\n")
            stage.append("".join(f"\r     \x1b[32m{'━' * (w // 3)}\x1b[0m {w}/100 kB" for w in range(0, 101, 25)) + "\n")
        stage.append("Successfully installed " + " ".join(f"package-{p}-{k}-1.{p}.0" for p in range(40)) + "\n")
        for c in range(60):  # a Rust build: status lines, a few warnings with locations and code frames
            stage.append(f"\x1b[1m\x1b[32m   Compiling\x1b[0m crate_{c} v0.{c % 9}.{k % 7}\n")
            if c % 15 == 0:
                stage.append(f"\x1b[33mwarning\x1b[0m: unused variable: `x{c}`\n  --> src/m{c}.rs:{c + 1}:9\n   |\n"
                             f"{c} |     let x{c} = 1;\n   |         ^^ help: prefix it with an underscore\n   |\n\n")
        stage.append("\x1b[1m\x1b[32m    Finished\x1b[0m `release` profile [optimized] target(s) in 41.20s\n")
        for t in range(300):  # pytest -v, a failure now and then
            failed = (t + k) % 149 == 0
            status = "\x1b[31mFAILED\x1b[0m" if failed else "\x1b[32mPASSED\x1b[0m"
            stage.append(f"tests/test_mod_{t // 30}.py::test_case_{t} {status}{' ' * 12}[{t * 100 // 300:>3}%]\n")
        stage.append(f"\x1b[31m==== 2 failed, 298 passed, 3 warnings in 12.{k % 10}1s ====\x1b[0m\n")
        for s in range(400):  # the service's own log
            level = "ERROR" if s % 211 == 0 else "WARN" if s % 37 == 0 else "INFO"
            what = ("failed to connect to db:5432: connection refused" if level == "ERROR" else
                    f"retrying request {s} (attempt {s % 5})" if level == "WARN" else
                    f"handled GET /api/v1/items/{s * 7 + k} in {s % 97}ms")
            stage.append(f"2026-01-01T00:{k % 60:02d}:{s % 60:02d}.{s:03d}Z [{level:5}] api-{s % 4}: {what}\n")
        for g in range(30):  # a search that wanders into node_modules
            stage.append(f"node_modules/pkg-{g}/lib/index.js:{g * 11 + 1}:  return fetchItems(options);\n")
        stage.append("src/api/items.ts:41:  const items = await fetchItems({ page });\n")
        block = "".join(stage)
        parts.append(block)
        size += len(block)
        k += 1
    return "".join(parts)


def _median_seconds(work: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds: on a shared machine the CPU time is this process's own cost."""
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        work()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def end_to_end(name: str, text: str, command: str, runs: int, manager: object) -> None:
    """MB/s of the recorded-run path, with cleaning and the reducers as references."""
    from ai_session.core.tokens import count_tokens

    mb = len(text.encode()) / 1e6
    run = CommandRun(command=command, exit_code=1)
    describe = manager.describe_output  # type: ignore[attr-defined]
    full, full_cpu = _median_seconds(lambda: describe(run, text), runs)
    _, reducers = _median_seconds(lambda: compress(text, command, 1), runs)
    _, cleaning = _median_seconds(lambda: clean_lines(text), runs)
    done = describe(run, text)
    print(f"{name:<8} {mb:5.1f} MB  end to end {mb / full_cpu:5.1f} MB/s cpu, {mb / full:5.1f} wall  "
          f"(reducers {mb / reducers:5.1f}, cleaning alone {mb / cleaning:5.1f}: end to end = {full_cpu / cleaning:4.1f}x "
          f"cleaning; medians of {runs})  raw {done.raw_tokens} -> context {done.context_tokens} tokens "
          f"({count_tokens(text)} on the coloured stream)")


def stream_rss(total_mb: int) -> None:
    """100 MB of the mixed log through `ai-session compress` in a child: wall MB/s, peak RSS."""
    block = mixed_log(MIB).encode()
    with tempfile.NamedTemporaryFile(suffix=".log", delete=False) as f:
        written = 0
        while written < total_mb * 1e6:
            f.write(block)
            written += len(block)
        path = f.name
    try:
        env = dict(os.environ, PYTHONPATH=str(SERVER))
        with open(path, "rb") as stdin, tempfile.TemporaryFile() as out:
            t0 = time.perf_counter()
            child = subprocess.Popen([sys.executable, "-m", "ai_session", "compress", "--cmd", "./ci.sh", "--exit-code", "1"],
                                     stdin=stdin, stdout=out, env=env)  # fmt: skip
            _, status, usage = os.wait4(child.pid, 0)  # this child's own accounting
            wall = time.perf_counter() - t0
            child.returncode = os.waitstatus_to_exitcode(status)
            context = out.tell()
        cpu = usage.ru_utime + usage.ru_stime
        print(f"stream  {written / 1e6:5.1f} MB  ai-session compress {written / 1e6 / cpu:5.1f} MB/s cpu, "
              f"{written / 1e6 / wall:5.1f} wall  peak RSS {usage.ru_maxrss / 1024:.0f} MB  context {context} bytes")
    finally:
        os.unlink(path)


def command_1mb(runs: int) -> list[Figure]:
    """`ai-session compress` on 1 MB of pytest -v output, as a person pipes it, whole command."""
    text = pytest_output(1_000_000).encode()
    with tempfile.TemporaryDirectory() as home:
        env = bench_env(Path(home))
        python = time_command([sys.executable, "-c", "pass"], env, runs)
        cat = time_command(["cat"], env, runs, stdin=text)
        t = time_command(cli("compress", "--cmd", "pytest -v", "--exit-code", "1"), env, runs, stdin=text)
    figure = at_most("ai-session compress, 1 MB (pytest -v)", t.wall_ms / 1e3, "s", 0.1,
                     reference=f"python -c pass {python.wall_ms:.0f} ms, cat {cat.wall_ms:.0f} ms",
                     ratio=t.wall_ms / python.wall_ms, note=f"cpu {t.cpu_ms / 1e3:.2f} s, peak RSS {t.peak_rss_mb:.0f} MB")
    print(f"{figure.name}: {figure.shown()} ({figure.reference}; {figure.note})")
    return [figure]


def main() -> list[Figure]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--stream-mb", type=int, default=100)
    args = ap.parse_args()
    figures = command_1mb(args.runs)
    # First, while this process is small: a child's peak RSS counts the parent's pages it
    # was forked with, until it execs.
    stream_rss(args.stream_mb)
    with tempfile.TemporaryDirectory() as home:
        os.environ["AI_SESSION_HOME"] = home
        os.environ["AI_SESSION_CONFIG"] = str(Path(home) / "config.toml")
        from ai_session.core.config import Config
        from ai_session.core.manager import SessionManager

        manager = SessionManager(Config.load())
        try:
            print("-- 10 MiB mixed CI log")
            end_to_end("mixed", mixed_log(10 * MIB), "./ci.sh", args.runs, manager)
            for size, label in ((1_000_000, "1MB"), (10_000_000, "10MB")):
                print(f"-- {label}")
                end_to_end("pytest", pytest_output(size), "pytest -v", args.runs, manager)
                end_to_end("cargo", cargo_output(size), "cargo build", args.runs, manager)
                end_to_end("generic", generic_output(size), "./run.sh", args.runs, manager)
        finally:
            manager.close()
    return figures


if __name__ == "__main__":
    from harness import table

    print(table(main()))
