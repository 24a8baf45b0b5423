"""ChannelCoder's `session()` API in full: ask, stream, claude, interactive, save, SessionInfo, storage adapters."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from ai_session import session
from ai_session.api import SessionInfo


def test_session_with_provider_and_worktree_asks_and_streams(home, tmp_path, configured):
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    s = session(name="auth-debug", provider="openai", worktree=repo, auto_save=True)
    assert (s.record.worktree, s.record.branch, s.record.provider) == (str(repo.resolve()), "main", "openai")
    answer = s.ask("Where is the null pointer?")
    assert answer.startswith("Answer 1:") and "Where is the null pointer?" in answer
    chunks = list(s.stream("And the fix?"))
    assert len(chunks) > 1 and "".join(chunks).startswith("Answer 2:")
    assert [m.role.value for m in s.messages()] == ["user", "assistant", "user", "assistant"]
    assert s.messages()[-1].content == "".join(chunks)
    with pytest.raises(AttributeError):
        s.claude("not a claude session")


def test_claude_is_ask_on_a_claude_session(home, fake_claude):
    s = session(name="cc", provider="claude")
    assert s.claude("Start.") == s.messages()[-1].content
    assert fake_claude.calls()


def test_interactive_runs_the_repl_on_the_session(home, configured, monkeypatch, capsys):
    s = session(name="repl-lib", provider="openai")
    monkeypatch.setattr(sys, "stdin", io.StringIO("hello from the library\ninfo\nexit\n"))
    assert s.interactive() == 0
    out = capsys.readouterr().out
    assert "session repl-lib (" in out and "Answer 1:" in out and "Name  repl-lib" in out
    assert [m.role.value for m in s.messages()] == ["user", "assistant"]


def test_save_under_the_same_name_twice_updates_it(home):
    first = session(auto_save=False)
    first.add("user", "day one")
    assert first.save("daily") == "daily"
    second = session(auto_save=False)
    second.add("user", "day two")
    assert second.save("daily") == "daily"  # a second save under one name updates it (no Conflict)
    assert [m.content for m in session.load("daily").messages()] == ["day two"]
    kept = session("work")
    kept.add("user", "step 1")
    kept.save("work-v1")
    kept.add("user", "step 2")
    kept.save("work-v1")  # the copy follows
    assert [m.content for m in session.load("work-v1").messages()] == ["step 1", "step 2"]
    assert kept.name == "work" and sorted(i.name for i in session.list()) == ["daily", "work", "work-v1"]


def test_session_info_has_the_seed_fields(home):
    s = session("info-me")
    s.add("user", "one")
    s.add("assistant", "two")
    info = session.list()[0]
    assert isinstance(info, SessionInfo)
    assert (info.name, info.message_count, info.id) == ("info-me", 2, s.id())
    assert info.path.startswith("sqlite:///") and info.created <= info.last_active


class DictStorage:
    """A storage adapter with ChannelCoder's three methods, as its Redis or S3 ones have."""

    def __init__(self) -> None:
        self.states: dict[str, str] = {}

    def save(self, state: dict, name: str) -> str:
        self.states[name] = json.dumps(state)
        return f"memory://{name}"

    def load(self, name: str) -> dict:
        return json.loads(self.states[name])

    def list(self) -> list[dict]:
        return [{"name": n, "messageCount": len(json.loads(s)["messages"])} for n, s in self.states.items()]


def test_storage_adapters_plug_in_unchanged(home):
    mine = DictStorage()
    s = session(name="x", storage=mine)
    s.add("user", "remember the schema change")
    s.add("assistant", "noted", pinned=True)
    assert s.save("x") == "x"
    state = json.loads(mine.states["x"])
    assert set(state) == {"sessionChain", "currentSessionId", "messages", "metadata"}
    assert [(m["role"], m["content"]) for m in state["messages"]] == [("user", "remember the schema change"),
                                                                       ("assistant", "noted")]
    assert state["metadata"]["name"] == "x"
    assert not session.exists("x")  # nothing in the configured store
    again = session.load("x", storage=mine)
    assert [m.content for m in again.messages()] == ["remember the schema change", "noted"]
    again.add("user", "and one more")  # auto-save writes through the adapter
    assert len(json.loads(mine.states["x"])["messages"]) == 3
    assert session.exists("x", storage=mine) and [i.name for i in session.list(storage=mine)] == ["x"]
    assert session.list(storage=mine)[0].message_count == 3
    again.save("x-copy")
    assert set(mine.states) == {"x", "x-copy"}
    with pytest.raises(Exception, match="cannot remove"):
        session.remove("x", storage=mine)
