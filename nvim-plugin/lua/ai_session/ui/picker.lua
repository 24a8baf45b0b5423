--- The session picker: `vim.ui.select`, so telescope, fzf-lua or snacks show it when they replace it.
local client = require('ai_session.client')
local protocol = require('ai_session.protocol')
local fmt = require('ai_session.ui.format')

local M = {}

--- One aligned row per session: name, agent, status, tokens, savings.
---@param sessions ai_session.SessionSummary[]
---@return table<ai_session.SessionSummary, string>
function M.rows(sessions)
  local w = { name = 4, agent = 5, status = 6 }
  for _, s in ipairs(sessions) do
    w.name = math.max(w.name, vim.fn.strdisplaywidth(s.session.name))
    w.agent = math.max(w.agent, #(fmt.v(s.session.agent) or '-'))
    w.status = math.max(w.status, #s.session.status)
  end
  w.name = math.min(w.name, 32)
  local rows = {}
  for _, s in ipairs(sessions) do
    local t = s.totals
    rows[s] = ('%s %s  %s  %s  %s tok  %s saved'):format(
      s.current and '*' or ' ',
      fmt.cell(s.session.name, w.name),
      fmt.cell(fmt.v(s.session.agent) or '-', w.agent),
      fmt.cell(s.session.status, w.status),
      fmt.cell(fmt.tokens((t.messageTokens or 0) + (t.contextTokens or 0)), 6),
      fmt.percent(fmt.v(t.savings)))
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
