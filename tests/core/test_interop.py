import json
from pathlib import Path

import pytest
import zstandard

from ai_session.core.errors import InvalidInput
from ai_session.core.models import CommandRun, Message, RunStatus

SID = "5b7e2c1a-9f1d-4c2e-8a61-0d4f3b2e7c90"


def _event(kind, message, uuid, parent=None, ts="2026-11-20T10:00:00.000Z", **extra):
    return {"parentUuid": parent, "isSidechain": False, "userType": "external", "cwd": "/home/dev/proj",
            "sessionId": SID, "version": "2.0.14", "gitBranch": "main", "type": kind, "message": message,
            "uuid": uuid, "timestamp": ts, **extra}


def claude_transcript() -> list[dict]:
    usage1 = {"input_tokens": 12, "cache_creation_input_tokens": 5000, "cache_read_input_tokens": 0, "output_tokens": 48, "service_tier": "standard"}
    usage2 = {"input_tokens": 3, "cache_creation_input_tokens": 200, "cache_read_input_tokens": 5000, "output_tokens": 90, "service_tier": "standard"}
    a1 = {"id": "msg_01A", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929", "stop_reason": None, "usage": usage1}
    a2 = {"id": "msg_01B", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929", "stop_reason": "end_turn", "usage": usage2}
    return [
        {"type": "summary", "summary": "Fixing the flaky login test", "leafUuid": "u0"},
        _event("user", {"role": "user", "content": "Why does tests/test_login.py fail?"}, "u1"),
        # Claude Code writes one line per content block, each repeating the message's usage.
        _event("assistant", {**a1, "content": [{"type": "thinking", "thinking": "look at the test", "signature": "x"}]}, "u2", "u1", requestId="req_1"),
        _event("assistant", {**a1, "content": [{"type": "text", "text": "Let me run it."}]}, "u3", "u2", requestId="req_1"),
        _event("assistant", {**a1, "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "pytest tests/test_login.py"}}]}, "u4", "u3", requestId="req_1"),
        _event("user", {"role": "user", "content": [{"tool_use_id": "toolu_1", "type": "tool_result", "content": "FAILED tests/test_login.py::test_token - KeyError", "is_error": True}]}, "u5", "u4", toolUseResult={"stdout": "..."}),
        _event("user", {"role": "user", "content": "<command-name>/clear</command-name>"}, "u6", "u5", isMeta=True),
        _event("assistant", {**a2, "content": [{"type": "text", "text": "The token fixture is missing a key."}]}, "u7", "u5", ts="2026-11-20T10:01:00.000Z", requestId="req_2"),
    ]


def write_jsonl(path: Path, events: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    return path


def test_native_export_import_round_trips_exactly(manager, tmp_path):
    s = manager.create("dev", agent="frontend", role="Frontend", tags=["ui"])
    manager.add_message(s, "user", "fix the header", pinned=True)
    manager.add_message(s, "assistant", "done " * 400)
    run = CommandRun(session_id=s.id, command="pytest -q", status=RunStatus.FINISHED, exit_code=1, raw_tokens=50, context_tokens=9, context="1 failed")
    manager.sessions.store.save_run(run, "FAILED t.py::x\n" * 10)
    manager.add_messages(s, [Message(role="tool", kind="command", content="1 failed", run_id=run.id)])
    before = manager.export_document("dev")
    path = manager.export("dev", tmp_path / "dev.json")
    manager.delete("dev")
    manager.trash_empty()  # the trash keeps the original's ids; once it is gone they are free again
    again = manager.import_file(path)
    after = manager.export_document(again.id)
    # Importing is activity: the session is active now; when it was last active before stays in its metadata.
    imported = after["session"]["metadata"]
    assert imported["imported_format"] == "native"
    assert imported["imported_last_active"] == before["session"]["lastActive"].replace("Z", "+00:00")
    assert after["session"]["lastActive"] > before["session"]["lastActive"]
    unchanged = {"lastActive", "metadata"}
    assert {k: v for k, v in after["session"].items() if k not in unchanged} == {
        k: v for k, v in before["session"].items() if k not in unchanged}
    assert after["messages"] == before["messages"]
    assert after["runs"] == before["runs"]


def test_import_next_to_original_gets_new_ids_and_name(manager, tmp_path):
    original = manager.create("dev")
    manager.add_message(original, "user", "kept in both")
    run = CommandRun(session_id=original.id, command="make", status=RunStatus.FINISHED, exit_code=0)
    manager.sessions.store.save_run(run, "ok\n")
    manager.add_messages(original, [Message(role="tool", kind="command", content="$ make", run_id=run.id)])
    path = manager.export("dev", tmp_path / "d.json")
    copy = manager.import_file(path)
    assert copy.name.startswith("dev-imported") and copy.id != original.id
    copied = manager.messages(copy)
    assert [m.content for m in copied] == [m.content for m in manager.messages(original)]
    assert not {m.id for m in copied} & {m.id for m in manager.messages(original)}
    copied_run = manager.sessions.store.get_run(copied[1].run_id)
    assert copied_run.session_id == copy.id and copied_run.id != run.id
    assert manager.sessions.store.run_output(copied_run.id) == "ok\n"


def test_claude_code_transcript_messages_and_usage_match_the_file(manager, tmp_path):
    events = claude_transcript()
    s = manager.import_file(write_jsonl(tmp_path / f"{SID}.jsonl", events))
    messages = manager.messages(s)
    assert [(m.role.value, m.content) for m in messages] == [
        ("system", "Fixing the flaky login test"),
        ("user", "Why does tests/test_login.py fail?"),
        ("assistant", "Let me run it."),
        ("assistant", '[tool_use Bash] {"command": "pytest tests/test_login.py"}'),
        ("tool", "FAILED tests/test_login.py::test_token - KeyError"),
        ("assistant", "The token fixture is missing a key."),
    ]
    usages = {}
    for e in events:
        if e.get("type") == "assistant":
            usages[e["message"]["id"]] = e["message"]["usage"]
    got = [m.usage for m in messages if m.usage]
    assert sum(u.input_tokens for u in got) == sum(u["input_tokens"] for u in usages.values())
    assert sum(u.output_tokens for u in got) == sum(u["output_tokens"] for u in usages.values())
    assert sum(u.cache_read_tokens for u in got) == sum(u["cache_read_input_tokens"] for u in usages.values())
    assert sum(u.cache_write_tokens for u in got) == sum(u["cache_creation_input_tokens"] for u in usages.values())
    assert (s.worktree, s.branch, s.provider_sessions, s.model) == ("/home/dev/proj", "main", [SID], "claude-sonnet-4-5-20250929")
    assert messages[4].metadata["is_error"] is True


def test_channelcoder_session_state_import(manager, tmp_path):
    doc = {
        "sessionChain": ["abc-1", "abc-2"], "currentSessionId": "abc-2",
        "messages": [
            {"role": "user", "content": "I have a null pointer error in auth.js", "timestamp": "2025-05-27T10:00:00Z", "sessionId": "abc-1"},
            {"role": "assistant", "content": "Show me line 45.", "timestamp": "2025-05-27T10:00:05Z", "sessionId": "abc-2"},
        ],
        "metadata": {"name": "auth-debug", "created": "2025-05-27T10:00:00Z", "lastActive": "2025-05-27T10:00:05Z"},
    }
    path = tmp_path / "auth-debug.json"
    path.write_text(json.dumps(doc))
    s = manager.import_file(path)
    assert s.name == "auth-debug" and s.provider_sessions == ["abc-1", "abc-2"]
    assert [m.content for m in manager.messages(s)] == ["I have a null pointer error in auth.js", "Show me line 45."]


def _hostile_files(tmp_path: Path, manager) -> dict[str, tuple[Path, str]]:
    manager.create("seed")
    good = manager.export_document("seed")
    manager.delete("seed")
    files = {}

    def put(name, text, match, fmt="native"):
        p = tmp_path / name
        p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        files[name] = (p, match, fmt)

    put("path.json", json.dumps({**good, "session": {**good["session"], "name": "../../etc/passwd"}}), "not a valid session name")
    put("id.json", json.dumps({**good, "session": {**good["session"], "id": "sess_../../x"}}), "not an ai-session id")
    put("deep.json", "[" * 100_000 + "]" * 100_000, "nested", "auto")
    put("surrogate.json", json.dumps({**good, "messages": [{"role": "user", "content": "\ud800"}]}), "surrogate")
    put("huge.json", json.dumps({**good, "messages": [{"role": "user", "content": "A" * (100 * 1024 * 1024)}]}), "limit")
    bomb = zstandard.ZstdCompressor(write_content_size=False).compress(b"[" + b" " * (300 * 1024 * 1024) + b"]")
    put("bomb.json.zst", bomb, "expands past", "auto")
    liar = zstandard.ZstdCompressor().compress(b"{}")
    put("liar.json.zst", liar[:5] + b"\xff" * 8 + liar[13:], "", "auto")
    put("version.json", json.dumps({**good, "version": 99}), "version 99")
    put("garbage.jsonl", "not json\n", "not valid JSON", "claude-code")
    put("notutf8.json", b"\xff\xfe\x00", "not UTF-8", "auto")
    return files


def test_hostile_imports_get_a_clear_error_and_leave_the_store_unchanged(manager, tmp_path):
    manager.create("keep")
    manager.add_message("keep", "user", "precious")
    before = manager.export_document("keep")
    for name, (path, match, fmt) in _hostile_files(tmp_path, manager).items():
        with pytest.raises(InvalidInput, match=match or None):
            manager.import_file(path, fmt)
        assert [s.name for s in manager.list()] == ["keep"], name
    assert manager.export_document("keep")["messages"] == before["messages"]
    assert manager.sessions.store.integrity_problems() == []
