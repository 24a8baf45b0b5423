--- `:AiSession {subcommand} ...`: parsing, dispatch and completion.
local client = require('ai_session.client')
local protocol = require('ai_session.protocol')
local state = require('ai_session.state')
local fmt = require('ai_session.ui.format')
local window = require('ai_session.ui.window')

local R = protocol.requests
local M = {}

local function done(verb)
  return function(summary)
    vim.notify(('ai-session: %s %s'):format(verb, summary.session.name), vim.log.levels.INFO)
  end
end

--- Subcommands. `flags`: name -> 'value' | 'bool'. `args`: what positional arguments complete to.
---@type table<string, { desc: string, flags?: table<string, string>, args?: string, rest?: boolean, run: fun(a: table) }>
M.subcommands = {}
local S = M.subcommands

S.list = {
  desc = 'pick a session, then an action',
  flags = { all = 'bool' },
  run = function(a)
    require('ai_session.ui.picker').pick(function(choice)
      M.actions(choice)
    end, { params = { includePool = a.flags.all or false } })
  end,
}

S.create = {
  desc = 'create a session',
  flags = { agent = 'value', role = 'value', template = 'value', pool = 'bool', ['max-tokens'] = 'value',
    provider = 'value', model = 'value', ['system-prompt'] = 'value', worktree = 'bool', tag = 'value' },
  run = function(a)
    local f = a.flags
    -- Every word is the name: `create my session ✨` is refused by the server with the rule,
    -- never silently created as `my`.
    local name = #a.args > 0 and table.concat(a.args, ' ') or nil
    client.request(R.sessions_create, {
      name = name, agent = f.agent, role = f.role, template = f.template, fromPool = f.pool or false,
      maxTokens = tonumber(f['max-tokens']), provider = f.provider, model = f.model,
      systemPrompt = f['system-prompt'], tags = f.tag and { f.tag } or nil,
      worktree = f.worktree and client.root() or nil,
    }, done('created session'))
  end,
}

S.attach = {
  desc = "open a terminal on the session's shell",
  args = 'session',
  run = function(a)
    require('ai_session.ui.terminal').attach(a.args[1])
  end,
}

S.worktree = {
  desc = "attach this worktree's session (created if needed)",
  flags = { agent = 'value' },
  run = function(a)
    client.request(R.worktree_attach, { path = client.root(), agent = a.flags.agent }, function(result)
      vim.notify(('ai-session: %s session %s for %s%s'):format(result.created and 'created' or 'attached',
        result.summary.session.name, result.worktree, fmt.v(result.branch) and (' @ ' .. result.branch) or ''))
    end)
  end,
}

S.exec = {
  desc = "run a shell command in the session's shell",
  flags = { session = 'value', timeout = 'value' },
  rest = true,
  run = function(a)
    if a.rest == '' then
      error({ msg = 'usage: :AiSession exec [--session=NAME] [--timeout=SECONDS] COMMAND' })
    end
    require('ai_session.ui.output').exec(a.rest, { session = a.flags.session, timeout = tonumber(a.flags.timeout) })
  end,
}

S.context = {
  desc = 'show the context the model gets next',
  args = 'session',
  flags = { ['max-tokens'] = 'value', strategy = 'value', window = 'value' },
  run = function(a)
    require('ai_session.ui.context').open(a.args[1], {
      max_tokens = tonumber(a.flags['max-tokens']), strategy = a.flags.strategy, window = tonumber(a.flags.window),
    })
  end,
}

S.ask = {
  desc = "ask the session's provider; the answer streams into a buffer",
  flags = { session = 'value', provider = 'value', model = 'value' },
  rest = true,
  run = function(a)
    local function go(prompt)
      if prompt and prompt ~= '' then
        require('ai_session.ui.ask').ask(prompt, a.flags)
      end
    end
    if a.rest ~= '' then
      return go(a.rest)
    end
    vim.ui.input({ prompt = 'ai-session ask: ' }, go)
  end,
}

for verb, text in pairs({ pause = 'paused', resume = 'resumed', ['end'] = 'ended' }) do
  S[verb] = {
    desc = verb .. ' a session (default: the current one)',
    args = 'session',
    run = function(a)
      client.request(R['sessions_' .. verb], { session = a.args[1] }, done(text))
    end,
  }
end

S.delete = {
  desc = 'move a session to the trash (! skips the question)',
  args = 'session',
  run = function(a)
    -- Ask the server which session that is (the named one, else the current one) before confirming.
    client.request(R.sessions_get, { session = a.args[1], limit = 0 }, function(detail)
      local s = detail.summary.session
      if not a.bang and vim.fn.confirm(('Move session %s to the trash?'):format(s.name), '&Yes\n&No', 2) ~= 1 then
        return
      end
      client.request(R.sessions_delete, { session = s.id }, function(result)
        vim.notify(('ai-session: %s %s'):format(result.trashed and 'moved to the trash (:AiSession trash):' or 'deleted', s.name))
      end)
    end)
  end,
}

S.rename = {
  desc = 'rename a session: [SESSION] NEW_NAME',
  args = 'session',
  run = function(a)
    local old, new = a.args[1], a.args[2]
    if not new then
      old, new = nil, old
    end
    if not new then
      error({ msg = 'usage: :AiSession rename [SESSION] NEW_NAME' })
    end
    client.request(R.sessions_rename, { session = old, newName = new }, done('renamed to'))
  end,
}

S.export = {
  desc = 'export a session to JSON: [SESSION] [FILE]',
  args = 'session',
  run = function(a)
    client.request(R.sessions_export, { session = a.args[1],
      path = a.args[2] and vim.fn.fnamemodify(a.args[2], ':p') }, function(result)
      vim.notify('ai-session: exported to ' .. result.path)
    end)
  end,
}

S.import = {
  desc = 'import a session file (ai-session, ChannelCoder, Claude Code)',
  args = 'file',
  flags = { format = 'value', name = 'value' },
  run = function(a)
    if not a.args[1] then
      error({ msg = 'usage: :AiSession import FILE [--format=auto|native|channelcoder|claude-code] [--name=NAME]' })
    end
    client.request(R.sessions_import, { path = vim.fn.fnamemodify(a.args[1], ':p'),
      format = a.flags.format or 'auto', name = a.flags.name }, done('imported'))
  end,
}

S.merge = {
  desc = 'merge sessions into a new one',
  args = 'session',
  flags = { name = 'value' },
  run = function(a)
    if #a.args < 2 then
      error({ msg = 'usage: :AiSession merge SESSION SESSION... [--name=NAME]' })
    end
    client.request(R.sessions_merge, { sessions = a.args, name = a.flags.name }, done('merged into'))
  end,
}

S.stats = {
  desc = 'usage and savings per session, agent or role',
  flags = { by = 'value', period = 'value', savings = 'bool' },
  run = function(a)
    client.request(R.stats_get, { groupBy = a.flags.by or 'session', periodDays = tonumber(a.flags.period),
      savings = a.flags.savings or false }, function(result)
      local lines = { ('%s %s %s %s %s %s %s'):format(fmt.cell(result.groupBy, 24), fmt.cell('sessions', 9),
        fmt.cell('messages', 9), fmt.cell('commands', 9), fmt.cell('raw', 8), fmt.cell('context', 8), 'saved') }
      local rows = vim.list_extend(vim.list_extend({}, result.rows), { result.total })
      for i, r in ipairs(rows) do
        table.insert(lines, ('%s %s %s %s %s %s %s'):format(fmt.cell(i == #rows and 'total' or r.key, 24),
          fmt.cell(r.sessions, 9), fmt.cell(r.messages, 9), fmt.cell(r.commands, 9), fmt.cell(fmt.tokens(r.rawTokens), 8),
          fmt.cell(fmt.tokens(r.contextTokens), 8), fmt.percent(r.savings)))
      end
      window.set_lines((window.scratch('ai-session://stats')), lines)
    end)
  end,
}

S.output = {
  desc = "a run's output: context form (default), --raw, --lines=A:B or --grep=RE",
  flags = { raw = 'bool', lines = 'value', grep = 'value', context = 'value', session = 'value' },
  run = function(a)
    local f = a.flags
    local mode = f.raw and 'raw' or f.lines and 'lines' or f.grep and 'grep' or 'context'
    require('ai_session.ui.output').show(a.args[1], { mode = mode, lines = f.lines, pattern = f.grep,
      context_lines = tonumber(f.context), session = f.session })
  end,
}

S.cancel = {
  desc = 'stop a run (default: the one of this buffer, else the last one started here)',
  run = function(a)
    require('ai_session.ui.output').cancel(a.args[1])
  end,
}

S.diff = {
  desc = "a run's raw output beside what the agent gets (diff mode); :AiSession pin there",
  run = function(a)
    require('ai_session.ui.output').diff(a.args[1])
  end,
}

S.pin = {
  desc = 'pin the output line(s) under the cursor (or a range) into the context',
  run = function(a)
    require('ai_session.ui.output').pin(a.line1, a.line2)
  end,
}

S.share = {
  desc = "share what you type in the session's terminal with the agent: on | off [SESSION]",
  args = 'session',
  run = function(a)
    local on = a.args[1]
    if on ~= 'on' and on ~= 'off' then
      error({ msg = 'usage: :AiSession share on|off [SESSION]' })
    end
    client.request(R.sessions_share_terminal, { session = a.args[2], share = on == 'on' }, function(summary)
      vim.notify(('ai-session: commands typed in %s\'s terminal %s'):format(summary.session.name,
        on == 'on' and "now go into the model's context" or "stay out of the model's context"))
    end)
  end,
}

S.trash = {
  desc = 'the trash: pick a deleted session to restore or remove for good; `trash empty` removes all',
  run = function(a)
    if a.args[1] == 'empty' then
      if not a.bang and vim.fn.confirm('Remove every session in the trash for good?', '&Yes\n&No', 2) ~= 1 then
        return
      end
      return client.request(R.trash_empty, {}, function(result)
        vim.notify(('ai-session: removed %d session(s) for good'):format(#result.deleted))
      end)
    end
    client.request(R.trash_list, {}, function(result)
      local entries = result.sessions or {}
      if #entries == 0 then
        return vim.notify('ai-session: the trash is empty')
      end
      vim.ui.select(entries, {
        prompt = 'ai-session: trash',
        kind = 'ai_session_trash',
        format_item = function(e)
          local expires = fmt.v(e.expiresAt)
          return ('%s  %s  %s'):format(e.summary.session.name, require('ai_session.ui.picker').figures(e.summary),
            expires and ('removed for good on ' .. expires:sub(1, 10)) or 'kept until emptied')
        end,
      }, function(e)
        if not e then
          return
        end
        local s = e.summary.session
        vim.ui.select({ 'restore', 'remove for good' }, { prompt = 'ai-session: ' .. s.name }, function(action)
          if action == 'restore' then
            client.request(R.trash_restore, { session = s.id }, done('restored'))
          elseif action == 'remove for good'
            and vim.fn.confirm(('Remove %s for good?'):format(s.name), '&Yes\n&No', 2) == 1 then
            client.request(R.trash_empty, { session = s.id }, function()
              vim.notify('ai-session: removed ' .. s.name .. ' for good')
            end)
          end
        end)
      end)
    end)
  end,
}

S.log = {
  desc = "a session's messages and runs",
  args = 'session',
  flags = { limit = 'value' },
  run = function(a)
    client.request(R.sessions_get, { session = a.args[1], history = true, limit = tonumber(a.flags.limit) or 50 },
      function(detail)
        local s = detail.summary.session
        local t = detail.summary.totals
        local lines = { ('# %s (%s)'):format(s.name, s.status),
          ('%d messages · %s tokens · %d runs · %s raw -> %s context tokens · %s saved'):format(t.messages,
            fmt.tokens(t.messageTokens), t.runs, fmt.tokens(t.rawTokens), fmt.tokens(t.contextTokens),
            fmt.percent(fmt.v(t.savings))), '' }
        for _, m in ipairs(detail.messages or {}) do
          table.insert(lines, ('## #%d %s%s'):format(m.seq, m.role, m.kind ~= 'chat' and (' (' .. m.kind .. ')') or ''))
          vim.list_extend(lines, fmt.lines(m.content))
          table.insert(lines, '')
        end
        if #(detail.runs or {}) > 0 then
          table.insert(lines, '## Runs')
          for _, r in ipairs(detail.runs) do
            local typed = (r.metadata or {}).origin == 'typed' and ' · typed by you' or ''
            table.insert(lines, ('- `%s` exit %s · %s -> %s tokens · %s%s'):format(r.command, tostring(fmt.v(r.exitCode)),
              fmt.tokens(r.rawTokens), fmt.tokens(r.contextTokens), (r.id or ''):sub(1, 12), typed))
          end
        end
        local buf = window.scratch('ai-session://log/' .. s.name, { filetype = 'markdown' })
        window.set_lines(buf, lines)
      end)
  end,
}

--- What can be done with a picked session (only what its status allows).
---@param summary ai_session.SessionSummary
function M.actions(summary)
  local name = summary.session.name
  local status = summary.session.status
  local all = {
    { 'context', function() require('ai_session.ui.context').open(name) end },
    { 'terminal', function() require('ai_session.ui.terminal').attach(name) end },
    { 'exec…', function()
      vim.ui.input({ prompt = 'exec in ' .. name .. ': ' }, function(cmd)
        if cmd and cmd ~= '' then
          require('ai_session.ui.output').exec(cmd, { session = name })
        end
      end)
    end },
    { 'ask…', function() M.run({ fargs = { 'ask', '--session=' .. name }, args = 'ask --session=' .. name }) end },
    { 'log', function() M.run({ fargs = { 'log', name }, args = 'log ' .. name }) end },
    { 'pause', function() M.run({ fargs = { 'pause', name }, args = 'pause ' .. name }) end,
      when = { active = true, idle = true } },
    { 'resume', function() M.run({ fargs = { 'resume', name }, args = 'resume ' .. name }) end,
      when = { paused = true, idle = true } },
    { 'end', function() M.run({ fargs = { 'end', name }, args = 'end ' .. name }) end,
      when = { active = true, idle = true, paused = true } },
    { summary.session.shareTerminal and 'stop sharing the terminal' or 'share the terminal with the agent', function()
      local on = summary.session.shareTerminal and 'off' or 'on'
      M.run({ fargs = { 'share', on, name }, args = 'share ' .. on .. ' ' .. name })
    end },
    { 'export', function() M.run({ fargs = { 'export', name }, args = 'export ' .. name }) end },
    { 'delete', function() M.run({ fargs = { 'delete', name }, args = 'delete ' .. name }) end },
  }
  local actions = vim.tbl_filter(function(x)
    return x.when == nil or x.when[status] == true
  end, all)
  vim.ui.select(actions, {
    prompt = 'ai-session: ' .. name,
    kind = 'ai_session_action',
    format_item = function(x) return x[1] end,
  }, function(choice)
    if choice then
      choice[2]()
    end
  end)
end

--- Split `--flag`, `--flag=value`, `--flag value` from positional arguments. With `rest`, flags are
--- only read before the first positional word and everything after is kept verbatim.
---@return { args: string[], flags: table<string, string|boolean>, rest: string }
function M.parse(name, spec, words, line)
  local flags, args = {}, {}
  local known = spec.flags or {}
  local i = 1
  while i <= #words do
    local w = words[i]
    local key, value = w:match('^%-%-([%w%-]+)=(.*)$')
    key = key or w:match('^%-%-([%w%-]+)$')
    if key then
      local kind = known[key]
      if not kind then
        error({ msg = ('unknown option --%s for :AiSession %s'):format(key, name) })
      end
      if kind == 'value' and value == nil then
        i = i + 1
        value = words[i]
        if value == nil then
          error({ msg = ('--%s needs a value'):format(key) })
        end
      end
      flags[key] = value == nil and true or value
    elseif spec.rest then
      break
    else
      table.insert(args, w)
    end
    i = i + 1
  end
  local rest = ''
  if spec.rest and i <= #words then
    -- Keep the command text as typed (quotes, spacing) rather than the split words.
    local pos = 1
    for j = 1, i - 1 do
      local _, e = line:find(words[j], pos, true)
      pos = (e or pos) + 1
    end
    rest = vim.trim(line:sub(pos))
  end
  return { args = args, flags = flags, rest = rest }
end

--- Entry point of the user command.
---@param o { fargs: string[], args: string, bang?: boolean, line1?: integer, line2?: integer }
function M.run(o)
  local name = o.fargs[1]
  if not name then
    return S.list.run({ args = {}, flags = {} })
  end
  local spec = S[name]
  if not spec then
    return client.error(('unknown subcommand %q; one of: %s'):format(name, table.concat(M.names(), ', ')))
  end
  local line = vim.trim(o.args):sub(#name + 1)
  local ok, err = pcall(function()
    local a = M.parse(name, spec, vim.list_slice(o.fargs, 2), line)
    a.bang = o.bang
    a.line1, a.line2 = o.line1 or vim.fn.line('.'), o.line2 or vim.fn.line('.')
    spec.run(a)
  end)
  if not ok then
    -- Mistakes in the command line are reported in one line; anything else is a bug worth its trace.
    if type(err) == 'table' and err.msg then
      client.error(err.msg)
    else
      client.error(tostring(err))
    end
  end
end

function M.names()
  local names = vim.tbl_keys(S)
  table.sort(names)
  return names
end

local function session_names()
  local s = state.active and state.clients[state.active]
  if s and #s.names > 0 then
    return s.names
  end
  local result = client.request_sync(R.sessions_list, { offset = 0, limit = require('ai_session.ui.picker').PAGE }, 1000)
  local names = {}
  for _, summary in ipairs(result and result.sessions or {}) do
    table.insert(names, summary.session.name)
  end
  return names
end

--- Completion for `:AiSession`: subcommands, then flags and session names.
function M.complete(arglead, cmdline, _)
  local words = vim.split(cmdline, '%s+', { trimempty = true })
  -- The word being completed is not yet part of `words` when the line ends with a space.
  local n = #words - (arglead ~= '' and 1 or 0)
  local function starting(list)
    return vim.tbl_filter(function(x)
      return vim.startswith(x, arglead)
    end, list)
  end
  if n <= 1 then
    return starting(M.names())
  end
  local spec = S[words[2]]
  if not spec then
    return {}
  end
  if vim.startswith(arglead, '--') then
    local flags = {}
    for flag, kind in pairs(spec.flags or {}) do
      table.insert(flags, '--' .. flag .. (kind == 'value' and '=' or ''))
    end
    table.sort(flags)
    return starting(flags)
  end
  if spec.args == 'session' then
    return starting(session_names())
  elseif spec.args == 'file' then
    return vim.fn.getcompletion(arglead, 'file')
  end
  return {}
end

return M
