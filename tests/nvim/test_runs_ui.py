"""Runs, context and terminals in Neovim, against the real server and a real failing pytest."""

from __future__ import annotations

import sys
from pathlib import Path


from tests.nvim.conftest import ARTIFACTS, Editor, tmux_nvim

STATUS = "vim.b[vim.fn.bufnr('ai-session://exec/1')].ai_session_run_status"
RUN_STATUS = f"return {STATUS}"
TEXT = "table.concat(vim.api.nvim_buf_get_lines(vim.fn.bufnr('ai-session://exec/1'), 0, -1, false), '\\n')"
RUN_TEXT = f"return {TEXT}"
ENDED = f"({STATUS} == 'finished' or {STATUS} == 'failed')"


def test_exec_streams_output_sets_diagnostics_and_statusline(editor: Editor, project: Path) -> None:
    before = editor.statusline()
    # The command waits for a file we create only after seeing its first line in the buffer:
    # the buffer can only hold that line if output is streamed while the command runs.
    command = (f"echo phase-one-started; while [ ! -e {project}/go ]; do sleep 0.1; done; "
               f"{sys.executable} -m pytest -q -p no:cacheprovider tests")
    editor.cmd(f"AiSession exec {command}")
    editor.wait(f"return {TEXT}:find('\\nphase%-one%-started') ~= nil or {STATUS} == 'failed'",
                "the first line in the output buffer")
    assert editor.lua(RUN_STATUS) == "running"
    (project / "go").touch()
    editor.wait(f"return {ENDED}", "the run to end")
    assert editor.lua(RUN_STATUS) == "finished"
    text = editor.lua(RUN_TEXT)
    assert "1 failed, 1 passed" in text, text
    footer = editor.lua("return vim.b[vim.fn.bufnr('ai-session://exec/1')].ai_session_footer")
    assert footer.startswith("[ai-session] exit 1 · ") and "context tokens" in footer, footer
    # shown in the terminal buffer too, once the terminal has drawn it (it may wrap)
    editor.wait(f"return ({TEXT}):gsub('\\n', ''):find(..., 1, true) ~= nil", "the footer in the buffer", footer)
    # Diagnostics from the run land on the failing test file through vim.diagnostic.
    test_file = str(project / "tests" / "test_calc.py")
    diags = editor.wait("local d = vim.diagnostic.get(vim.fn.bufadd(...)); return #d > 0 and d",
                        "diagnostics on the failing test file", test_file)
    assert any(d["lnum"] == 4 for d in diags), diags  # `assert add(2, 3) == 5` is line 5 (0-based 4)
    # The statusline follows the server's figures for the session (a first push may come while
    # the run is still going, before it has any savings to show).
    editor.wait("local s = require('ai_session').statusline(); return s ~= ... and s:find('saved') ~= nil",
                "the statusline to show the run's savings", before)
    after = editor.statusline()
    assert after.startswith("AI proj-main ") and "saved" in after, after


def test_output_shows_the_stored_context_form(editor: Editor, project: Path) -> None:
    editor.cmd(f"AiSession exec {sys.executable} -m pytest -q -p no:cacheprovider tests")
    editor.wait(f"return {ENDED}", "the run to end")
    assert editor.lua(RUN_STATUS) == "finished"
    editor.cmd("AiSession output")
    text = editor.wait("local b = vim.fn.bufnr('^ai-session://output/'); "
                       "return b ~= -1 and table.concat(vim.api.nvim_buf_get_lines(b, 0, -1, false), '\\n')",
                       "the output buffer")
    assert "test_add" in text and "[ai-session] finished · exit 1" in text, text


CONTEXT_FLOAT = """
_G.context_float = function()
for _, w in ipairs(vim.api.nvim_list_wins()) do
  if vim.api.nvim_win_get_config(w).relative ~= '' and vim.w[w].ai_session_context then
    local b = vim.api.nvim_win_get_buf(w)
    return { lines = vim.api.nvim_buf_get_lines(b, 0, -1, false), info = vim.b[b].ai_session_context }
  end
end
end
"""


def test_context_float_shows_parts_and_token_counts(editor: Editor, cli) -> None:
    cli("add", "proj-main", "Please make add() handle negative numbers.")
    cli("add", "proj-main", "Done: add() now returns a + b.", "--role", "assistant")
    expected = cli.json("context", "proj-main")
    editor.lua(CONTEXT_FLOAT)
    editor.cmd("AiSession context")
    got = editor.wait("return context_float()", "the context float")
    lines, info = got["lines"], got["info"]
    assert info["tokens"] == expected["tokens"] and info["budget"] == expected["budget"], (info, expected)
    assert lines[0].startswith("proj-main · ") and f"/ {expected['budget']} tokens" in lines[0], lines[0]
    assert any(line.startswith("part ") and "tokens" in line for line in lines), lines
    assert any("Please make add() handle negative numbers." in line for line in lines), lines
    # Highlights come from linked groups a colour scheme can override.
    assert editor.lua("return vim.api.nvim_get_hl(0, { name = 'AiSessionTokens' }).link") == "Number"
    editor.lua("vim.api.nvim_feedkeys('q', 'x', false)")
    editor.wait("return context_float() == nil", "q to close the float")


def test_terminal_attach_types_and_reads(editor: Editor) -> None:
    editor.cmd("AiSession attach")
    editor.wait("return vim.b.ai_session_terminal ~= nil or vim.fn.execute('messages'):find('ai%-session:') ~= nil",
                "the terminal buffer")
    assert editor.lua("return vim.b.ai_session_terminal") is not None, editor.messages()
    editor.lua("vim.api.nvim_chan_send(vim.bo.channel, '')")  # the buffer is a real terminal
    editor.lua("vim.api.nvim_feedkeys('echo typed-$((6*7))\\r', 't', false)")
    editor.wait("return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\\n'):find('typed%-42') ~= nil",
                "the shell's answer in the terminal buffer")


def test_screen_capture_of_the_context_float(home: Path, project: Path, tmp_path: Path, cli) -> None:
    """Neovim in tmux, as a person sees it; the capture is saved for people to look at."""
    cli("worktree", str(project))
    cli("add", "proj-main", "Summarise why test_add fails and fix calc.add.")
    cli("add", "proj-main", "calc.add subtracts; it should add. Fixed in calc.py.", "--role", "assistant")
    with tmux_nvim(home, project, tmp_path, 110, 32) as t:
        t.wait_for("AI proj-main")
        t.keys(":AiSession context", "Enter")
        plain = t.wait_for("ai-session context")
        coloured = t.screen(escapes=True)
        assert "ai-session context" in plain and "tokens" in plain and "part" in plain, plain
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "nvim-context-float.txt").write_text(plain)
        (ARTIFACTS / "nvim-context-float.ansi").write_text(coloured)
