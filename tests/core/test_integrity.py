"""One bad row never takes a session down: every kind of row is damaged on disk (the real
SQLite file through another connection, the PostgreSQL tables as their owner), and the rest
of the session still reads, `validate` names each damaged row, `repair` quarantines it
(kept byte for byte, restorable) and leaves a visible placeholder."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from ai_session.core import blob
from ai_session.core.errors import Damaged, InvalidInput
from ai_session.core.manager import SessionManager
from ai_session.core.models import CommandRun, Message, RunStatus, Usage
from ai_session.core.store.sqlite import SQLiteStore

Sql = Callable[..., list[tuple[Any, ...]]]
BIG = "FAILED tests/test_api.py::test_login - AssertionError: expected 200\n" * 60  # stored zstd


@pytest.fixture
def sql(manager: SessionManager, request: pytest.FixtureRequest) -> Sql:
    """Statements run on the store behind its back, as a disk fault or another tool would."""
    if isinstance(manager.sessions.store, SQLiteStore):
        def run(statement: str, *params: Any) -> list[tuple[Any, ...]]:
            db = sqlite3.connect(manager.sessions.store.path, isolation_level=None)
            try:
                return db.execute(statement, params).fetchall()
            finally:
                db.close()
        return run

    pg_db = request.getfixturevalue("pg_db")

    def run_pg(statement: str, *params: Any) -> list[tuple[Any, ...]]:
        with pg_db.admin() as admin:
            admin.execute("SET search_path = ai_session")
            cursor = admin.execute(statement.replace("?", "%s"), params)
            return cursor.fetchall() if cursor.description else []
    return run_pg


def _session(manager: SessionManager, name: str = "dev") -> tuple[str, CommandRun]:
    s = manager.create(name)
    manager.add_messages(s, [
        Message(role="user", content="the login test fails"),  # 1: plain body
        Message(role="assistant", content=BIG),  # 2: zstd
        Message(role="assistant", content=BIG.replace("200", "201")),  # 3: zstd
        Message(role="assistant", content="fixed in src/auth.py:42", usage=Usage(output_tokens=7, cost_usd=0.5)),  # 4
        Message(role="user", content="thanks"),  # 5: stays intact
    ])  # fmt: skip
    run = CommandRun(session_id=s.id, command="pytest -q", status=RunStatus.FINISHED, exit_code=1, context="1 failed")
    manager.sessions.store.save_run(run, BIG)
    return s.id, run


def _damage_everything(sql: Sql, session_id: str, run: CommandRun) -> bytes:
    """The five kinds of damage of the issue; returns the plain body before its byte flip."""
    plain = bytes(sql("SELECT body FROM messages WHERE session_id = ? AND seq = 1", session_id)[0][0])
    flipped = bytes([plain[0] ^ 0x20]) + plain[1:]  # "the" -> "The": still valid UTF-8, only a checksum sees it
    sql("UPDATE messages SET body = ? WHERE session_id = ? AND seq = 1", flipped, session_id)
    sql("UPDATE messages SET body = ? WHERE session_id = ? AND seq = 2", bytes.fromhex("deadbeef" * 8), session_id)
    sql("UPDATE messages SET body = ? WHERE session_id = ? AND seq = 3", bytes.fromhex("28b52ffd0000"), session_id)
    sql("UPDATE messages SET extra = ? WHERE session_id = ? AND seq = 4", '{"usage": {"output_tokens": 7,', session_id)
    raw = bytes(sql("SELECT raw FROM runs WHERE id = ?", run.id)[0][0])
    sql("UPDATE runs SET raw = ? WHERE id = ?", raw[: len(raw) // 2], run.id)  # a frame cut in half
    return plain


def test_each_kind_of_damage_leaves_the_rest_of_the_session_readable(manager, sql):
    sid, run = _session(manager)
    _damage_everything(sql, sid, run)
    history = manager.messages(sid)
    assert [m.seq for m in history] == [1, 2, 3, 4, 5]
    damage = {m.seq: m.damage for m in history}
    assert "checksum mismatch" in damage[1]
    assert "corrupt compressed body" in damage[2]
    assert "truncated" in damage[3] and history[2].content == ""  # never read as an empty message
    assert damage[4].startswith("metadata: not valid JSON") and history[3].content == "fixed in src/auth.py:42"
    assert damage[5] is None and history[4].content == "thanks"
    view = manager.show(sid, history=True, limit=0)
    assert len(view.messages) == 5 and view.runs[0].context == "1 failed"
    assert manager.run_output(run.id)[1] == "1 failed"  # the context form is a separate, intact record
    with pytest.raises(Damaged, match=f"raw output of {run.id}.*repair"):
        manager.run_output(run.id, mode="raw")
    ctx = manager.context(sid)
    assert ctx.unreadable == [1, 2, 3, 4]
    assert [i.content for i in ctx.items] == ["thanks"]


def test_writes_never_overwrite_a_damaged_original(manager, sql):
    sid, run = _session(manager)
    _damage_everything(sql, sid, run)
    with pytest.raises(Damaged, match="repair"):
        manager.pin(sid, 3)
    with pytest.raises(Damaged, match=r"4 damaged row\(s\).*message #1.*repair"):
        manager.fork(sid)
    assert bytes(sql("SELECT body FROM messages WHERE session_id = ? AND seq = 3", sid)[0][0]) == bytes.fromhex("28b52ffd0000")


def test_validate_names_every_damaged_row_and_repair_quarantines_them(manager, sql):
    sid, run = _session(manager)
    other, _ = _session(manager, "other")
    sql("UPDATE sessions SET data = ? WHERE id = ?", '{"id": "broken', other)
    plain = _damage_everything(sql, sid, run)
    assert manager.resolve("other").damage.startswith("record:")  # still listed, found and shown
    assert {s.name for s in manager.list()} == {"dev", "other"}

    found = [p for p in manager.validate() if p.damaged]
    rows = sorted((p.session, p.seq or 0, p.what.split(":")[0]) for p in found)
    assert rows == [
        ("dev", 0, f"raw output of run {run.id}"), ("dev", 1, "message #1"), ("dev", 2, "message #2"),
        ("dev", 3, "message #3"), ("dev", 4, "message #4"), ("other", 0, "session record"),
    ]  # fmt: skip
    assert not any(p.fixed for p in found)
    assert not [p for p in manager.validate(sid) if "token count" in p.what]  # no wrong counts invented

    repaired = manager.repair()
    assert all(p.fixed for p in repaired if p.damaged) and len([p for p in repaired if p.damaged]) == 6
    assert [p for p in manager.validate() if not p.fixed] == []

    history = manager.messages(sid)
    assert all(m.damage is None for m in history)
    assert "could not be read back" in history[1].content and history[1].metadata["quarantine"]["bodyLost"]
    assert history[3].content == "fixed in src/auth.py:42" and not history[3].metadata["quarantine"]["bodyLost"]
    assert history[4].content == "thanks"
    assert manager.run_output(run.id)[1] == "1 failed"
    with pytest.raises(Damaged, match="kept in quarantine"):
        manager.run_output(run.id, mode="raw")
    assert manager.resolve("other").damage is None

    kept = {(q.kind, q.seq or 0): q for q in manager.quarantined()}
    assert set(kept) == {("message", 1), ("message", 2), ("message", 3), ("message", 4), ("output", 0),
                         ("session", 0)}  # fmt: skip
    assert kept[("message", 3)].body == bytes.fromhex("28b52ffd0000")  # byte for byte
    assert kept[("message", 1)].body == bytes([plain[0] ^ 0x20]) + plain[1:]
    assert kept[("session", 0)].row["data"] == '{"id": "broken'
    doc = manager.quarantine_document(sid)
    assert len(doc["rows"]) == 5 and doc["rows"][0]["body"]
    manager.export(sid)  # the repaired session exports whole, placeholders included


def test_a_quarantined_row_comes_back_only_when_it_reads_back(manager, sql):
    sid, run = _session(manager)
    _damage_everything(sql, sid, run)
    manager.repair(sid)
    number = next(q.id for q in manager.quarantined(sid) if q.seq == 2)
    with pytest.raises(Damaged, match="still does not read back"):
        manager.restore_quarantined(number)
    assert "could not be read back" in manager.messages(sid)[1].content
    # A later version (or a person with a recovery tool) that reads the original: here, the bytes themselves.
    body, _packed, checksum = blob.pack(BIG)
    sql("UPDATE quarantine SET body = ?, row = ? WHERE id = ?", body,
        sql("SELECT row FROM quarantine WHERE id = ?", number)[0][0].replace('"checksum": ', f'"checksum": {checksum}, "was": '),
        number)  # fmt: skip
    manager.restore_quarantined(number)
    assert manager.messages(sid)[1].content == BIG
    assert number not in {q.id for q in manager.quarantined(sid)}


def test_export_skips_damaged_rows_only_when_asked_and_says_which(manager, sql):
    sid, run = _session(manager)
    _damage_everything(sql, sid, run)
    with pytest.raises(Damaged, match="--skip-corrupted"):
        manager.export_document(sid)
    doc = manager.export_document(sid, skip_corrupted=True)
    assert [m["seq"] for m in doc["messages"]] == [5]
    assert doc["runs"][0]["output"] is None and doc["runs"][0]["run"]["context"] == "1 failed"
    assert sorted((s["kind"], s["seq"] or 0) for s in doc["skipped"]) == [
        ("message", 1), ("message", 2), ("message", 3), ("message", 4), ("output", 0)]


def test_merge_and_import_that_fail_leave_the_store_as_it_was(manager, sql, tmp_path):
    a, _ = _session(manager, "a")
    _b, run_b = _session(manager, "b")
    sql("UPDATE runs SET raw = ? WHERE id = ?", bytes.fromhex("28b52ffd0000"), run_b.id)

    def snapshot() -> tuple[Any, ...]:
        return (sql("SELECT id, name FROM sessions ORDER BY id"), sql("SELECT count(*) FROM messages"),
                sql("SELECT count(*) FROM runs"))  # fmt: skip

    before = snapshot()
    with pytest.raises(Damaged, match="repair b"):
        manager.merge(["a", "b"], "ab")
    assert snapshot() == before
    path = manager.export("a", tmp_path / "a.json")
    first, second = manager.messages(a)[:2]
    path.write_text(path.read_text().replace(second.id, first.id))  # two messages with one id
    manager.delete("a")
    manager.trash_empty()  # its ids are free
    before = snapshot()
    with pytest.raises(InvalidInput, match="appears twice"):  # refused before anything is written
        manager.import_file(path)
    assert snapshot() == before


def test_validate_finds_kept_totals_written_behind_the_stores_back_and_repair_counts_them_again(manager, sql):
    sid, _run = _session(manager)
    right = manager.totals([manager.resolve(sid)])[sid].as_dict()
    sql("UPDATE message_totals SET tokens = tokens + 1000 WHERE session_id = ?", sid)
    sql("DELETE FROM run_totals WHERE session_id = ?", sid)
    assert manager.totals([manager.resolve(sid)])[sid].as_dict() != right  # list and show read what is kept
    found = [p for p in manager.validate() if "kept totals" in p.what]
    assert [(p.session, p.fixed) for p in found] == [("dev", False)]
    assert [(p.session, p.fixed) for p in manager.repair() if "kept totals" in p.what] == [("dev", True)]
    assert manager.totals([manager.resolve(sid)])[sid].as_dict() == right
    assert manager.validate() == []
