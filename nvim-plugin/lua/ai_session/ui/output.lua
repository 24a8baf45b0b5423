--- `:AiSession exec`: a command's output streamed live into a terminal buffer (ANSI intact),
--- ending with the exit code and the token figures the server measured.
local client = require('ai_session.client')
local protocol = require('ai_session.protocol')
local window = require('ai_session.ui.window')
local fmt = require('ai_session.ui.format')

local M = {}

---@class ai_session.RunView
---@field buf integer
---@field chan integer
---@field client integer

---@type table<string, ai_session.RunView>
M.runs = {}
--- Notifications that arrived before the exec request answered with the run id.
local early = {} ---@type table<string, { data: string[], finished: table? }>
--- The last run started from this Neovim (for `:AiSession output`).
M.last_run = nil ---@type string?
local counter = 0

local function send(view, text)
  if vim.api.nvim_buf_is_valid(view.buf) then
    pcall(vim.api.nvim_chan_send, view.chan, text)
  end
end

--- One line closing a run: exit code, raw -> context tokens, savings, diagnostics.
---@param params ai_session.RunFinished
function M.footer(params)
  local run = params.run
  local exit = fmt.v(run.exitCode)
  local parts = {
    run.status == 'finished' and ('exit ' .. tostring(exit)) or tostring(run.status),
    ('%s raw -> %s context tokens'):format(fmt.tokens(run.rawTokens), fmt.tokens(run.contextTokens)),
  }
  if (run.rawTokens or 0) > 0 then
    table.insert(parts, fmt.percent(1 - (run.contextTokens or 0) / run.rawTokens) .. ' saved')
  end
  table.insert(parts, ('%d diagnostic%s'):format(params.diagnosticsCount, params.diagnosticsCount == 1 and '' or 's'))
  return '[ai-session] ' .. table.concat(parts, ' · ') .. ' · run ' .. (run.id or '?'):sub(1, 12)
end

local function finish(view, params)
  local exit = fmt.v(params.run.exitCode)
  send(view, '\r\n' .. M.footer(params) .. '\r\n')
  vim.b[view.buf].ai_session_run_status = params.run.status
  vim.b[view.buf].ai_session_exit_code = exit
  vim.b[view.buf].ai_session_footer = M.footer(params)
  local level = (exit == 0 and params.run.status == 'finished') and vim.log.levels.INFO or vim.log.levels.WARN
  vim.notify(('ai-session: `%s` %s'):format(params.run.command, M.footer(params):gsub('^%[ai%-session%] ', '')), level)
end

--- Run `command` in the session's shell and show its output as it comes.
---@param command string
---@param opts { session?: string, timeout?: number, cwd?: string }?
function M.exec(command, opts)
  opts = opts or {}
  counter = counter + 1
  local buf = window.scratch(('ai-session://exec/%d'):format(counter), { fresh = true })
  local chan = vim.api.nvim_open_term(buf, {})
  vim.b[buf].ai_session_run_status = 'starting'
  vim.api.nvim_chan_send(chan, '$ ' .. command .. '\r\n')
  local params = { command = command, session = opts.session, timeout = opts.timeout, cwd = opts.cwd }
  client.request(protocol.requests.exec, params, function(result, ctx)
    local view = { buf = buf, chan = chan, client = ctx.client_id }
    M.runs[result.runId] = view
    M.last_run = result.runId
    vim.b[buf].ai_session_run = result.runId
    vim.b[buf].ai_session_run_status = 'running'
    local got = early[result.runId]
    early[result.runId] = nil
    if got then
      send(view, table.concat(got.data))
      if got.finished then
        finish(view, got.finished)
      end
    end
  end, function(err)
    vim.b[buf].ai_session_run_status = 'failed'
    pcall(vim.api.nvim_chan_send, chan, '[ai-session] ' .. client.message(err) .. '\r\n')
    client.error(err)
  end)
  return buf
end

local function early_for(run_id)
  local e = early[run_id]
  if not e then
    -- Bound what we keep for runs we may never hear about (started by another client).
    if vim.tbl_count(early) > 32 then
      early = {}
    end
    e = { data = {} }
    early[run_id] = e
  end
  return e
end

---@param params ai_session.RunOutput
function M.on_output(params)
  local view = M.runs[params.runId]
  if view then
    send(view, params.data)
  else
    table.insert(early_for(params.runId).data, params.data)
  end
end

---@param params ai_session.RunFinished
function M.on_finished(params)
  local view = M.runs[params.run.id]
  if view then
    finish(view, params)
  else
    early_for(params.run.id).finished = params
  end
end

--- `:AiSession output [RUN] [--raw|--lines=A:B|--grep=RE]`: a run's stored output from the server.
---@param run_id string?
---@param opts { mode?: string, lines?: string, pattern?: string, context_lines?: integer, session?: string }
function M.show(run_id, opts)
  local function show(id)
    client.request(protocol.requests.run_output, {
      runId = id,
      mode = opts.mode or 'context',
      lines = opts.lines,
      pattern = opts.pattern,
      contextLines = opts.context_lines or 0,
    }, function(result)
      local run = result.run
      local buf = window.scratch(('ai-session://output/%s/%s'):format(run.id:sub(1, 12), opts.mode or 'context'))
      local header = {
        ('$ %s'):format(run.command),
        ('[ai-session] %s · exit %s · %s raw -> %s context tokens · %s'):format(
          run.status, tostring(fmt.v(run.exitCode)), fmt.tokens(run.rawTokens), fmt.tokens(run.contextTokens),
          opts.mode or 'context'),
        '',
      }
      window.set_lines(buf, vim.list_extend(header, fmt.lines(result.text)))
      vim.b[buf].ai_session_run = run.id
    end)
  end
  if run_id then
    return show(run_id)
  end
  if M.last_run then
    return show(M.last_run)
  end
  local session = opts.session or require('ai_session.commands').current_name()
  if not session then
    return client.error('no run yet; name one: :AiSession output RUN_ID')
  end
  client.request(protocol.requests.runs_list, { session = session, limit = 1 }, function(result)
    local run = result.runs and result.runs[1]
    if not run then
      return client.error(('session %s has no runs yet'):format(session))
    end
    show(run.id)
  end)
end

return M
