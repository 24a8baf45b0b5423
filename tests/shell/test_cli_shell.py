"""`ai-session exec / attach / migrate` in a subprocess, as a user runs them."""

from __future__ import annotations

import secrets
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ptyprocess import PtyProcess

from ai_session.core.config import Config
from ai_session.core.manager import SessionManager
from ai_session.core.models import RunStatus
from tests.conftest import cli_env


def _manager() -> SessionManager:
    return SessionManager(Config.load())


def test_exec_persists_cwd_and_env_across_cli_calls(cli, home: Path) -> None:
    cli("create", "dev")
    first = cli("exec", "dev", "cd /tmp && export X=1")
    assert first.stdout == ""
    second = cli("exec", "dev", "pwd; echo $X")
    assert second.stdout == "/tmp\n1\n"
    m = _manager()
    try:
        runs = m.sessions.store.list_runs(m.resolve("dev").id)
        assert [r.command for r in runs] == ["cd /tmp && export X=1", "pwd; echo $X"]
        assert [r.exit_code for r in runs] == [0, 0] and runs[1].cwd == "/tmp"
        assert m.sessions.store.run_output(runs[1].id) == "/tmp\n1\n"
        history = m.messages("dev")
        assert [msg.run_id for msg in history] == [r.id for r in runs]
        assert history[1].content.startswith("$ pwd; echo $X\n/tmp\n1\n[ai-session] exit 0")
    finally:
        m.close()


def test_exec_exit_codes_timeout_and_cwd(cli, tmp_path: Path) -> None:
    cli("create", "codes")
    assert cli("exec", "codes", "false", check=False).returncode == 1
    assert cli("exec", "codes", "(exit 3)", check=False).returncode == 3
    assert cli("exec", "codes", "printf 'no-newline'; (exit 5)", check=False).stdout == "no-newline"
    slow = cli("exec", "codes", "echo begin; sleep 1000", "--timeout", "0.5", check=False)
    # (bash itself adds a newline after a job killed by SIGINT)
    assert slow.returncode == 124 and slow.stdout.startswith("begin\n") and "timed out" in slow.stderr
    assert cli("exec", "codes", "pwd", "--cwd", str(tmp_path)).stdout == f"{tmp_path}\n"
    data = cli.json("exec", "codes", "echo $((6*7))")
    assert data["exitCode"] == 0 and data["output"] == "42\n" and data["status"] == "finished"
    bad = cli("exec", "nope", "true", check=False)
    assert bad.returncode == 3 and "nope" in bad.stderr


def test_exec_output_is_redacted_on_screen_and_in_the_store(cli) -> None:
    cli("create", "sec")
    token = "ghp_" + "Q" * 36
    shown = cli("exec", "sec", f"echo {token}")
    # Whoever reads exec's output -- often an agent, whose model provider sees it -- is a client.
    assert shown.stdout == "[REDACTED:github-token]\n"
    m = _manager()
    try:
        run = m.sessions.store.list_runs(m.resolve("sec").id)[0]
        assert m.sessions.store.run_output(run.id) == "[REDACTED:github-token]\n"
        assert token not in m.messages("sec")[0].content
    finally:
        m.close()


def test_ctrl_c_stops_the_command_and_its_children(cli, home: Path) -> None:
    cli("create", "intr")
    p = subprocess.Popen(
        [sys.executable, "-m", "ai_session", "exec", "intr", "(trap '' INT HUP; exec sleep 1000401) & sleep 1000402"],
        env=cli_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    from tests.shell.shell_helpers import procs_matching

    for _ in range(500):
        if procs_matching("sleep 1000401") and procs_matching("sleep 1000402"):
            break
        time.sleep(0.02)
    p.send_signal(2)
    assert p.wait(timeout=30) == 130
    assert procs_matching("sleep 1000401") == [] and procs_matching("sleep 1000402") == []
    m = _manager()
    try:
        run = m.sessions.store.list_runs(m.resolve("intr").id)[0]
        assert run.status is RunStatus.CANCELLED
    finally:
        m.close()


def _read_some(p: PtyProcess, deadline: float) -> bytes:
    """What the terminal shows next, waiting no later than `deadline` (b"" when nothing came)."""
    if not select.select([p.fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
        return b""
    return p.read(4096)


def _read_until(p: PtyProcess, needle: bytes, limit: float = 20.0) -> bytes:
    buf = b""
    deadline = time.monotonic() + limit
    while needle not in buf:
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} not seen; got {buf[-500:]!r}")
        try:
            buf += _read_some(p, deadline)
        except EOFError:
            break
    return buf


def _read_prompt(p: PtyProcess, after: bytes) -> None:
    """Read past `after` until the shell waits at its prompt ("... $ " or "... # ")."""
    buf = _read_until(p, after)
    buf = buf[buf.index(after) + len(after) :]
    deadline = time.monotonic() + 20
    while not buf.endswith((b"$ ", b"# ")):
        assert time.monotonic() < deadline, buf
        buf += _read_some(p, deadline)


def test_attach_records_typed_commands(cli, home: Path) -> None:
    cli("create", "term")
    p = PtyProcess.spawn(
        [sys.executable, "-m", "ai_session", "attach", "term"], env=cli_env(home), dimensions=(30, 100)
    )
    try:
        _read_prompt(p, b"Ctrl-] detaches")  # typing starts at the prompt, as a person's does
        p.write(b"echo attach-$((40+2))\r")
        # Wait for the prompt: keys typed ahead are echoed by the terminal while a command
        # runs, and that echo is part of what the command's run shows (as on any terminal).
        _read_prompt(p, b"attach-42")
        p.setwinsize(33, 120)
        p.write(b"stty size; cd /tmp\r")
        _read_prompt(p, b"33 120")
        p.write(b"\x1d")
        _read_until(p, b"detached from term")
        p.wait()
        assert p.exitstatus == 0
    finally:
        if p.isalive():
            p.terminate(force=True)
    m = _manager()
    try:
        session = m.resolve("term")
        runs = m.sessions.store.list_runs(session.id)
        assert [r.command for r in runs] == ["echo attach-$((40+2))", "stty size; cd /tmp"]
        assert m.sessions.store.run_output(runs[0].id) == "attach-42\n"
        assert session.shell_cwd == "/tmp"
    finally:
        m.close()
    # The next exec starts where the attached shell stopped.
    assert cli("exec", "term", "pwd").stdout == "/tmp\n"


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux (Debian package) is required")
def test_migrate_a_real_tmux_session(cli, tmp_path: Path) -> None:
    sock = f"ais-cli-{secrets.token_hex(4)}"
    tmux = ["tmux", "-L", sock]
    shell = "env -i PATH=/usr/bin:/bin HOME=/tmp PS1='$ ' TERM=xterm bash --norc --noprofile"
    try:
        subprocess.run([*tmux, "-f", "/dev/null", "new-session", "-d", "-s", "proj", "-c", str(tmp_path), shell], check=True)
        for _ in range(300):  # the shell's prompt first, so the keys are not typed ahead
            if "$" in subprocess.run([*tmux, "capture-pane", "-p", "-t", "=proj:"], capture_output=True, text=True).stdout:
                break
            time.sleep(0.02)
        subprocess.run([*tmux, "send-keys", "-t", "=proj:", "-l", "echo migrated-line"], check=True)
        subprocess.run([*tmux, "send-keys", "-t", "=proj:", "Enter"], check=True)
        for _ in range(300):
            screen = subprocess.run([*tmux, "capture-pane", "-p", "-t", "=proj:"], capture_output=True, text=True).stdout
            if "migrated-line\n$" in screen:
                break
            time.sleep(0.02)
        out = cli("migrate", "--session", "proj", "-L", sock, "--name", "from-tmux").stdout
        assert "1 command(s) recovered" in out
        alive = subprocess.run([*tmux, "has-session", "-t", "=proj"], capture_output=True)
        assert alive.returncode == 0  # kept without --replace
        m = _manager()
        try:
            s = m.resolve("from-tmux")
            assert s.shell_cwd == str(tmp_path)
            assert s.metadata["migrated_from"]["commands"] == ["echo migrated-line"]
            assert "migrated-line" in m.messages(s)[0].content
        finally:
            m.close()
        assert cli("exec", "from-tmux", "pwd").stdout == f"{tmp_path}\n"
        cli("migrate", "--session", "proj", "-L", sock, "--replace")
        gone = subprocess.run([*tmux, "has-session", "-t", "=proj"], capture_output=True)
        assert gone.returncode != 0
        missing = cli("migrate", "--session", "proj", "-L", sock, check=False)
        assert missing.returncode == 3
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
