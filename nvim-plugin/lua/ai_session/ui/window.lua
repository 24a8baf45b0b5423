--- Buffers and windows the views open: scratch splits and centred floats.
local config = require('ai_session.config')

local M = {}

--- A scratch buffer named `name` (reused if it exists), shown in a split unless already visible.
---@param name string e.g. "ai-session://log/dev"
---@param opts { filetype?: string, enter?: boolean, fresh?: boolean }?
---@return integer buf, integer win
function M.scratch(name, opts)
  opts = opts or {}
  local buf = vim.fn.bufnr(name)
  if buf ~= -1 and opts.fresh then
    -- A terminal buffer cannot be reused for new output: start over with a new one.
    pcall(vim.api.nvim_buf_set_name, buf, '')
    buf = -1
  end
  if buf == -1 or not vim.api.nvim_buf_is_valid(buf) then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, name)
    vim.bo[buf].bufhidden = 'hide'
    vim.bo[buf].swapfile = false
  end
  if opts.filetype then
    vim.bo[buf].filetype = opts.filetype
  end
  local win = vim.fn.bufwinid(buf)
  if win == -1 then
    local prev = vim.api.nvim_get_current_win()
    vim.cmd(config.get().split)
    win = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(win, buf)
    vim.wo[win].number = false
    vim.wo[win].relativenumber = false
    if not opts.enter then
      vim.api.nvim_set_current_win(prev)
    end
  elseif opts.enter then
    vim.api.nvim_set_current_win(win)
  end
  return buf, win
end

--- Replace a scratch buffer's text (it stays read-only for the user).
function M.set_lines(buf, lines)
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].modified = false
end

--- A centred float over the editor showing `buf`; `q` and <Esc> close it.
---@param buf integer
---@param title string
---@return integer win
function M.float(buf, title)
  local f = config.get().float
  local cols, rows = vim.o.columns, vim.o.lines - vim.o.cmdheight
  local width = math.max(40, math.floor(cols * (f.width or 0.8)))
  local height = math.max(8, math.floor(rows * (f.height or 0.8)))
  width, height = math.min(width, cols - 2), math.min(height, rows - 2)
  local win = vim.api.nvim_open_win(buf, true, {
    relative = 'editor',
    width = width,
    height = height,
    row = math.floor((rows - height) / 2) - 1,
    col = math.floor((cols - width) / 2),
    style = 'minimal',
    border = f.border or 'rounded',
    title = ' ' .. title .. ' ',
    title_pos = 'center',
  })
  vim.wo[win].wrap = true
  vim.wo[win].cursorline = true
  vim.wo[win].winhighlight = 'FloatBorder:AiSessionSeparator'
  for _, key in ipairs({ 'q', '<Esc>' }) do
    vim.keymap.set('n', key, function()
      if vim.api.nvim_win_is_valid(win) then
        vim.api.nvim_win_close(win, true)
      end
    end, { buffer = buf, nowait = true, desc = 'close' })
  end
  return win
end

return M
