--- Small text helpers shared by the views.
local M = {}

--- 950 -> "950", 12345 -> "12.3k", 2500000 -> "2.5M"
---@param n number?
function M.tokens(n)
  n = tonumber(n) or 0
  if n >= 1e6 then
    return ('%.1fM'):format(n / 1e6)
  elseif n >= 1e4 then
    return ('%.1fk'):format(n / 1e3)
  end
  return tostring(math.floor(n))
end

--- Savings as shown to people: 0.625 -> "62%", nil -> "-"
---@param x number|nil|userdata
function M.percent(x)
  if type(x) ~= 'number' then
    return '-'
  end
  return ('%d%%'):format(math.floor(x * 100 + 0.5))
end

---@param x number?
function M.cost(x)
  if type(x) ~= 'number' or x == 0 then
    return '-'
  end
  return ('$%.4f'):format(x)
end

--- JSON null arrives as vim.NIL; treat it as nil.
function M.v(x)
  if x == vim.NIL then
    return nil
  end
  return x
end

--- Pad or cut `s` to `w` display cells.
function M.cell(s, w)
  s = tostring(s or '')
  local width = vim.fn.strdisplaywidth(s)
  if width > w then
    return vim.fn.strcharpart(s, 0, w - 1) .. '…'
  end
  return s .. string.rep(' ', w - width)
end

--- Text that may hold newlines -> buffer lines.
function M.lines(text)
  return vim.split(text or '', '\n', { plain = true })
end

return M
