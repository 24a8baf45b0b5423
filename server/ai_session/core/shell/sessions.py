"""The shells of sessions: one live ShellProcess per session, every command recorded.

Owned by a SessionManager (`manager.shells`); what they run is recorded by its RunRecorder
(`core/runs.py`), the only way from here to the store. A session's shell starts where the session's
last shell stopped (its saved cwd and exported env, minus secrets) or else in its worktree;
when it closes, that state is saved again. Each command -- run through `exec` or typed by an
attached user -- becomes a CommandRun with its raw output (redacted, capped) in the store and
a command message in the session's history.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ai_session.core.errors import Conflict
from ai_session.core.models import CommandRun, RunStatus, Session, SessionStatus
from ai_session.core.privacy import private_dir
from ai_session.core.shell import procs
from ai_session.core.shell.env import restorable
from ai_session.core.shell.process import ExecResult, ShellExited, ShellProcess, Stdin

if TYPE_CHECKING:
    from ai_session.core.runs import RunRecorder

class SessionShells:
    def __init__(self, runs: RunRecorder, home: Path, *, user_rc: bool = False) -> None:
        self._runs = runs
        self._home = home
        self._user_rc = user_rc
        self._live: dict[str, ShellProcess] = {}
        self._starting: dict[str, asyncio.Lock] = {}
        self._recording: set[asyncio.Task[CommandRun]] = set()  # typed commands being recorded
        self._workroot: Path | None = None
        # The session host saves cwd and env after every command, so a killed host loses at
        # most the command that was running; others save them when the shell closes.
        self.save_each_command = False

    def workroot(self) -> Path:
        """The private folder (in the data dir) holding each live shell's own files; what a
        process killed before it could clean up left there goes now."""
        if self._workroot is None:
            self._workroot = private_dir(self._home / "shells")
            for leftover in self._workroot.glob("sh-*"):
                owner = leftover.name.split("-")[1]
                if owner.isdigit() and not procs.alive(int(owner)):
                    shutil.rmtree(leftover, ignore_errors=True)
        return self._workroot

    def live(self, session_id: str) -> ShellProcess | None:
        sh = self._live.get(session_id)
        return sh if sh is not None and sh.alive else None

    async def shell(self, ref: str | Session, *, rows: int = 24, cols: int = 80) -> ShellProcess:
        """The session's live shell, started (and its state restored) if needed."""
        session = ref if isinstance(ref, Session) else self._runs.session(ref)
        if session.status is SessionStatus.ENDED:
            raise Conflict(f"session {session.name} has ended; fork it to run commands")
        lock = self._starting.setdefault(session.id, asyncio.Lock())
        async with lock:
            sh = self.live(session.id)
            if sh is not None:
                return sh
            old = self._live.pop(session.id, None)
            if old is not None:  # it exited on its own (e.g. `exit`): keep what it left
                self._save_state(session.id, old)
                session = self._runs.session(session.id)
            # A saved directory only if it still is one, else the worktree, else home.
            cwd = next(
                (d for d in (session.shell_cwd, session.worktree) if d and os.path.isabs(d) and os.path.isdir(d)),
                os.path.expanduser("~"),
            )
            env = {**os.environ, **restorable(session.shell_env)}
            sh = await ShellProcess.start(cwd, env, user_rc=self._user_rc, rows=rows, cols=cols,
                                          workroot=self.workroot(), save_each_command=self.save_each_command)
            sh.add_run_listener(functools.partial(self._on_typed, session.id))
            self._live[session.id] = sh
            return sh

    async def exec(
        self,
        ref: str | Session,
        command: str,
        *,
        timeout: float | None = None,
        cwd: str | None = None,
        stdin: Stdin = "null",
        on_output: Callable[[bytes], object] | None = None,
        on_start: Callable[[CommandRun], object] | None = None,
        agent: str | None = None,
        output_cap: int | None = None,
    ) -> CommandRun:
        """Run a command in the session's shell, streaming output to `on_output`, and record it.

        `on_start` gets the run (status running, id assigned) as soon as it is stored;
        `output_cap` is the asking agent's own output limit, kept on the run for its raw figure."""
        called = time.monotonic()
        session = ref if isinstance(ref, Session) else self._runs.session(ref)
        sh = await self.shell(session)
        run = CommandRun(
            session_id=session.id,
            command=command,
            cwd=cwd or sh.cwd,
            metadata={"owner_pid": os.getpid(), "origin": "exec", **({"agent": agent} if agent else {}),
                      **({"agent_output_cap": output_cap} if output_cap else {})},
        )
        handle = sh.exec(command, timeout=timeout, cwd=cwd, stdin=stdin)  # refuses bad input before anything is stored
        self._runs.started(run)
        if on_start is not None:
            on_start(run)
        try:
            if on_output is None:
                result = await handle
            else:
                async for chunk in handle:
                    on_output(chunk)
                result = await handle
        except ShellExited:
            self._runs.stopped(run, RunStatus.LOST)
            raise
        except asyncio.CancelledError:
            # The engine is stopping the command and everything it started; wait for that
            # (bounded by the engine) so the run is recorded as it really ended.
            try:
                result = await asyncio.shield(handle.result())
            except BaseException:
                self._runs.stopped(run, RunStatus.CANCELLED)
            else:
                await self._record(session.id, result, run, called)
            raise
        if not sh.alive:
            self._save_state(session.id, sh)
        return await self._record(session.id, result, run, called)

    def _on_typed(self, session_id: str, result: ExecResult) -> None:
        if result.origin == "typed":
            task = asyncio.get_running_loop().create_task(self._record(session_id, result, None))
            self._recording.add(task)
            task.add_done_callback(self._recording.discard)

    async def _record(self, session_id: str, result: ExecResult, run: CommandRun | None,
                      called: float | None = None) -> CommandRun:  # fmt: skip
        done = await self._runs.finished(session_id, result, run, called)
        if self.save_each_command and (sh := self.live(session_id)) is not None:
            # The shell's latest, not this run's: runs are recorded concurrently, in any order.
            self._runs.shell_state(session_id, sh.cwd, _env_delta(sh.saved_env()))
        else:
            self._runs.shell_state(session_id, result.final_cwd)
        return done

    def _save_state(self, session_id: str, sh: ShellProcess) -> None:
        state = sh.final_state()
        self._runs.shell_state(session_id, state.cwd, _env_delta(state.env))

    def running(self) -> bool:
        """Whether a command runs in any live shell (typed or exec)."""
        return any(sh.busy for sh in self._live.values() if sh.alive) or bool(self._recording)

    async def settled(self) -> None:
        """Until the typed commands that finished are recorded (compressed and stored)."""
        if self._recording:
            await asyncio.gather(*list(self._recording), return_exceptions=True)

    async def close(self, session_id: str | None = None) -> None:
        """Close live shells (all, or one session's), saving each one's cwd and env."""
        await self.settled()
        ids = [session_id] if session_id else list(self._live)
        for sid in ids:
            sh = self._live.pop(sid, None)
            if sh is None:
                continue
            await sh.close()
            self._save_state(sid, sh)


def _env_delta(env: dict[str, str]) -> dict[str, str]:
    """What the shell's env adds to or changes from ours: that is what a new shell restores
    (this process's env may differ next time; the user's own settings then win)."""
    ours = os.environ
    return {k: v for k, v in restorable(env).items() if ours.get(k) != v}

