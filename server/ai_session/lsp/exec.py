"""exec: run commands in session shells, stream their output, publish what they found.

The shells live in the session host (shared with the CLI and other editors): exec and
cancel are forwarded to it, and every run's output and end come back from it.

`aiSession/exec` answers with the run id at once (or, with `wait`, when the command ends,
reporting `$/progress`; cancelling that request kills the command's process group).
Errors parsed from a finished run go out as `textDocument/publishDiagnostics` on the files
they name inside the workspace, replacing what the same command published last time.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    """exec, cancel and run events forwarded to and from the session host; diagnostics here."""
    m = server.manager
    book = DiagnosticsBook(server)
    waiting: dict[str, asyncio.Future[CommandRun]] = {}  # runs an exec with `wait` waits for
    ended: OrderedDict[str, CommandRun] = OrderedDict()  # recent ends (one may come before its exec's answer)

    def on_output(params: dict[str, Any]) -> None:
        server.send("aiSession/runOutput", p.RunOutput.model_validate(params))

    def on_finished(params: dict[str, Any]) -> None:
        run = CommandRun.model_validate(params["run"])
        count = book.publish(run) if run.status is RunStatus.FINISHED else 0
        # Status-bar figures follow from the store watcher, which sees the run's history message.
        server.send("aiSession/runFinished", p.RunFinished(run=run, diagnostics_count=count))
        ended[run.id] = run
        mine.discard(run.id)
        while len(ended) > 64:
            ended.popitem(last=False)
        if (future := waiting.pop(run.id, None)) is not None and not future.done():
            future.set_result(run)

    def on_host_status(state: str) -> None:
        # The killed host never said how this server's runs ended; the new one recorded them
        # as interrupted before it listened: tell the editor (and whoever waits on them).
        if state == "reconnected":
            for run_id in list(mine):
                if (run := m.get_run(run_id)).status is not RunStatus.RUNNING:
                    on_finished({"run": run.model_dump(mode="json", by_alias=True)})

    mine: set[str] = set()  # runs this server started that have not ended
    server.host_handlers["aiSession/runOutput"] = on_output
    server.host_handlers["aiSession/runFinished"] = on_finished
    server.host_status_hooks.append(on_host_status)

    @request(server, "aiSession/exec")
    async def exec_(params: p.ExecParams) -> p.ExecResult:
        session = session_of(server, params)
        started = p.ExecResult.model_validate(await server.host.request("aiSession/exec", params.model_dump(
            mode="json", by_alias=True, exclude_none=True, exclude={"wait"}) | {"session": session.id}))
        run_id = started.run_id
        if run_id not in ended:
            mine.add(run_id)
        if not params.wait:
            return started
        future = waiting.setdefault(run_id, asyncio.get_running_loop().create_future())
        if run_id in ended:
            future.set_result(ended[run_id])
        token = None
        if server.supports_progress():
            token = str(uuid.uuid4())
            await server.work_done_progress.create_async(token)
            server.work_done_progress.begin(token, types.WorkDoneProgressBegin(
                title="AI Session", message=params.command, cancellable=True))  # fmt: skip
        try:
            done = await asyncio.shield(future)
        except asyncio.CancelledError:
            # $/cancelRequest: stop the command and everything it started
            await server.host.request("aiSession/run/cancel", {"runId": run_id})
            raise
        finally:
            waiting.pop(run_id, None)
            if token:
                server.work_done_progress.end(token, types.WorkDoneProgressEnd(message="done"))
        return started.model_copy(update={"run": done})

    @request(server, "aiSession/run/cancel")
    async def cancel(params: p.RunRef) -> p.CancelResult:
        run = m.get_run(params.run_id)  # a clear NotFound / Ambiguous for a bad id
        answer = p.CancelResult.model_validate(await server.host.request("aiSession/run/cancel", {"runId": run.id}))
        if not answer.cancelled and run.status is RunStatus.RUNNING and not m.is_running(run.id):
            raise NotFound(f"run {run.id} is not running (the process that ran it is gone)")
        return answer

    def restore_diagnostics() -> None:
        if server.current_session_id:
            book.restore(m.runs(server.current_session_id, last=50))

    server.initialized_hooks.append(restore_diagnostics)
