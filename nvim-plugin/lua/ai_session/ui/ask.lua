--- `:AiSession ask`: the prompt and the answer, streamed into a markdown buffer.
local client = require('ai_session.client')
local protocol = require('ai_session.protocol')
local window = require('ai_session.ui.window')
local fmt = require('ai_session.ui.format')

local M = {}

---@type table<string, { buf: integer, start: integer, text: string }>
M.asks = {}
local counter = 0

local function render(a, text, footer)
  if not vim.api.nvim_buf_is_valid(a.buf) then
    return
  end
  vim.bo[a.buf].modifiable = true
  local lines = fmt.lines(text)
  if footer then
    vim.list_extend(lines, { '', footer })
  end
  vim.api.nvim_buf_set_lines(a.buf, a.start, -1, false, lines)
  vim.bo[a.buf].modifiable = false
  local win = vim.fn.bufwinid(a.buf)
  if win ~= -1 then
    vim.api.nvim_win_set_cursor(win, { vim.api.nvim_buf_line_count(a.buf), 0 })
  end
end

---@param prompt string
---@param opts { session?: string, provider?: string, model?: string }?
function M.ask(prompt, opts)
  opts = opts or {}
  counter = counter + 1
  local ask_id = ('nvim-%d-%d-%d'):format(vim.fn.getpid(), counter, vim.uv.hrtime() % 1e9)
  local buf = window.scratch(('ai-session://ask/%d'):format(counter), { filetype = 'markdown' })
  local head = { '## ' .. (opts.session or 'ask'), '', '**You:**', '' }
  vim.list_extend(head, fmt.lines(prompt))
  vim.list_extend(head, { '', '**Answer:**', '' })
  window.set_lines(buf, head)
  local a = { buf = buf, start = #head, text = '' }
  M.asks[ask_id] = a
  vim.b[buf].ai_session_ask = ask_id
  vim.b[buf].ai_session_ask_status = 'running'
  client.request(protocol.requests.ask, {
    session = opts.session, prompt = prompt, provider = opts.provider, model = opts.model, askId = ask_id,
  }, function(result)
    M.asks[ask_id] = nil
    local usage = fmt.v(result.usage)
    local footer = ('_%s · %s in / %s out tokens · %s%s_'):format(
      fmt.v(result.model) or 'model?',
      fmt.tokens(usage and usage.inputTokens), fmt.tokens(usage and usage.outputTokens),
      fmt.cost(usage and usage.costUsd),
      fmt.v(result.note) and (' · ' .. result.note) or '')
    -- The final text is authoritative (chunks may have been dropped or re-sent).
    render(a, result.text, footer)
    vim.b[buf].ai_session_ask_status = 'done'
  end, function(err)
    M.asks[ask_id] = nil
    render(a, a.text, '**Error:** ' .. client.message(err))
    vim.b[buf].ai_session_ask_status = 'failed'
    client.error(err)
  end)
end

---@param params ai_session.AnswerChunk
function M.on_chunk(params)
  local a = M.asks[fmt.v(params.askId) or '']
  if a then
    a.text = a.text .. params.text
    render(a, a.text)
  end
end

return M
