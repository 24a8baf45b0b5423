"""The plugin never picks "the current session" itself: a command given no session sends none, and
the server decides (its current session, or its error, shown as the server says it). To catch a
client that resolves it on its own, the plugin is made to believe another session is current."""

from __future__ import annotations

from tests.conftest import CLI
from tests.nvim.conftest import Editor

# Every request the plugin sends, with the session it named (absent: none).
RECORD = """
_G.sent = {}
local c = require('ai_session.client')
local request = c.request
c.request = function(method, params, ...)
  table.insert(_G.sent, { method = method, session = type(params) == 'table' and params.session or nil })
  return request(method, params, ...)
end
"""

# The plugin's own idea of the current session becomes `decoy` (the server's stays as it is).
BELIEVE_DECOY = """
local state = require('ai_session.state')
local detail = require('ai_session.client').request_sync(require('ai_session.protocol').requests.sessions_get,
  { session = 'decoy', limit = 0 }, 10000)
state.set_current(state.active, detail.summary)
"""

R = "require('ai_session.protocol').requests."


def _sent(editor: Editor, method: str) -> list[dict[str, str]]:
    return editor.lua(f"return vim.tbl_filter(function(r) return r.method == {R}{method} end, _G.sent)")


def _believe_decoy(editor: Editor, cli: CLI) -> None:
    cli("create", "decoy")
    editor.wait("return vim.tbl_contains(require('ai_session.state').clients[require('ai_session.state').active].names,"
                " 'decoy')", "the new session in the plugin's list")  # fmt: skip
    editor.lua(BELIEVE_DECOY)
    assert editor.statusline().startswith("AI decoy"), editor.statusline()


def test_commands_without_a_session_send_none_and_act_on_the_servers_current(editor: Editor, cli: CLI) -> None:
    main = cli.json("list")[0]
    assert main["name"] == "proj-main"
    _believe_decoy(editor, cli)
    editor.lua(RECORD)

    editor.cmd("AiSession context")
    shown = editor.wait("return vim.b.ai_session_context", "the context window")
    assert shown["session"] == main["id"]
    assert editor.lua("return vim.api.nvim_buf_get_lines(0, 0, 1, false)[1]").find("proj-main") >= 0
    editor.cmd("close")

    editor.lua(BELIEVE_DECOY)
    editor.cmd("AiSession exec echo ran-here")
    editor.wait("return vim.b[vim.fn.bufnr('ai-session://exec/1')].ai_session_run_status == 'finished'", "the run")
    editor.lua(BELIEVE_DECOY)
    editor.cmd("AiSession share on")
    editor.wait("return vim.fn.execute('messages'):find(\"proj%-main's terminal now go\") ~= nil", "share confirmed")

    editor.lua(BELIEVE_DECOY)
    editor.cmd("AiSession attach")
    editor.wait("return vim.b.ai_session_terminal ~= nil", "the terminal buffer")
    assert editor.lua("return vim.api.nvim_buf_get_name(0)").endswith(f"terminal/{main['id'][:12]}")

    shown = {s["name"]: s for s in cli.json("list")}
    assert shown["proj-main"]["totals"]["runs"] == 1 and shown["decoy"]["totals"]["runs"] == 0
    assert shown["proj-main"]["shareTerminal"] is True and shown["decoy"]["shareTerminal"] is False
    for method in ("context_get", "exec", "sessions_share_terminal", "terminal_attach"):
        sent = _sent(editor, method)
        assert sent and all("session" not in r for r in sent), (method, sent)


def test_with_no_current_session_the_servers_error_is_shown(editor: Editor, cli: CLI) -> None:
    editor.cmd("AiSession! delete")
    editor.wait("return vim.fn.execute('messages'):find('proj%-main') ~= nil", "the delete confirmation")
    _believe_decoy(editor, cli)
    editor.lua(RECORD)
    editor.cmd("messages clear")
    editor.cmd("AiSession pause")
    said = editor.wait("return vim.fn.execute('messages'):match('ai%-session: [^\\n]*current session[^\\n]*')",
                       "the server's error")  # fmt: skip
    assert "no session given and this workspace has no current session" in said, said
    assert cli.json("show", "decoy")["status"] == "active"
    assert _sent(editor, "sessions_pause") == [{"method": "aiSession/sessions/pause"}]
