"""Command runs: their output (context, raw, lines, grep) and a session's recent runs.

exec, cancel and diagnostics live in `exec.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ai_session.lsp.context import session_of
from ai_session.lsp.wire import request
from ai_session.protocol import payloads as p

if TYPE_CHECKING:
    from ai_session.lsp.server import AiSessionServer


def register(server: AiSessionServer) -> None:
    m = server.manager

    @request(server, "aiSession/run/output")
    def output(params: p.RunOutputParams) -> p.RunOutputResult:
        run, text = m.run_output(params.run_id, mode=params.mode, lines=params.lines, pattern=params.pattern,
                                 context=params.context_lines, plain=params.plain)
        return p.RunOutputResult(run=run, text=text)

    @request(server, "aiSession/runs/list")
    def list_runs(params: p.ListRunsParams) -> p.RunList:
        return p.RunList(runs=m.runs(session_of(server, params).id, last=params.limit))
