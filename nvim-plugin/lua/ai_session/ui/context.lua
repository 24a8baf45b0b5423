--- `:AiSession context`: the exact context the model gets next, in a scrollable float:
--- budget, raw vs context tokens, each part with its counts, then every item.
local client = require('ai_session.client')
local protocol = require('ai_session.protocol')
local window = require('ai_session.ui.window')
local fmt = require('ai_session.ui.format')
local hl = require('ai_session.ui.highlights')

local M = {}

local ROLE_HL = {
  user = 'AiSessionRoleUser',
  assistant = 'AiSessionRoleAssistant',
  system = 'AiSessionRoleSystem',
  tool = 'AiSessionRoleTool',
}

--- Lines and highlights for a ContextResult (pure: used by the float and by tests).
---@param result ai_session.ContextResult
---@param name string session name
---@return string[] lines, table[] marks {group, line, col_start, col_end}
function M.render(result, name)
  local lines, marks = {}, {}
  local function add(text, spans)
    table.insert(lines, text)
    for _, s in ipairs(spans or {}) do
      table.insert(marks, { s[1], #lines - 1, s[2], s[3] })
    end
  end
  local function span_of(text, needle, group, from)
    local s, e = text:find(needle, from or 1, true)
    return s and { group, s - 1, e } or nil
  end

  local acc = result.accounting
  local used = result.budget > 0 and result.tokens / result.budget or 0
  local title = ('%s · %s / %s tokens (%s of budget) · strategy %s'):format(
    name, fmt.tokens(result.tokens), fmt.tokens(result.budget), fmt.percent(used), result.strategy)
  add(title, { { 'AiSessionTitle', 0, #name }, span_of(title, fmt.tokens(result.tokens) .. ' /', 'AiSessionTokens') })
  local saved = ('raw %s -> context %s tokens · saved %s (history %s, command output %s)'):format(
    fmt.tokens(acc.raw), fmt.tokens(acc.context), fmt.percent(acc.savings),
    fmt.percent(acc.historySavings), fmt.percent(acc.commandSavings))
  add(saved, { span_of(saved, 'saved ' .. fmt.percent(acc.savings), 'AiSessionSavings') })
  if result.needsCompaction then
    add('history no longer fits the budget: older turns are left out (ai-session compact keeps them as a summary)',
      { { 'AiSessionWarning', 0, -1 } })
  end
  add('')
  local header = ('%s %s %s %s %s %s  %s'):format(fmt.cell('part', 10), fmt.cell('tokens', 8), fmt.cell('raw', 8),
    fmt.cell('items', 6), fmt.cell('compressed', 11), fmt.cell('dropped', 8), 'note')
  add(header, { { 'AiSessionHeader', 0, #header } })
  for _, part in ipairs(result.parts) do
    local row = ('%s %s %s %s %s %s  %s'):format(fmt.cell(part.name, 10), fmt.cell(fmt.tokens(part.tokens), 8),
      fmt.cell(fmt.tokens(part.rawTokens), 8), fmt.cell(#part.items, 6), fmt.cell(part.compressed, 11),
      fmt.cell(#part.dropped, 8), part.note or '')
    add(row, { { 'AiSessionPart', 0, 10 }, { 'AiSessionTokens', 11, 19 }, { 'AiSessionMuted', 20, 28 } })
  end
  for _, item in ipairs(fmt.v(result.items) or {}) do
    add('')
    local seq = fmt.v(item.seq)
    local head = ('── %s · %s%s%s · %s tokens%s'):format(item.part, seq and ('#' .. seq .. ' ') or '', item.role,
      item.kind ~= 'chat' and (' ' .. item.kind) or '', fmt.tokens(item.tokens),
      item.rawTokens ~= item.tokens and (' (raw ' .. fmt.tokens(item.rawTokens) .. ')') or '')
    add(head, { { 'AiSessionSeparator', 0, #head }, span_of(head, item.role, ROLE_HL[item.role] or 'AiSessionPart') })
    for _, l in ipairs(fmt.lines(item.content)) do
      add(l)
    end
  end
  return lines, marks
end

---@param session string? name or id (default: the current session)
---@param opts { max_tokens?: integer, strategy?: string, window?: integer }?
function M.open(session, opts)
  opts = opts or {}
  local defaults = require('ai_session.config').get().context
  client.request(protocol.requests.context_get, {
    session = session,
    maxTokens = opts.max_tokens or defaults.max_tokens,
    strategy = opts.strategy or defaults.strategy,
    window = opts.window,
    withItems = true,
  }, function(result)
    local lines, marks = M.render(result, result.sessionName)  -- the session the server resolved
    local buf = vim.api.nvim_create_buf(false, true)
    vim.bo[buf].bufhidden = 'wipe'
    window.set_lines(buf, lines)
    for _, m in ipairs(marks) do
      hl.add(buf, m[1], m[2], m[3], m[4] == -1 and #lines[m[2] + 1] or m[4])
    end
    vim.b[buf].ai_session_context = { tokens = result.tokens, budget = result.budget, session = result.sessionId }
    local win = window.float(buf, 'ai-session context')
    vim.w[win].ai_session_context = true
  end)
end

return M
