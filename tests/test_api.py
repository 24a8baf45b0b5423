from ai_session import session


def test_channelcoder_shaped_library_api(home, tmp_path):
    s = session("auth-debug")
    s.add("user", "I have a null pointer error in auth.js")
    s.add("assistant", "Show me line 45")
    assert [m.content for m in s.messages()] == ["I have a null pointer error in auth.js", "Show me line 45"]
    assert session.exists("auth-debug")
    loaded = session.load("auth-debug")
    assert loaded.id() == s.id() and len(loaded.messages()) == 2
    assert [i.name for i in session.list()] == ["auth-debug"]
    assert session.list()[0].messages == 2
    session.remove("auth-debug")
    assert not session.exists("auth-debug")


def test_auto_save_off_keeps_messages_until_save(home):
    s = session(auto_save=False)
    s.add("user", "draft")
    assert s.id() is None and not session.list()
    assert s.save("drafts") == "drafts"
    assert [m.content for m in session.load("drafts").messages()] == ["draft"]


def test_pluggable_storage_by_path(tmp_path, home):
    path = tmp_path / "other.db"
    s = session("elsewhere", storage=path)
    s.add("user", "x")
    assert not session.exists("elsewhere")
    assert session.exists("elsewhere", storage=path)

