import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ai_session.core.errors import Conflict, StoreError
from ai_session.core.models import CommandRun, Message, RunStatus, Session
from ai_session.core.store.sqlite import SQLiteStore
from tests.conftest import cli_env


def test_messages_get_gap_free_sequence_and_big_bodies_are_zstd(tmp_path):
    store = SQLiteStore(tmp_path / "s.db")
    s = store.create_session(Session(name="a"))
    store.append_messages(s.id, [Message(role="user", content=f"m{i}", tokens=1) for i in range(3)])
    big = "error: something failed at src/x.py:10\n" * 500
    store.append_messages(s.id, [Message(role="tool", content=big, tokens=5)])
    assert [m.seq for m in store.list_messages(s.id)] == [1, 2, 3, 4]
    assert store.list_messages(s.id, last=2)[0].seq == 3
    assert store.list_messages(s.id)[-1].content == big
    raw = sqlite3.connect(tmp_path / "s.db").execute("SELECT zstd, length(body) FROM messages WHERE seq = 4").fetchone()
    assert raw[0] == 1 and raw[1] < len(big) / 10


def test_duplicate_name_is_a_conflict(tmp_path):
    store = SQLiteStore(tmp_path / "s.db")
    store.create_session(Session(name="a"))
    with pytest.raises(Conflict, match="already exists"):
        store.create_session(Session(name="a"))


def test_run_output_round_trips_and_change_log_records_writes(tmp_path):
    store = SQLiteStore(tmp_path / "s.db")
    s = store.create_session(Session(name="a"))
    start = store.last_change_id()
    run = CommandRun(session_id=s.id, command="pytest", status=RunStatus.FINISHED, exit_code=1)
    store.save_run(run, "F" * 5000)
    assert store.run_output(run.id) == "F" * 5000
    store.save_run(run.model_copy(update={"context": "short"}))  # raw kept when not given
    assert store.run_output(run.id) == "F" * 5000
    assert {c.kind for c in store.changes_since(start)} == {"run"}


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


WRITER = textwrap.dedent(
    """
    import sys
    from ai_session.core.models import Message
    from ai_session.core.store.sqlite import SQLiteStore
    store = SQLiteStore(sys.argv[1])
    sid, tag, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
    for i in range(n):
        store.append_messages(sid, [Message(role="user", content=f"{tag}-{i}", tokens=1)])
        print(f"{tag}-{i}", flush=True)
    """
)


def test_eight_processes_append_300_each_without_errors(tmp_path, home):
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    s = store.create_session(Session(name="shared"))
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), s.id, f"w{k}", "300"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(home))
        for k in range(8)
    ]
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
        assert err == ""
    messages = store.list_messages(s.id)
    assert len(messages) == 2400
    assert [m.seq for m in messages] == list(range(1, 2401))
    assert len({m.content for m in messages}) == 2400


def test_sigkill_mid_write_loses_no_acknowledged_message(tmp_path, home):
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    s = store.create_session(Session(name="crash"))
    acknowledged: list[str] = []
    for round_ in range(8):
        p = subprocess.Popen([sys.executable, "-c", WRITER, str(path), s.id, f"r{round_}", "100000"],
                             stdout=subprocess.PIPE, text=True, env=cli_env(home))
        for _ in range(40 + round_ * 13):  # kill at a different point every round
            acknowledged.append(p.stdout.readline().strip())
        p.kill()
        p.wait()
        p.stdout.close()
    stored = {m.content for m in store.list_messages(s.id)}
    assert set(acknowledged) <= stored
    assert store.integrity_problems() == []
    check = sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0]
    assert check == "ok"


def test_append_to_a_deleted_session_is_not_found(tmp_path):
    from ai_session.core.errors import NotFound

    store = SQLiteStore(tmp_path / "s.db")
    s = store.create_session(Session(name="gone"))
    SQLiteStore(tmp_path / "s.db").delete_session(s.id)  # another connection, as another process would
    with pytest.raises(NotFound, match="no longer exists"):
        store.append_messages(s.id, [Message(role="user", content="x", tokens=1)])


async def test_watch_sees_writes_from_another_connection(tmp_path):
    import asyncio

    watcher = SQLiteStore(tmp_path / "s.db")
    writer = SQLiteStore(tmp_path / "s.db")
    start = watcher.last_change_id()
    stream = watcher.watch(start, interval=0.01)
    s = writer.create_session(Session(name="w"))
    batch = await asyncio.wait_for(anext(stream), 5)
    assert [(c.session_id, c.kind) for c in batch] == [(s.id, "created")]
    writer.append_messages(s.id, [Message(role="user", content="x", tokens=1)])
    batch = await asyncio.wait_for(anext(stream), 5)
    assert [(c.session_id, c.kind) for c in batch] == [(s.id, "message")]
    await stream.aclose()


async def test_watch_sees_its_own_connection_writes_too(tmp_path):
    import asyncio

    store = SQLiteStore(tmp_path / "s.db")
    stream = store.watch(store.last_change_id(), interval=0.01)
    s = store.create_session(Session(name="own"))
    batch = await asyncio.wait_for(anext(stream), 5)
    assert batch[-1].session_id == s.id
    await stream.aclose()
