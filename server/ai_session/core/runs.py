"""The run recorder: the one place a command run becomes stored history.

A run is stored as "running" when it starts (so every client sees it); when it ends its
output is compressed and counted (core/accounting's one figure), the run saved with its raw
output (the store's codec redacts both), and a command message appended to the session's
history. The shells (`shell/sessions.py`) hand runs and shell state here and never reach the
store or the manager themselves.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from ai_session.core.context import command_message
from ai_session.core.models import CommandRun, RunStatus, Session, utcnow

if TYPE_CHECKING:
    from collections.abc import Callable

    from ai_session.core.sessions import Sessions
    from ai_session.core.shell.process import ExecResult


class RunRecorder:
    def __init__(self, sessions: Sessions, describe: Callable[[CommandRun, str], CommandRun]) -> None:
        self._sessions = sessions
        self._describe = describe

    def session(self, ref: str) -> Session:
        return self._sessions.resolve(ref)

    def started(self, run: CommandRun) -> None:
        """A run begins: stored as running, with the id every client will name it by."""
        self._sessions.store.save_run(run)

    def stopped(self, run: CommandRun, status: RunStatus) -> None:
        """A run that ended without a result to record (its shell died, or it was stopped
        before its end could be read)."""
        self._sessions.store.save_run(run.model_copy(update={"status": status, "ended_at": utcnow()}))

    async def finished(self, session_id: str, result: ExecResult, run: CommandRun | None = None,
                       called: float | None = None) -> CommandRun:  # fmt: skip
        """Record how a command ended: `run` is the stored running run of an exec, None for a
        command typed in an attached terminal. `called`: when the exec was asked for (monotonic),
        so what ai-session added around the command is kept (`stats --global`)."""
        raw = result.output.decode("utf-8", "replace")
        fields = {
            "session_id": session_id,
            "command": result.command,
            "cwd": result.cwd or (run.cwd if run else None),
            "started_at": result.started_at,
            "ended_at": result.ended_at,
            "exit_code": result.exit_code,
            "status": result.status,
            "raw_bytes": len(result.output),
            "raw_truncated": result.truncated,
        }
        meta = dict(run.metadata if run else {"origin": result.origin})
        meta.pop("owner_pid", None)
        meta.update(final_cwd=result.final_cwd, output_bytes=result.output_bytes, cap=result.cap)
        done = run.model_copy(update={**fields, "metadata": meta}) if run else CommandRun(**fields, metadata=meta)
        # Compressing and counting a multi-megabyte output takes a while: not on the event loop.
        done = await asyncio.to_thread(self._describe, done, raw)
        if called is not None:  # all but the final write
            overhead = max(0.0, time.monotonic() - called - result.duration)
            done.metadata["timings"] = {"overhead_ms": round(overhead * 1000, 2)}
        self._sessions.store.save_run(done, raw)
        done = self._sessions.store.get_run(done.id) or done  # as stored: redacted, whoever reads it next
        self._sessions.record(session_id, [command_message(done, agent=meta.get("agent"))])
        return done

    def shell_state(self, session_id: str, cwd: str | None, env: dict[str, str] | None = None) -> None:
        """Where the session's shell is (and, when given, the env a new shell restores)."""
        session = self._sessions.resolve(session_id)
        changes: dict[str, object] = {}
        if cwd and session.shell_cwd != cwd:
            changes["shell_cwd"] = cwd
        if env is not None and session.shell_env != env:
            changes["shell_env"] = env
        if changes:
            self._sessions.update(session, **changes)
