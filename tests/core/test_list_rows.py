"""A listing's rows: what `list` shows of each session, read from the columns without parsing
each record, agree with the sessions themselves (every backend: the `store` fixture)."""

from ai_session.core.models import Session, SessionStatus
from ai_session.core.store import SessionFilter


def test_rows_are_the_listed_sessions_columns(store):
    for i, status in enumerate((SessionStatus.ACTIVE, SessionStatus.PAUSED, SessionStatus.ENDED)):
        store.create_session(Session(name=f"s{i}", status=status, agent="claude" if i else None, role="Backend"))
    for wanted in (SessionFilter(), SessionFilter(statuses={SessionStatus.PAUSED, SessionStatus.ENDED}),
                   SessionFilter(agent="claude")):  # fmt: skip
        sessions = store.list_sessions(wanted)
        assert sessions  # the filter selects something
        assert [(r.id, r.name, r.status, r.agent, r.role, r.last_active) for r in store.list_session_rows(wanted)] == [
            (s.id, s.name, s.status, s.agent, s.role, s.last_active) for s in sessions]
