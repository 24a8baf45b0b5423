"""Two editors' language servers and the CLI on one session host: one shell; and what an editor
sees when the host is killed mid-command (a new host, its terminal back, "reconnected")."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from ai_session.host.client import HostPaths

from tests.conftest import CLI
from tests.lsp.conftest import start_client, wait_note
from tests.lsp.test_sessions import call


def _host_pid() -> int:
    return int(Path(HostPaths.find().lock).read_text())


async def _stop(*clients) -> None:
    for c in clients:
        await c.shutdown_session()
        await c.stop()


async def test_two_editors_and_the_cli_share_one_shell(home: Path, workspace: Path, cli: CLI) -> None:
    vscode = await start_client(home, workspace, "visual_studio_code")
    nvim = await start_client(home, workspace, "neovim")
    try:
        session = (await wait_note(vscode, "aiSession/currentSessionChanged", lambda n: n.summary is not None)).summary.session.id
        a = await call(vscode, "aiSession/terminal/attach", {"cols": 100, "rows": 30})
        b = await call(nvim, "aiSession/terminal/attach", {"session": session, "cols": 80, "rows": 24})
        await call(vscode, "aiSession/terminal/input", {"terminalId": a.terminalId, "data": "export FOO=from-vscode-$((6*7))\r"})
        await call(nvim, "aiSession/terminal/input", {"terminalId": b.terminalId, "data": "echo nvim-sees-$FOO\r"})
        # Typed in one editor, shown in both.
        for client, term in ((vscode, a), (nvim, b)):
            await wait_note(client, "aiSession/terminalOutput",
                            lambda n, t=term: n.terminalId == t.terminalId and "nvim-sees-from-vscode-42" in n.data,
                            timeout=20)  # fmt: skip
        done = await asyncio.to_thread(cli, "exec", session, "echo $FOO")
        assert done.stdout == "from-vscode-42\n"
    finally:
        await _stop(vscode, nvim)


async def test_killing_the_host_mid_command_reconnects_both_editors(home: Path, workspace: Path, cli: CLI) -> None:
    vscode = await start_client(home, workspace, "visual_studio_code")
    nvim = await start_client(home, workspace, "neovim")
    try:
        session = (await wait_note(vscode, "aiSession/currentSessionChanged", lambda n: n.summary is not None)).summary.session.id
        await call(vscode, "aiSession/exec", {"command": f"export KEPT=yes; cd {workspace}", "wait": True})
        term = await call(nvim, "aiSession/terminal/attach", {"session": session, "cols": 80, "rows": 24})
        running = await call(vscode, "aiSession/exec", {"command": "echo begun; sleep 1000"})
        await wait_note(vscode, "aiSession/runOutput", lambda n: n.runId == running.runId and "begun" in n.data)
        old = _host_pid()
        os.kill(old, signal.SIGKILL)
        for client in (vscode, nvim):
            note = await wait_note(client, "aiSession/hostStatus", lambda n: n.state == "reconnected", timeout=30)
            assert "reconnected" in note.message
        assert _host_pid() != old
        # Neovim's terminal is on the new host's shell, back in the saved cwd and env.
        await wait_note(nvim, "aiSession/terminalOutput",
                        lambda n: n.terminalId == term.terminalId and "reconnected" in n.data)  # fmt: skip
        await call(nvim, "aiSession/terminal/input", {"terminalId": term.terminalId, "data": "echo back-$KEPT-$PWD\r"})
        await wait_note(nvim, "aiSession/terminalOutput",
                        lambda n: n.terminalId == term.terminalId and f"back-yes-{workspace}" in n.data, timeout=20)
        runs = (await call(vscode, "aiSession/runs/list", {"session": session})).runs
        lost = next(r for r in runs if r.id == running.runId)
        assert lost.status == "lost" and "stopped before it ended" in lost.metadata.interrupted
        assert (await asyncio.to_thread(cli, "exec", session, "echo $KEPT")).stdout == "yes\n"
    finally:
        await _stop(vscode, nvim)
