"""Reading a real tmux server (own socket) for migrate."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ai_session.core.errors import InvalidInput, NotFound
from ai_session.core.interop.tmux import Tmux, recover_commands

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux (Debian package) is required")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    sock = f"ais-test-{secrets.token_hex(4)}"
    t = Tmux(socket_name=sock)
    yield t
    subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True, check=False)


def _wait_for(t: Tmux, target: str, needle: str) -> None:
    for _ in range(300):
        if needle in t.run("capture-pane", "-p", "-t", target):
            return
        time.sleep(0.02)
    raise AssertionError(f"{needle!r} never appeared in {target}")


def _type(t: Tmux, target: str, line: str) -> None:
    t.run("send-keys", "-t", target, "-l", line)
    t.run("send-keys", "-t", target, "Enter")


def test_read_a_real_tmux_session(tmux: Tmux, tmp_path: Path) -> None:
    sub = tmp_path / "project"
    sub.mkdir()
    shell = "env -i PATH=/usr/bin:/bin HOME=/tmp PS1='$ ' TERM=xterm bash --norc --noprofile"
    tmux.run("-f", "/dev/null", "new-session", "-d", "-s", "work", "-n", "editor", "-c", str(tmp_path), shell)
    tmux.run("new-window", "-t", "=work:", "-n", "logs", "-c", "/tmp", shell)
    _wait_for(tmux, "=work:editor", "$")
    _type(tmux, "=work:editor", f"cd {sub}")
    _type(tmux, "=work:editor", "echo hello-from-tmux")
    _wait_for(tmux, "=work:editor", "hello-from-tmux\n")
    _wait_for(tmux, "=work:logs", "$")
    _type(tmux, "=work:logs", "ls /nonexistent-dir")
    _wait_for(tmux, "=work:logs", "No such file")
    tmux.run("select-window", "-t", "=work:editor")
    # The pane's current path follows the shell's cd.
    for _ in range(100):
        if tmux.run("display-message", "-p", "-t", "=work:editor", "#{pane_current_path}").strip() == str(sub):
            break
        time.sleep(0.02)

    session = tmux.read_session("work")
    assert session.name == "work"
    assert session.windows == ["editor", "logs"]
    assert session.cwd == str(sub)
    editor, logs = session.panes
    assert editor.active and editor.window_active and not logs.window_active
    assert "hello-from-tmux" in editor.scrollback
    assert editor.commands == [f"cd {sub}", "echo hello-from-tmux"]
    assert logs.cwd == "/tmp" and logs.commands == ["ls /nonexistent-dir"]
    assert "No such file or directory" in logs.scrollback
    assert session.commands == [f"cd {sub}", "echo hello-from-tmux", "ls /nonexistent-dir"]

    assert tmux.sessions() == ["work"]
    tmux.kill_session("work")
    assert tmux.sessions() == []


def test_missing_session_and_bad_names(tmux: Tmux, tmp_path: Path) -> None:
    tmux.run("-f", "/dev/null", "new-session", "-d", "-s", "other", "-c", str(tmp_path), "sleep 100")
    with pytest.raises(NotFound):
        tmux.read_session("work")  # "=work" is exact: no prefix match on "other" or "workshop"
    for bad in ("", "a:b", "-x", "a.b"):
        with pytest.raises(InvalidInput):
            tmux.read_session(bad)


def test_no_server_means_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        Tmux(socket_name=f"ais-none-{secrets.token_hex(4)}").read_session("work")


def test_recover_commands_from_common_prompts() -> None:
    text = "\n".join(
        [
            "user@host:~/src/app$ git status",
            "On branch main",
            "total $ 5 not a prompt",
            "(venv) me@box:/srv# make test",
            "~/proj $ pytest -q",
            "$ echo plain",
            "❯ cargo build",
            "$",
        ]
    )
    assert recover_commands(text) == ["git status", "make test", "pytest -q", "echo plain", "cargo build"]
