"""What a rewritten command runs: the agent's command in the worktree session's shell.

`python -m ai_session.hooks run --agent NAME [--timeout S] --cwd DIR -- COMMAND` prints the
context form of the run (every fact, the exit code, the run id and how to get the raw
output) and exits with the command's exit code, so the agent sees what it would have seen,
shorter. If ai-session cannot run it (no store, no shell), the original command is run
directly instead, exactly as the agent asked: the agent never loses a command to us.

`run_for_agent` is the one path by which agents' commands (hooks and MCP) run.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ai_session.core.config import Config
    from ai_session.core.manager import SessionManager
    from ai_session.core.models import CommandRun

CAP_VARIABLE = "BASH_MAX_OUTPUT_LENGTH"  # Claude Code's inline limit for a Bash output, in characters


def with_agent_cap(config: Config, env: Mapping[str, str]) -> Config:
    """The config with the agent's own output limit as the raw figure's cap, when it says one:
    raw is what the agent would have received, and it receives at most that much."""
    value = env.get(CAP_VARIABLE, "").strip()
    if not value.isdigit() or int(value) <= 0:
        return config
    context = {**(config.sections.get("context") or {}), "agent_output_cap": int(value)}
    return dataclasses.replace(config, sections={**config.sections, "context": context})


async def run_for_agent(m: SessionManager, cwd: str, command: str, *, agent: str, timeout: float | None = None,
                        on_start: Callable[[CommandRun], object] | None = None) -> CommandRun:  # fmt: skip
    """Run `command` in `cwd`, in the shell of the session of `cwd`'s worktree (found or made),
    recorded as the agent's. The shell's own cwd and env persist between commands."""
    session, _ = m.worktree_session(cwd, agent=agent)
    return await m.shells.exec(session, command, cwd=cwd, timeout=timeout, on_start=on_start, agent=agent)


def agent_text(run: CommandRun, timeout: float | None = None) -> str:
    """What the agent reads: the context form, then how the run ended and where its raw output is."""
    text = run.context or ""
    if text and not text.endswith("\n"):
        text += "\n"
    if run.status.value == "timeout":
        text += f"[ai-session] timed out after {timeout or 0:g}s; stopped the command and everything it started\n"
    elif run.status.value == "cancelled":
        text += "[ai-session] cancelled; stopped the command and everything it started\n"
    if f"ai-session output {run.id}" in text:  # something was left out: the footer says how to see it
        return text
    # Nothing was left out: the run id is all that is needed (`ai-session output RUN --raw` for the colours).
    if text.rstrip("\n").rsplit("\n", 1)[-1].startswith("[ai-session] exit "):
        return text.rstrip("\n") + f" · run {run.id}\n"
    return text + f"[ai-session] run {run.id}\n"


def exit_status(run: CommandRun) -> int:
    if run.status.value == "timeout":
        return 124
    if run.status.value == "cancelled":
        return 130
    return run.exit_code if run.exit_code is not None else 1


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ai_session.hooks run")
    parser.add_argument("--agent", default="claude-code")
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("--cwd", default=os.getcwd())
    parser.add_argument("command")
    args = parser.parse_args(argv)
    started: list[CommandRun] = []
    try:
        return asyncio.run(_run(args, started))
    except Exception as exc:  # whatever failed, the agent's command still runs once
        if started:  # it ran (or is running): never run it a second time
            print(f"[ai-session] error after the command started: {exc}", file=sys.stderr)
            return 1
        print(f"[ai-session] could not run this in the session ({exc}); ran it directly", file=sys.stderr)
        sys.stderr.flush()
        _run_directly(args.command, args.cwd)
        return 1  # not reached


async def _run(args: argparse.Namespace, started: list[CommandRun]) -> int:
    from ai_session.core.config import Config
    from ai_session.core.manager import SessionManager

    m = SessionManager(with_agent_cap(Config.load(), os.environ))
    try:
        task = asyncio.ensure_future(run_for_agent(m, args.cwd, args.command, agent=args.agent, timeout=args.timeout,
                                                   on_start=started.append))  # fmt: skip
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, task.cancel)  # the agent gave up: stop the command in the shell too
        try:
            run = await task
        except asyncio.CancelledError:
            if not started:
                return 130
            run = m.get_run(started[0].id)
        sys.stdout.write(agent_text(run, args.timeout))
        sys.stdout.flush()
        return exit_status(run)
    finally:
        await m.shells.close()
        m.close()


def _run_directly(command: str, cwd: str) -> None:
    """Replace this process by the agent's own kind of shell running the command, untouched."""
    import contextlib
    import shutil

    shell = shutil.which("bash") or "/bin/sh"
    with contextlib.suppress(OSError):  # a directory gone since: run it where we are
        os.chdir(cwd)
    os.execv(shell, [shell, "-c", command])
