"""What only the PostgreSQL team store promises: push notifications across connections,
access enforced by the database itself, schema versions, copying stores, the CLI around it."""

import asyncio
import json
import sqlite3

import psycopg
import pytest

from ai_session.core.errors import AccessDenied, NotFound, StoreError
from ai_session.core.models import CommandRun, Message, PoolConfig, Session, Template, utcnow
from ai_session.core.store import SessionFilter
from ai_session.core.store.copy import copy_store
from ai_session.core.store.pg_schema import MIGRATIONS
from ai_session.core.store.postgres import PostgresStore, redacted_url
from ai_session.core.store.sqlite import SQLiteStore

pytestmark = pytest.mark.postgres

NEVER = 3600.0  # a fallback poll interval that cannot fire during a test: only NOTIFY wakes the watcher


@pytest.fixture
def stores(pg_db):
    opened = []

    def open_as(user: str = "alice") -> PostgresStore:
        opened.append(PostgresStore(pg_db.url(user)))
        return opened[-1]

    yield open_as
    for s in opened:
        s.close()


async def _listening(pg_db, after=None):
    """Wait until the watcher has read the change log again (a query newer than `after`) and is
    idle, i.e. blocked on notifications: from then on only a NOTIFY can wake it."""
    with pg_db.admin() as admin:
        for _ in range(1500):  # a hang guard, not a timing assertion
            row = admin.execute(
                "SELECT query_start FROM pg_stat_activity WHERE application_name = 'ai-session watch'"
                " AND state = 'idle' AND query LIKE 'SELECT id, session_id, kind, at FROM changes%'"
            ).fetchone()
            if row and (after is None or row[0] > after):
                return row[0]
            await asyncio.sleep(0.02)
    raise AssertionError("the watcher never started listening")


async def test_notify_wakes_a_watcher_on_another_connection(stores, pg_db):
    watcher, writer = stores(), stores()
    stream = watcher.watch(watcher.last_change_id(), interval=NEVER)
    pending = asyncio.ensure_future(anext(stream))
    seen = await _listening(pg_db)
    s = writer.create_session(Session(name="live"))
    batch = await asyncio.wait_for(pending, 30)
    assert [(c.session_id, c.kind) for c in batch] == [(s.id, "created")]
    pending = asyncio.ensure_future(anext(stream))
    await _listening(pg_db, after=seen)
    writer.append_messages(s.id, [Message(role="user", content="hi", tokens=1)])
    batch = await asyncio.wait_for(pending, 30)
    assert [(c.session_id, c.kind) for c in batch] == [(s.id, "message")]
    await stream.aclose()


async def test_watch_reconnects_after_its_connection_is_killed_and_skips_nothing(stores, pg_db):
    watcher, writer = stores(), stores()
    stream = watcher.watch(watcher.last_change_id(), interval=NEVER)
    a = writer.create_session(Session(name="before"))
    assert [c.session_id for c in await asyncio.wait_for(anext(stream), 30)] == [a.id]
    with pg_db.admin() as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'ai-session watch'"
        ).fetchone()[0]
    assert killed == 1
    b = writer.create_session(Session(name="after"))  # written while the watcher has no connection
    batch = await asyncio.wait_for(anext(stream), 30)
    assert [(c.session_id, c.kind) for c in batch] == [(b.id, "created")]
    await stream.aclose()


async def test_watchers_only_hear_about_sessions_their_role_may_see(stores):
    alice, bob = stores("alice"), stores("bob")
    stream = bob.watch(bob.last_change_id(), interval=NEVER)
    private = alice.create_session(Session(name="private"))
    alice.append_messages(private.id, [Message(role="user", content="secret", tokens=1)])
    shared = alice.create_session(Session(name="shared"))
    alice.share_session(shared.id, "bob")
    batch = await asyncio.wait_for(anext(stream), 30)
    assert {c.session_id for c in batch} == {shared.id}
    assert private.id not in {c.session_id for c in bob.changes_since(0)}
    await stream.aclose()


def test_a_non_member_cannot_read_or_change_a_session_even_with_hand_written_sql(stores, pg_db):
    alice = stores("alice")
    s = alice.create_session(Session(name="mine"), [Message(role="user", content="plans", tokens=1)])
    run = CommandRun(session_id=s.id, command="make")
    alice.save_run(run, "output")
    with psycopg.connect(pg_db.url("bob"), autocommit=True) as bob:
        for table in ("sessions", "messages", "runs"):
            column = "id" if table == "sessions" else "session_id"
            assert bob.execute(f"SELECT count(*) FROM ai_session.{table} WHERE {column} = %s", (s.id,)).fetchone()[0] == 0
        assert bob.execute("SELECT count(*) FROM ai_session.changes WHERE session_id = %s", (s.id,)).fetchone()[0] == 0
        assert bob.execute("UPDATE ai_session.sessions SET name = 'stolen', owner = 'bob', members = '{bob}'"
                           " WHERE id = %s", (s.id,)).rowcount == 0
        assert bob.execute("UPDATE ai_session.messages SET body = 'x' WHERE session_id = %s", (s.id,)).rowcount == 0
        assert bob.execute("DELETE FROM ai_session.messages WHERE session_id = %s", (s.id,)).rowcount == 0
        assert bob.execute("DELETE FROM ai_session.runs WHERE id = %s", (run.id,)).rowcount == 0
        assert bob.execute("DELETE FROM ai_session.sessions WHERE id = %s", (s.id,)).rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            bob.execute("INSERT INTO ai_session.messages (session_id, seq, id, role, kind, created_at, body)"
                        " VALUES (%s, 99, 'msg_x', 'user', 'chat', now(), 'x')", (s.id,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            bob.execute("INSERT INTO ai_session.sessions (id, name, status, created_at, last_active, data, owner)"
                        " VALUES ('sess_fake', 'fake', 'active', now(), now(), '{}', 'alice')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bob.execute("INSERT INTO ai_session.changes (session_id, kind) VALUES (%s, 'updated')", (s.id,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bob.execute("SELECT ai_session.log_change(%s, 'updated', '{bob}')", (s.id,))
    # and through the store API: the session simply does not exist for bob
    bob_store = stores("bob")
    assert bob_store.get_session(s.id) is None and bob_store.list_sessions() == []
    assert bob_store.totals() == {} and bob_store.run_output(run.id) is None
    with pytest.raises(NotFound):
        bob_store.append_messages(s.id, [Message(role="user", content="x")])
    with pytest.raises(NotFound):
        bob_store.share_session(s.id, "bob")
    assert [m.content for m in alice.list_messages(s.id)] == ["plans"] and alice.get_session(s.id).name == "mine"


def test_members_work_in_a_shared_session_but_only_the_owner_shares_or_deletes(stores, pg_db):
    alice, bob, carol = stores("alice"), stores("bob"), stores("carol")
    s = alice.create_session(Session(name="team"))
    access = alice.share_session(s.id, "bob")
    assert (access.owner, access.members) == ("alice", ["bob"])
    assert alice.share_session(s.id, "bob").members == ["bob"]  # sharing twice changes nothing
    assert bob.get_session(s.id).name == "team"
    stored = bob.append_messages(s.id, [Message(role="user", content="from bob", agent="bob")])
    assert stored[0].seq == 1 and alice.list_messages(s.id)[0].content == "from bob"
    with pytest.raises(AccessDenied, match="only the owner"):
        bob.share_session(s.id, "carol")
    assert not bob.delete_session(s.id) and alice.get_session(s.id) is not None
    assert carol.get_session(s.id) is None
    with psycopg.connect(pg_db.url("bob"), autocommit=True) as raw, pytest.raises(
        psycopg.errors.InsufficientPrivilege, match="only the owner"
    ):
        raw.execute("UPDATE ai_session.sessions SET owner = 'bob' WHERE id = %s", (s.id,))
    with pytest.raises(Exception, match="no database role"):
        alice.share_session(s.id, "nobody_here")
    assert alice.share_session(s.id, "bob", remove=True).members == []
    assert bob.get_session(s.id) is None


def test_big_bodies_are_stored_zstd(stores, pg_db):
    store = stores()
    s = store.create_session(Session(name="a"))
    big = "error: something failed at src/x.py:10\n" * 500
    store.append_messages(s.id, [Message(role="tool", content=big, tokens=5)])
    with pg_db.admin() as admin:
        packed, size = admin.execute("SELECT zstd, length(body) FROM ai_session.messages WHERE seq = 1").fetchone()
    assert packed and size < len(big) / 10


def test_schema_versions_are_checked_and_migrate_is_idempotent(pg_cluster, pg_db):
    with pg_cluster.admin() as admin:
        admin.execute("CREATE DATABASE empty_store")
    try:
        with pytest.raises(StoreError, match="store migrate"):
            PostgresStore(pg_cluster.url("alice", "empty_store"))
        with pytest.raises(AccessDenied, match="admin role"):
            PostgresStore.migrate(pg_cluster.url("alice", "empty_store"))
        latest = len(MIGRATIONS)
        assert PostgresStore.migrate(pg_cluster.url(dbname="empty_store")) == (0, latest)
        assert PostgresStore.migrate(pg_cluster.url(dbname="empty_store")) == (latest, latest)
        PostgresStore(pg_cluster.url("alice", "empty_store")).close()
    finally:
        with pg_cluster.admin() as admin:
            admin.execute("DROP DATABASE empty_store WITH (FORCE)")
    with pg_db.admin() as admin:
        admin.execute("UPDATE ai_session.schema_version SET version = 99")
    with pytest.raises(StoreError, match="newer than this ai-session"):
        PostgresStore(pg_db.url())


def test_unreachable_server_is_a_clear_store_error_without_the_password(tmp_path):
    url = f"postgresql://alice:hunter2@/nodb?host={tmp_path}"
    with pytest.raises(StoreError, match="cannot connect") as caught:
        PostgresStore(url)
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in redacted_url("postgresql://u:hunter2@db.example:5433/team?sslmode=require")
    assert redacted_url("postgresql://u:hunter2@db.example:5433/team") == "postgresql://u@db.example:5433/team"


def test_copy_moves_everything_and_is_resumable(tmp_path, stores):
    source = SQLiteStore(tmp_path / "s.db")
    a = source.create_session(Session(name="a", agent="x"))
    run = CommandRun(session_id=a.id, command="pytest", raw_tokens=50, context_tokens=5)
    source.save_run(run, "FAILED tests/t.py::x - assert 1 == 2\n" * 100)
    source.append_messages(a.id, [Message(role="user", content=f"m{i}", tokens=1) for i in range(5)])
    source.delete_messages(a.id, [2])  # a gap the copy must keep
    source.create_session(Session(name="b", trashed_at=utcnow()))  # the trash moves with the store
    broken = source.create_session(Session(name="broken"))
    source.append_messages(broken.id, [Message(role="user", content="x", tokens=1)])
    with sqlite3.connect(tmp_path / "s.db") as db:
        db.execute("UPDATE messages SET body = x'00' WHERE session_id = ?", (broken.id,))
    source.save_template(Template(name="t", system_prompt="hi"))
    source.save_pool(PoolConfig(role="R"))
    target = stores()
    report = copy_store(source, target)
    assert (report.sessions, report.messages, report.runs, report.templates, report.pools) == (2, 4, 1, 1, 1)
    assert report.damaged == ["broken"] and target.get_session(broken.id) is None
    assert [s.name for s in target.list_sessions(SessionFilter(trashed=True))] == ["b"]
    assert [(m.seq, m.content) for m in target.list_messages(a.id)] == [(m.seq, m.content) for m in source.list_messages(a.id)]
    assert target.run_output(run.id) == source.run_output(run.id)
    assert target.totals([a.id]) == source.totals([a.id])
    assert target.get_session(a.id).model_dump() == source.get_session(a.id).model_dump()
    assert target.get_template("t").system_prompt == "hi" and [p.role for p in target.list_pools()] == ["R"]
    again = copy_store(source, target)
    assert again.sessions == 0 and sorted(again.skipped) == ["a", "b"] and again.damaged == ["broken"]
    source.close()


def test_cli_migrate_copy_and_share(cli, pg_cluster, pg_db, tmp_path):
    with pg_cluster.admin() as admin:
        admin.execute("CREATE DATABASE cli_store")
    try:
        admin_url, alice_url = pg_cluster.url(dbname="cli_store"), pg_cluster.url("alice", "cli_store")
        cli("create", "dev", "--agent", "frontend")
        cli("add", "dev", "Header overlaps the nav")
        not_ready = cli("list", check=False, env={"AI_SESSION_STORE": alice_url})
        assert not_ready.returncode == 6 and "store migrate" in not_ready.stderr
        migrated = json.loads(cli("store", "migrate", "--url", admin_url, "--format", "json").stdout)
        assert (migrated["from"], migrated["to"]) == (0, len(MIGRATIONS))
        copied = cli("store", "copy", "--from", "sqlite", "--to", alice_url).stdout
        assert "copied 1 session(s), 1 message(s)" in copied
        team = {"AI_SESSION_STORE": alice_url}
        shown = cli.json("show", "dev", "--history", env=team)
        assert shown["messages"][0]["content"] == "Header overlaps the nav"
        assert cli.json("share", "dev", env=team) == {"id": shown["id"], "name": "dev", "owner": "alice", "members": []}
        assert cli.json("share", "dev", "--with", "bob", env=team)["members"] == ["bob"]
        bob = {"AI_SESSION_STORE": pg_cluster.url("bob", "cli_store")}
        assert [s["name"] for s in cli.json("list", env=bob)] == ["dev"]
        denied = cli("share", "dev", "--with", "carol", check=False, env=bob)
        assert denied.returncode == 8 and "only the owner" in denied.stderr
        carol = {"AI_SESSION_STORE": pg_cluster.url("carol", "cli_store")}
        assert cli.json("list", env=carol) == []
        assert cli("show", "dev", check=False, env=carol).returncode == 3
        local = cli("share", "dev", "--with", "bob", check=False)
        assert local.returncode == 2 and "team store" in local.stderr
    finally:
        with pg_cluster.admin() as admin:
            admin.execute("DROP DATABASE cli_store WITH (FORCE)")
