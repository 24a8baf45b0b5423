"""The SessionStore contract, run against every backend (the `store` fixture is parametrised
over SQLite and PostgreSQL), then what only the embedded SQLite store promises."""

import asyncio
import json
import sqlite3
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest

from ai_session.core.errors import Conflict, NotFound, StoreError
from ai_session.core.models import CommandRun, Message, PoolConfig, RunStatus, Session, SessionStatus, Template, Usage, utcnow
from ai_session.core.store import SessionFilter
from ai_session.core.store.sqlite import SQLiteStore
from tests.conftest import cli_env

# ---------------------------------------------------------------------- the contract, every backend


def test_messages_get_gap_free_sequence_and_big_bodies_round_trip(store):
    s = store.create_session(Session(name="a"))
    store.append_messages(s.id, [Message(role="user", content=f"m{i}", tokens=1) for i in range(3)])
    big = "error: something failed at src/x.py:10\n" * 500
    store.append_messages(s.id, [Message(role="tool", content=big, tokens=5)])
    assert [m.seq for m in store.list_messages(s.id)] == [1, 2, 3, 4]
    assert store.list_messages(s.id, last=2)[0].seq == 3
    assert [m.seq for m in store.list_messages(s.id, after_seq=2)] == [3, 4]
    store.MESSAGE_BATCH = 3  # a whole history read in batches: each row once, in order
    assert [m.seq for m in store.iter_messages(s.id)] == [1, 2, 3, 4]
    assert store.list_messages(s.id)[-1].content == big


def test_message_fields_round_trip_and_can_be_rewritten(store):
    s = store.create_session(Session(name="a"))
    usage = Usage(input_tokens=10, output_tokens=5, cost_usd=0.25, reported=True)
    stored = store.append_messages(
        s.id,
        [Message(role="assistant", content="ünïcode ✓", tokens=3, pinned=True, agent="bot", usage=usage,
                 covers=(1, 2), metadata={"k": [1, "v"]})],
    )[0]
    back = store.list_messages(s.id)[0]
    assert back.model_dump() == stored.model_dump()
    # Read back as model_construct would build it, every field set (the reader builds it faster).
    assert back == Message.model_construct(**dict(back)) and back.model_fields_set == set(Message.model_fields)
    assert back.model_dump_json() == Message.model_validate(back.model_dump()).model_dump_json()
    store.update_messages([back.model_copy(update={"pinned": False, "tokens": 7, "content": "new"})])
    again = store.list_messages(s.id)[0]
    assert (again.pinned, again.tokens, again.content, again.usage) == (False, 7, "new", usage)
    assert store.delete_messages(s.id, [1, 99]) == 1
    assert store.list_messages(s.id) == []


def test_messages_read_straight_to_their_wire_form_are_what_their_models_write(store):
    # An export reads rows straight to JSON-ready dicts, without a model each: every one must be
    # byte for byte what the model would write, in its field order (rows the fast reader cannot
    # tell, like a float JSON has no literal for, go through the model).
    s = store.create_session(Session(name="a"))
    at = utcnow().replace(microsecond=0)
    store.append_messages(s.id, [
        Message(role="assistant", content='ünïcode ✓ \x1b[31m"quoted"\\', tokens=3, pinned=True, agent="bot",
                usage=Usage(input_tokens=10, output_tokens=5, cost_usd=0.25, reported=True), covers=(1, 2),
                metadata={"k": [1, "v", None, 2.5], "nested": {"a": True}}, created_at=at),
        Message(role="tool", kind="command", content="error: x.py:10\n" * 500, run_id="run_x", copy_of="msg_x"),
        Message(role="system", kind="summary", content="", covers=(3, 4), created_at=at.replace(microsecond=500000)),
        Message(role="user", content="odd", metadata={"ratio": float("nan")}),
    ])  # fmt: skip
    damaged: list = []
    wire = list(store.stream_message_wire(s.id, damaged))
    models = store.list_messages(s.id)
    assert damaged == [] and len(wire) == len(models) == 4
    for item, model in zip(wire, models, strict=True):
        assert json.dumps(item, ensure_ascii=False) == json.dumps(model.model_dump(mode="json", by_alias=True),
                                                                  ensure_ascii=False)  # fmt: skip


def test_duplicate_name_is_a_conflict(store):
    first = store.create_session(Session(name="a"))
    with pytest.raises(Conflict, match="already exists"):
        store.create_session(Session(name="a"))
    other = store.create_session(Session(name="b"))
    with pytest.raises(Conflict, match="already exists"):
        store.update_session(other.model_copy(update={"name": "a"}))
    assert store.get_session_by_name("a").id == first.id


def test_sessions_are_listed_a_page_at_a_time_in_one_order(store):
    same = utcnow() - timedelta(hours=1)  # sessions active in one instant: still one order, no repeats
    names = [store.create_session(Session(name=f"s{i}", last_active=same if i % 2 else same - timedelta(minutes=i))).name
             for i in range(7)]  # fmt: skip
    whole = [s.name for s in store.list_sessions()]
    assert sorted(whole) == sorted(names)
    pages = [[s.name for s in store.list_sessions(offset=start, limit=3)] for start in (0, 3, 6, 9)]
    assert pages[0] + pages[1] + pages[2] == whole and pages[3] == [] and len(pages[2]) == 1
    assert [s.name for s in store.list_sessions(offset=5)] == whole[5:]
    paused = SessionFilter(statuses={SessionStatus.PAUSED})
    assert store.count_sessions() == 7 and store.count_sessions(paused) == 0


def test_sessions_filter_find_by_prefix_update_and_delete(store):
    old = utcnow() - timedelta(days=3)
    a = store.create_session(Session(name="a", agent="x", role="R", worktree="/w", branch="main"))
    b = store.create_session(Session(name="b", agent="y", status=SessionStatus.PAUSED, last_active=old))
    assert [s.name for s in store.list_sessions()] == ["a", "b"]  # newest activity first
    assert [s.name for s in store.list_sessions(SessionFilter(agent="x"))] == ["a"]
    assert [s.name for s in store.list_sessions(SessionFilter(statuses={SessionStatus.PAUSED}))] == ["b"]
    assert [s.name for s in store.list_sessions(SessionFilter(worktree="/w", branch="main"))] == ["a"]
    assert [s.name for s in store.list_sessions(SessionFilter(inactive_before=utcnow() - timedelta(days=1)))] == ["b"]
    assert store.find_session_ids(a.id[:8]) == sorted(i for i in (a.id, b.id) if i.startswith(a.id[:8]))
    assert store.find_session_ids("sess%") == [] and store.find_session_ids("sess_") == sorted([a.id, b.id])
    assert store.get_session(a.id).model_dump() == a.model_dump()
    store.update_session(a.model_copy(update={"tags": ["t"], "status": SessionStatus.ENDED}))
    assert store.get_session(a.id).tags == ["t"]
    assert store.delete_session(a.id) and not store.delete_session(a.id)
    assert store.get_session(a.id) is None and store.get_session_by_name("a") is None


def test_compare_and_set_lets_only_one_taker_win(store, open_test_store):
    pooled = store.create_session(Session(name="p", status=SessionStatus.POOL, pool="R"))
    other = open_test_store()
    taken = pooled.model_copy(update={"status": SessionStatus.ACTIVE})
    assert store.update_session(taken, expected_status=SessionStatus.POOL)
    assert not other.update_session(taken.model_copy(update={"name": "q"}), expected_status=SessionStatus.POOL)
    assert other.get_session(pooled.id).name == "p"


def test_a_field_update_keeps_what_another_process_changed_since_it_read(store, open_test_store):
    # The session host saves the shell's env while an editor's server, holding an older copy,
    # renames the session: neither change undoes the other.
    s = store.create_session(Session(name="w", shell_cwd="/start"))
    host, editor = open_test_store(), open_test_store()
    stale = editor.get_session(s.id)
    host.update_session_fields(s.id, {"shell_env": {"FOO": "1"}, "shell_cwd": "/work"})
    renamed = editor.update_session_fields(stale.id, {"name": "renamed"})
    assert (renamed.name, renamed.shell_env, renamed.shell_cwd) == ("renamed", {"FOO": "1"}, "/work")
    assert store.get_session(s.id).model_dump() == renamed.model_dump()
    store.create_session(Session(name="taken"))
    with pytest.raises(Conflict, match="'taken' already exists"):
        editor.update_session_fields(s.id, {"name": "taken"})
    assert store.get_session(s.id).name == "renamed"
    assert store.delete_session(s.id)
    with pytest.raises(StoreError, match="vanished"):
        host.update_session_fields(s.id, {"shell_cwd": "/gone"})


def test_run_output_round_trips_and_change_log_records_writes(store):
    s = store.create_session(Session(name="a"))
    start = store.last_change_id()
    run = CommandRun(session_id=s.id, command="pytest", status=RunStatus.FINISHED, exit_code=1, raw_tokens=900,
                     context_tokens=90)
    store.save_run(run, "F" * 5000)
    assert store.run_output(run.id) == "F" * 5000
    store.save_run(run.model_copy(update={"context": "short"}))  # raw kept when not given
    assert store.run_output(run.id) == "F" * 5000
    assert store.get_run(run.id).context == "short"
    assert {c.kind for c in store.changes_since(start)} == {"run"}
    assert store.has_new_changes(start) and not store.has_new_changes(store.last_change_id())
    second = CommandRun(session_id=s.id, command="ls", started_at=run.started_at + timedelta(seconds=1))
    store.save_run(second)
    assert [r.id for r in store.list_runs(s.id)] == [run.id, second.id]
    assert [r.id for r in store.list_runs(s.id, last=1)] == [second.id]
    assert store.find_run_ids(run.id[:-2]) == [run.id] and store.run_output(second.id) is None


def _summed(store, session_id):
    """A session's totals summed from its rows, as `totals` over a period does."""
    t = store.totals([session_id], since=utcnow() - timedelta(days=1)).get(session_id)
    return None if t is None else (t.messages, t.message_tokens, t.runs, t.raw_tokens, t.context_tokens, round(t.cost_usd, 6))


def _kept(store, session_id):
    t = store.totals([session_id]).get(session_id)
    return None if t is None else (t.messages, t.message_tokens, t.runs, t.raw_tokens, t.context_tokens, round(t.cost_usd, 6))


def test_kept_totals_follow_every_write_in_its_transaction(store):
    s = store.create_session(Session(name="a"))
    other = store.create_session(Session(name="b"))
    answer = Message(role="assistant", content="a", tokens=6, usage=Usage(cost_usd=0.25),
                     metadata={"context": {"rawHistory": 900, "contextHistory": 300}})
    stored = store.append_messages(s.id, [Message(role="user", content="q", tokens=4), answer])
    store.append_messages(s.id, [Message(role="tool", kind="command", content="c", tokens=2)])
    t = store.totals([s.id])[s.id]
    assert (t.history_raw_tokens, t.history_context_tokens, t.kind_counts) == (900, 300, {"chat": 2, "command": 1})
    run = CommandRun(session_id=s.id, command="x", raw_tokens=100, context_tokens=10)
    store.save_run(run)
    store.save_run(run.model_copy(update={"raw_tokens": 120}))  # an update replaces, never adds
    assert _kept(store, s.id) == _summed(store, s.id) == (3, 12, 1, 120, 10, 0.25)
    store.update_messages([stored[0].model_copy(update={"tokens": 40})])
    assert _kept(store, s.id) == _summed(store, s.id) == (3, 48, 1, 120, 10, 0.25)
    assert store.delete_messages(s.id, [2]) == 1
    assert _kept(store, s.id) == _summed(store, s.id) == (2, 42, 1, 120, 10, 0.0)
    # A copy (as merge and import write them) is kept apart, so a total can count it once.
    copy = Message(role="user", content="q", tokens=40, copy_of=stored[0].id)
    merged = store.create_session(Session(name="m"), [copy], [(CommandRun(session_id="", command="x", raw_tokens=120,
                                                                            context_tokens=10, copy_of=run.id), None)])  # fmt: skip
    t = store.totals([merged.id])[merged.id]
    assert _kept(store, merged.id) == _summed(store, merged.id) == (1, 40, 1, 120, 10, 0.0)
    assert t.copied is not None and (t.copied.messages, t.copied.runs, t.copied.message_tokens) == (1, 1, 40)
    rows = {(c.session_id, c.origin, c.origin_session) for c in store.copy_rows()}
    assert rows == {(merged.id, stored[0].id, s.id), (merged.id, run.id, s.id)}
    assert _kept(store, other.id) is None and not store.totals_differ(s.id, rebuild=False)
    assert store.delete_session(merged.id) and store.totals([merged.id]) == {}
def test_totals_templates_and_pools(store):
    s = store.create_session(Session(name="a"))
    store.append_messages(s.id, [
        Message(role="user", content="q", tokens=4),
        Message(role="assistant", content="a", tokens=6, usage=Usage(cost_usd=0.5)),
        Message(role="tool", kind="command", content="c", tokens=2),
    ])
    store.save_run(CommandRun(session_id=s.id, command="x", raw_tokens=100, context_tokens=10))
    t = store.totals([s.id])[s.id]
    assert (t.messages, t.message_tokens, t.runs, t.raw_tokens, t.context_tokens) == (3, 12, 1, 100, 10)
    assert t.cost_usd == 0.5 and t.by_kind == {"chat": 10, "command": 2}
    assert store.totals([]) == {} and store.totals(since=utcnow() + timedelta(days=1)) == {}
    store.save_template(Template(name="t2", system_prompt="be brief"))
    store.save_template(Template(name="t1", preload=[Message(role="system", content="x")]))
    store.save_template(Template(name="t2", system_prompt="be briefer"))
    assert [t.name for t in store.list_templates()] == ["t1", "t2"]
    assert store.get_template("t2").system_prompt == "be briefer"
    assert store.get_template("t1").preload[0].content == "x"
    assert store.delete_template("t1") and not store.delete_template("t1") and store.get_template("nope") is None
    store.save_pool(PoolConfig(role="B", min_idle=2))
    store.save_pool(PoolConfig(role="A"))
    store.save_pool(PoolConfig(role="B", min_idle=3))
    assert [(p.role, p.min_idle) for p in store.list_pools()] == [("A", 1), ("B", 3)]
    assert store.delete_pool("A") and [p.role for p in store.list_pools()] == ["B"]


def test_create_with_history_keeps_imported_sequence_numbers(store):
    run = CommandRun(command="make")
    s = store.create_session(
        Session(name="imp"),
        [Message(role="user", content="a", seq=3), Message(role="user", content="b", seq=7, run_id=run.id)],
        [(run, "build output")],
    )
    assert [m.seq for m in store.list_messages(s.id)] == [3, 7]
    assert store.get_run(run.id).session_id == s.id and store.run_output(run.id) == "build output"
    store.append_messages(s.id, [Message(role="user", content="c")])
    assert [m.seq for m in store.list_messages(s.id)] == [3, 7, 8]


def test_append_to_a_deleted_session_is_not_found(store, open_test_store):
    s = store.create_session(Session(name="gone"))
    open_test_store().delete_session(s.id)  # another connection, as another process would
    with pytest.raises(NotFound, match="no longer exists"):
        store.append_messages(s.id, [Message(role="user", content="x", tokens=1)])
    with pytest.raises(NotFound):
        store.save_run(CommandRun(session_id=s.id, command="x"))


def test_maintenance_reports_health_and_optimizes(store):
    s = store.create_session(Session(name="m"))
    store.append_messages(s.id, [Message(role="user", content="x" * 5000, tokens=1)])
    assert store.integrity_problems() == [] and store.remove_orphans() == 0
    report = store.optimize()
    assert set(report) >= {"recompressed", "changes_pruned", "bytes_before", "bytes_after"}
    assert store.list_messages(s.id)[0].content == "x" * 5000


WRITER = textwrap.dedent(
    """
    import sys
    from ai_session.core.models import Message
    from ai_session.core.store import open_store
    store = open_store(sys.argv[1])
    sid, tag, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
    for i in range(n):
        store.append_messages(sid, [Message(role="user", content=f"{tag}-{i}", tokens=1)])
        print(f"{tag}-{i}", flush=True)
    """
)


def test_eight_processes_append_300_each_without_errors(store, store_url, home):
    s = store.create_session(Session(name="shared"))
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, store_url, s.id, f"w{k}", "300"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(home))
        for k in range(8)
    ]
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
        assert err == ""
        assert out.count("\n") == 300
    messages = store.list_messages(s.id)
    assert len(messages) == 2400
    assert [m.seq for m in messages] == list(range(1, 2401))
    assert len({m.content for m in messages}) == 2400
    for k in range(8):  # each writer's own messages in the order it wrote them
        mine = [int(m.content.split("-")[1]) for m in messages if m.content.startswith(f"w{k}-")]
        assert mine == list(range(300))


def test_sigkill_mid_write_loses_no_acknowledged_message(store, store_url, home):
    s = store.create_session(Session(name="crash"))
    acknowledged: list[str] = []
    for round_ in range(8):
        p = subprocess.Popen([sys.executable, "-c", WRITER, store_url, s.id, f"r{round_}", "100000"],
                             stdout=subprocess.PIPE, text=True, env=cli_env(home))
        for _ in range(40 + round_ * 13):  # kill at a different point every round
            acknowledged.append(p.stdout.readline().strip())
        p.kill()
        p.wait()
        p.stdout.close()
    messages = store.list_messages(s.id)
    assert set(acknowledged) <= {m.content for m in messages}
    assert [m.seq for m in messages] == list(range(1, len(messages) + 1))
    assert store.integrity_problems() == []


async def test_watch_sees_writes_from_another_connection(store, open_test_store):
    writer = open_test_store()
    stream = store.watch(store.last_change_id(), interval=0.01)
    s = writer.create_session(Session(name="w"))
    batch = await asyncio.wait_for(anext(stream), 10)
    assert [(c.session_id, c.kind) for c in batch] == [(s.id, "created")]
    writer.append_messages(s.id, [Message(role="user", content="x", tokens=1)])
    batch = await asyncio.wait_for(anext(stream), 10)
    assert [(c.session_id, c.kind) for c in batch] == [(s.id, "message")]
    writer.delete_session(s.id)
    batch = await asyncio.wait_for(anext(stream), 10)
    assert [(c.session_id, c.kind) for c in batch] == [(s.id, "deleted")]
    await stream.aclose()


async def test_watch_sees_its_own_connection_writes_too(store):
    stream = store.watch(store.last_change_id(), interval=0.01)
    s = store.create_session(Session(name="own"))
    batch = await asyncio.wait_for(anext(stream), 10)
    assert batch[-1].session_id == s.id
    await stream.aclose()


# ---------------------------------------------------------------------- the embedded store only


def test_sqlite_big_bodies_are_stored_zstd(tmp_path):
    store = SQLiteStore(tmp_path / "s.db")
    s = store.create_session(Session(name="a"))
    big = "error: something failed at src/x.py:10\n" * 500
    store.append_messages(s.id, [Message(role="tool", content=big, tokens=5)])
    raw = sqlite3.connect(tmp_path / "s.db").execute("SELECT zstd, length(body) FROM messages WHERE seq = 1").fetchone()
    assert raw[0] == 1 and raw[1] < len(big) / 10


def test_newer_schema_is_refused_with_a_clear_error(tmp_path):
    path = tmp_path / "s.db"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(StoreError, match="newer than this ai-session"):
        SQLiteStore(path)


def test_files_are_private_under_umask_022(tmp_path, home):
    # The -wal/-shm exist only while a connection is open, so the check runs inside the writer too.
    script = textwrap.dedent(
        """
        import os, subprocess, sys
        os.umask(0o022)
        from ai_session.core.manager import SessionManager
        m = SessionManager()
        s = m.create("p")
        m.add_message(s, "user", "x" * 5000)
        m.export(s.id)
        names = sorted(p.name for p in m.config.home.rglob("*"))
        loose = subprocess.run(["find", str(m.config.home), "-perm", "/077"], capture_output=True, text=True).stdout
        print(names, repr(loose))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], env=cli_env(home), check=True,
                         capture_output=True, text=True).stdout
    assert "'sessions.db-shm', 'sessions.db-wal'" in out and "'p.json'" in out
    assert out.strip().endswith("''")
    loose = subprocess.run(["find", str(home), "-perm", "/077"], capture_output=True, text=True).stdout
    assert loose == ""
