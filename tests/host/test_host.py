"""The session host as its clients see it: one live shell per session shared by every client,
started on demand, saving cwd and env after every command, surviving its own SIGKILL."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ai_session.core.manager import SessionManager
from ai_session.host.client import (
    Connection,
    HostPaths,
    connect,
    run_command,
    wait_for_run,
)

from tests.conftest import CLI, cli_env


def _host_pid(home: Path) -> int:
    with connect() as conn:
        return int(conn.host["pid"])


def _wait_dead(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z"):
                return  # exited; its parent has not reaped it yet
        except FileNotFoundError:
            return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} is still alive")


def _read_terminal(conn: Connection, terminal_id: str, needle: str, timeout: float = 10.0) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{needle!r} not shown; the terminal showed {seen!r}")
        msg = conn.receive(timeout=left)
        params = msg.get("params") or {}
        if msg.get("method") == "aiSession/terminalOutput" and params.get("terminalId") == terminal_id:
            seen += params["data"]
    return seen


def test_the_cli_and_a_connected_client_share_one_live_shell(cli: CLI, home: Path) -> None:
    cli("create", "shared")
    first = run_command("shared", "export FOO=1; cd /tmp")
    assert first.exit_code == 0 and first.status == "finished"
    assert cli("exec", "shared", "echo $FOO; pwd").stdout == "1\n/tmp\n"
    # One host: the CLI's exec went to the process the library call started.
    pid = _host_pid(home)
    assert cli("exec", "shared", "echo $PPID").stdout != ""
    assert _host_pid(home) == pid


def test_files_are_private_and_the_socket_refuses_nothing_to_its_owner(cli: CLI, home: Path) -> None:
    cli("create", "p")
    cli("exec", "p", "true")
    paths = HostPaths.find()
    assert stat.S_IMODE(os.stat(paths.socket).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    for f in (paths.lock, paths.start_lock, paths.log):
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600


def test_typed_input_in_one_terminal_reaches_every_client(cli: CLI, home: Path) -> None:
    cli("create", "tty")
    with connect() as a, connect() as b:
        ta = a.request("aiSession/terminal/attach", {"session": "tty", "rows": 24, "cols": 80})["terminalId"]
        tb = b.request("aiSession/terminal/attach", {"session": "tty", "rows": 24, "cols": 80})["terminalId"]
        a.request("aiSession/terminal/input", {"terminalId": ta, "data": "export TYPED=yes-$((40+2))\r"})
        a.request("aiSession/terminal/input", {"terminalId": ta, "data": "echo shown-$TYPED\r"})
        # Output goes to every attached terminal, not only the one that typed.
        _read_terminal(a, ta, "shown-yes-42")
        _read_terminal(b, tb, "shown-yes-42")
        a.request("aiSession/terminal/detach", {"terminalId": ta})
    assert cli("exec", "tty", "echo $TYPED").stdout == "yes-42\n"
    m = SessionManager()
    try:
        typed = [r.command for r in m.runs("tty")]
        assert typed[:2] == ["export TYPED=yes-$((40+2))", "echo shown-$TYPED"]
    finally:
        m.close()


def test_sigkill_of_the_host_loses_only_the_running_command(cli: CLI, home: Path, tmp_path: Path) -> None:
    cli("create", "k")
    work = tmp_path / "work"
    work.mkdir()
    run_command("k", f"export KEPT=value-1; cd {work}")
    old = _host_pid(home)
    with connect() as conn:
        running = conn.request("aiSession/exec", {"session": "k", "command": "echo started; sleep 1000"})["runId"]
        # Killed mid-command: nothing of the host gets to run.
        deadline = time.monotonic() + 10
        while "started" not in conn.receive(timeout=10).get("params", {}).get("data", ""):
            assert time.monotonic() < deadline
        os.kill(old, signal.SIGKILL)
        _wait_dead(old)
    # The next client call starts a new host; the shell comes back where it was.
    shown = cli("exec", "k", "echo $KEPT; pwd")
    assert shown.stdout == f"value-1\n{work}\n"
    assert _host_pid(home) != old
    m = SessionManager()
    try:
        lost = m.get_run(running)
        assert lost.status.value == "lost"
        assert "stopped before it ended" in lost.metadata["interrupted"]
        assert lost.ended_at is not None
    finally:
        m.close()
    assert "sleep 1000" not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout


def test_a_stale_socket_is_replaced_and_concurrent_clients_start_one_host(cli: CLI, home: Path) -> None:
    cli("create", "c")
    home.mkdir(parents=True, exist_ok=True)
    paths = HostPaths.find()
    Path(paths.socket).write_text("")  # what a killed host leaves: a file nobody listens on
    procs = [subprocess.Popen([sys.executable, "-m", "ai_session", "exec", "c", "echo $$"], env=cli_env(home),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]  # fmt: skip
    shells = {p.communicate(timeout=60)[0] for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert len(shells) == 1  # one host, one shell: every exec printed the same shell pid


def test_the_run_id_streams_and_cancel_returns_the_recorded_run(cli: CLI, home: Path) -> None:
    cli("create", "x")
    with connect(watch=True) as owner, connect(watch=True) as other:
        run_id = owner.request("aiSession/exec", {"session": "x", "command": "echo go; sleep 1000"})["runId"]
        got = ""
        while "go" not in got:
            msg = other.receive(timeout=10)
            if msg.get("method") == "aiSession/runOutput" and msg["params"]["runId"] == run_id:
                got += msg["params"]["data"]
        answer = other.request("aiSession/run/cancel", {"runId": run_id})
        assert answer["cancelled"] is True and answer["run"]["status"] == "cancelled"
        assert wait_for_run(owner, run_id)["status"] == "cancelled"  # every client hears how it ended


def test_a_host_of_another_version_is_replaced_when_idle(cli: CLI, home: Path) -> None:
    cli("create", "v")
    pretend_old = ("import ai_session, sys; ai_session.__version__ = '0.0.1-old'; "
                   "from ai_session.host.server import main; sys.exit(main())")
    old = subprocess.Popen([sys.executable, "-c", pretend_old], env=cli_env(home),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not os.path.exists(HostPaths.find().socket):
            assert time.monotonic() < deadline and old.poll() is None
            time.sleep(0.02)
        done = cli("exec", "v", "echo new")
        assert done.stdout == "new\n"
        assert "replaced the session host of version 0.0.1-old" in done.stderr
        assert old.wait(timeout=10) == 0
    finally:
        if old.poll() is None:
            old.kill()


def test_an_idle_host_saves_and_exits(cli: CLI, home: Path) -> None:
    cli("create", "idle")
    env = {"AI_SESSION_HOST_IDLE": "0.5"}
    cli("exec", "idle", "export LEFT=behind; cd /", env=env)
    pid = int(Path(HostPaths.find().lock).read_text())
    _wait_dead(pid, timeout=15)
    assert not os.path.exists(HostPaths.find().socket)
    m = SessionManager()
    try:
        session = m.resolve("idle")
        assert session.shell_env.get("LEFT") == "behind" and session.shell_cwd == "/"
    finally:
        m.close()


@pytest.mark.parametrize("why", ["AI_SESSION_HOST=off", "long path"])
def test_without_a_host_the_shell_runs_in_process_and_says_why(cli: CLI, home: Path, tmp_path: Path, why: str) -> None:
    extra = {"AI_SESSION_HOST": "off"}
    if why == "long path":
        long_home = tmp_path / ("d" * 120)
        extra = {"AI_SESSION_HOME": str(long_home)}
    cli("create", "fb", env=extra)
    done = cli("exec", "fb", "export Y=2; echo $Y", env=extra)
    assert done.stdout == "2\n"
    notes = [line for line in done.stderr.splitlines() if "no session host" in line]
    assert len(notes) == 1 and ("AI_SESSION_HOST=off" in notes[0] or "too long" in notes[0])
    assert cli("exec", "fb", "echo $Y", env=extra).stdout == "2\n"  # saved at close, as before hosts


def test_a_flood_of_output_reaches_clients_in_few_notifications_and_before_the_end(cli: CLI, home: Path) -> None:
    cli("create", "flood")
    with connect(watch=True) as conn:
        command = "python3 -c \"import sys; [sys.stdout.write('line %d of the flood\\n' % i) for i in range(100000)]\""
        run_id = conn.request("aiSession/exec", {"session": "flood", "command": command})["runId"]
        chunks: list[str] = []
        while True:
            msg = conn.receive(timeout=60)
            params = msg.get("params") or {}
            if params.get("runId") == run_id and msg.get("method") == "aiSession/runOutput":
                chunks.append(params["data"])
            elif msg.get("method") == "aiSession/runFinished" and params["run"]["id"] == run_id:
                break
    text = "".join(chunks).replace("\r\n", "\n")
    assert [line for line in text.splitlines() if " of the flood" in line] == [
        f"line {i} of the flood" for i in range(100000)]  # all of it, in order, before the run's end
    # 2.2 MB in 4 KiB reads would be some 550 notifications; batched by 50 ms or 64 KiB, far fewer.
    assert len(chunks) <= len(text) // (64 * 1024) + 60
