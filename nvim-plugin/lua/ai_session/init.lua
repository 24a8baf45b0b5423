--- ai-session for Neovim: a thin client of `ai-session serve`.
--- Works without calling setup() (defaults and `vim.g.ai_session`); setup(opts) is for lazy.nvim's `opts`.
local M = {}

local has_011 = vim.fn.has('nvim-0.11') == 1

--- Apply settings (see :help ai-session-config).
---@param opts table?
function M.setup(opts)
  local config = require('ai_session.config')
  config.set(opts)
  local cfg = config.get()
  if has_011 and vim.lsp.config then
    -- Push the settings into the LSP configuration (lsp/ai_session.lua may already be loaded).
    vim.lsp.config('ai_session', {
      cmd = cfg.cmd,
      cmd_env = cfg.cmd_env,
      root_markers = cfg.root_markers,
      init_options = { autoAttach = cfg.auto_attach },
    })
    vim.lsp.enable('ai_session', cfg.auto_start)
  end
end

--- "AI dev 1.2k/4096 62% saved": the current session, context tokens / budget, savings.
--- A table lookup, updated from server notifications: fine to call on every redraw.
---@return string
function M.statusline()
  return require('ai_session.state').statusline()
end

--- The current session as the server last described it (nil before the server said).
---@return ai_session.SessionSummary?
function M.current()
  local state = require('ai_session.state')
  local s = state.active and state.clients[state.active]
  return s and s.summary or nil
end

--- Send any protocol request: require('ai_session').request(method, params, function(result) ... end).
M.request = function(...)
  return require('ai_session.client').request(...)
end

return M
