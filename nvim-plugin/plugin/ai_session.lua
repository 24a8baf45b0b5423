-- ai-session: persistent per-worktree AI sessions (see :help ai-session).
if vim.g.loaded_ai_session then
  return
end
vim.g.loaded_ai_session = true

if vim.fn.has('nvim-0.10') ~= 1 then
  vim.notify_once('ai-session needs Neovim 0.10 or newer', vim.log.levels.ERROR)
  return
end

vim.api.nvim_create_user_command('AiSession', function(o)
  require('ai_session.commands').run(o)
end, {
  nargs = '*',
  bang = true,
  range = true, -- `:'<,'>AiSession pin`
  desc = 'ai-session: list, create, attach, worktree, exec, context, ask, ...',
  complete = function(...)
    return require('ai_session.commands').complete(...)
  end,
})

local group = vim.api.nvim_create_augroup('ai_session', { clear = true })

require('ai_session.ui.highlights').setup()
vim.api.nvim_create_autocmd('ColorScheme', {
  group = group,
  callback = function()
    require('ai_session.ui.highlights').setup()
  end,
})

-- The statusline follows the worktree of the buffer you are in.
vim.api.nvim_create_autocmd({ 'BufEnter', 'LspAttach' }, {
  group = group,
  callback = function(ev)
    local state = require('ai_session.state')
    for _, c in ipairs(vim.lsp.get_clients({ bufnr = ev.buf, name = 'ai_session' })) do
      if ev.event == 'LspAttach' then
        require('ai_session.client').remember(c, ev.buf)
      end
      if state.active ~= c.id then
        state.active = c.id
        vim.cmd.redrawstatus()
      end
    end
  end,
})

vim.api.nvim_create_autocmd('LspDetach', {
  group = group,
  callback = function(ev)
    local c = vim.lsp.get_client_by_id(ev.data.client_id)
    if c and c.name == 'ai_session' and c:is_stopped() then
      require('ai_session.state').forget(c.id)
    end
  end,
})

-- Start the server when a file inside a worktree is opened; the server then attaches the
-- worktree's session itself (auto_attach).
local ok, config = pcall(require('ai_session.config').get)
if not ok then
  vim.notify('ai-session: ' .. tostring(config), vim.log.levels.ERROR)
  return
end
if vim.fn.has('nvim-0.11') == 1 and vim.lsp.enable then
  if config.auto_start then
    vim.lsp.enable('ai_session')
  end
else
  vim.api.nvim_create_autocmd({ 'BufReadPost', 'BufNewFile' }, {
    group = group,
    callback = function(ev)
      local cfg = require('ai_session.config').get()
      if not cfg.auto_start or vim.bo[ev.buf].buftype ~= '' then
        return
      end
      if vim.fs.root(ev.buf, cfg.root_markers) then
        local client = require('ai_session.client').ensure(ev.buf)
        if client then
          vim.lsp.buf_attach_client(ev.buf, client.id)
        end
      end
    end,
  })
end
