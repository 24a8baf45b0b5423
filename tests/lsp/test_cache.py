"""The language server's answers are kept until a write touches what they depend on: one
session's entries go when that session is written (by any process), listings when any is;
what was read of a session's history stays through appends and is extended by them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ai_session.core.context import STRATEGIES, command_message
from ai_session.core.manager import SessionManager
from ai_session.core.models import CommandRun, Message, MessageKind, Role, RunStatus, Session, utcnow
from ai_session.lsp.context import history_of
from ai_session.lsp.wire import Dumped, StoreCache


def test_a_write_drops_the_entries_of_the_session_it_touched_and_the_listings(manager: SessionManager) -> None:
    a, b = manager.create("a"), manager.create("b")
    cache = StoreCache(manager)
    kept_a = cache.put("context|a", Dumped(n=1), session=a.id)
    kept_b = cache.put("context|b", Dumped(n=2), session=b.id)
    cache.put("list", Dumped(n=3))
    assert cache.lookup("context|a") is kept_a and cache.lookup("list") is not None

    manager.add_message(a, "user", "a write to a")
    assert cache.lookup("context|a") is None
    assert cache.lookup("list") is None
    assert cache.lookup("context|b") is kept_b  # b was not written: its answer stands

    manager.rename(b.id, "b2")
    assert cache.lookup("context|b") is None


def test_another_process_s_write_is_seen_too(manager: SessionManager) -> None:
    a = manager.create("a")
    cache = StoreCache(manager)
    cache.put("context|a", Dumped(n=1), session=a.id)
    other = SessionManager(manager.config)  # its own connection, as another process has
    try:
        other.add_message(a.id, "user", "written elsewhere")
    finally:
        other.close()
    assert cache.lookup("context|a") is None


def test_a_write_the_log_does_not_name_a_session_for_empties_the_cache(manager: SessionManager) -> None:
    a = manager.create("a")
    cache = StoreCache(manager)
    cache.put("context|a", Dumped(n=1), session=a.id)
    manager.create_template("t", system_prompt="be brief")  # logged without a session
    assert cache.lookup("context|a") is None


def test_build_runs_once_until_the_session_changes(manager: SessionManager) -> None:
    a = manager.create("a")
    cache = StoreCache(manager)
    built: list[int] = []

    def build() -> Dumped:
        built.append(1)
        return Dumped(built=len(built))

    for _ in range(3):
        cache.get("context|a", build, session=a.id)
    assert len(built) == 1
    manager.add_message(a, "user", "one more")
    cache.get("context|a", build, session=a.id)
    assert len(built) == 2


def test_a_pin_or_a_prune_from_another_process_is_logged_and_drops_the_session_s_answers(manager: SessionManager) -> None:
    a, b = manager.create("a"), manager.create("b")
    manager.add_message(a, "user", "first")
    manager.add_message(a, "user", "second")
    cache = StoreCache(manager)
    cache.put("context|a", Dumped(n=1), session=a.id)
    other = SessionManager(manager.config)
    try:
        since = manager.last_change_id()
        other.pin("a", 1)
        other.add_message(b.id, "user", "a logged write elsewhere, in the same window")
        # Told apart from an append: what was read of a's history no longer holds.
        assert [(c.session_id, c.kind) for c in manager.changes_since(since)] == [(a.id, "edited"), (b.id, "message")]
        assert cache.lookup("context|a") is None  # the pin alone, unlogged, would have left it stale
        cache.put("context|a", Dumped(n=2), session=a.id)
        assert other.clear_history("a") == 1  # the unpinned message
    finally:
        other.close()
    assert cache.lookup("context|a") is None


def test_an_entry_that_grows_stays_through_appends_and_goes_on_any_other_write(manager: SessionManager) -> None:
    a, b = manager.create("a"), manager.create("b")
    manager.add_message(a, "user", "first")
    cache = StoreCache(manager)
    kept = cache.put("history|a", Dumped(n=1), session=a.id, grows=True)
    cache.put("context|a", Dumped(n=2), session=a.id)
    other = SessionManager(manager.config)  # another process
    try:
        other.add_message(a.id, "assistant", "an append")
        assert cache.lookup("history|a") is kept and cache.lookup("context|a") is None
        other.pin("a", 1)
        assert cache.lookup("history|a") is None
        cache.put("history|a", kept, session=a.id, grows=True)
        other.delete_messages(a.id, [2])
        assert cache.lookup("history|a") is None
        cache.put("history|a", kept, session=a.id, grows=True)
        other.add_message(b.id, "user", "elsewhere")
        assert cache.lookup("history|a") is kept
        other.share_terminal("a", True)  # a session setting the history depends on
        assert cache.lookup("history|a") is None
    finally:
        other.close()


def _run(manager: SessionManager, session: Session, n: int, *, typed: bool = False) -> None:
    """A finished command as the recorder stores it: the run first, then the message naming it."""
    run = CommandRun(session_id=session.id, command=f"pytest -k case{n}", exit_code=n % 2, status=RunStatus.FINISHED,
                     ended_at=utcnow(), context=f"{n % 2} failed · run", raw_tokens=400 + n, context_tokens=12,
                     metadata={"origin": "typed"} if typed else {})  # fmt: skip
    manager.sessions.store.save_run(run, "FAILED tests/test_x.py::case\n" * 40)
    manager.add_messages(session, [command_message(run)])


def _turns(manager: SessionManager, session: Session, start: int, count: int) -> None:
    manager.add_messages(session, [Message(role=Role.USER if k % 2 == 0 else Role.ASSISTANT,
                                           content=f"turn {k}: src/mod{k % 7}.py:{k} edited, tests run " * (1 + k % 5))
                                   for k in range(start, start + count)])  # fmt: skip


def test_the_context_kept_across_appends_is_the_one_a_fresh_read_assembles(manager: SessionManager) -> None:
    """After appends (turns, command runs, a typed command, a decision, a summary from
    compaction) the kept history is extended, not read again; after a pin or a delete it is
    read again. Either way every strategy, budget and window gives what a fresh read gives."""
    s = manager.create("long", system_prompt="be brief")
    other = manager.create("other")
    server: Any = SimpleNamespace(manager=manager, cache=StoreCache(manager))
    kept: list[object] = []

    def same_as_fresh(*, extended: bool) -> None:
        session = manager.resolve(s.id)
        history = history_of(server, session)
        assert (history is kept[-1]) is extended if kept else True
        kept.append(history)
        for strategy in STRATEGIES:
            for options in ({"max_tokens": 300}, {"max_tokens": 4096}, {"max_tokens": 900, "window": 3}):
                incremental = manager.context(session, strategy=strategy, history=history, **options)
                assert incremental.as_dict() == manager.context(session, strategy=strategy, **options).as_dict()

    _turns(manager, s, 0, 30)
    same_as_fresh(extended=False)
    _turns(manager, s, 30, 4)
    _run(manager, s, 1)
    _run(manager, s, 2, typed=True)  # a person's typing: kept out, as a fresh read keeps it
    manager.add_message(s, "assistant", "we keep the token in the header", kind=MessageKind.DECISION)
    same_as_fresh(extended=True)
    manager.add_message(other, "user", "a write elsewhere")
    same_as_fresh(extended=True)
    assert manager.compact(s.id, budget=400, keep_last=4) is not None  # appends a summary
    _turns(manager, s, 34, 3)
    same_as_fresh(extended=True)
    manager.pin(s.id, 5)
    same_as_fresh(extended=False)
    _run(manager, s, 3)
    same_as_fresh(extended=True)
    manager.delete_messages(s, [2, 3, 40])
    same_as_fresh(extended=False)
    _turns(manager, s, 37, 2)
    same_as_fresh(extended=True)
