import asyncio

import pytest
from pygls.exceptions import JsonRpcException

from tests.conftest import CLI


async def call(client, method: str, params: dict | None = None):
    return await client.protocol.send_request_async(method, params or {})


async def test_worktree_session_is_attached_and_listed(client):
    await client.wait_for_notification("aiSession/currentSessionChanged")
    current = await call(client, "aiSession/worktree/current")
    assert current.branch == "main"
    assert current.summary.session.name == "proj-main"
    listing = await call(client, "aiSession/sessions/list")
    assert [s.session.name for s in listing.sessions] == ["proj-main"]
    assert listing.sessions[0].current is True
    assert listing.currentSessionId == current.summary.session.id


async def test_lifecycle_requests_and_camel_case_wire(client):
    created = await call(client, "aiSession/sessions/create", {"name": "dev", "agent": "frontend", "maxTokens": 8000})
    assert created.session.maxTokens == 8000 and created.session.agent == "frontend"
    await call(client, "aiSession/sessions/addMessage", {"session": "dev", "content": "fix src/a.py:3", "pinned": True})
    detail = await call(client, "aiSession/sessions/get", {"session": "dev", "history": True})
    assert detail.messages[0].content == "fix src/a.py:3" and detail.messages[0].pinned
    assert (await call(client, "aiSession/sessions/pause", {"session": "dev"})).session.status == "paused"
    assert (await call(client, "aiSession/sessions/resume", {"session": "dev"})).session.status == "active"
    fork = await call(client, "aiSession/sessions/fork", {"session": "dev", "name": "dev-b"})
    merged = await call(client, "aiSession/sessions/merge", {"sessions": ["dev", "dev-b"], "name": "both"})
    assert merged.totals.messages == 2 and fork.totals.messages == 1
    stats = await call(client, "aiSession/stats/get", {"groupBy": "agent"})
    assert stats.total.messages >= 3
    assert (await call(client, "aiSession/sessions/delete", {"session": "both"})).deleted == merged.session.id


async def test_domain_errors_and_bad_params_are_clear(client):
    with pytest.raises(JsonRpcException, match="no session named or with id 'nosuch'"):
        await call(client, "aiSession/sessions/get", {"session": "nosuch"})
    with pytest.raises(JsonRpcException, match="invalid params: maxTokens"):
        await call(client, "aiSession/sessions/create", {"name": "x", "maxTokens": -1})
    with pytest.raises(JsonRpcException, match="invalid params: session: Field required"):
        await call(client, "aiSession/sessions/pause", {})
    # the server is still answering
    assert (await call(client, "aiSession/worktree/current")).branch == "main"


async def test_a_write_from_another_process_reaches_the_client(client, home):
    await client.wait_for_notification("aiSession/currentSessionChanged")
    waiter = asyncio.ensure_future(client.wait_for_notification("aiSession/sessionsChanged"))
    await asyncio.to_thread(CLI(home), "create", "from-cli")
    note = await asyncio.wait_for(waiter, 5)
    assert any(c.kind == "created" for c in note.changes)
    names = [s.session.name for s in (await call(client, "aiSession/sessions/list")).sessions]
    assert "from-cli" in names
