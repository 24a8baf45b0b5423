"""Sessions as clients see them: the session, its totals, whether it is the current one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ai_session.core.models import Session
from ai_session.core.store import Totals
from ai_session.protocol.payloads import SessionSummary, SessionTotals

if TYPE_CHECKING:
    from ai_session.lsp.server import AiSessionServer


def totals_payload(t: Totals) -> SessionTotals:
    return SessionTotals.model_validate(t.as_dict())


def summaries(server: AiSessionServer, sessions: Sequence[Session]) -> list[SessionSummary]:
    totals = server.manager.totals(sessions)
    return [
        SessionSummary(session=s, totals=totals_payload(totals.get(s.id, Totals())), current=s.id == server.current_session_id)
        for s in sessions
    ]


def summary(server: AiSessionServer, session: Session) -> SessionSummary:
    return summaries(server, [session])[0]
