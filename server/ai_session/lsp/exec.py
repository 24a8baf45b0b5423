"""exec: run commands in session shells, stream their output, publish what they found.

`aiSession/exec` answers with the run id at once (or, with `wait`, when the command ends,
reporting `$/progress`; cancelling that request kills the command's process group).
Errors parsed from a finished run go out as `textDocument/publishDiagnostics` on the files
they name inside the workspace, replacing what the same command published last time.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from ai_session.core.errors import NotFound
from ai_session.core.models import CommandRun, Diagnostic, RunStatus
from ai_session.lsp.context import session_of
from ai_session.lsp.wire import request
from ai_session.protocol import payloads as p

if TYPE_CHECKING:
    from ai_session.lsp.server import AiSessionServer

SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}


def _line_length(path: Path, index: int) -> int:
    """Length of line `index` (0-based) of a text file; 0 when it cannot be read."""
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            for i, text in enumerate(f):
                if i == index:
                    return len(text.rstrip("\r\n"))
    except OSError:
        pass
    return 0


class DiagnosticsBook:
    """What each command last published, per file, so a passing re-run clears it and two
    commands (pytest and mypy) do not wipe out each other's findings on one file."""

    def __init__(self, server: AiSessionServer) -> None:
        self.server = server
        self.by_command: dict[str, dict[str, list[types.Diagnostic]]] = {}

    def _resolve(self, file: str, cwd: str | None) -> Path | None:
        root = self.server.root
        path = Path(file)
        if not path.is_absolute():
            path = Path(cwd or root or ".") / path
        path = path.resolve()
        if root is not None and not path.is_relative_to(root.resolve()):
            return None  # outside the workspace: not the editor's business
        return path if path.is_file() else None

    @staticmethod
    def _lsp(d: Diagnostic, path: Path) -> types.Diagnostic:
        """The column range the tool gave; without one, the whole line (not one character)."""
        line, col = max(d.line - 1, 0), max((d.column or 1) - 1, 0)
        end_line = max((d.end_line or d.line) - 1, line)
        if d.end_column:
            end_col = max(d.end_column - 1, col + 1 if end_line == line else 0)
        else:
            end_col = max(_line_length(path, end_line), col + 1 if end_line == line else 0)
        return types.Diagnostic(
            range=types.Range(start=types.Position(line=line, character=col),
                              end=types.Position(line=end_line, character=end_col)),
            message=d.message,
            severity=SEVERITY.get(d.severity, types.DiagnosticSeverity.Error),
            source=f"ai-session ({d.source})" if d.source else "ai-session",
            code=d.code,
        )

    def publish(self, run: CommandRun) -> int:
        found: dict[str, list[types.Diagnostic]] = {}
        for d in run.diagnostics:
            if (path := self._resolve(d.file, run.cwd)) is not None:
                found.setdefault(path.as_uri(), []).append(self._lsp(d, path))
        touched = set(found) | set(self.by_command.get(run.command, {}))
        self.by_command[run.command] = found
        for uri in touched:
            merged = [d for per_file in self.by_command.values() for d in per_file.get(uri, [])]
            self.server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=merged))
        return sum(len(v) for v in found.values())

    def restore(self, runs: list[CommandRun]) -> None:
        """Publish again what the session's finished runs found (a restarted server starts empty):
        the newest run of each command, as if it had just finished."""
        latest: dict[str, CommandRun] = {}
        for run in sorted(runs, key=lambda r: r.started_at):
            if run.status is RunStatus.FINISHED:
                latest[run.command] = run
        for run in latest.values():
            self.publish(run)


def register(server: AiSessionServer) -> None:
    m = server.manager
    book = DiagnosticsBook(server)
    running: dict[str, asyncio.Task[CommandRun]] = {}

    async def run_command(params: p.ExecParams, started: asyncio.Future[CommandRun]) -> CommandRun:
        session = session_of(server, params)
        decoder = codecs.getincrementaldecoder("utf-8")("replace")  # a character may span two reads
        run_id = ""

        def on_start(run: CommandRun) -> None:
            nonlocal run_id
            run_id = run.id
            started.set_result(run)

        def on_output(chunk: bytes) -> None:
            if text := decoder.decode(chunk):
                server.send("aiSession/runOutput", p.RunOutput(run_id=run_id, session_id=session.id, data=text))

        try:
            run = await m.exec(session, params.command, timeout=params.timeout, cwd=params.cwd,
                               on_output=on_output, on_start=on_start)
        except BaseException as exc:
            if not started.done():
                started.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError) and run_id:
                finished(m.get_run(run_id))
            raise
        finished(run)
        return run

    def finished(run: CommandRun | None) -> None:
        if run is None:
            return
        running.pop(run.id, None)
        count = book.publish(run) if run.status is RunStatus.FINISHED else 0
        # Status-bar figures follow from the store watcher, which sees the run's history message.
        server.send("aiSession/runFinished", p.RunFinished(run=run, diagnostics_count=count))

    def ahead_of(session_id: str) -> CommandRun | None:
        """The newest run still going in the session's shell (a new command waits for it)."""
        ahead = [r for rid, t in running.items() if not t.done() and (r := m.get_run(rid)).session_id == session_id]
        return max(ahead, key=lambda r: r.started_at, default=None)

    @request(server, "aiSession/exec")
    async def exec_(params: p.ExecParams) -> p.ExecResult:
        behind = ahead_of(session_of(server, params).id)
        started: asyncio.Future[CommandRun] = asyncio.get_running_loop().create_future()
        task = server.spawn(run_command(params, started), "exec")  # never the command text: it goes to the log
        run = await started
        running[run.id] = task
        if not params.wait:
            return p.ExecResult(run_id=run.id, session_id=run.session_id, queued_behind=behind)
        token = None
        if server.supports_progress():
            token = str(uuid.uuid4())
            await server.work_done_progress.create_async(token)
            server.work_done_progress.begin(token, types.WorkDoneProgressBegin(
                title="AI Session", message=params.command, cancellable=True))  # fmt: skip
        try:
            done = await asyncio.shield(task)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                task.cancel()  # $/cancelRequest: stop the command and everything it started
                raise
            # run/cancel stopped it: an answer (the cancelled run), not an error
            done = m.get_run(run.id)
        finally:
            if token:
                server.work_done_progress.end(token, types.WorkDoneProgressEnd(message="done"))
        return p.ExecResult(run_id=done.id, session_id=done.session_id, run=done, queued_behind=behind)

    @request(server, "aiSession/run/cancel")
    async def cancel(params: p.RunRef) -> p.CancelResult:
        run = m.get_run(params.run_id)
        task = running.get(run.id)
        if task is None or task.done():
            if run.status is RunStatus.RUNNING and not m.is_running(run.id):
                raise NotFound(f"run {run.id} is not running in this server")
            return p.CancelResult(cancelled=False)
        task.cancel()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(task), timeout=5)
        return p.CancelResult(cancelled=True)

    async def close_shells() -> None:
        for task in list(running.values()):
            task.cancel()
        await m.shells.close()

    server.close_hooks.append(close_shells)

    def restore_diagnostics() -> None:
        if server.current_session_id:
            book.restore(m.runs(server.current_session_id, last=50))

    server.initialized_hooks.append(restore_diagnostics)
