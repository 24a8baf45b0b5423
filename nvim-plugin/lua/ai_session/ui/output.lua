--- `:AiSession exec`: a command's output streamed live into a terminal buffer (ANSI intact),
--- following the output like `tail -f`, ending with the exit code and the token figures the
--- server measured. `<C-c>` there (or `:AiSession cancel`) stops it; wiping the buffer too.
local client = require('ai_session.client')
local protocol = require('ai_session.protocol')
local window = require('ai_session.ui.window')
local fmt = require('ai_session.ui.format')

local M = {}

---@class ai_session.RunView
---@field buf integer
---@field chan integer
---@field client integer
---@field run string?
---@field done boolean?

---@type table<string, ai_session.RunView>
M.runs = {}
--- Notifications that arrived before the exec request answered with the run id.
local early = {} ---@type table<string, { data: string[], finished: table? }>
--- The last run started from this Neovim (for `:AiSession output` and `:AiSession cancel`).
M.last_run = nil ---@type string?
local counter = 0

local function valid(view)
  return view and vim.api.nvim_buf_is_valid(view.buf)
end

--- Keep windows showing the run at its last line, like `tail -f`: every window but the one you
--- are in, and that one too while its cursor is on the last line (scroll up to read in peace).
local function send(view, text)
  if not valid(view) then
    return
  end
  local here = vim.api.nvim_get_current_win()
  local last = vim.api.nvim_buf_line_count(view.buf)
  local follow = {}
  for _, win in ipairs(vim.fn.win_findbuf(view.buf)) do
    if win ~= here or vim.api.nvim_win_get_cursor(win)[1] >= last then
      table.insert(follow, win)
    end
  end
  pcall(vim.api.nvim_chan_send, view.chan, text)
  -- The terminal draws asynchronously: move the cursors once the text is in the buffer.
  vim.schedule(function()
    if valid(view) then
      for _, win in ipairs(follow) do
        if vim.api.nvim_win_is_valid(win) then
          pcall(vim.api.nvim_win_set_cursor, win, { vim.api.nvim_buf_line_count(view.buf), 0 })
        end
      end
    end
  end)
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

--- A message that fits the command line: a longer one would stop everything at "Press ENTER".
local function one_line(text)
  local width = math.max(20, vim.v.echospace - 1)
  if vim.fn.strdisplaywidth(text) > width then
    text = vim.fn.strcharpart(text, 0, width - 1) .. '…'
  end
  return text
end

local function finish(view, params)
  view.done = true
  local exit = fmt.v(params.run.exitCode)
  local footer = M.footer(params)
  send(view, '\r\n' .. footer .. '\r\n')
  if valid(view) then
    vim.b[view.buf].ai_session_run_status = params.run.status
    vim.b[view.buf].ai_session_exit_code = exit
    vim.b[view.buf].ai_session_footer = footer
    if #vim.fn.win_findbuf(view.buf) > 0 then
      return -- the run's own window says it
    end
  end
  local level = (exit == 0 and params.run.status == 'finished') and vim.log.levels.INFO or vim.log.levels.WARN
  vim.notify(one_line(('ai-session: %s: %s'):format(params.run.command:gsub('\n', ' '), footer:gsub('^%[ai%-session%] ', ''))), level)
end

--- Stop a run (default: the one of the current buffer, else the last started here).
---@param run_id string?
function M.cancel(run_id)
  run_id = run_id or vim.b.ai_session_run or M.last_run
  if not run_id then
    return client.error('no run to cancel; name one: :AiSession cancel RUN_ID')
  end
  local view = M.runs[run_id]
  client.request(protocol.requests.run_cancel, { runId = run_id }, function(result)
    if not result.cancelled then
      vim.notify(('ai-session: run %s is not running'):format(run_id:sub(1, 12)))
    end
  end, view and { client = view.client } or nil)
end

--- Run `command` in the session's shell and show its output as it comes.
---@param command string
---@param opts { session?: string, timeout?: number, cwd?: string }?
function M.exec(command, opts)
  opts = opts or {}
  counter = counter + 1
  local buf = window.scratch(('ai-session://exec/%d'):format(counter), { fresh = true })
  local view = { buf = buf } ---@type ai_session.RunView
  view.chan = vim.api.nvim_open_term(buf, {
    on_input = function(_, _, _, data)
      if data:find('\3', 1, true) and view.run and not view.done then
        M.cancel(view.run)
      end
    end,
  })
  vim.b[buf].ai_session_run_status = 'starting'
  vim.keymap.set('n', '<C-c>', function()
    if view.run and not view.done then
      M.cancel(view.run)
    end
  end, { buffer = buf, desc = 'ai-session: cancel this run' })
  -- Closing the run's buffer (`:bd!`) stops the run, as closing a terminal stops its job.
  vim.api.nvim_create_autocmd({ 'BufWipeout', 'BufDelete' }, {
    buffer = buf,
    once = true,
    callback = function()
      if view.run and not view.done then
        M.cancel(view.run)
      end
    end,
  })
  send(view, '$ ' .. command .. '\r\n')
  local params = { command = command, session = opts.session, timeout = opts.timeout, cwd = opts.cwd }
  client.request(protocol.requests.exec, params, function(result, ctx)
    view.client, view.run = ctx.client_id, result.runId
    M.runs[result.runId] = view
    M.last_run = result.runId
    if valid(view) then
      vim.b[buf].ai_session_run = result.runId
      vim.b[buf].ai_session_run_status = 'running'
    end
    local behind = fmt.v(result.queuedBehind)
    if behind then
      local line = ('[ai-session] queued behind run %s (%s): it starts when that one ends'):format(
        behind.id:sub(1, 12), behind.command:gsub('\n', ' '))
      send(view, line .. '\r\n')
      vim.notify(one_line('ai-session: ' .. line:gsub('^%[ai%-session%] ', '')), vim.log.levels.WARN)
    end
    local got = early[result.runId]
    early[result.runId] = nil
    if got then
      send(view, table.concat(got.data))
      if got.finished then
        finish(view, got.finished)
      end
    end
  end, function(err)
    if valid(view) then
      vim.b[buf].ai_session_run_status = 'failed'
    end
    send(view, '[ai-session] ' .. client.message(err) .. '\r\n')
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

--- Header lines above a stored output: the command, its figures, a blank line.
M.HEADER_LINES = 3

local function header(run, form)
  return {
    ('$ %s'):format(run.command:gsub('\n', ' ')),
    ('[ai-session] %s · exit %s · %s raw -> %s context tokens · %s'):format(
      run.status, tostring(fmt.v(run.exitCode)), fmt.tokens(run.rawTokens), fmt.tokens(run.contextTokens), form),
    '',
  }
end

--- A run id: given, else the last started here, else the newest of the (current) session.
local function with_run(run_id, session, fn)
  if run_id then
    return fn(run_id)
  end
  if M.last_run then
    return fn(M.last_run)
  end
  client.request(protocol.requests.runs_list, { session = session, limit = 1 }, function(result)
    local run = result.runs and result.runs[#result.runs]
    if not run then
      return client.error('this session has no runs yet')
    end
    fn(run.id)
  end)
end

--- `:AiSession output [RUN] [--raw|--lines=A:B|--grep=RE]`: a run's stored output from the server.
--- Raw output is drawn by a terminal, so its colours show as colours, not as `^[[32m`.
---@param run_id string?
---@param opts { mode?: string, lines?: string, pattern?: string, context_lines?: integer, session?: string }
function M.show(run_id, opts)
  local mode = opts.mode or 'context'
  with_run(run_id, opts.session, function(id)
    client.request(protocol.requests.run_output, {
      runId = id, mode = mode, lines = opts.lines, pattern = opts.pattern, contextLines = opts.context_lines or 0,
    }, function(result)
      local run = result.run
      local name = ('ai-session://output/%s/%s'):format(run.id:sub(1, 12), mode)
      local lines = vim.list_extend(header(run, mode), fmt.lines(result.text))
      local buf
      if mode == 'raw' then
        buf = window.scratch(name, { fresh = true })
        local chan = vim.api.nvim_open_term(buf, {})
        vim.api.nvim_chan_send(chan, table.concat(lines, '\r\n'))
      else
        buf = window.scratch(name)
        window.set_lines(buf, lines)
      end
      vim.b[buf].ai_session_run = run.id
      vim.b[buf].ai_session_run_session = run.sessionId
    end)
  end)
end

--- `:AiSession diff [RUN]`: the raw output (as a pipe would have read it) beside what the agent
--- gets, in diff mode; `:AiSession pin` on a raw line puts it into the context.
---@param run_id string?
function M.diff(run_id)
  with_run(run_id, nil, function(id)
    local function fetch(mode, plain, cb)
      client.request(protocol.requests.run_output, { runId = id, mode = mode, plain = plain }, cb)
    end
    fetch('raw', true, function(raw)
      fetch('context', false, function(ctx)
        local run = raw.run
        -- One half of the diff: a scratch buffer with the form's text, in diff mode.
        local function half(form, title, text)
          local buf = vim.api.nvim_get_current_buf()
          vim.bo[buf].buftype, vim.bo[buf].bufhidden, vim.bo[buf].swapfile = 'nofile', 'wipe', false
          pcall(vim.api.nvim_buf_set_name, buf, ('ai-session://diff/%s/%s'):format(run.id:sub(1, 12), form))
          window.set_lines(buf, vim.list_extend(header(run, title), fmt.lines(text)))
          vim.b[buf].ai_session_run = run.id
          vim.b[buf].ai_session_run_session = run.sessionId
          vim.cmd('diffthis')
        end
        vim.cmd('tabnew')
        half('raw', 'raw, as a pipe reads it', raw.text)
        vim.cmd('vertical rightbelow new')
        half('context', 'what the agent gets', ctx.text)
        vim.cmd('wincmd h')
      end)
    end)
  end)
end

--- `:[range]AiSession pin`: lines of a run's output (the cursor line by default) into the
--- session's context, as a pinned message.
---@param first integer 1-based buffer line
---@param last integer
function M.pin(first, last)
  local run_id, session = vim.b.ai_session_run, vim.b.ai_session_run_session
  if not run_id or not session then
    return client.error('pin works in a run output or diff buffer (:AiSession output, :AiSession diff)')
  end
  first = math.max(first, M.HEADER_LINES + 1)
  local text = vim.tbl_filter(function(l)
    return vim.trim(l) ~= ''
  end, vim.api.nvim_buf_get_lines(0, first - 1, math.max(last, first), false))
  if #text == 0 then
    return client.error('no output on that line to pin')
  end
  local command = vim.api.nvim_buf_get_lines(0, 0, 1, false)[1]:gsub('^%$ ', '')
  local content = ('From the output of `%s` (run %s, line %d):\n%s'):format(command, run_id, first - M.HEADER_LINES,
    table.concat(text, '\n'))
  client.request(protocol.requests.sessions_add_message, { session = session, role = 'user', content = content, pinned = true },
    function()
      vim.notify(('ai-session: pinned %d line%s into the context'):format(#text, #text == 1 and '' or 's'))
    end)
end

return M
