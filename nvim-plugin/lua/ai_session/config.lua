--- Settings: defaults, then `vim.g.ai_session`, then `setup(opts)` (lazy.nvim's `opts`).
local M = {}

---@class ai_session.Config
M.defaults = {
  -- How to start the server; a list, run without a shell.
  cmd = { 'ai-session', 'serve' },
  -- Extra environment for the server process (e.g. { AI_SESSION_HOME = '...' }).
  cmd_env = nil,
  -- The server's workspace is the nearest folder holding one of these.
  root_markers = { '.git' },
  -- Start the server when a file inside a worktree is opened (otherwise on the first command).
  auto_start = true,
  -- Let the server find or create the worktree's session when it starts.
  auto_attach = true,
  -- Where `:AiSession exec`, `output`, `log`, `ask` and `attach` open their buffers.
  split = 'botright 15split',
  -- Size of floating windows, as a fraction of the editor.
  float = { width = 0.8, height = 0.8, border = 'rounded' },
  -- Defaults for `:AiSession context` (nil: the session's own budget and strategy).
  context = { max_tokens = nil, strategy = nil },
  -- Text in front of the statusline string.
  statusline_prefix = 'AI',
}

local user = {} ---@type table

-- vim.validate's positional form is 0.11+; 0.10 only has the table form.
local function validate(name, value, kind, optional)
  if vim.fn.has('nvim-0.11') == 1 then
    vim.validate(name, value, kind, optional)
  else
    vim.validate({ [name] = { value, kind, optional } })
  end
end

local function check(cfg)
  validate('cmd', cfg.cmd, 'table')
  validate('root_markers', cfg.root_markers, 'table')
  validate('auto_start', cfg.auto_start, 'boolean')
  validate('auto_attach', cfg.auto_attach, 'boolean')
  validate('split', cfg.split, 'string')
  validate('float', cfg.float, 'table')
  validate('context', cfg.context, 'table')
  validate('cmd_env', cfg.cmd_env, 'table', true)
  validate('statusline_prefix', cfg.statusline_prefix, 'string')
  if #cfg.cmd == 0 then
    error('cmd must name a program')
  end
end

--- The effective settings (cheap: merged once per change).
local cache ---@type ai_session.Config?
function M.get()
  if cache == nil or M._g_seen ~= vim.g.ai_session then
    M._g_seen = vim.g.ai_session
    local cfg = vim.tbl_deep_extend('force', {}, M.defaults, vim.g.ai_session or {}, user)
    -- Lists replace, never merge index by index.
    for _, key in ipairs({ 'cmd', 'root_markers' }) do
      cfg[key] = user[key] or (vim.g.ai_session or {})[key] or M.defaults[key]
    end
    check(cfg)
    cache = cfg
  end
  return cache
end

---@param opts table?
function M.set(opts)
  user = opts or {}
  cache = nil
  local ok, err = pcall(M.get)
  if not ok then
    user = {}
    cache = nil
    error('ai-session: invalid setting: ' .. tostring(err), 0)
  end
end

return M
