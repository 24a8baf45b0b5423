--- What the server has told us, per client: the current session, its figures, session names.
--- The statusline string is built here when a notification arrives, so `statusline()` is a lookup.
local fmt = require('ai_session.ui.format')

local M = {}

---@class ai_session.ClientState
---@field summary ai_session.SessionSummary?
---@field worktree string?
---@field branch string?
---@field stats ai_session.StatsChanged?
---@field names string[]
---@field line string

---@type table<integer, ai_session.ClientState>
M.clients = {}
--- The client whose session the statusline shows (the last one used or entered).
---@type integer?
M.active = nil

---@param id integer
---@return ai_session.ClientState
function M.get(id)
  local s = M.clients[id]
  if not s then
    s = { names = {}, line = '' }
    M.clients[id] = s
  end
  return s
end

local function prefix()
  return require('ai_session.config').get().statusline_prefix
end

--- "AI dev 1.2k/4096 62%": session, context tokens / budget, savings.
---@param s ai_session.ClientState
local function render(s)
  local summary = s.summary
  if not summary then
    return ''
  end
  local session = summary.session
  local stats = s.stats
  if stats and stats.sessionId ~= session.id then
    stats = nil
  end
  local parts = { prefix(), session.name }
  local budget = stats and stats.budget or session.maxTokens
  if stats then
    table.insert(parts, fmt.tokens(stats.contextTokens) .. '/' .. fmt.tokens(budget))
  elseif budget then
    table.insert(parts, '?/' .. fmt.tokens(budget))
  end
  local savings = fmt.v(stats and stats.savings)
  if savings == nil then
    savings = fmt.v(summary.totals and summary.totals.savings)
  end
  if savings ~= nil then
    table.insert(parts, fmt.percent(savings) .. ' saved')
  end
  if session.shareTerminal then
    table.insert(parts, 'term-shared')
  end
  return table.concat(parts, ' ')
end

---@param id integer client id
function M.changed(id)
  local s = M.get(id)
  local line = render(s)
  local moved = line ~= s.line
  s.line = line
  M.active = M.active or id
  if moved then
    vim.schedule(function()
      vim.api.nvim_exec_autocmds('User', {
        pattern = 'AiSessionChanged',
        modeline = false,
        data = { client_id = id, session = s.summary, stats = s.stats, statusline = s.line },
      })
      vim.cmd.redrawstatus({ bang = true })
    end)
  end
end

---@param id integer
---@param summary ai_session.SessionSummary?
function M.set_current(id, summary, worktree, branch)
  local s = M.get(id)
  s.summary = fmt.v(summary)
  if worktree ~= nil then
    s.worktree, s.branch = fmt.v(worktree), fmt.v(branch)
  end
  M.changed(id)
end

---@param id integer
---@param stats ai_session.StatsChanged
function M.set_stats(id, stats)
  local s = M.get(id)
  s.stats = stats
  M.changed(id)
end

---@param id integer
function M.forget(id)
  M.clients[id] = nil
  if M.active == id then
    M.active = next(M.clients)
  end
end

--- A word about the connection that replaces the statusline for a while ("reconnecting…").
---@type string?
M.notice = nil

--- Show `text` in the statusline (nil: back to the session's figures), and tell custom statuslines.
---@param text string?
function M.set_notice(text)
  M.notice = text
  vim.schedule(function()
    vim.api.nvim_exec_autocmds('User', { pattern = 'AiSessionChanged', modeline = false, data = { notice = text } })
    vim.cmd.redrawstatus({ bang = true })
  end)
end

--- The statusline string of the active client ('' when there is none). Cheap: a table lookup.
---@return string
function M.statusline()
  if M.notice then
    return prefix() .. ' ' .. M.notice
  end
  local s = M.active and M.clients[M.active]
  return s and s.line or ''
end

return M
