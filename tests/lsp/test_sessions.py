import asyncio

import pytest
from pygls.exceptions import JsonRpcException

from tests.conftest import CLI
from tests.lsp.conftest import wait_note


async def call(client, method: str, params: dict | None = None):
    return await client.protocol.send_request_async(method, params or {})


async def test_worktree_session_is_attached_and_listed(client):
    await wait_note(client, "aiSession/currentSessionChanged")
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
    assert stats.total.messages == 1 and stats.copies == 3  # one message, copied by the fork and the merge
    assert (await call(client, "aiSession/sessions/delete", {"session": "both"})).deleted == merged.session.id


async def test_domain_errors_and_bad_params_are_clear(client):
    with pytest.raises(JsonRpcException, match="no session named or with id 'nosuch'"):
        await call(client, "aiSession/sessions/get", {"session": "nosuch"})
    with pytest.raises(JsonRpcException, match="invalid params: maxTokens"):
        await call(client, "aiSession/sessions/create", {"name": "x", "maxTokens": -1})
    with pytest.raises(JsonRpcException, match="invalid params: session: Input should be a valid string"):
        await call(client, "aiSession/sessions/pause", {"session": 5})
    # the server is still answering
    assert (await call(client, "aiSession/worktree/current")).branch == "main"


async def test_a_write_from_another_process_reaches_the_client(client, home):
    await wait_note(client, "aiSession/currentSessionChanged")
    seen = len(client.notes["aiSession/sessionsChanged"])
    created = await asyncio.to_thread(CLI(home).json, "create", "from-cli")
    await wait_note(client, "aiSession/sessionsChanged",
                    lambda n: any(c.sessionId == created["id"] and c.kind == "created" for c in n.changes),
                    after=seen, timeout=5)  # latency itself is measured in bench/bench_lsp.py
    names = [s.session.name for s in (await call(client, "aiSession/sessions/list")).sessions]
    assert "from-cli" in names


async def test_server_info_for_health_checks(client, home):
    info = await call(client, "aiSession/server/info")
    assert info.encodingOk and info.encoding == "cl100k_base"
    assert info.dataDirMode == "0700" and info.storeFileMode == "0600"
    assert info.dataDir == str(home) and info.branch == "main"


async def test_switching_branch_switches_the_current_session(client):
    import subprocess

    first = await wait_note(client, "aiSession/currentSessionChanged")
    assert first.branch == "main"
    seen = len(client.notes["aiSession/currentSessionChanged"])
    root = client.workspace_root
    subprocess.run(["git", "-C", str(root), "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q",
                    "--allow-empty", "-m", "init"], check=True)
    subprocess.run(["git", "-C", str(root), "switch", "-q", "-c", "feature/login"], check=True)
    switched = await wait_note(client, "aiSession/currentSessionChanged", after=seen)
    assert switched.branch == "feature/login"
    assert switched.summary.session.name == "proj-feature-login"
    current = await call(client, "aiSession/worktree/current")
    assert current.summary.session.id == switched.summary.session.id != first.summary.session.id


async def test_trash_list_restore_and_empty_over_the_protocol(client):
    await call(client, "aiSession/sessions/create", {"name": "old"})
    await call(client, "aiSession/sessions/addMessage", {"session": "old", "content": "keep me"})
    gone = await call(client, "aiSession/sessions/delete", {"session": "old"})
    assert gone.trashed is True
    assert "old" not in [s.session.name for s in (await call(client, "aiSession/sessions/list")).sessions]
    trash = await call(client, "aiSession/trash/list")
    assert trash.keepDays == 30 and [t.summary.session.name for t in trash.sessions] == ["old"]
    entry = trash.sessions[0]
    assert entry.summary.totals.messages == 1 and entry.expiresAt > entry.summary.session.trashedAt
    await call(client, "aiSession/sessions/create", {"name": "old"})  # its name was free meanwhile
    with pytest.raises(JsonRpcException, match="restore this one under another name"):
        await call(client, "aiSession/trash/restore", {"session": "old"})
    back = await call(client, "aiSession/trash/restore", {"session": "old", "name": "old-2"})
    assert back.session.name == "old-2" and back.session.trashedAt is None and back.totals.messages == 1
    await call(client, "aiSession/sessions/delete", {"session": "old-2"})
    emptied = await call(client, "aiSession/trash/empty", {})
    assert emptied.deleted == [back.session.id] and (await call(client, "aiSession/trash/list")).sessions == []


async def test_a_damaged_row_is_reported_not_fatal_over_the_protocol(client, home):
    import sqlite3

    await call(client, "aiSession/sessions/create", {"name": "dev"})
    for text in ("the login test fails", "thanks"):
        await call(client, "aiSession/sessions/addMessage", {"session": "dev", "content": text})
    db = sqlite3.connect(home / "sessions.db")  # garbage where a compressed body should be, behind the server's back
    db.execute("UPDATE messages SET body = x'deadbeef', zstd = 1 WHERE seq = 1 AND session_id ="
               " (SELECT id FROM sessions WHERE name = 'dev')")  # fmt: skip
    db.commit()
    db.close()
    detail = await call(client, "aiSession/sessions/get", {"session": "dev", "history": True})
    assert [m.damage is not None for m in detail.messages] == [True, False] and detail.messages[1].content == "thanks"
    ctx = await call(client, "aiSession/context/get", {"session": "dev"})
    assert ctx.unreadable == [1]
    found = (await call(client, "aiSession/store/validate", {"session": "dev"})).problems
    assert [(p.session, p.seq, p.damaged, p.fixed) for p in found] == [("dev", 1, True, False)]
    fixed = (await call(client, "aiSession/store/validate", {"session": "dev", "repair": True})).problems
    assert [p.fixed for p in fixed] == [True]
    export = await call(client, "aiSession/sessions/export", {"session": "dev"})  # whole again after repair
    assert export.path.endswith("dev.json")


async def test_an_omitted_session_is_the_current_one_for_every_method(client):
    await wait_note(client, "aiSession/currentSessionChanged")
    assert (await call(client, "aiSession/sessions/pause", {})).session.name == "proj-main"
    assert (await call(client, "aiSession/sessions/get", {})).summary.session.status == "paused"
    assert (await call(client, "aiSession/sessions/shareTerminal", {"share": True})).session.shareTerminal is True
    assert (await call(client, "aiSession/runs/list", {})).runs == []


async def test_names_are_checked_as_the_user_types(client):
    await wait_note(client, "aiSession/currentSessionChanged")
    check = lambda name, **kw: call(client, "aiSession/sessions/checkName", {"name": name, **kw})  # noqa: E731
    assert (await check("café")).problem is None
    assert "already exists" in (await check("proj-main")).problem
    assert (await check("proj-main", renaming="proj-main")).problem is None
    assert "no spaces" in (await check("my session ✨")).problem
    created = await call(client, "aiSession/sessions/create", {"name": "café"})
    assert created.session.name == "café"


async def test_the_listing_comes_a_page_at_a_time_and_follows_writes(client, home):
    await wait_note(client, "aiSession/currentSessionChanged")  # proj-main is attached
    cli = CLI(home)
    for name in ("a", "b", "c", "d"):
        await asyncio.to_thread(cli.json, "create", name)
    first = await call(client, "aiSession/sessions/list", {"offset": 0, "limit": 2})
    assert first.total == 5 and [s.session.name for s in first.sessions] == ["d", "c"]
    rest = await call(client, "aiSession/sessions/list", {"offset": 2, "limit": 200})
    assert [s.session.name for s in rest.sessions] == ["b", "a", "proj-main"]
    assert [s.current for s in rest.sessions] == [False, False, True]
    # Another process writes to "a": it comes first, with its new totals; the rest is as it was.
    await asyncio.to_thread(cli, "add", "a", "a new message")
    after = await call(client, "aiSession/sessions/list", {"offset": 0, "limit": 2})
    assert [s.session.name for s in after.sessions] == ["a", "d"]
    assert after.sessions[0].totals.messages == 1 and after.total == 5
    whole = await call(client, "aiSession/sessions/list")  # no limit: every session, as before
    assert [s.session.name for s in whole.sessions] == ["a", "d", "c", "b", "proj-main"]
    with pytest.raises(JsonRpcException, match="invalid params: limit"):
        await call(client, "aiSession/sessions/list", {"limit": 0})
