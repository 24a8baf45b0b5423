"""What every benchmark shares: a figure beside its target and its same-run reference, the
way to time a whole command (wall and CPU medians, peak RSS), and the report (a table for
people, JSON for scripts).

Times of whole commands are medians of several runs; CPU time (user + system of the child)
is given beside wall time because on a shared machine it is the command's own cost, while
wall time includes waiting for a core.
"""

from __future__ import annotations

import compileall
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "server"
if str(SERVER) not in sys.path:
    sys.path.insert(0, str(SERVER))


@dataclass
class Figure:
    """One measured figure. `met` is None when the figure has no target (a reference, a scale point)."""

    name: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None
    reference: str = ""  # what it is compared with, measured in the same run
    ratio: float | None = None  # value / reference
    note: str = ""
    extra: dict[str, float] = field(default_factory=dict)

    def shown(self) -> str:
        return fmt(self.value, self.unit)


def fmt(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "MB":
        return f"{value:.0f} MB" if value >= 10 else f"{value:.1f} MB"
    if unit in ("/s", "msgs/s"):
        return f"{value:,.0f}/s"
    if unit == "bool":
        return "yes" if value else "no"
    return f"{value:g} {unit}".strip()


def at_most(name: str, value: float, unit: str, limit: float, **kw: object) -> Figure:
    return Figure(name, value, unit, target=f"<= {fmt(limit, unit)}", met=value <= limit, **kw)  # type: ignore[arg-type]


def at_least(name: str, value: float, unit: str, limit: float, **kw: object) -> Figure:
    return Figure(name, value, unit, target=f">= {fmt(limit, unit)}", met=value >= limit, **kw)  # type: ignore[arg-type]


@dataclass
class Timing:
    wall_ms: float  # median
    cpu_ms: float  # median, user + system
    peak_rss_mb: float  # the largest of the runs
    walls: list[float]


def bench_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a benchmarked command: its own data dir, no user config, and the
    package's bytecode compiled, as an installed package has it (pip compiles it at install
    time; compiling our sources on every start would cost more than all of our imports)."""
    compileall.compile_dir(str(SERVER / "ai_session"), quiet=1)
    env = {**os.environ, "PYTHONPATH": str(SERVER), "AI_SESSION_HOME": str(home),
           "AI_SESSION_CONFIG": str(home / "none.toml"), **extra}  # fmt: skip
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


# Commands are started by a small launcher, not forked from the benchmark: a child's peak RSS
# (ru_maxrss) counts the pages it was forked with until it execs, and a benchmark that built a
# large store, or compressed 10 MB, would lend every command it times hundreds of MB. The
# launcher (a bare interpreter) times the command itself and reports on the file descriptor
# it is given: wall ms, CPU ms, peak RSS MB (never below its own, some 10 MB), exit code.
_LAUNCHER = """
import json, os, sys, time
report = int(sys.argv[1])
os.set_inheritable(report, False)
t = time.perf_counter()
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
wall = (time.perf_counter() - t) * 1e3
os.write(report, json.dumps([wall, (usage.ru_utime + usage.ru_stime) * 1e3, usage.ru_maxrss / 1024,
                             os.waitstatus_to_exitcode(status)]).encode())
"""


def run_once(argv: Sequence[str], env: dict[str, str] | None = None, stdin: bytes | None = None) -> Timing:
    """One run, output discarded, with its wall and CPU time and peak RSS (its own: see `_LAUNCHER`)."""
    report, into = os.pipe()
    try:
        proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(into), *argv], env=env, pass_fds=(into,),
                                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        os.close(into)
        into = -1
        if proc.stdin is not None:
            proc.stdin.write(stdin or b"")
            proc.stdin.close()
        assert proc.stderr is not None
        err = proc.stderr.read()
        proc.wait()
        with os.fdopen(report, "rb") as r:
            report = -1
            measured = r.read()
    finally:
        for fd in (report, into):
            if fd >= 0:
                os.close(fd)
    if proc.returncode != 0 or not measured:
        raise RuntimeError(f"the launcher of {' '.join(argv)} failed ({proc.returncode}): {err.decode()[-400:]}")
    wall, cpu, rss, code = json.loads(measured)
    if code != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({code}): {err.decode()[-400:]}")
    return Timing(wall, cpu, rss, [wall])


def time_command(argv: Sequence[str], env: dict[str, str] | None = None, runs: int = 7,
                 stdin: bytes | None = None) -> Timing:  # fmt: skip
    """Medians of `runs` runs, after one warm-up run that fills the page cache."""
    run_once(argv, env, stdin)
    timings = [run_once(argv, env, stdin) for _ in range(runs)]
    walls = [t.wall_ms for t in timings]
    return Timing(statistics.median(walls), statistics.median(t.cpu_ms for t in timings),
                  max(t.peak_rss_mb for t in timings), walls)


def median_ms(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1e3


def cli(*args: str) -> list[str]:
    """`ai-session ARGS` as a user runs it: the installed entry point beside this interpreter."""
    script = Path(sys.executable).with_name("ai-session")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "ai_session", *args]


# ---------------------------------------------------------------------------- the report


def table(figures: Sequence[Figure]) -> str:
    rows = [("figure", "measured", "target", "", "reference (same run)", "ratio", "note")]
    for f in figures:
        mark = "" if f.met is None else ("ok" if f.met else "MISSED")
        ratio = "" if f.ratio is None else f"{f.ratio:.2f}x"
        rows.append((f.name, f.shown(), f.target, mark, f.reference, ratio, f.note))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def as_json(figures: Sequence[Figure]) -> str:
    return json.dumps([asdict(f) for f in figures], indent=1)
