"""Follow the store and tell the client what changed, whoever changed it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ai_session.lsp.context import send_stats
from ai_session.protocol import payloads as p

if TYPE_CHECKING:
    from ai_session.lsp.server import AiSessionServer

log = logging.getLogger(__name__)
POLL_SECONDS = 0.2  # well inside the 1 s a change may take to reach every client


async def follow_store(server: AiSessionServer, since: int) -> None:
    m = server.manager
    async for batch in m.watch(since, interval=POLL_SECONDS):
        seen: dict[tuple[str | None, str], None] = {}
        for change in batch:
            seen[(change.session_id, change.kind)] = None
        server.send("aiSession/sessionsChanged",
                    p.SessionsChanged(changes=[p.SessionChange(session_id=s, kind=k) for s, k in seen]))
        current = server.current_session_id
        if current and any(s == current and k != "deleted" for s, k in seen) and (session := m.find(current)):
            send_stats(server, session)


def register(server: AiSessionServer) -> None:
    def start() -> None:
        # The starting point is taken now, not when the task first runs: nothing written
        # after `initialized` may be missed.
        server.spawn(follow_store(server, server.manager.last_change_id()), "follow-store")

    server.initialized_hooks.append(start)
