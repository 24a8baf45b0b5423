--- `:AiSession attach`: a terminal buffer on the session's own shell, through the server
--- (keystrokes go out as terminal/input, output comes back as terminalOutput).
local client = require('ai_session.client')
local protocol = require('ai_session.protocol')
local config = require('ai_session.config')

local M = {}

---@type table<string, { buf: integer, chan: integer, client: integer }>
M.terms = {}
local early = {} ---@type table<string, string[]>

local function size()
  return vim.o.columns, math.max(5, tonumber(config.get().split:match('(%d+)')) or 15)
end

--- Resolve the session first: a wrong name is reported before any window opens, and the
--- terminal buffer can carry the session's name.
---@param session string?
function M.attach(session)
  if session == nil then
    return M.open(nil, nil)
  end
  client.request(protocol.requests.sessions_get, { session = session, limit = 0 }, function(detail)
    M.open(detail.summary.session.id, detail.summary.session.name)
  end)
end

---@param session_id string? nil: the current session
---@param name string?
function M.open(session_id, name)
  local cols, rows = size()
  client.request(protocol.requests.terminal_attach, { session = session_id, cols = cols, rows = rows },
    function(result, ctx)
      local tid = result.terminalId
      local buf = vim.api.nvim_create_buf(true, true)
      local chan = vim.api.nvim_open_term(buf, {
        on_input = function(_, _, _, data)
          client.request(protocol.requests.terminal_input, { terminalId = tid, data = data }, nil,
            { client = ctx.client_id, silent = true })
        end,
      })
      pcall(vim.api.nvim_buf_set_name, buf, ('ai-session://terminal/%s'):format(name or result.sessionId:sub(1, 12)))
      M.terms[tid] = { buf = buf, chan = chan, client = ctx.client_id }
      vim.b[buf].ai_session_terminal = tid
      vim.cmd(config.get().split)
      local win = vim.api.nvim_get_current_win()
      vim.api.nvim_win_set_buf(win, buf)
      for _, data in ipairs(early[tid] or {}) do
        vim.api.nvim_chan_send(chan, data)
      end
      early[tid] = nil
      local group = vim.api.nvim_create_augroup('ai_session_terminal_' .. tid, { clear = true })
      vim.api.nvim_create_autocmd('WinResized', {
        group = group,
        callback = function()
          local w = vim.fn.bufwinid(buf)
          if w ~= -1 and M.terms[tid] then
            client.request(protocol.requests.terminal_resize, {
              terminalId = tid,
              cols = vim.api.nvim_win_get_width(w),
              rows = vim.api.nvim_win_get_height(w),
            }, nil, { client = ctx.client_id, silent = true })
          end
        end,
      })
      vim.api.nvim_create_autocmd({ 'BufWipeout', 'BufDelete' }, {
        group = group,
        buffer = buf,
        once = true,
        callback = function()
          if M.terms[tid] then
            M.terms[tid] = nil
            client.request(protocol.requests.terminal_detach, { terminalId = tid }, nil,
              { client = ctx.client_id, silent = true })
          end
          pcall(vim.api.nvim_del_augroup_by_id, group)
        end,
      })
      -- Tell the server the real size of the window we got.
      client.request(protocol.requests.terminal_resize, {
        terminalId = tid, cols = vim.api.nvim_win_get_width(win), rows = vim.api.nvim_win_get_height(win),
      }, nil, { client = ctx.client_id, silent = true })
      vim.cmd.startinsert()
    end)
end

---@param params ai_session.TerminalOutput
function M.on_output(params)
  local t = M.terms[params.terminalId]
  if t then
    if vim.api.nvim_buf_is_valid(t.buf) then
      pcall(vim.api.nvim_chan_send, t.chan, params.data)
    end
  else
    early[params.terminalId] = early[params.terminalId] or {}
    table.insert(early[params.terminalId], params.data)
  end
end

---@param params ai_session.TerminalClosed
function M.on_closed(params)
  local t = M.terms[params.terminalId]
  M.terms[params.terminalId] = nil
  early[params.terminalId] = nil
  if t and vim.api.nvim_buf_is_valid(t.buf) then
    pcall(vim.api.nvim_chan_send, t.chan, ('\r\n[ai-session] terminal closed: %s\r\n'):format(params.reason))
    vim.b[t.buf].ai_session_terminal_closed = params.reason
  end
end

return M
