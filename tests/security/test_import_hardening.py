"""Import files are data: nothing in one runs, and a hostile or broken one gets one clear
error naming the field, reading at most a bounded number of bytes."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from ai_session.core.errors import InvalidInput
from ai_session.core.interop import limits
from ai_session.core.models import Session

NOW = "2026-11-20T10:00:00+00:00"


def native(**session: object) -> dict:
    sid = "sess_" + "ab" * 6
    return {"format": "ai-session", "version": 1, "exportedAt": NOW,
            "session": {"id": sid, "name": "review", "createdAt": NOW, "lastActive": NOW, **session},
            "messages": [], "runs": []}


def trap_dir(tmp_path: Path, marker: Path) -> Path:
    """A directory whose `ls` and `git` leave a marker: what an attacker would put on PATH."""
    bin_dir = tmp_path / "evil-bin"
    bin_dir.mkdir()
    for name in ("ls", "git", "cat", "env"):
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\necho pwned-by-{name} >> {marker}\n")
        script.chmod(0o755)
    return bin_dir


def test_an_imported_environment_never_reaches_a_shell(cli, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = trap_dir(tmp_path, marker)
    doc = native(
        shellEnv={"PATH": f"{evil}:/usr/bin:/bin", "BASH_FUNC_git%%": f"() {{ echo pwned-by-func >> {marker}; }}",
                  "BASH_ENV": str(evil / "ls"), "LD_PRELOAD": str(evil / "lib.so"), "PROMPT_COMMAND": f"ls {evil}",
                  "PYTHONSTARTUP": str(evil / "ls"), "NODE_OPTIONS": f"--require {evil}/x.js", "HARMLESS": "yes"},
        shellCwd=str(evil), worktree=str(evil),
    )
    (tmp_path / "review.json").write_text(json.dumps(doc))
    cli("import", "--file", str(tmp_path / "review.json"))
    shown = cli.json("show", "review")
    assert shown.get("shellEnv", {}) == {} and shown.get("shellCwd") is None
    done = cli("exec", "review", "ls / >/dev/null; git --version >/dev/null 2>&1; echo \"${HARMLESS-unset} $PWD\"")
    assert not marker.exists(), marker.read_text()
    assert done.stdout.startswith("unset ")


def test_a_sessions_own_saved_env_is_restored_through_the_deny_list(manager, tmp_path: Path) -> None:
    import asyncio

    marker = tmp_path / "pwned"
    evil = trap_dir(tmp_path, marker)
    s = manager.create("own")
    manager.sessions.store.update_session(s.model_copy(update={
        "shell_env": {"PATH": f"{evil}:/usr/bin:/bin", "BASH_FUNC_ls%%": "() { echo pwned; }", "IFS": "x",
                      "PS1": "$(ls)", "KEEP_ME": "kept"},
        "shell_cwd": str(tmp_path / "gone")}))

    async def run() -> str:
        try:
            return (await manager.exec("own", 'ls / >/dev/null; echo "$KEEP_ME"; pwd')).context or ""
        finally:
            await manager.shells.close()

    out = asyncio.run(run())
    assert not marker.exists()
    assert "kept" in out and str(Path.home()) in out  # the saved cwd is gone: home, not the process cwd


def test_a_claude_transcript_cwd_is_only_a_path(manager, tmp_path: Path) -> None:
    line = {"type": "user", "sessionId": "abc-1", "cwd": "relative/../../etc", "message": {"role": "user", "content": "hi"}}
    (tmp_path / "t.jsonl").write_text(json.dumps(line) + "\n")
    s = manager.import_file(tmp_path / "t.jsonl")
    assert s.worktree is None


def test_devices_fifos_and_links_to_them_are_refused_unread(manager, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "zero").symlink_to("/dev/zero")
    for path, kind in ((Path("/dev/zero"), "device"), (tmp_path / "zero", "device"), (fifo, "FIFO"),
                       (tmp_path, "directory"), (Path("/dev/urandom"), "device")):
        result: list[BaseException] = []
        worker = threading.Thread(target=_catch, args=(result, manager.import_file, path))
        worker.start()
        worker.join(5)
        assert not worker.is_alive(), f"import of {path} hung"
        assert isinstance(result[0], InvalidInput) and kind in str(result[0]) and "regular file" in str(result[0])


def _catch(out: list[BaseException], fn, *args) -> None:
    try:
        fn(*args)
    except BaseException as exc:
        out.append(exc)


def test_the_server_refuses_a_device_too(home: Path) -> None:
    from tests.lsp.rawclient import RawClient

    c = RawClient(home)
    try:
        c.initialize()
        rid = c.send("aiSession/sessions/import", {"path": "/dev/zero"})
        err = c.response(rid)["error"]
        assert err["code"] == -32602 and "regular file" in err["message"]
        assert "result" in c.response(c.send("aiSession/sessions/list", {}))
    finally:
        c.kill()


@pytest.mark.parametrize(("change", "field"), [
    (lambda d: d["runs"].append({"run": {"id": "run_1", "command": "x" * (limits.MAX_COMMAND_CHARS + 1), "startedAt": NOW}}),
     "runs[0].run.command"),
    (lambda d: d["session"].update(systemPrompt="p" * (limits.MAX_PROMPT_CHARS + 1)), "session.systemPrompt"),
    (lambda d: d["session"].update(metadata={"blob": "m" * limits.MAX_METADATA_BYTES}), "session.metadata"),
    (lambda d: d["messages"].append({"id": "msg_1", "role": "user", "content": "c" * (limits.MAX_TEXT_CHARS + 1)}),
     "messages[0].content"),
    (lambda d: d["messages"].append({"id": "msg_1", "role": "user", "content": "hi", "tokens": 1e30}),
     "messages[0].tokens"),
    (lambda d: d["messages"].append({"id": "msg_1", "role": "user", "content": "bad \ud800 text"}),
     "messages[0].content"),
    (lambda d: d["runs"].extend([{"run": {"id": "run_1", "command": "a", "startedAt": NOW}},
                                 {"run": {"id": "run_1", "command": "b", "startedAt": NOW}}]), "run id 'run_1'"),
    (lambda d: d["messages"].extend([{"id": "msg_1", "role": "user", "content": "a"},
                                     {"id": "msg_1", "role": "user", "content": "b"}]), "message id 'msg_1'"),
])
def test_one_clear_error_names_the_field(manager, tmp_path: Path, change, field: str) -> None:
    doc = native()
    change(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InvalidInput) as err:
        manager.import_file(path)
    assert field in str(err.value)
    assert manager.list() == []


def test_a_message_id_already_stored_gives_the_copy_new_ids(manager, tmp_path: Path) -> None:
    original = manager.create("orig")
    kept = manager.add_message(original, "user", "hello")
    doc = native(name="other")
    doc["session"]["id"] = "sess_" + "cd" * 6
    doc["messages"] = [{"id": kept.id, "role": "user", "content": "a copy", "createdAt": NOW}]
    path = tmp_path / "copy.json"
    path.write_text(json.dumps(doc))
    copy = manager.import_file(path)
    assert [m.content for m in manager.messages(copy)] == ["a copy"]
    assert manager.messages(copy)[0].id != kept.id and manager.messages(original)[0].id == kept.id


def test_a_session_name_may_not_be_a_secret(manager) -> None:
    with pytest.raises(InvalidInput, match="looks like a secret"):
        manager.create("ghp_" + "a1B2" * 9)
    assert isinstance(manager.create("ordinary-name"), Session)


def test_standard_input_is_read_through_the_same_bounded_reader(cli) -> None:
    doc = native(name="from-stdin")
    out = cli("import", "--file", "-", input=json.dumps(doc))
    assert "from-stdin" in out.stdout
    refused = cli("import", "--file", "-", input="not json", check=False)
    assert refused.returncode == 2 and "not valid JSON" in refused.stderr and "Traceback" not in refused.stderr
