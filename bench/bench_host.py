"""The session host: `exec S true` through the host against a bare PTY and the in-process path,
and the CLI's start-up for `--version`, `list` and `exec`.

In-process figures (one Python process, the command only):
  bare PTY      spawn /bin/true in a fresh PTY and read it to EOF (the floor of any shell)
  in-process    SessionManager.exec in this process's own live shell (recorded like any run)
  host client   the host's client: connect, exec, wait for the end, the run's report

Whole commands (a new interpreter each time, as a person or an agent runs them):
  python        `python -c pass`: the interpreter alone, the reference of the CLI figures
  --version     `ai-session --version`
  list          `ai-session list` (opens the store)
  exec/host     `ai-session exec S true` through the running host
  exec/no host  the same with AI_SESSION_HOST=off: a shell started in the process, as before hosts

Medians of N runs; ratios against the reference measured in the same run. Bytecode is
compiled first (a user's install has it), so imports are not timed as compiles.

    python bench/bench_host.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "server")]

from bench_shell import direct_pty_true


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _time(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return _median_ms(samples)


async def _in_process(runs: int) -> float:
    from ai_session.core.manager import SessionManager

    m = SessionManager()
    try:
        await m.exec("bench", "true")
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            await m.exec("bench", "true")
            samples.append(time.perf_counter() - t0)
        return _median_ms(samples)
    finally:
        await m.shells.close()
        m.close()


def _host_client() -> None:
    from ai_session.host.client import run_command

    run_command("bench", "true")


def _command(args: list[str], env: dict[str, str]) -> None:
    subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    compileall.compile_dir(str(ROOT / "server" / "ai_session"), quiet=1)
    with tempfile.TemporaryDirectory() as home:
        os.environ["AI_SESSION_HOME"] = home
        os.environ["AI_SESSION_CONFIG"] = str(Path(home) / "config.toml")
        os.environ.pop("AI_SESSION_STORE", None)
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "server")}
        cli = [sys.executable, "-m", "ai_session"]
        _command([*cli, "create", "bench"], env)
        try:
            pty = _time(lambda: direct_pty_true(), runs)
            here = asyncio.run(_in_process(runs))
            via_host = _time(_host_client, runs)
            print(f"exec true, in one process (median of {runs}):")
            print(f"  bare PTY     {pty:8.2f} ms   1.00x")
            print(f"  in-process   {here:8.2f} ms   {here / pty:5.2f}x")
            print(f"  host client  {via_host:8.2f} ms   {via_host / pty:5.2f}x")
            py = _time(lambda: _command([sys.executable, "-c", "pass"], env), runs)
            figures = {
                "--version": _time(lambda: _command([*cli, "--version"], env), runs),
                "list": _time(lambda: _command([*cli, "list"], env), runs),
                "exec/host": _time(lambda: _command([*cli, "exec", "bench", "true"], env), runs),
                "exec/no host": _time(lambda: _command([*cli, "exec", "bench", "true"], {**env, "AI_SESSION_HOST": "off"}),
                                      runs),
            }
            print(f"whole commands, a new interpreter each (median of {runs}):")
            print(f"  python -c pass {py:8.1f} ms   1.00x")
            for name, ms in figures.items():
                print(f"  {name:<14} {ms:8.1f} ms   {ms / py:5.2f}x")
            print(f"  exec/host against exec/no host: {figures['exec/host'] / figures['exec/no host']:.2f}x")
        finally:
            from ai_session.host.client import stop_host

            stop_host()


if __name__ == "__main__":
    main()
