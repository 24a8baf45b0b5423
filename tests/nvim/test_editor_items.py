"""The editors issue in Neovim, one test per item, as a person would meet it (real server, real
shell, real Neovim; tmux where only a terminal shows it)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.nvim.conftest import ARTIFACTS, INIT, Editor, editor_env, nvim_binary, tmux_nvim

RUN = "vim.fn.bufnr('ai-session://exec/{n}')"
STATUS = "vim.b[" + RUN + "].ai_session_run_status"
TEXT = "table.concat(vim.api.nvim_buf_get_lines(" + RUN + ", 0, -1, false), '\\n')"


def run_status(ed: Editor, n: int) -> str | None:
    return ed.lua(f"return {STATUS.format(n=n)}")


def wait_ended(ed: Editor, n: int, timeout: float = 60) -> str:
    s = STATUS.format(n=n)
    return ed.wait(f"return ({s} == 'finished' or {s} == 'cancelled' or {s} == 'failed') and {s}", f"run {n} to end",
                   timeout=timeout)


def context_text(cli) -> str:
    ctx = cli.json("context", "proj-main")
    return "\n".join(item["content"] for item in ctx.get("items", []))


# ---------------------------------------------------------------- 2. cancel, queue, closed buffers


def test_ctrl_c_cancels_a_run_and_a_closed_buffer_stops_its_run(editor: Editor) -> None:
    editor.cmd("AiSession exec sleep 30; echo never-printed")
    editor.wait(f"return {STATUS.format(n=1)} == 'running'", "the run to start")
    editor.lua(f"vim.api.nvim_set_current_win(vim.fn.bufwinid({RUN.format(n=1)}))")
    editor.lua("vim.api.nvim_feedkeys(vim.keycode('<C-c>'), 'x', false)")
    assert wait_ended(editor, 1, timeout=15) == "cancelled"

    editor.cmd("AiSession exec sleep 30; echo never-printed")
    editor.wait(f"return {STATUS.format(n=2)} == 'running'", "the second run to start")
    editor.cmd(f"bwipeout! {editor.lua('return ' + RUN.format(n=2))}")
    start = time.monotonic()
    editor.cmd("AiSession exec echo after-the-closed-one")
    assert wait_ended(editor, 3, timeout=20) == "finished"
    assert time.monotonic() - start < 15, "the next run waited behind the closed one"
    messages = editor.messages()
    assert "Invalid buffer id" not in messages and "E5108" not in messages, messages


def test_a_queued_run_says_what_it_waits_for_and_cancel_names_no_run(editor: Editor) -> None:
    editor.cmd("AiSession exec sleep 3; echo first-done")
    editor.wait(f"return {STATUS.format(n=1)} == 'running'", "the first run to start")
    editor.cmd("AiSession exec echo second")
    editor.wait(f"return {TEXT.format(n=2)}:find('queued behind run') ~= nil", "the queued note")
    assert wait_ended(editor, 2) == "finished"
    editor.cmd("AiSession cancel")
    editor.wait("return vim.fn.execute('messages'):find('is not running', 1, true)", "cancel of a finished run")


# ---------------------------------------------------------------- 9. the run split follows its output


def test_the_run_split_follows_a_long_output_to_its_last_line(home: Path, project: Path, tmp_path: Path) -> None:
    """In a real terminal (tmux): the footer is on screen after 2 MB, and no "Press ENTER"."""
    with tmux_nvim(home, project, tmp_path, 100, 30) as t:
        t.wait_for("AI proj-main")
        # ~2 MB of output, and a command line long enough that a notification would not fit.
        long = "seq 1 300000 # " + "an-explanation-of-why-this-runs " * 6
        t.keys(f":AiSession exec {long}", "Enter")
        text = t.wait_for("[ai-session] exit 0", 120)
        assert "300000" in text, text  # the last line of output is on screen, above the footer
        assert "Press ENTER" not in text, text
        (ARTIFACTS / "nvim-run-view.txt").write_text(text)


# ---------------------------------------------------------------- 7. names


def test_a_name_with_spaces_is_refused_not_cut_and_unicode_letters_are_letters(editor: Editor, cli) -> None:
    editor.cmd("messages clear")
    editor.cmd("AiSession create my session ✨")
    editor.wait("return vim.fn.execute('messages'):find('not a valid session name', 1, true)", "the refusal")
    assert "no spaces" in editor.messages()
    names = [s["name"] for s in cli.json("list")]
    assert "my" not in names, names
    editor.cmd("AiSession create café")
    editor.wait("return vim.fn.execute('messages'):find('created session café', 1, true)", "café")
    assert "café" in [s["name"] for s in cli.json("list")]


# ---------------------------------------------------------------- 10. readable picker, sensible actions

CAPTURE_SELECT = """
_G.selects = {}
vim.ui.select = function(items, opts, on_choice)
  table.insert(_G.selects, { prompt = opts.prompt, rows = vim.tbl_map(opts.format_item or tostring, items) })
  _G.choose = function(i) on_choice(items[i], i) end
end
"""


def test_picker_rows_say_what_a_session_holds_and_offer_only_what_its_state_allows(editor: Editor) -> None:
    editor.lua(CAPTURE_SELECT)
    editor.cmd("AiSession create fresh")
    editor.wait("return vim.fn.execute('messages'):find('created session fresh', 1, true)", "fresh")
    editor.cmd("AiSession list")
    rows = editor.wait("return _G.selects[1] and _G.selects[1].rows", "the picker")
    fresh = next(r for r in rows if r.split()[0] == "fresh")
    assert fresh.rstrip().endswith("empty") and "0 tok" not in fresh and "- saved" not in fresh, fresh
    index = rows.index(fresh) + 1
    editor.lua(f"_G.choose({index})")
    actions = editor.wait("return _G.selects[2] and _G.selects[2].rows", "the actions")
    assert "pause" in actions and "resume" not in actions, actions


# ---------------------------------------------------------------- 1 + beyond: raw output, diff, pin


def test_raw_output_shows_colours_and_the_diff_pins_a_line_into_context(editor: Editor, cli) -> None:
    editor.cmd("AiSession exec printf 'alpha\\nbeta\\n\\033[32mgreen\\033[0m\\n'")
    assert wait_ended(editor, 1) == "finished"
    editor.cmd("AiSession output --raw")
    raw = editor.wait("local b = vim.fn.bufnr('/raw$'); return b ~= -1 and "
                      "table.concat(vim.api.nvim_buf_get_lines(b, 0, -1, false), '\\n'):find('green') and "
                      "table.concat(vim.api.nvim_buf_get_lines(b, 0, -1, false), '\\n')", "the raw output")
    assert "[32m" not in raw.split("\n", 2)[2], raw  # the header shows the command; the output is drawn
    editor.cmd("AiSession diff")
    editor.wait("return #vim.tbl_filter(function(w) return vim.wo[w].diff end, vim.api.nvim_tabpage_list_wins(0)) == 2",
                "two windows in diff mode")
    line = editor.lua("return vim.fn.search('^beta$')")
    assert line > 0
    editor.cmd("AiSession pin")
    editor.wait("return vim.fn.execute('messages'):find('pinned 1 line', 1, true)", "the pin")
    ctx = cli.json("context", "proj-main")
    pinned = [i["content"] for i in ctx["items"] if i["part"] == "pinned"]
    assert any("beta" in c and "run_" in c for c in pinned), pinned


# ---------------------------------------------------------------- 8. the person's typing


def test_typed_commands_are_the_persons_and_stay_out_of_context_unless_shared(editor: Editor, cli) -> None:
    editor.cmd("AiSession attach")
    editor.wait("return vim.b.ai_session_terminal ~= nil", "the terminal")
    editor.lua("vim.api.nvim_feedkeys('echo typed-marker-$((6*7))\\r', 't', false)")
    editor.wait("return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\\n'):find('typed%-marker%-42') ~= nil",
                "the answer in the terminal")
    deadline = time.monotonic() + 30
    while not any("typed-marker" in r["command"] for r in cli.json("show", "proj-main", "--history").get("runs", [])):
        assert time.monotonic() < deadline, "the typed command was not recorded"
        time.sleep(0.3)
    assert "typed-marker" not in context_text(cli)
    editor.cmd("stopinsert")
    editor.cmd("AiSession log")
    log = editor.wait("local b = vim.fn.bufnr('ai-session://log/proj-main'); return b ~= -1 and "
                      "table.concat(vim.api.nvim_buf_get_lines(b, 0, -1, false), '\\n')", "the log")
    assert "typed by you" in log, log
    editor.cmd("AiSession share on")
    editor.wait("return require('ai_session').statusline():find('term%-shared') ~= nil", "the statusline to say so")
    assert "typed-marker-42" in context_text(cli)


# ---------------------------------------------------------------- 5. a killed server


def server_pids(home: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            env = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"ai_session" in cmd and b"serve" in cmd and f"AI_SESSION_HOME={home}".encode() in env:
            pids.append(int(entry.name))
    return pids


def test_a_killed_server_reconnects_and_restores_diagnostics(editor: Editor, project: Path, home: Path) -> None:
    import sys

    editor.cmd(f"AiSession exec {sys.executable} -m pytest -q -p no:cacheprovider tests")
    wait_ended(editor, 1)
    test_file = str(project / "tests" / "test_calc.py")
    editor.wait("return #vim.diagnostic.get(vim.fn.bufadd(...)) > 0", "diagnostics", test_file)
    editor.lua("_G.lines = {}; vim.api.nvim_create_autocmd('User', { pattern = 'AiSessionChanged', callback = function() "
               "table.insert(_G.lines, require('ai_session').statusline()) end })")
    old = server_pids(home)
    assert old
    for pid in old:
        os.kill(pid, signal.SIGKILL)
    editor.wait("return vim.tbl_contains(_G.lines, 'AI reconnecting…')", "reconnecting… in the statusline")
    editor.wait("return vim.tbl_contains(_G.lines, 'AI reconnected')", "reconnected in the statusline")
    editor.wait("return require('ai_session').statusline():find('^AI proj%-main') ~= nil", "the session back", timeout=30)
    assert set(server_pids(home)).isdisjoint(old)
    diags = editor.wait("local d = vim.diagnostic.get(vim.fn.bufadd(...)); return #d > 0 and d",
                        "diagnostics published again", test_file)
    assert any(d["lnum"] == 4 for d in diags), diags


# ---------------------------------------------------------------- zero set-up: :checkhealth says the command


def test_checkhealth_prints_the_one_install_command(home: Path, project: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import pynvim

    from ai_session import __version__

    for key, value in editor_env(home, tmp_path, {"cmd": ["no-such-ai-session", "serve"], "auto_start": False}).items():
        monkeypatch.setenv(key, value)
    nvim = pynvim.attach("child", argv=[nvim_binary(), "--embed", "--headless", "-u", str(INIT), "-i", "NONE", "-n"])
    try:
        nvim.command(f"cd {project}")
        nvim.command("checkhealth ai_session")
        text = "\n".join(nvim.exec_lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)"))
        assert f"pipx install 'ai-session=={__version__}'" in text, text
    finally:
        nvim.close()


# ---------------------------------------------------------------- the trash, its own group


def test_a_deleted_session_waits_in_the_trash_and_comes_back(editor: Editor, cli) -> None:
    editor.lua(CAPTURE_SELECT)
    editor.cmd("AiSession create scratch")
    editor.wait("return vim.fn.execute('messages'):find('created session scratch', 1, true)", "scratch")
    editor.cmd("AiSession! delete scratch")
    editor.wait("return vim.fn.execute('messages'):find('moved to the trash', 1, true)", "the trash note")
    editor.cmd("AiSession trash")
    rows = editor.wait("return _G.selects[1] and _G.selects[1].rows", "the trash picker")
    assert len(rows) == 1 and rows[0].startswith("scratch") and "removed for good on" in rows[0], rows
    editor.lua("_G.choose(1)")
    editor.wait("return _G.selects[2] ~= nil", "the trash actions")
    assert editor.lua("return _G.selects[2].rows") == ["restore", "remove for good"]
    editor.lua("_G.choose(1)")
    editor.wait("return vim.fn.execute('messages'):find('restored scratch', 1, true)", "the restore")
    assert "scratch" in [s["name"] for s in cli.json("list")]
