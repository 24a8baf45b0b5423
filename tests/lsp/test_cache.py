"""The language server's answers are kept until a write touches what they depend on: one
session's entries go when that session is written (by any process), listings when any is."""

from __future__ import annotations

from ai_session.core.manager import SessionManager
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
        assert [(c.session_id, c.kind) for c in manager.changes_since(since)] == [(a.id, "message"), (b.id, "message")]
        assert cache.lookup("context|a") is None  # the pin alone, unlogged, would have left it stale
        cache.put("context|a", Dumped(n=2), session=a.id)
        assert other.clear_history("a") == 1  # the unpinned message
    finally:
        other.close()
    assert cache.lookup("context|a") is None
