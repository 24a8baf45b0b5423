"""Ordinary mishaps that used to lose or hide data: a name equal to another session's id,
deleting and clearing (the trash), clearing right after restoring a backup, and stats that
counted copies twice. Every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ai_session.core.config import Config
from ai_session.core.errors import Ambiguous, Conflict, InvalidInput, NotFound
from ai_session.core.manager import SessionManager
from ai_session.core.models import CommandRun, Message, RunStatus, Session, SessionStatus, Usage, utcnow


def _with_history(manager: SessionManager, name: str, commands: int = 2) -> Session:
    s = manager.create(name, model="gpt-4o-mini")
    manager.add_messages(s, [Message(role="user", content=f"{name}: fix the build"),
                             Message(role="assistant", content="done", usage=Usage(output_tokens=3, cost_usd=0.25))])
    for i in range(commands):
        manager.sessions.store.save_run(CommandRun(session_id=s.id, command=f"make {i}", status=RunStatus.FINISHED, exit_code=0,
                                          raw_tokens=100, context_tokens=10, context="ok"), "ok\n" * 50)  # fmt: skip
    return s


def test_names_cannot_look_like_ids_and_an_id_that_is_also_a_name_is_ambiguous(manager):
    target = manager.create("target")
    with pytest.raises(InvalidInput, match="looks like a session id"):
        manager.create(target.id)
    with pytest.raises(InvalidInput, match="looks like a session id"):
        manager.rename("target", "sess_abc123")
    assert manager.create("sess-dev").name == "sess-dev"  # a name may still start like one
    # A store written before the rule may hold such a name: neither session is picked for the user.
    older = manager.sessions.store.create_session(Session(name=target.id))
    with pytest.raises(Ambiguous, match=f"id of session target and the name of session {older.id}"):
        manager.delete(target.id)
    assert {s.id for s in manager.list()} >= {target.id, older.id}
    assert manager.resolve(older.id).id == older.id  # its own id still finds it, to rename it
    assert manager.resolve(target.id[:10]).id == target.id


def test_delete_and_clear_move_sessions_to_the_trash_and_restore_brings_them_back(manager):
    dev = _with_history(manager, "dev")
    runs = [r.id for r in manager.sessions.store.list_runs(dev.id)]
    trashed = manager.delete("dev")
    assert trashed.trashed_at is not None and manager.list() == []
    with pytest.raises(NotFound, match=r"in the trash.*trash restore dev"):
        manager.resolve("dev")
    assert [s.id for s in manager.trash_list()] == [dev.id]
    again = manager.create("dev")  # the name is free while the old one waits in the trash
    with pytest.raises(Conflict, match="--name"):
        manager.trash_restore("dev")
    back = manager.trash_restore("dev", name="dev-old")
    assert back.id == dev.id and back.trashed_at is None and manager.resolve("dev-old").id == dev.id
    assert [m.content for m in manager.messages(back)] == ["dev: fix the build", "done"]
    assert [r.id for r in manager.sessions.store.list_runs(dev.id)] == runs
    assert manager.sessions.store.run_output(runs[0]) == "ok\n" * 50
    manager.end("dev-old")
    assert [s.id for s in manager.clear()] == [dev.id]
    assert {s.id for s in manager.list()} == {again.id} and [s.id for s in manager.trash_list()] == [dev.id]


def test_the_trash_keeps_sessions_for_its_configured_time(manager, home):
    old, _recent = manager.create("old"), manager.create("recent")
    manager.delete("old")
    manager.delete("recent")
    # As if "old" had been trashed 31 days ago.
    aged = manager.sessions.store.get_session(old.id).model_copy(update={"trashed_at": utcnow() - timedelta(days=31)})
    manager.sessions.store.update_session(aged)
    assert [s.name for s in manager.trash_list()] == ["recent"]  # past the 30 days: gone for good
    assert manager.sessions.store.get_session(old.id) is None
    with pytest.raises(NotFound):
        manager.trash_restore("old")
    assert manager.trash_empty(older_than=timedelta(days=1)) == []
    assert [s.name for s in manager.trash_empty(dry_run=True)] == [s.name for s in manager.trash_list()] == ["recent"]
    assert [s.name for s in manager.trash_empty()] == ["recent"] and manager.trash_list() == []
    (home.parent / "config.toml").write_text("[trash]\nkeep_days = 0\n")
    immediate = SessionManager(Config.load(), store=manager.sessions.store)
    gone = immediate.delete(immediate.create("now").id)
    assert gone.trashed_at is None and manager.sessions.store.get_session(gone.id) is None


def test_an_imported_backup_counts_as_active_for_clearing(manager, tmp_path):
    dev = _with_history(manager, "dev")
    weeks_ago = utcnow() - timedelta(days=20)
    manager.sessions.store.update_session(manager.resolve("dev").model_copy(update={"last_active": weeks_ago,
                                                                           "status": SessionStatus.ENDED}))  # fmt: skip
    history_times = [m.created_at for m in manager.messages(dev)]
    path = manager.export("dev", tmp_path / "dev.json")
    manager.delete("dev")
    manager.trash_empty()
    restored = manager.import_file(path)
    assert restored.id == dev.id
    assert manager.clear(older_than=timedelta(days=7)) == []  # the routine clean keeps it
    kept = manager.resolve("dev")
    assert kept.metadata["imported_last_active"] == weeks_ago.isoformat()
    assert [m.created_at for m in manager.messages(kept)] == history_times  # the history keeps its own times
    assert kept.last_active > weeks_ago + timedelta(days=19)


def test_stats_over_all_time_from_kept_totals_are_the_figures_summed_from_the_rows(manager, tmp_path):
    """All-time stats read the kept totals with the sessions in one query; a period that
    covers everything sums the same figures from the stored rows (merges, forks, imports and
    their copies, answers' history figures, summaries, priced and unpriced models)."""
    a = _with_history(manager, "a", commands=3)
    _with_history(manager, "b", commands=2)
    manager.add_messages(a, [Message(role="assistant", content="sent less", metadata={"context": {
        "rawHistory": 900, "contextHistory": 300}}), Message(role="system", kind="summary", content="older turns",
                                                            covers=(1, 2))])  # fmt: skip
    manager.create("empty", agent="claude")  # nothing counted: in neither
    manager.create("local", model="llama3", agent="codex")
    manager.add_message("local", "user", "unpriced")
    manager.merge(["a", "b"], "ab")
    manager.fork("a", name="a-fork")
    manager.import_file(manager.export("b", tmp_path / "b.json"))
    for options in ({"savings": True, "efficiency": True}, {"group_by": "agent", "savings": True}, {"agent": "codex"}):
        kept, summed = manager.stats(**options), manager.stats(period=timedelta(days=3650), **options)
        assert [r.as_dict() for r in kept.rows] == [r.as_dict() for r in summed.rows], options
        # (dollar figures are rounded to 6 places: float sums in another order may round apart)
        assert kept.total.as_dict() == pytest.approx(summed.total.as_dict(), abs=1.1e-6), options
        assert kept.copies == summed.copies and kept.compactions == summed.compactions
    report = manager.stats(savings=True, efficiency=True)
    assert "empty" not in {r.key for r in report.rows} and report.compactions["a"] == 1
    assert report.total.history_raw_tokens == 900 and report.copies > 0


def test_stats_count_each_run_and_message_once_however_many_copies(manager, tmp_path):
    a = _with_history(manager, "a", commands=3)
    b = _with_history(manager, "b", commands=2)
    alone = manager.stats(savings=True).total
    manager.merge(["a", "b"], "ab")
    manager.fork("a", name="a-fork")
    manager.import_file(manager.export("b", tmp_path / "b.json"))  # next to its original: a copy
    report = manager.stats(savings=True)
    total = report.total
    assert (total.commands, total.messages, total.raw_tokens, total.context_tokens) == (
        5, 4, alone.raw_tokens, alone.context_tokens)
    assert total.cost_usd == pytest.approx(0.5) and total.cost_avoided_usd == pytest.approx(alone.cost_avoided_usd)
    rows = {r.key: r for r in report.rows}
    assert (rows["ab"].commands, rows["ab"].messages) == (5, 4)  # a session's own row holds its copies
    assert rows["a-fork"].messages == 2 and rows["b-imported"].commands == 2
    assert report.copies == (5 + 4) + 2 + (2 + 2)
    assert {r.copy_of for r in manager.sessions.store.list_runs(manager.resolve("ab").id)} == {
        r.id for s in (a, b) for r in manager.sessions.store.list_runs(s.id)}
