"""The session host: `exec S true` through the host against a bare PTY and the in-process path,
and the CLI's start-up for `--version`, `list` and `exec`.

In-process figures (one Python process, the command only):
  bare PTY      spawn /bin/true in a fresh PTY and read it to EOF (the floor of any shell)
  in-process    SessionManager.exec in this process's own live shell (recorded like any run)
  host client   the host's client: connect, exec, wait for the end, the run's report

Whole commands (a new interpreter each time, as a person or an agent runs them, through the
installed `ai-session` script; the config file found as a user's is, under XDG_CONFIG_HOME):
  python        `python -c pass`: the interpreter alone, the reference of the CLI figures
  --version     `ai-session --version`
  list          `ai-session list` (opens the store)
  exec/host     `ai-session exec S true` through the running host (target: <= 60 ms)
  exec/no host  the same with AI_SESSION_HOST=off: a shell started in the process, as before hosts

Medians of N runs (CPU time beside wall time: on a shared machine it is the command's own
cost); ratios against the reference measured in the same run. `python bench/run.py startup`
reports these beside the 1,000-session `list`.

    python bench/bench_host.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from bench_shell import direct_pty_true
from harness import Figure, Timing, at_most, bench_env, cli, median_ms, run_once, time_command

EXEC_TARGET_MS = 60.0


async def _in_process(session: str, runs: int) -> float:
    from ai_session.core.manager import SessionManager

    m = SessionManager()
    try:
        await m.exec(session, "true")
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            await m.exec(session, "true")
            samples.append(time.perf_counter() - t0)
        return sorted(samples)[len(samples) // 2] * 1e3
    finally:
        await m.shells.close()
        m.close()


def exec_figures(env: dict[str, str], session: str, runs: int, python: Timing) -> list[Figure]:
    """`exec SESSION true` in one process (bare PTY, in-process, host client) and as a whole
    command (through the host, and without one, against `python` measured in the same run), in
    the store `env` names. Leaves the host running."""
    from ai_session.host.client import run_command

    saved = dict(os.environ)
    os.environ.update(env)  # the in-process figures use the same store and host as the commands
    try:
        direct_pty_true()
        pty = median_ms(direct_pty_true, runs)
        here = asyncio.run(_in_process(session, runs))
        run_command(session, "true")  # the host is up
        client = median_ms(lambda: run_command(session, "true"), runs)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    ref = f"bare PTY {pty:.2f} ms"
    figures = [Figure("exec true: bare PTY", pty, "ms", note="spawn /bin/true in a fresh PTY, read to EOF"),
               Figure("exec true: in-process shell", here, "ms", reference=ref, ratio=here / pty,
                      note="SessionManager.exec, recorded"),
               Figure("exec true: host client", client, "ms", reference=ref, ratio=client / pty,
                      note="run_command: connect, exec, wait, recorded")]  # fmt: skip
    ref = f"python -c pass {python.wall_ms:.1f} ms"
    via_host = time_command(cli("exec", session, "true"), env, runs)
    no_host = time_command(cli("exec", session, "true"), {**env, "AI_SESSION_HOST": "off"}, runs)
    figures += [
        at_most("ai-session exec S true, through the host", via_host.wall_ms, "ms", EXEC_TARGET_MS, reference=ref,
                ratio=via_host.wall_ms / python.wall_ms, note=f"cpu {via_host.cpu_ms:.0f} ms "
                f"(python -c pass cpu {python.cpu_ms:.0f} ms)"),
        Figure("ai-session exec S true, no host", no_host.wall_ms, "ms", reference=ref,
               ratio=no_host.wall_ms / python.wall_ms, note=f"cpu {no_host.cpu_ms:.0f} ms; "
               f"through the host: {via_host.wall_ms / no_host.wall_ms:.2f}x this"),
    ]  # fmt: skip
    return figures


def user_env(home: Path) -> dict[str, str]:
    """A benchmarked command's environment, with the config file found where a user's is."""
    env = bench_env(home, XDG_CONFIG_HOME=str(home / "xdg-config"))
    env.pop("AI_SESSION_CONFIG")
    return env


def main() -> list[Figure]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = user_env(home)
        run_once(cli("create", "bench"), env)
        try:
            python = time_command([sys.executable, "-c", "pass"], env, runs)
            ref = f"python -c pass {python.wall_ms:.1f} ms"
            figures = exec_figures(env, "bench", runs, python)
            figures.insert(3, Figure("python -c pass", python.wall_ms, "ms", note=f"cpu {python.cpu_ms:.0f} ms"))
            for args in (("--version",), ("list",)):
                t = time_command(cli(*args), env, runs)
                figures.append(Figure(f"ai-session {' '.join(args)}", t.wall_ms, "ms", reference=ref,
                                      ratio=t.wall_ms / python.wall_ms, note=f"cpu {t.cpu_ms:.0f} ms"))  # fmt: skip
        finally:
            from ai_session.host.client import stop_host

            stop_host({**os.environ, **env})
        for f in figures:
            print(f"{f.name:<44} {f.shown():>10}  {f.target:<10} {f.reference:<26} "
                  f"{'' if f.ratio is None else f'{f.ratio:5.2f}x'}  {f.note}")  # fmt: skip
        return figures


if __name__ == "__main__":
    from harness import table

    print(table(main()))
