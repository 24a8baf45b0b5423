"""The assembled context of a session, and the status-bar figures derived from it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ai_session.core.errors import NotFound
from ai_session.core.models import Session
from ai_session.core.store import Totals
from ai_session.lsp.wire import Dumped, dump, request
from ai_session.protocol import payloads as p

if TYPE_CHECKING:
    from ai_session.core.context import History
    from ai_session.lsp.server import AiSessionServer

log = logging.getLogger(__name__)


def session_of(server: AiSessionServer, params: p.SessionRef) -> Session:
    """The session a request names, else the workspace's current one: the one place an omitted
    session is resolved, for every method (clients never guess "the current session")."""
    if params.session:
        return server.manager.resolve(params.session)
    if server.current_session_id and (s := server.manager.find(server.current_session_id)):
        return s
    raise NotFound("no session given and this workspace has no current session (attach one first)")


def history_of(server: AiSessionServer, session: Session) -> History:
    """What the session's contexts are assembled from, read once and kept: an append to the
    session extends it by the new messages, any other write to it makes it be read again."""
    key = f"history|{session.id}"
    history = server.manager.context_history(session, server.cache.lookup(key))
    return server.cache.put(key, history, session=session.id, grows=True)


def send_stats(server: AiSessionServer, session: Session) -> None:
    """Figures for a status bar: what the model would get next against the budget, and the
    session's saving on command output (the figure `list`, `show` and `stats` show too)."""
    ctx = server.manager.context(session, history=history_of(server, session))
    totals = server.manager.totals([session]).get(session.id, Totals())
    server.send("aiSession/statsChanged", p.StatsChanged(
        session_id=session.id, session_name=session.name, context_tokens=ctx.tokens, budget=ctx.budget,
        raw_tokens=totals.raw_tokens, command_context_tokens=totals.context_tokens, savings=totals.savings,
        cost_usd=totals.cost_usd,
    ))  # fmt: skip


def register(server: AiSessionServer) -> None:
    @request(server, "aiSession/context/get")
    def get_context(params: p.ContextParams) -> Dumped:
        session = session_of(server, params)

        def build() -> Dumped:
            ctx = server.manager.context(session, max_tokens=params.max_tokens, strategy=params.strategy,
                                         window=params.window, history=history_of(server, session))
            return dump(p.ContextResult.model_validate({**ctx.as_dict(with_items=params.with_items), "sessionName": session.name}))

        return server.cache.get(f"context|{session.id}|{params.model_dump_json(exclude={'session'})}", build,
                                session=session.id)
