"""Sessions in Neovim: create, pick, live updates from other processes, errors, completion, health."""

from __future__ import annotations

from tests.nvim.conftest import Editor

CAPTURE_SELECT = """
_G.picked = nil
vim.ui.select = function(items, opts, on_choice)
  _G.picked = { prompt = opts.prompt, rows = vim.tbl_map(opts.format_item, items) }
end
"""


def pick_rows(ed: Editor) -> list[str]:
    ed.lua(CAPTURE_SELECT)
    ed.cmd("AiSession list")
    return ed.wait("return _G.picked and _G.picked.rows", "the session picker")


def test_worktree_session_attached_on_open(editor: Editor, project) -> None:
    line = editor.statusline()
    assert line.startswith("AI proj-main"), line
    current = editor.lua("return require('ai_session').current()")
    assert current["session"]["worktree"] == str(project)
    assert current["session"]["branch"] == "main"


def test_create_then_picker_lists_it(editor: Editor) -> None:
    editor.cmd("AiSession create dev --agent=claude --role=backend")
    editor.wait("return vim.fn.execute('messages'):find('created session dev', 1, true)", "the create confirmation")
    rows = pick_rows(editor)
    dev = [r for r in rows if r.split()[0] == "dev"]
    assert len(dev) == 1, rows
    assert "claude" in dev[0] and "active" in dev[0] and dev[0].rstrip().endswith("empty"), dev[0]
    # The worktree's own session is marked current.
    assert any(r.startswith("* proj-main") for r in rows), rows


def test_session_created_by_cli_appears_without_restart(editor: Editor, cli) -> None:
    cli("create", "from-cli", "--agent", "aider")
    # The server pushes sessionsChanged; completion (fed by it) offers the new name.
    editor.wait("return vim.tbl_contains(vim.fn.getcompletion('AiSession attach fr', 'cmdline'), 'from-cli')",
                "completion to offer the session created by the CLI")
    rows = pick_rows(editor)
    assert any(r.split()[0] == "from-cli" and "aider" in r for r in rows), rows


def test_bad_session_gives_one_clear_error(editor: Editor) -> None:
    editor.cmd("messages clear")
    editor.cmd("AiSession attach nosuch")
    editor.wait("return vim.fn.execute('messages'):find('nosuch', 1, true)", "the error message")
    messages = editor.messages()
    errors = [line for line in messages.splitlines() if line.strip()]
    assert len(errors) == 1, messages
    assert errors[0].startswith("ai-session:") and "nosuch" in errors[0], errors
    assert "traceback" not in messages.lower() and "E5108" not in messages
    # No terminal was opened for a session that does not exist.
    assert editor.lua("return #vim.api.nvim_list_wins()") == 1


def test_usage_errors_are_one_line(editor: Editor) -> None:
    editor.cmd("messages clear")
    editor.lua("pcall(vim.cmd, 'AiSession create --colour=red')")
    editor.lua("pcall(vim.cmd, 'AiSession frobnicate')")
    messages = [m for m in editor.messages().splitlines() if m.strip()]
    assert messages == [
        "ai-session: unknown option --colour for :AiSession create",
        messages[1],
    ], messages
    assert messages[1].startswith('ai-session: unknown subcommand "frobnicate"'), messages


def test_completion(editor: Editor) -> None:
    subs = editor.lua("return vim.fn.getcompletion('AiSession ', 'cmdline')")
    for name in ("list", "create", "attach", "worktree", "exec", "context", "ask", "pause", "resume", "end",
                 "delete", "rename", "export", "import", "merge", "stats", "output", "log"):
        assert name in subs
    assert editor.lua("return vim.fn.getcompletion('AiSession create --ag', 'cmdline')") == ["--agent="]
    assert "proj-main" in editor.lua("return vim.fn.getcompletion('AiSession context ', 'cmdline')")


def test_pause_resume_rename_follow_the_server(editor: Editor, cli) -> None:
    cli("create", "worker")
    editor.cmd("AiSession pause worker")
    editor.wait("return vim.fn.execute('messages'):find('paused worker', 1, true)", "pause")
    assert cli.json("show", "worker")["status"] == "paused"
    editor.cmd("AiSession rename worker helper")
    editor.wait("return vim.tbl_contains(vim.fn.getcompletion('AiSession log ', 'cmdline'), 'helper')", "the rename")
    editor.cmd("AiSession! delete helper")
    editor.wait("return not vim.tbl_contains(vim.fn.getcompletion('AiSession log ', 'cmdline'), 'helper')",
                "the deletion")


def test_checkhealth_reports_ok(editor: Editor) -> None:
    editor.cmd("checkhealth ai_session")
    text = "\n".join(editor.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)"))
    assert "ai-session: server" in text, text
    assert "ERROR" not in text, text
    assert "OK Neovim 0.11" in text, text
    assert "OK version: ai-session" in text, text
    assert "OK server answers" in text, text
    assert "OK store opened and validated" in text, text
    assert "current session: proj-main" in text, text
    assert "OK tokens counted: the current context is" in text, text


def test_the_picker_lists_a_page_and_its_last_row_loads_more(editor: Editor, cli) -> None:
    for name in ("p1", "p2", "p3"):
        cli("create", name)
    editor.wait("return vim.tbl_contains(vim.fn.getcompletion('AiSession attach p3', 'cmdline'), 'p3')", "p3 known")
    editor.lua("require('ai_session.ui.picker').PAGE = 2")  # four sessions: two pages of two
    editor.lua("""
    _G.picks = {}
    vim.ui.select = function(items, opts, on_choice)
      table.insert(_G.picks, vim.tbl_map(opts.format_item, items))
      if #_G.picks == 1 then on_choice(items[#items]) end  -- the last row: load more
    end
    """)
    editor.cmd("AiSession list")
    pages = editor.wait("return #_G.picks == 2 and _G.picks", "the picker's second page")
    assert [r.split()[0] for r in pages[0][:2]] == ["p3", "p2"], pages[0]
    assert pages[0][2].startswith("… 2 more sessions (load 2 more)"), pages[0]
    assert [r.split()[1] if r.startswith("*") else r.split()[0] for r in pages[1]] == ["p3", "p2", "p1", "proj-main"]
