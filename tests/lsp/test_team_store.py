"""Two language servers on the PostgreSQL team store: a write through one reaches the
other's client as a notification (LISTEN/NOTIFY under the store's watch)."""

import pytest

from tests.lsp.conftest import start_client, wait_note
from tests.lsp.test_sessions import call

pytestmark = pytest.mark.postgres


async def test_a_message_written_through_one_server_is_announced_by_the_other(home, workspace, pg_db):
    url = pg_db.url("alice")
    first = await start_client(home, workspace, AI_SESSION_STORE=url)
    second = await start_client(home, workspace, AI_SESSION_STORE=url)
    try:
        await wait_note(second, "aiSession/currentSessionChanged")  # initialized: it follows the store
        created = await call(first, "aiSession/sessions/create", {"name": "team-dev"})
        sid = created.session.id
        await wait_note(second, "aiSession/sessionsChanged", lambda n: any(c.sessionId == sid for c in n.changes))
        seen = len(second.notes["aiSession/sessionsChanged"])
        await call(first, "aiSession/sessions/addMessage", {"session": "team-dev", "content": "from machine one"})
        await wait_note(second, "aiSession/sessionsChanged",
                        lambda n: any(c.sessionId == sid and c.kind == "message" for c in n.changes), after=seen)
        detail = await call(second, "aiSession/sessions/get", {"session": "team-dev", "history": True})
        assert [m.content for m in detail.messages] == ["from machine one"]
    finally:
        for client in (first, second):
            await client.shutdown_session()
            await client.stop()
