-- Neovim as the tests run it: no user config, this repository's plugin on the runtimepath,
-- settings handed over by the test in $AI_SESSION_NVIM_TEST (JSON for vim.g.ai_session).
local here = debug.getinfo(1, 'S').source:sub(2)
local plugin = vim.fs.normalize(vim.fs.joinpath(vim.fs.dirname(here), '..', '..', 'nvim-plugin'))
vim.opt.runtimepath:prepend(plugin)
vim.opt.swapfile = false
vim.opt.shortmess:append('I')
local settings = os.getenv('AI_SESSION_NVIM_TEST')
if settings and settings ~= '' then
  vim.g.ai_session = vim.json.decode(settings)
end
if os.getenv('AI_SESSION_NVIM_STATUSLINE') then
  vim.o.laststatus = 2
  vim.o.statusline = "%f %= %{v:lua.require'ai_session'.statusline()} "
end
