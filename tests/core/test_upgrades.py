"""Upgrades from every schema an earlier version wrote, in one transaction; stores from a
newer version refused with a clear message; backups taken while another process writes,
and restores that check the file before replacing anything."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ai_session.core.config import Config
from ai_session.core.errors import InvalidInput, StoreError
from ai_session.core.manager import SessionManager
from ai_session.core.models import CommandRun, Message, RunStatus, Session
from ai_session.core.store import pg_schema, schema
from ai_session.core.store.sqlite import SQLiteStore
from tests.conftest import cli_env
from tests.core.historical import PG_V1_SHAPES, SQLITE_V1, v1_rows, write_v1_sqlite

TEXTS = ["the login test fails", "FAILED tests/test_login.py::test_token - KeyError\n" * 40, "fixed"]
OUTPUT = "tests/test_login.py::test_token FAILED\n" * 100


def _old_session() -> tuple[Session, CommandRun]:
    session = Session(name="dev")
    return session, CommandRun(session_id=session.id, command="pytest", status=RunStatus.FINISHED, exit_code=1,
                               context="1 failed")  # fmt: skip


def _user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


@pytest.mark.parametrize("shape", sorted(SQLITE_V1))
def test_every_earlier_sqlite_schema_upgrades_in_place(tmp_path, shape):
    path = tmp_path / "sessions.db"
    session, run = _old_session()
    rows = v1_rows(session, [*TEXTS, "was already damaged"], run, OUTPUT)
    write_v1_sqlite(path, shape, rows)
    db = sqlite3.connect(path)
    db.execute("UPDATE messages SET body = x'deadbeef', zstd = 1 WHERE seq = 4")  # damaged before the upgrade
    db.commit()
    db.close()

    store = SQLiteStore(path)
    try:
        assert _user_version(path) == len(schema.MIGRATIONS)
        history = store.list_messages(session.id)
        assert [m.content for m in history[:3]] == TEXTS and history[0].metadata == {"n": 1}
        assert "corrupt compressed body" in history[3].damage  # the upgrade neither failed nor hid it
        assert store.run_output(run.id) == OUTPUT and store.get_run(run.id).context == "1 failed"
        raw = sqlite3.connect(path)
        missing = raw.execute("SELECT seq FROM messages WHERE checksum IS NULL").fetchall()
        assert missing == [(4,)] and raw.execute("SELECT checksum FROM runs").fetchone()[0] is not None
        raw.close()
        filled = store.totals([session.id])[session.id]  # kept totals, counted from the stored rows
        assert (filled.messages, filled.runs) == (4, 1) and not store.totals_differ(session.id, rebuild=False)
        assert [m.seq for m in store.append_messages(session.id, [Message(role="user", content="next", tokens=1)])] == [5]
        manager = SessionManager(Config(home=tmp_path, store_url=str(path)), store=store)
        assert [p.seq for p in manager.validate() if not p.fixed] == [4]
        manager.delete("dev")
        assert manager.trash_restore("dev").name == "dev"
    finally:
        store.close()


def test_a_failed_upgrade_changes_nothing(tmp_path):
    path = tmp_path / "sessions.db"
    session, run = _old_session()
    write_v1_sqlite(path, "rowid_changes", v1_rows(session, TEXTS, run, OUTPUT))
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE quarantine (x)")  # something in the way of the v2 step
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="quarantine already exists"):
        SQLiteStore(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "trashed_at" not in {r[1] for r in db.execute("PRAGMA table_info(sessions)")}
    assert "checksum" not in {r[1] for r in db.execute("PRAGMA table_info(messages)")}
    db.execute("DROP TABLE quarantine")
    db.commit()
    db.close()
    SQLiteStore(path).close()
    assert _user_version(path) == len(schema.MIGRATIONS)


def test_a_store_from_a_newer_version_is_refused_with_upgrade_advice(cli, home):
    cli("create", "dev")
    db = sqlite3.connect(home / "sessions.db")
    db.execute(f"PRAGMA user_version = {len(schema.MIGRATIONS) + 1}")
    db.commit()
    db.close()
    refused = cli("list", check=False)
    assert refused.returncode == 6 and "upgrade ai-session" in refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr


# ---------------------------------------------------------------------- the team store


@pytest.mark.postgres
@pytest.mark.parametrize("shape", sorted(PG_V1_SHAPES))
def test_every_earlier_team_store_schema_upgrades_in_one_transaction(pg_cluster, monkeypatch, shape):
    from ai_session.core.store import postgres

    name = f"old_{shape}"
    with pg_cluster.admin() as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        admin_url, alice_url = pg_cluster.url(dbname=name), pg_cluster.url("alice", name)
        monkeypatch.setattr(postgres, "MIGRATIONS", [PG_V1_SHAPES[shape]])
        assert postgres.PostgresStore.migrate(admin_url) == (0, 1)
        monkeypatch.setattr(postgres, "MIGRATIONS", pg_schema.MIGRATIONS)
        session, run = _old_session()
        rows = v1_rows(session, TEXTS, run, OUTPUT)
        with pg_cluster.admin(name) as admin:
            admin.execute("SET search_path = ai_session")
            admin.execute("INSERT INTO sessions (id, name, status, agent, role, worktree, branch, pool, created_at,"
                          " last_active, data, owner) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,'alice')", rows["session"])  # fmt: skip
            for m in rows["messages"]:
                admin.execute("INSERT INTO messages (session_id, seq, id, role, kind, created_at, tokens, pinned, agent,"
                              " run_id, body, zstd, extra) VALUES (%s,%s,%s,%s,%s,%s,%s,%s::int::boolean,%s,%s,%s,"
                              "%s::int::boolean,%s)", m)  # fmt: skip
            r = rows["run"]
            admin.execute("INSERT INTO runs (id, session_id, started_at, status, exit_code, data, raw, zstd) VALUES"
                          " (%s,%s,%s,%s,%s,%s,%s,%s::int::boolean)", r)  # fmt: skip
            if shape != "first":
                admin.execute("UPDATE sessions SET last_seq = 3")
            admin.execute("CREATE TABLE quarantine (x int)")  # in the way: the whole upgrade must roll back
        with pytest.raises(StoreError, match="already exists"):
            postgres.PostgresStore.migrate(admin_url)
        with pg_cluster.admin(name) as admin:
            assert admin.execute("SELECT version FROM ai_session.schema_version").fetchone()[0] == 1
            assert not admin.execute("SELECT 1 FROM information_schema.columns WHERE table_name = 'sessions'"
                                     " AND column_name = 'trashed_at'").fetchone()  # fmt: skip
            admin.execute("DROP TABLE ai_session.quarantine")
        assert postgres.PostgresStore.migrate(admin_url) == (1, len(pg_schema.MIGRATIONS))

        store = postgres.PostgresStore(alice_url)
        try:
            assert [m.content for m in store.list_messages(session.id)] == TEXTS
            assert store.run_output(run.id) == OUTPUT
            filled = store.totals([session.id])[session.id]  # kept totals, counted from the stored rows
            assert (filled.messages, filled.runs) == (3, 1) and not store.totals_differ(session.id, rebuild=False)
            assert [m.seq for m in store.append_messages(session.id, [Message(role="user", content="next", tokens=1)])] == [4]
            manager = SessionManager(Config(home=Path("/nonexistent"), store_url=alice_url), store=store)
            assert manager.validate() == []
            manager.delete("dev")  # the trash and the quarantine work for people's roles too
            assert manager.trash_restore("dev").name == "dev"
        finally:
            store.close()
        with pg_cluster.admin(name) as admin:
            assert admin.execute("SELECT count(*) FROM ai_session.messages WHERE checksum IS NULL").fetchone()[0] == 0
    finally:
        with pg_cluster.admin() as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


# ---------------------------------------------------------------------- backups

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from ai_session.core.manager import SessionManager
    from ai_session.core.models import Message
    m = SessionManager()
    stop = Path(sys.argv[1])
    sessions = [m.create(f"w{i}") for i in range(3)]
    n = 0
    while not stop.exists():
        s = sessions[n % 3]
        m.add_messages(s, [Message(role="user", content=f"m{n} " + "x" * (2000 if n % 5 == 0 else 10)),
                           Message(role="assistant", content=f"a{n}")])
        n += 1
        if n == 3:
            print("ready", flush=True)
    print(n, flush=True)
    """
)


def _consistent(path: Path) -> dict[str, int]:
    """A backup's integrity, and per session: gap-free numbers that match its counter."""
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
        counts = {}
        for sid, name, last_seq in db.execute("SELECT id, name, last_seq FROM sessions"):
            seqs = [r[0] for r in db.execute("SELECT seq FROM messages WHERE session_id = ? ORDER BY seq", (sid,))]
            assert seqs == list(range(1, len(seqs) + 1)) and last_seq == len(seqs) and len(seqs) % 2 == 0
            counts[name] = len(seqs)
        return counts
    finally:
        db.close()


def test_backup_while_another_process_writes_is_a_consistent_copy(home, tmp_path):
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(stop)], env=cli_env(home), stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready"
        manager = SessionManager(Config.load())
        backups = []
        for i in range(5):
            time.sleep(0.1)
            backups.append(manager.backup(tmp_path / f"b{i}.db"))
        stop.touch()
        written = int(writer.stdout.readline())
    finally:
        stop.touch()
        writer.wait(timeout=60)
    sizes = [sum(_consistent(b).values()) for b in backups]
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0] > 0  # taken while the writer went on
    assert sum(len(manager.messages(f"w{i}")) for i in range(3)) == 2 * written
    assert all(oct(b.stat().st_mode & 0o777) == "0o600" for b in backups)
    default = manager.backup()
    assert default.parent == home / "backups" and _consistent(default)
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o1777)
    shared.chmod(0o1777)
    manager.backup(shared / "copy.db")  # into a folder of the user's: the file is private, the folder left alone
    assert oct(shared.stat().st_mode & 0o7777) == "0o1777" and oct((shared / "copy.db").stat().st_mode & 0o777) == "0o600"
    manager.close()


def test_restore_checks_the_file_first_and_keeps_the_replaced_store(home, tmp_path):
    manager = SessionManager(Config.load())
    a = manager.create("a")
    manager.add_message(a, "user", "kept in the backup")
    backup = manager.backup(tmp_path / "backup.db")
    manager.create("b")
    other_process = SQLiteStore(home / "sessions.db")  # a handle another process holds
    try:
        text = tmp_path / "notes.txt"
        text.write_text("not a store")
        unrelated = tmp_path / "other.db"
        sqlite3.connect(unrelated).execute("CREATE TABLE t (x)").connection.commit()
        newer = tmp_path / "newer.db"
        shutil.copy(backup, newer)
        db = sqlite3.connect(newer)
        db.execute(f"PRAGMA user_version = {len(schema.MIGRATIONS) + 1}")
        db.commit()
        db.close()
        torn = tmp_path / "torn.db"
        torn.write_bytes(backup.read_bytes()[: backup.stat().st_size // 2])
        for bad, error, match in ((text, InvalidInput, "not a SQLite database"), (unrelated, InvalidInput, "not an ai-session store"),
                                  (newer, StoreError, "upgrade ai-session"), (torn, InvalidInput, "integrity|cannot be read"),
                                  (tmp_path / "missing.db", InvalidInput, "cannot read")):  # fmt: skip
            with pytest.raises(error, match=match):
                manager.restore(bad)
            assert sorted(s.name for s in manager.list()) == ["a", "b"]  # nothing was changed
        assert list((home / "backups").glob("*")) == []  # nothing to keep: nothing was replaced

        kept = manager.restore(backup)
        assert [s.name for s in manager.list()] == ["a"]
        assert [m.content for m in manager.messages("a")] == ["kept in the backup"]
        assert [s.name for s in other_process.list_sessions()] == ["a"]  # other processes see it at once
        replaced = SQLiteStore(kept)
        assert sorted(s.name for s in replaced.list_sessions()) == ["a", "b"]  # the replaced content is kept
        replaced.close()
        manager.create("c")  # the restored store is a working store
        assert sqlite3.connect(home / "sessions.db").execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        other_process.close()
        manager.close()


def test_restore_upgrades_a_backup_from_an_earlier_version(home, tmp_path):
    session, run = _old_session()
    old = tmp_path / "old-backup.db"
    write_v1_sqlite(old, "first", v1_rows(session, TEXTS, run, OUTPUT))
    db = sqlite3.connect(old)
    db.execute("PRAGMA journal_mode=DELETE")
    db.close()
    before = old.read_bytes()
    manager = SessionManager(Config.load())
    try:
        manager.restore(old)
        assert [m.content for m in manager.messages("dev")] == TEXTS
        assert manager.run_output(run.id, mode="raw")[1] == OUTPUT
        assert old.read_bytes() == before  # the backup file itself is never changed
    finally:
        manager.close()


@pytest.mark.postgres
def test_backup_of_the_team_store_points_to_pg_dump(pg_db, home):
    from ai_session.core.store.postgres import PostgresStore

    manager = SessionManager(Config.load(), store=PostgresStore(pg_db.url()))
    try:
        with pytest.raises(InvalidInput, match="pg_dump"):
            manager.backup()
        with pytest.raises(InvalidInput, match="pg_restore"):
            manager.restore(Path("x.dump"))
    finally:
        manager.close()
