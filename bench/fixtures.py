"""Stores the benchmarks measure, built through SessionManager as any writer would."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import harness  # noqa: F401  (puts the package's sources on the path when run directly)
from ai_session.core.config import Config
from ai_session.core.manager import SessionManager
from ai_session.core.models import Message, Role


def manager(home: Path) -> SessionManager:
    return SessionManager(Config(home=home, store_url=str(home / "sessions.db")))


def add_sessions(m: SessionManager, count: int, *, messages_each: int = 4, prefix: str = "s") -> None:
    """`count` sessions of a few messages each (so totals and last activity mean something)."""
    for i in range(count):
        s = m.create(f"{prefix}{i:05d}", agent=("claude", "codex", "aider")[i % 3], role=("Frontend", "Backend")[i % 2])
        if messages_each:
            m.add_messages(s, conversation(messages_each, seed=i))


def conversation(count: int, seed: int = 0) -> list[Message]:
    return [Message(role=Role.USER if k % 2 == 0 else Role.ASSISTANT,
                    content=f"turn {seed}.{k}: edited src/mod{(seed + k) % 40}.py:{k % 300} and ran the tests; "
                            f"{k % 7} failed, see tests/test_mod{k % 40}.py")
            for k in range(count)]  # fmt: skip


def add_history(m: SessionManager, name: str, count: int, batch: int = 2000) -> str:
    """A session of `count` messages, written `batch` at a time; its id."""
    s = m.create(name, agent="claude")
    for start in range(0, count, batch):
        m.add_messages(s, conversation(min(batch, count - start), seed=start))
    return s.id


_built: dict[tuple[int, int], Path] = {}


def large_store(sessions: int = 10_000, history: int = 100_000) -> Path:
    """A data dir holding `sessions` sessions, one of them ("big") of `history` messages:
    built once per process (it takes a while) and shared by the benchmarks that need it."""
    key = (sessions, history)
    if key not in _built:
        home = Path(tempfile.mkdtemp(prefix="ai-session-bench-"))
        atexit.register(shutil.rmtree, home, ignore_errors=True)
        m = manager(home)
        try:
            add_sessions(m, sessions - 2)
            add_history(m, "big", history)
            m.create("spare")
        finally:
            m.close()
        _built[key] = home
        print(f"built {sessions:,} sessions, one of {history:,} messages", flush=True)
    return _built[key]
