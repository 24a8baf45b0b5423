-- The language-server configuration of ai-session (`:help lsp-config`).
-- Neovim 0.11 reads it through `vim.lsp.config('ai_session')`; older versions through
-- require('ai_session.client'). Override any field with vim.lsp.config('ai_session', {...}).
local cfg = require('ai_session.config').get()

---@type vim.lsp.Config
return {
  cmd = cfg.cmd,
  cmd_env = cfg.cmd_env,
  -- No filetypes: any file inside a git worktree belongs to that worktree's session.
  root_markers = cfg.root_markers,
  workspace_required = true,
  init_options = { autoAttach = cfg.auto_attach },
  handlers = require('ai_session.handlers').all(),
  on_exit = function(code, signal, client_id)
    require('ai_session.client').on_exit(code, signal, client_id)
  end,
}
