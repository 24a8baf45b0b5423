"""The issue's end-to-end path through the real server: exec a failing pytest, watch it
stream, finish, publish diagnostics on the test file; then context and stats; cancel; a
terminal on the same shell."""

import asyncio
import os
import re
import sys
import textwrap

from tests.lsp.conftest import wait_note
from tests.lsp.test_sessions import call


def write_project(root):
    (root / "tests").mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (root / "tests" / "test_calc.py").write_text(textwrap.dedent("""\
        from calc import add


        def test_add():
            assert add(2, 2) == 4


        def test_zero():
            assert add(0, 0) == 0
        """))


async def test_exec_failing_pytest_streams_finishes_and_publishes_diagnostics(client):
    root = client.workspace_root
    write_project(root)
    await wait_note(client, "aiSession/currentSessionChanged")
    command = f"cd {root} && PYTHONPATH=. {sys.executable} -m pytest -q -p no:cacheprovider"
    started = await call(client, "aiSession/exec", {"command": command})
    finished = await wait_note(client, "aiSession/runFinished", lambda n: n.run.id == started.runId, timeout=60)
    assert finished.run.exitCode == 1 and finished.run.status == "finished"
    assert finished.run.rawTokens > finished.run.contextTokens > 0
    streamed = "".join(n.data for n in client.notes["aiSession/runOutput"] if n.runId == started.runId)
    assert "1 failed, 1 passed" in re.sub(r"\x1b\[[0-9;]*m", "", streamed)  # a real PTY: pytest colours
    assert finished.diagnosticsCount >= 1
    uri = (root / "tests" / "test_calc.py").resolve().as_uri()
    for _ in range(100):
        if client.diagnostics.get(uri):
            break
        await asyncio.sleep(0.05)
    diagnostics = client.diagnostics[uri]
    assert any(d.range.start.line == 4 for d in diagnostics), diagnostics  # `assert add(2, 2) == 4` is line 5

    output = await call(client, "aiSession/run/output", {"runId": started.runId, "mode": "grep", "pattern": "FAILED"})
    assert "test_add" in output.text
    ctx = await call(client, "aiSession/context/get", {})
    assert any(item.runId == started.runId for item in ctx.items)
    assert ctx.accounting.rawCommands > ctx.accounting.contextCommands
    stats = await wait_note(client, "aiSession/statsChanged", lambda n: n.rawTokens > 0)
    assert stats.savings is not None and stats.savings > 0

    # Fix the bug: the same command passes and its diagnostics are cleared.
    (root / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    again = await call(client, "aiSession/exec", {"command": command, "wait": True})
    assert again.run.exitCode == 0
    for _ in range(100):
        if not client.diagnostics.get(uri):
            break
        await asyncio.sleep(0.05)
    assert not client.diagnostics[uri]


async def test_cancel_kills_the_whole_process_group(client):
    await wait_note(client, "aiSession/currentSessionChanged")
    marker = f"ai-session-cancel-{os.getpid()}"
    command = f'sh -c "trap \\"\\" HUP; exec sleep 1000" {marker} & sleep 1000 # {marker}'
    started = await call(client, "aiSession/exec", {"command": command})
    await asyncio.sleep(0.5)
    assert (await call(client, "aiSession/run/cancel", {"runId": started.runId})).cancelled
    finished = await wait_note(client, "aiSession/runFinished", lambda n: n.run.id == started.runId, timeout=20)
    assert finished.run.status == "cancelled"
    for _ in range(100):
        ps = await asyncio.create_subprocess_exec("pgrep", "-f", "sleep 1000", stdout=asyncio.subprocess.PIPE)
        out, _ = await ps.communicate()
        if not out.strip():
            break
        await asyncio.sleep(0.05)
    assert not out.strip(), "sleep processes survived the cancel"


async def test_terminal_attach_input_output_and_typed_command_is_recorded(client):
    await wait_note(client, "aiSession/currentSessionChanged")
    term = await call(client, "aiSession/terminal/attach", {"cols": 100, "rows": 30})
    await call(client, "aiSession/terminal/input", {"terminalId": term.terminalId, "data": "echo typed-$((20+22))\r"})
    await wait_note(client, "aiSession/terminalOutput",
                    lambda n: n.terminalId == term.terminalId and "typed-42" in n.data, timeout=20)
    await call(client, "aiSession/terminal/resize", {"terminalId": term.terminalId, "cols": 120, "rows": 40})
    for _ in range(200):
        runs = (await call(client, "aiSession/runs/list", {"session": term.sessionId})).runs
        if any(r.command == "echo typed-$((20+22))" for r in runs):
            break
        await asyncio.sleep(0.05)
    assert any(r.command == "echo typed-$((20+22))" and r.exitCode == 0 for r in runs)
    assert (await call(client, "aiSession/terminal/detach", {"terminalId": term.terminalId})).ok
    closed = await wait_note(client, "aiSession/terminalClosed", lambda n: n.terminalId == term.terminalId)
    assert closed.reason == "detached"


async def test_run_id_at_once_queue_note_cancel_is_an_answer_and_plain_raw(client):
    await wait_note(client, "aiSession/currentSessionChanged")
    first = await call(client, "aiSession/exec", {"command": "sleep 30"})
    assert first.runId.startswith("run_") and first.queuedBehind is None
    second = await call(client, "aiSession/exec", {"command": "printf '\\033[32mgreen\\033[0m\\n'"})
    assert second.queuedBehind.id == first.runId and second.queuedBehind.command == "sleep 30"
    waiting = asyncio.ensure_future(call(client, "aiSession/exec", {"command": "sleep 31", "wait": True}))
    await asyncio.sleep(0.5)
    assert (await call(client, "aiSession/run/cancel", {"runId": first.runId})).cancelled
    done = await wait_note(client, "aiSession/runFinished", lambda n: n.run.id == second.runId, timeout=30)
    assert done.run.status == "finished"
    for _ in range(300):
        runs = (await call(client, "aiSession/runs/list", {})).runs
        if (third := next((r for r in runs if r.command == "sleep 31" and r.status == "running"), None)):
            break
        await asyncio.sleep(0.1)
    assert (await call(client, "aiSession/run/cancel", {"runId": third.id})).cancelled
    answer = await asyncio.wait_for(waiting, 30)  # an answer with the cancelled run, not an error
    assert answer.run.status == "cancelled"
    raw = await call(client, "aiSession/run/output", {"runId": second.runId, "mode": "raw"})
    plain = await call(client, "aiSession/run/output", {"runId": second.runId, "mode": "raw", "plain": True})
    assert "\x1b[32m" in raw.text and plain.text.strip() == "green"


async def test_diagnostics_span_the_line_and_come_back_after_a_restart(home, workspace):
    from tests.lsp.conftest import start_client

    write_project(workspace)
    first = await start_client(home, workspace)
    await wait_note(first, "aiSession/currentSessionChanged")
    command = f"cd {workspace} && PYTHONPATH=. {sys.executable} -m pytest -q -p no:cacheprovider"
    await call(first, "aiSession/exec", {"command": command, "wait": True})
    await first.shutdown_session()
    await first.stop()
    second = await start_client(home, workspace)  # a new server: nothing run in it yet
    uri = (workspace / "tests" / "test_calc.py").resolve().as_uri()
    try:
        for _ in range(200):
            if second.diagnostics.get(uri):
                break
            await asyncio.sleep(0.05)
        d = next(d for d in second.diagnostics[uri] if d.range.start.line == 4)
        line = (workspace / "tests" / "test_calc.py").read_text().splitlines()[4]
        assert (d.range.start.character, d.range.end.character) == (0, len(line))
    finally:
        await second.shutdown_session()
        await second.stop()
