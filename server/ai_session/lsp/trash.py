"""The trash: list trashed sessions, restore one, empty it."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from ai_session.lsp.summaries import summaries, summary
from ai_session.lsp.wire import request
from ai_session.protocol import payloads as p

if TYPE_CHECKING:
    from ai_session.lsp.server import AiSessionServer


def register(server: AiSessionServer) -> None:
    m = server.manager

    @request(server, "aiSession/trash/list")
    def trash_list(_: p.Empty) -> p.TrashList:
        keep = m.trash_keep()
        trashed = m.trash_list()
        return p.TrashList(
            sessions=[p.TrashedSession(summary=s, expires_at=s.session.trashed_at + keep if s.session.trashed_at else None)
                      for s in summaries(server, trashed)],
            keep_days=keep / timedelta(days=1),
        )  # fmt: skip

    @request(server, "aiSession/trash/restore")
    def trash_restore(params: p.TrashRestoreParams) -> p.SessionSummary:
        return summary(server, m.trash_restore(params.session, name=params.name))

    @request(server, "aiSession/trash/empty")
    def trash_empty(params: p.TrashEmptyParams) -> p.TrashEmptyResult:
        older = timedelta(days=params.older_than_days) if params.older_than_days else None
        return p.TrashEmptyResult(deleted=[s.id for s in m.trash_empty(older_than=older, ref=params.session)])
