--- Highlight groups, linked with `default = true` so colour schemes and users can override them.
local M = {}

M.links = {
  AiSessionTitle = 'Title',
  AiSessionHeader = 'Label',
  AiSessionPart = 'Statement',
  AiSessionTokens = 'Number',
  AiSessionSavings = 'DiagnosticOk',
  AiSessionMuted = 'Comment',
  AiSessionWarning = 'DiagnosticWarn',
  AiSessionError = 'DiagnosticError',
  AiSessionCurrent = 'Special',
  AiSessionRoleUser = 'Identifier',
  AiSessionRoleAssistant = 'String',
  AiSessionRoleSystem = 'PreProc',
  AiSessionRoleTool = 'Type',
  AiSessionSeparator = 'FloatBorder',
}

function M.setup()
  for group, target in pairs(M.links) do
    vim.api.nvim_set_hl(0, group, { link = target, default = true })
  end
end

M.ns = vim.api.nvim_create_namespace('ai_session')

--- Highlight a byte range of a line.
function M.add(buf, group, line, col_start, col_end)
  vim.api.nvim_buf_set_extmark(buf, M.ns, line, col_start, {
    end_col = col_end,
    hl_group = group,
    strict = false,
  })
end

return M
