"""What a rewritten command runs: the agent's command in the worktree session's live shell.

`python -m ai_session.hooks run --agent NAME [--timeout S] --cwd DIR -- COMMAND` prints the
context form of the run (every fact, the exit code, the run id and how to get the raw
output) and exits with the command's exit code, so the agent sees what it would have seen,
shorter. The command runs in the session host's shell of the session of DIR's worktree: the
one live shell the editors' terminals and the CLI share, so what a person set there (a
variable, a function, a virtualenv) is what the agent's command sees, and the other way round. The host finds (or makes)
that session, so this client imports only the standard library and the socket client.

When no host can run here, the command runs in a shell of this process (restored from the
state the host saved), saying why in one line. If ai-session cannot run it at all (no store,
not a repository), the original command is run directly instead, exactly as the agent asked:
the agent never loses a command to us, and never has one run twice.

`run_for_agent` is the one path by which agents' commands (hooks and MCP) run.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from types import FrameType
from typing import TYPE_CHECKING

from ai_session.host.client import CommandResult, Connection, HostError, HostLost, HostUnavailable, connect, run_command

if TYPE_CHECKING:
    import argparse

    from ai_session.core.manager import SessionManager
    from ai_session.core.models import CommandRun

CAP_VARIABLE = "BASH_MAX_OUTPUT_LENGTH"  # Claude Code's inline limit for a Bash output, in characters
GIVE_UP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # the agent gave up on the command


def agent_cap(env: Mapping[str, str]) -> int | None:
    """The agent's own output limit, when it says one: raw is what the agent would have
    received, and it receives at most that much (the host applies it to the run's figures)."""
    value = env.get(CAP_VARIABLE, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def run_for_agent(cwd: str, command: str, *, agent: str, timeout: float | None = None, output_cap: int | None = None,
                  conn: Connection | None = None, on_start: Callable[[str], None] | None = None) -> CommandResult:  # fmt: skip
    """Run `command` in `cwd`, in the session host's shell of the session of `cwd`'s worktree
    (found or made by the host), recorded as the agent's. Raises HostUnavailable when no host
    can run here (then `run_in_process`)."""
    return run_command(None, command, worktree=cwd, cwd=cwd, agent=agent, timeout=timeout, output_cap=output_cap,
                       conn=conn, on_start=on_start)  # fmt: skip


async def run_in_process(m: SessionManager, cwd: str, command: str, *, agent: str, timeout: float | None = None,
                         output_cap: int | None = None, on_start: Callable[[str], None] | None = None) -> CommandResult:  # fmt: skip
    """`run_for_agent` without a host: a shell of this process, restored from the saved state."""
    session, _ = m.worktree_session(cwd, agent=agent)
    run = await m.exec(session, command, cwd=cwd, timeout=timeout, agent=agent, output_cap=output_cap,
                       on_start=None if on_start is None else lambda started: on_start(started.id))  # fmt: skip
    return _result(run)


def _result(run: CommandRun) -> CommandResult:
    return CommandResult.of(run.model_dump(mode="json", by_alias=True))


def agent_text(run: CommandResult, timeout: float | None = None) -> str:
    """What the agent reads: the context form, then how the run ended and where its raw output is."""
    text = run.context
    if text and not text.endswith("\n"):
        text += "\n"
    if run.status == "timeout":
        text += f"[ai-session] timed out after {timeout or 0:g}s; stopped the command and everything it started\n"
    elif run.status == "cancelled":
        text += "[ai-session] cancelled; stopped the command and everything it started\n"
    if f"ai-session output {run.run_id}" in text:  # something was left out: the footer says how to see it
        return text
    # Nothing was left out: the run id is all that is needed (`ai-session output RUN --raw` for the colours).
    if text.rstrip("\n").rsplit("\n", 1)[-1].startswith("[ai-session] exit "):
        return text.rstrip("\n") + f" · run {run.run_id}\n"
    return text + f"[ai-session] run {run.run_id}\n"


def exit_status(run: CommandResult) -> int:
    if run.status == "timeout":
        return 124
    if run.status == "cancelled":
        return 130
    return run.exit_code if run.exit_code is not None else 1


def cancel(run_id: str) -> None:
    """Stop a run in the host from a connection of its own (the run's is busy waiting on it)."""
    with connect() as conn:
        conn.request("aiSession/run/cancel", {"runId": run_id})


class _GaveUp(Exception):
    pass


class _Progress:
    """How far the command got, which decides what an error may do: before it was asked for,
    run it directly; once asked for, never run it again. A signal (the agent gave up) stops it
    in the host once it has a run id."""

    def __init__(self) -> None:
        self.asked = False
        self.run_id: str | None = None
        self.gave_up = False
        self._raised = False

    def started(self, run_id: str) -> None:
        self.run_id = run_id
        self._give_up()

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.gave_up = True
        self._give_up()

    def _give_up(self) -> None:
        if self.gave_up and self.run_id and not self._raised:
            self._raised = True
            raise _GaveUp


def main(argv: Sequence[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m ai_session.hooks run")
    parser.add_argument("--agent", default="claude-code")
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("--cwd", default=os.getcwd())
    parser.add_argument("command")
    args = parser.parse_args(argv)
    progress = _Progress()
    previous = {sig: signal.signal(sig, progress.on_signal) for sig in GIVE_UP_SIGNALS}
    try:
        try:
            conn = connect()
        except HostUnavailable as exc:
            print(f"[ai-session] no session host ({exc}); the shell runs in this process", file=sys.stderr)
            for sig, handler in previous.items():
                signal.signal(sig, handler)  # the in-process run has its own
            return _in_process(args, progress)
        with conn:
            for note in conn.notes:
                print(note, file=sys.stderr)
            return _via_host(conn, args, progress)
    except Exception as exc:  # whatever failed, the agent's command still runs once
        if progress.run_id:  # it ran (or is running): never run it a second time
            print(f"[ai-session] error after the command started (run {progress.run_id}): {exc}", file=sys.stderr)
            return 1
        if progress.asked and not isinstance(exc, HostError):  # the host may have started it: not twice
            print(f"[ai-session] {exc}; the command may have run, so it was not run again", file=sys.stderr)
            return 1
        print(f"[ai-session] could not run this in the session ({exc}); ran it directly", file=sys.stderr)
        sys.stderr.flush()
        _run_directly(args.command, args.cwd)
        return 1  # not reached


def _via_host(conn: Connection, args: argparse.Namespace, progress: _Progress) -> int:
    if progress.gave_up:
        return 130  # before anything ran
    progress.asked = True
    try:
        result = run_for_agent(args.cwd, args.command, agent=args.agent, timeout=args.timeout,
                               output_cap=agent_cap(os.environ), conn=conn, on_start=progress.started)  # fmt: skip
    except _GaveUp:
        result = CommandResult.of(conn.request("aiSession/run/cancel", {"runId": progress.run_id})["run"])
    except HostLost as exc:
        if progress.run_id is None:
            raise
        print(f"[ai-session] {exc} while the command ran (run {progress.run_id}); it is recorded as interrupted, "
              "and the next command starts a new session host", file=sys.stderr)  # fmt: skip
        return 1
    sys.stdout.write(agent_text(result, args.timeout))
    sys.stdout.flush()
    return exit_status(result)


def _in_process(args: argparse.Namespace, progress: _Progress) -> int:
    import asyncio

    if progress.gave_up:
        return 130  # while looking for a host, before anything ran

    from ai_session.core.config import Config
    from ai_session.core.manager import SessionManager

    async def run(m: SessionManager) -> int:
        task = asyncio.ensure_future(run_in_process(m, args.cwd, args.command, agent=args.agent, timeout=args.timeout,
                                                    output_cap=agent_cap(os.environ), on_start=progress.started))  # fmt: skip
        loop = asyncio.get_running_loop()
        for sig in GIVE_UP_SIGNALS:
            loop.add_signal_handler(sig, task.cancel)  # the agent gave up: stop the command in the shell too
        try:
            result = await task
        except asyncio.CancelledError:
            if not progress.run_id:
                return 130
            result = _result(m.get_run(progress.run_id))
        finally:
            await m.shells.close()
        sys.stdout.write(agent_text(result, args.timeout))
        sys.stdout.flush()
        return exit_status(result)

    m = SessionManager(Config.load())
    try:
        return asyncio.run(run(m))
    finally:
        m.close()


def _run_directly(command: str, cwd: str) -> None:
    """Replace this process by the agent's own kind of shell running the command, untouched."""
    import contextlib
    import shutil

    shell = shutil.which("bash") or "/bin/sh"
    with contextlib.suppress(OSError):  # a directory gone since: run it where we are
        os.chdir(cwd)
    os.execv(shell, [shell, "-c", command])
