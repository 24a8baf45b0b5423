--- The session picker: `vim.ui.select`, so telescope, fzf-lua or snacks show it when they replace it.
local client = require('ai_session.client')
local protocol = require('ai_session.protocol')
local fmt = require('ai_session.ui.format')

local M = {}

--- What a session holds, in words: "3 runs · 1.2k tokens · 62% saved", "no commands yet".
---@param s ai_session.SessionSummary
function M.figures(s)
  local t = s.totals
  local parts = {}
  local runs, messages = t.runs or 0, t.messages or 0
  if runs == 0 and messages == 0 then
    return 'empty'
  end
  if messages > 0 then
    table.insert(parts, ('%d message%s'):format(messages, messages == 1 and '' or 's'))
  end
  table.insert(parts, runs > 0 and ('%d run%s'):format(runs, runs == 1 and '' or 's') or 'no commands yet')
  local tokens = (t.messageTokens or 0) + (t.contextTokens or 0)
  if tokens > 0 then
    table.insert(parts, fmt.tokens(tokens) .. ' tokens')
  end
  local savings = fmt.v(t.savings)
  if runs > 0 and savings then
    table.insert(parts, fmt.percent(savings) .. ' saved on output')
  end
  if s.session.shareTerminal then
    table.insert(parts, 'terminal shared')
  end
  return table.concat(parts, ' · ')
end

--- One aligned row per session: current mark, name, agent, status, then its figures in words.
---@param sessions ai_session.SessionSummary[]
---@return table<ai_session.SessionSummary, string>
function M.rows(sessions)
  local w = { name = 4, agent = 1, status = 6 }
  for _, s in ipairs(sessions) do
    w.name = math.max(w.name, vim.fn.strdisplaywidth(s.session.name))
    w.agent = math.max(w.agent, vim.fn.strdisplaywidth(fmt.v(s.session.agent) or ''))
    w.status = math.max(w.status, #s.session.status)
  end
  w.name = math.min(w.name, 32)
  local rows = {}
  for _, s in ipairs(sessions) do
    rows[s] = ('%s %s  %s  %s  %s'):format(
      s.current and '*' or ' ',
      fmt.cell(s.session.name, w.name),
      fmt.cell(fmt.v(s.session.agent) or '', w.agent),
      fmt.cell(s.session.status, w.status),
      M.figures(s))
  end
  return rows
end

--- Sessions asked for at a time: a large store is listed (and sent) a page at a time.
M.PAGE = 200

--- Ask the server for the sessions (newest first, a page at a time) and let the user pick one.
--- When more sessions follow, the last item loads the next page.
---@param on_choice fun(summary: ai_session.SessionSummary)
---@param opts { prompt?: string, params?: table, limit?: integer }?
function M.pick(on_choice, opts)
  opts = opts or {}
  local limit = opts.limit or M.PAGE
  local params = vim.tbl_extend('force', opts.params or {}, { offset = 0, limit = limit })
  client.request(protocol.requests.sessions_list, params, function(result)
    local sessions = result.sessions or {}
    if #sessions == 0 then
      return vim.notify('ai-session: no sessions yet (:AiSession create NAME)', vim.log.levels.INFO)
    end
    local rows = M.rows(sessions)
    local items = vim.list_extend({}, sessions)
    local total = fmt.v(result.total) or #sessions
    local more = { more = true }
    if total > #sessions then
      table.insert(items, more)
      rows[more] = ('… %d more session%s (load %d more)'):format(total - #sessions, total - #sessions == 1 and '' or 's',
        math.min(M.PAGE, total - #sessions))
    end
    vim.ui.select(items, {
      prompt = opts.prompt or 'ai-session: sessions',
      kind = 'ai_session',
      format_item = function(s)
        return rows[s]
      end,
    }, function(choice)
      if choice == more then
        M.pick(on_choice, vim.tbl_extend('force', opts, { limit = #sessions + M.PAGE }))
      elseif choice then
        on_choice(choice)
      end
    end)
  end)
end

return M
