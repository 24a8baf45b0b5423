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

--- Ask the server for the sessions and let the user pick one.
---@param on_choice fun(summary: ai_session.SessionSummary)
---@param opts { prompt?: string, params?: table }?
function M.pick(on_choice, opts)
  opts = opts or {}
  client.request(protocol.requests.sessions_list, opts.params or {}, function(result)
    local sessions = result.sessions or {}
    if #sessions == 0 then
      return vim.notify('ai-session: no sessions yet (:AiSession create NAME)', vim.log.levels.INFO)
    end
    local rows = M.rows(sessions)
    vim.ui.select(sessions, {
      prompt = opts.prompt or 'ai-session: sessions',
      kind = 'ai_session',
      format_item = function(s)
        return rows[s]
      end,
    }, function(choice)
      if choice then
        on_choice(choice)
      end
    end)
  end)
end

return M
