--- Server notifications -> state and views. Used as `handlers` of the client configuration.
local protocol = require('ai_session.protocol')
local state = require('ai_session.state')
local fmt = require('ai_session.ui.format')

local M = {}

local N = protocol.notifications
local pending = {} ---@type table<integer, uv.uv_timer_t>

--- Ask the server again for the sessions and the current one's summary (coalesced: a burst of
--- changes costs one round trip).
---@param id integer client id
function M.refresh(id)
  if pending[id] then
    return
  end
  local timer = assert(vim.uv.new_timer())
  pending[id] = timer
  timer:start(100, 0, vim.schedule_wrap(function()
    timer:close()
    pending[id] = nil
    local client = vim.lsp.get_client_by_id(id)
    if not client or client:is_stopped() then
      return
    end
    local rpc = require('ai_session.client')
    -- The newest page names the sessions for completion; the current one may be older.
    local page = { offset = 0, limit = require('ai_session.ui.picker').PAGE }
    rpc.request(protocol.requests.sessions_list, page, function(result)
      local s = state.get(id)
      local names, current = {}, nil
      local current_id = fmt.v(result.currentSessionId)
      for _, summary in ipairs(result.sessions or {}) do
        table.insert(names, summary.session.name)
        if summary.session.id == current_id then
          current = summary
        end
      end
      s.names = names
      if current_id and not current then
        rpc.request(protocol.requests.sessions_get, { session = current_id }, function(detail)
          state.set_current(id, detail.summary)
        end, { silent = true, client = id })
      elseif current or s.summary then
        state.set_current(id, current)
      end
    end, { silent = true, client = id })
  end))
end

local function guard(name, fn)
  return function(err, params, ctx)
    if err then
      return
    end
    local ok, e = pcall(fn, params, ctx)
    if not ok then
      vim.notify(('ai-session: %s: %s'):format(name, e), vim.log.levels.ERROR)
    end
  end
end

--- The handler table for the client configuration.
function M.all()
  return {
    [N.sessions_changed] = guard('sessionsChanged', function(_, ctx)
      M.refresh(ctx.client_id)
    end),
    [N.current_session_changed] = guard('currentSessionChanged', function(params, ctx)
      state.set_current(ctx.client_id, params.summary, params.worktree, params.branch)
      M.refresh(ctx.client_id)
    end),
    [N.stats_changed] = guard('statsChanged', function(params, ctx)
      state.set_stats(ctx.client_id, params)
    end),
    [N.run_output] = guard('runOutput', function(params)
      require('ai_session.ui.output').on_output(params)
    end),
    [N.run_finished] = guard('runFinished', function(params, ctx)
      require('ai_session.ui.output').on_finished(params)
      M.refresh(ctx.client_id)
    end),
    [N.terminal_output] = guard('terminalOutput', function(params)
      require('ai_session.ui.terminal').on_output(params)
    end),
    [N.terminal_closed] = guard('terminalClosed', function(params)
      require('ai_session.ui.terminal').on_closed(params)
    end),
    -- The session host (it owns the shells) was killed and a new one took over: the statusline
    -- says so as it does for a restarted server; terminals stay attached (the server re-attaches).
    [N.host_status] = guard('hostStatus', function(params)
      if params.state == 'reconnecting' or params.state == 'reconnected' then
        state.set_notice(params.state == 'reconnecting' and 'reconnecting…' or 'reconnected')
        if params.state == 'reconnected' then
          vim.defer_fn(function()
            if state.notice == 'reconnected' then
              state.set_notice(nil)
            end
          end, 4000)
        end
      else
        vim.notify('ai-session: ' .. params.message, vim.log.levels.WARN)
      end
    end),
    [N.answer_chunk] = guard('answerChunk', function(params)
      require('ai_session.ui.ask').on_chunk(params)
    end),
  }
end

return M
