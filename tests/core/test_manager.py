import subprocess
from datetime import timedelta

import pytest

from ai_session.core.errors import Ambiguous, Conflict, InvalidInput, NotFound
from ai_session.core.models import Message, PoolConfig, SessionStatus, utcnow


def test_lifecycle_and_lookup_by_name_id_and_prefix(manager):
    s = manager.create("dev", agent="frontend", role="Frontend")
    assert manager.resolve("dev").id == s.id
    assert manager.resolve(s.id).name == "dev"
    assert manager.resolve(s.id[:9]).id == s.id
    assert manager.pause("dev").status is SessionStatus.PAUSED
    assert manager.resume("dev").status is SessionStatus.ACTIVE
    assert manager.end("dev").status is SessionStatus.ENDED
    with pytest.raises(Conflict):
        manager.add_message("dev", "user", "too late")
    manager.rename("dev", "dev2")
    assert manager.exists("dev2") and not manager.exists("dev")
    manager.delete("dev2")
    with pytest.raises(NotFound):
        manager.resolve("dev2")


def test_ambiguous_prefix_and_bad_names(manager):
    ids = {manager.create(f"s{i}").id for i in range(40)}
    prefixes = {i[:6] for i in ids}  # "sess_X": 40 ids over 16 digits must collide
    with pytest.raises(Ambiguous):
        for p in prefixes:
            manager.resolve(p)
    for bad in ("../etc", "", "a/b", "-rf", "x" * 200):
        with pytest.raises(InvalidInput):
            manager.create(bad)


def test_messages_are_redacted_and_token_counted(manager):
    s = manager.create("r")
    m = manager.add_message(s, "user", "key is sk-ant-api03-abcdefghijklmnopqrstuv and ghp_" + "a" * 36)
    assert "sk-ant" not in m.content and "ghp_" not in m.content
    assert m.tokens == manager.messages("r")[0].tokens > 0


def test_clear_candidates_by_age_and_idle_only(manager):
    old = utcnow() - timedelta(days=10)
    for name, status in (("a", SessionStatus.ACTIVE), ("i", SessionStatus.IDLE), ("e", SessionStatus.ENDED), ("p", SessionStatus.PAUSED)):
        s = manager.create(name)
        manager.sessions.store.update_session(s.model_copy(update={"status": status, "last_active": old}))
    manager.create("fresh")
    ended = manager.create("fresh-ended")
    manager.end(ended.id)
    # "a" was active but untouched for 10 days, so it became idle
    assert {s.name for s in manager.clear_candidates(older_than=timedelta(days=7), idle_only=True)} == {"a", "i"}
    assert {s.name for s in manager.clear_candidates()} == {"a", "i", "e", "fresh-ended"}
    assert {s.name for s in manager.clear(older_than=timedelta(days=7))} == {"a", "i", "e", "p"}
    assert sorted(s.name for s in manager.list()) == ["fresh", "fresh-ended"]


def test_pool_prefills_and_hands_out_sessions(manager):
    manager.configure_pool(PoolConfig(role="Backend", min_idle=2, max_idle=3, agent="api"))
    assert manager.pool_status()[0].idle == 2
    taken = manager.create("task-1", role="Backend", from_pool=True)
    assert taken.status is SessionStatus.ACTIVE and taken.agent == "api"
    assert taken.metadata["acquired_from_pool"] == "Backend"
    assert manager.pool_status()[0].idle == 2  # refilled
    assert "task-1" in {s.name for s in manager.list()}
    assert all(s.status is not SessionStatus.POOL for s in manager.list())


def test_pool_retires_expired_sessions(manager):
    manager.configure_pool(PoolConfig(role="R", min_idle=1, max_idle=1, idle_timeout=60))
    waiting = manager.list(statuses=[SessionStatus.POOL])
    manager.sessions.store.update_session(waiting[0].model_copy(update={"last_active": utcnow() - timedelta(hours=1)}))
    assert manager.replenish_pools("R") == {"R": (1, 1)}
    assert manager.list(statuses=[SessionStatus.POOL])[0].id != waiting[0].id


def test_template_preloads_prompt_and_pinned_messages(manager):
    s = manager.create("base", agent="reviewer", role="QA", max_tokens=8000, system_prompt="Review carefully.")
    manager.add_message(s, "user", "Always run ruff first.", pinned=True)
    manager.add_message(s, "user", "unrelated chatter")
    manager.save_template("base", "qa")
    child = manager.create("child", template="qa")
    assert (child.agent, child.role, child.max_tokens, child.system_prompt) == ("reviewer", "QA", 8000, "Review carefully.")
    assert [m.content for m in manager.messages(child)] == ["Always run ruff first."]


def test_merge_interleaves_by_time_with_provenance(manager):
    a, b = manager.create("a"), manager.create("b")
    t0 = utcnow()
    manager.add_messages(a, [Message(role="user", content="a1", created_at=t0), Message(role="user", content="a2", created_at=t0 + timedelta(seconds=2))])
    manager.add_messages(b, [Message(role="user", content="b1", created_at=t0 + timedelta(seconds=1))])
    merged = manager.merge(["a", "b"], "ab")
    messages = manager.messages(merged)
    assert [m.content for m in messages] == ["a1", "b1", "a2"]
    assert [m.seq for m in messages] == [1, 2, 3]
    assert messages[1].metadata["origin"] == {"session": b.id, "seq": 1}
    assert [x["name"] for x in merged.metadata["merged_from"]] == ["a", "b"]


def test_fork_at_a_message(manager):
    s = manager.create("src")
    for i in range(5):
        manager.add_message(s, "user", f"m{i}")
    fork = manager.fork("src", at=3, name="src-alt")
    assert [m.content for m in manager.messages(fork)] == ["m0", "m1", "m2"]
    assert fork.metadata["forked_from"]["id"] == s.id
    assert len(manager.messages("src")) == 5


def test_validate_and_repair_fix_broken_rows(manager):
    s = manager.create("v")
    m = manager.add_message(s, "user", "hello world")
    manager.sessions.store.update_messages([m.model_copy(update={"tokens": 999, "run_id": "run_000000000000"})])
    problems = manager.validate("v")
    assert {p.what for p in problems} == {"1 message(s) with a wrong token count", "1 message(s) point at a missing command run"}
    assert all(p.fixed for p in manager.repair("v"))
    assert manager.validate("v") == []
    assert manager.messages("v")[0].tokens == 2


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_worktree_binding_finds_or_creates_per_worktree_and_branch(manager, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "init")
    _git(repo, "worktree", "add", "-q", "-b", "feature/x", str(tmp_path / "wt"))
    (repo / "sub").mkdir()
    main_session, created = manager.worktree_session(repo / "sub")
    assert created and main_session.branch == "main" and main_session.worktree == str(repo.resolve())
    again, created = manager.worktree_session(repo)
    assert not created and again.id == main_session.id
    feature, created = manager.worktree_session(tmp_path / "wt")
    assert created and feature.branch == "feature/x" and feature.id != main_session.id
    assert feature.name == "wt-feature-x"
    with pytest.raises(InvalidInput, match="not inside a git worktree"):
        manager.worktree_session(tmp_path)
    # Detached (named by its commit, as git abbreviates it) and unborn branches, as git says them.
    _git(tmp_path / "wt", "checkout", "-q", "--detach")
    short = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tmp_path / "wt", capture_output=True, text=True,
                           check=True).stdout.strip()  # fmt: skip
    detached, created = manager.worktree_session(tmp_path / "wt")
    assert created and detached.branch == f"detached-{short}"
    _git(tmp_path, "init", "-q", "-b", "fresh", "new")
    unborn, created = manager.worktree_session(tmp_path / "new")
    assert created and unborn.branch == "fresh"


def test_stats_by_agent(manager):
    a = manager.create("a", agent="x")
    b = manager.create("b", agent="x")
    manager.add_message(a, "user", "one two three")
    manager.add_message(b, "user", "four")
    report = manager.stats(group_by="agent")
    assert [(r.key, r.sessions, r.messages) for r in report.rows] == [("x", 2, 2)]
    assert report.total.message_tokens == sum(m.tokens for s in (a, b) for m in manager.messages(s))
