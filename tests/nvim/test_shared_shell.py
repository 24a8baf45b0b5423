"""Neovim's terminal, the CLI and the session host: one shell; and a killed host seen from Neovim
(the statusline says "reconnected", the terminal is back on a new shell with the same cwd/env)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from ai_session.host.client import HostPaths

from tests.conftest import CLI
from tests.nvim.conftest import Editor

BUFFER = "return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\\n'):find(...) ~= nil"


def _type(editor: Editor, text: str) -> None:
    editor.lua("vim.api.nvim_feedkeys(..., 't', false)", text)


def _until(fn, what: str, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (value := fn()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return value


def test_neovim_and_the_cli_share_one_shell_through_a_killed_host(editor: Editor, project: Path, home: Path,
                                                                   cli: CLI) -> None:  # fmt: skip
    session = cli.json("worktree", cwd=project)["id"]
    cli("exec", session, "export FOO=from-cli-42")
    editor.cmd("AiSession attach")
    editor.wait("return vim.b.ai_session_terminal ~= nil", "the terminal buffer")
    editor.lua("vim.api.nvim_chan_send(vim.bo.channel, '')")
    _type(editor, "echo nvim-sees-$FOO\r")
    editor.wait(BUFFER, "the CLI's export in Neovim's terminal", "nvim%-sees%-from%-cli%-42")
    _type(editor, "export BAR=from-nvim-7; cd /tmp\r")
    _until(lambda: cli("exec", session, "echo $BAR").stdout == "from-nvim-7\n", "Neovim's export in the CLI")

    editor.lua("_G.lines = {}; vim.api.nvim_create_autocmd('User', { pattern = 'AiSessionChanged', callback = function() "
               "table.insert(_G.lines, require('ai_session').statusline()) end })")  # fmt: skip
    old = int(Path(HostPaths.find().lock).read_text())
    os.kill(old, signal.SIGKILL)
    editor.wait("return vim.tbl_contains(_G.lines, 'AI reconnected')", "reconnected in the statusline")
    editor.wait(BUFFER, "the note in the terminal", "%[ai%-session%] reconnected")
    assert int(Path(HostPaths.find().lock).read_text()) != old
    _type(editor, "echo again-$FOO-$BAR-$PWD\r")
    editor.wait(BUFFER, "the new shell with the saved env and cwd", "again%-from%-cli%-42%-from%-nvim%-7%-/tmp")
