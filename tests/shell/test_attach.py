"""Terminal front-end primitives: typed commands are runs too, resize, output subscription."""

from __future__ import annotations

import asyncio

from ai_session.core.models import RunStatus
from ai_session.core.shell import ExecResult, ShellProcess


async def _wait_for(results: list[ExecResult], n: int) -> None:
    while len(results) < n:
        await asyncio.sleep(0.01)


async def test_typed_commands_are_recorded_as_runs(shell: ShellProcess) -> None:
    results: list[ExecResult] = []
    screen = bytearray()
    shell.add_run_listener(results.append)
    unsubscribe = shell.subscribe(screen.extend)
    shell.write(b"echo typed-one\n")
    await _wait_for(results, 1)
    shell.write(b"cd /tmp\n")
    await _wait_for(results, 2)
    shell.write(b"\n")  # an empty line is not a command
    shell.write(b"for i in 1 2; do\necho loop$i\ndone; (exit 4)\n")
    await asyncio.wait_for(_wait_for(results, 3), 10)
    assert [r.origin for r in results] == ["typed"] * 3
    assert [r.command for r in results] == ["echo typed-one", "cd /tmp", "for i in 1 2; do\necho loop$i\ndone; (exit 4)"]
    assert [r.exit_code for r in results] == [0, 0, 4]
    assert results[0].output == b"typed-one\n" and results[2].output == b"loop1\nloop2\n"
    assert results[1].final_cwd == "/tmp" and shell.cwd == "/tmp"
    # The terminal stream has what a user sees, without the integration marks.
    assert b"typed-one" in screen and b"\x1b]133;" not in screen
    unsubscribe()
    # exec still works after typed commands, and is reported with its own origin.
    r = await shell.exec("pwd")
    assert r.output == b"/tmp\n" and results[-1].origin == "exec"


async def test_interrupt_a_typed_command(shell: ShellProcess) -> None:
    results: list[ExecResult] = []
    shell.add_run_listener(results.append)
    shell.write(b"sleep 1000\n")
    await asyncio.sleep(0.2)
    assert shell.busy
    shell.interrupt()
    await asyncio.wait_for(_wait_for(results, 1), 10)
    assert results[0].command == "sleep 1000" and results[0].exit_code == 130
    assert results[0].status is RunStatus.FINISHED


async def test_exec_waits_for_a_typed_command(shell: ShellProcess) -> None:
    shell.write(b"sleep 0.3; echo typed-done\n")
    await asyncio.sleep(0.1)
    r = await shell.exec("echo from-exec")
    assert r.output == b"from-exec\n"


async def test_resize_reaches_the_terminal(shell: ShellProcess) -> None:
    shell.resize(40, 100)
    r = await shell.exec("stty size", stdin="tty")
    assert r.output == b"40 100\n"


async def test_a_command_run_while_a_person_types_gives_their_line_back(shell: ShellProcess) -> None:
    # A person has half typed a line in the shared terminal when an agent's command runs: the
    # command gets a clean line, and the person's text is typed back at the next prompt, so
    # Enter runs what they typed (nothing of it lost, nothing of it run with the agent's).
    results: list[ExecResult] = []
    shell.add_run_listener(results.append)
    await shell.exec("true")  # at the prompt
    shell.type(b"echo half-")
    shell.type(b"typed\x7fd")  # an edit, as keys: backspace
    agent = await shell.exec("echo agent-ran")
    assert agent.output == b"agent-ran\n"
    shell.type(b"\r")
    await asyncio.wait_for(_wait_for(results, 3), 10)
    assert results[-1].origin == "typed" and results[-1].command == "echo half-typed"
    assert results[-1].output == b"half-typed\n"
    # Entered, the line is the person's no more: the next command gives nothing back.
    await shell.exec("true")
    shell.type(b"echo second\r")
    await asyncio.wait_for(_wait_for(results, 5), 10)
    assert [r.command for r in results[3:]] == ["true", "echo second"]
