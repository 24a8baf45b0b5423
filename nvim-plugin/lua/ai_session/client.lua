--- The connection to `ai-session serve`: one language-server client per worktree root.
--- Everything else talks to the server through `request()`; nothing reads the store.
local config = require('ai_session.config')

local M = {}

M.name = 'ai_session'

local has_011 = vim.fn.has('nvim-0.11') == 1
--- Roots and buffers of the clients, remembered at start and attach: a crashed client cannot tell them.
local known = {} ---@type table<integer, { root: string, bufs: table<integer, true> }>

---@param bufnr integer?
---@return string root folder of the buffer's worktree, else the current directory
function M.root(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local root = vim.fs.root(bufnr, config.get().root_markers)
  return vim.fs.normalize(root or vim.fn.getcwd())
end

--- The resolved client configuration (0.11: vim.lsp.config merges lsp/ai_session.lua and user overrides).
---@return table
local function base_config()
  local cfg
  if has_011 and vim.lsp.config then
    cfg = vim.lsp.config[M.name]
  end
  if cfg == nil then
    local file = vim.api.nvim_get_runtime_file('lsp/ai_session.lua', false)[1]
    cfg = file and dofile(file) or {}
  end
  cfg = vim.deepcopy(cfg)
  cfg.name = M.name
  return cfg
end

---@param root string
---@return vim.lsp.Client?
local function find(root)
  for _, c in ipairs(vim.lsp.get_clients({ name = M.name })) do
    if c.config.root_dir and vim.fs.normalize(c.config.root_dir) == root and not c:is_stopped() then
      return c
    end
  end
end

--- The client for a buffer's worktree, started if needed (without attaching buffers).
---@param bufnr integer?
---@param root string? the worktree root (default: the buffer's)
---@return vim.lsp.Client? client
---@return string? error
function M.ensure(bufnr, root)
  root = root and vim.fs.normalize(root) or M.root(bufnr)
  local client = find(root)
  if client then
    return client
  end
  local cfg = base_config()
  cfg.root_dir = root
  cfg.workspace_folders = { { uri = vim.uri_from_fname(root), name = vim.fs.basename(root) } }
  local exe = cfg.cmd and cfg.cmd[1]
  if type(exe) ~= 'string' or vim.fn.executable(exe) ~= 1 then
    return nil, ('server command not found: %s (set `cmd`, see :help ai-session-config)'):format(tostring(exe))
  end
  local id
  if has_011 then
    id = vim.lsp.start(cfg, { bufnr = bufnr or vim.api.nvim_get_current_buf(), attach = false, silent = true })
  else
    id = vim.lsp.start_client(cfg)
  end
  client = id and vim.lsp.get_client_by_id(id)
  if not client then
    return nil, 'the server did not start (see :checkhealth ai_session and :LspLog)'
  end
  known[client.id] = known[client.id] or { root = root, bufs = {} }
  return client
end

--- Call `fn(client)` once the client has finished `initialize` (requests wait for it).
---@param client vim.lsp.Client
---@param fn fun(client: vim.lsp.Client?, err: string?)
local function when_ready(client, fn)
  if client.initialized then
    return fn(client)
  end
  local timer = assert(vim.uv.new_timer())
  local waited = 0
  timer:start(20, 20, vim.schedule_wrap(function()
    waited = waited + 20
    if client.initialized or client:is_stopped() or waited > 60000 then
      timer:stop()
      timer:close()
      if client.initialized then
        fn(client)
      else
        fn(nil, 'the server stopped before it was ready (see :LspLog)')
      end
    end
  end))
end

--- Turn a JSON-RPC error into one line for people.
---@param err table|string
---@return string
function M.message(err)
  if type(err) ~= 'table' then
    return tostring(err)
  end
  local msg = err.message or vim.inspect(err)
  -- Domain errors say which kind they are; the text already says what went wrong.
  return (msg:gsub('^invalid params: ', 'invalid input: '))
end

--- Report an error once, in one line, without a traceback.
---@param what string|table
function M.error(what)
  vim.notify('ai-session: ' .. (type(what) == 'string' and what or M.message(what)), vim.log.levels.ERROR)
end

---@class ai_session.RequestOpts
---@field bufnr? integer buffer whose worktree picks the server (default: current)
---@field client? integer send to this client (default: the one of bufnr's worktree)
---@field silent? boolean do not report errors

--- `{}` would go out as a JSON array; the server wants an object.
local function object(params)
  if params == nil or (type(params) == 'table' and next(params) == nil) then
    return vim.empty_dict()
  end
  return params
end

--- Send a request; `cb(result, ctx)` runs on success, errors are reported (or passed on with silent).
---@param method string one of require('ai_session.protocol').requests
---@param params table?
---@param cb fun(result: any, ctx: table)?
---@param opts ai_session.RequestOpts|fun(err: any)|nil
function M.request(method, params, cb, opts)
  local on_error
  if type(opts) == 'function' then
    on_error, opts = opts, {}
  end
  opts = opts or {}
  local function fail(err)
    if on_error then
      on_error(err)
    elseif not opts.silent then
      M.error(err)
    end
  end
  local client, err
  if opts.client then
    client = vim.lsp.get_client_by_id(opts.client)
    err = client == nil and 'the server is gone' or nil
  else
    client, err = M.ensure(opts.bufnr)
  end
  if not client then
    return fail(err)
  end
  require('ai_session.state').active = client.id
  when_ready(client, function(ready, why)
    if not ready then
      return fail(why)
    end
    local function handler(e, result, ctx)
      if e then
        return fail(e)
      end
      if cb then
        local ok, cb_err = pcall(cb, result, ctx)
        if not ok then
          M.error(cb_err)
        end
      end
    end
    if has_011 then
      ready:request(method, object(params), handler)
    else
      ready.request(method, object(params), handler)
    end
  end)
end

--- A blocking request for places that cannot wait (completion, health). nil on error/timeout.
---@return any result
---@return string? error
function M.request_sync(method, params, timeout_ms, bufnr)
  local client, err = M.ensure(bufnr)
  if not client then
    return nil, err
  end
  timeout_ms = timeout_ms or 2000
  if not vim.wait(timeout_ms, function()
    return client.initialized or client:is_stopped()
  end, 10) or not client.initialized then
    return nil, 'the server is not ready'
  end
  local resp, rerr
  if has_011 then
    resp, rerr = client:request_sync(method, object(params), timeout_ms)
  else
    resp, rerr = client.request_sync(method, object(params), timeout_ms)
  end
  if not resp then
    return nil, rerr or 'no answer'
  end
  if resp.err then
    return nil, M.message(resp.err)
  end
  return resp.result
end

--- Clients already running (never starts one).
---@return vim.lsp.Client[]
function M.running()
  return vim.lsp.get_clients({ name = M.name })
end

local restarts = {} ---@type number[]
local RECONNECTED_MS = 3000

---@param client vim.lsp.Client
---@param bufnr integer
function M.remember(client, bufnr)
  local k = known[client.id] or { root = client.config.root_dir, bufs = {} }
  k.bufs[bufnr] = true
  known[client.id] = k
end

--- A server that died (killed, crashed) is started again for the same worktree, its buffers are
--- attached to the new one, and the statusline says "reconnecting…" then "reconnected"; the new
--- server publishes the session's diagnostics again. At most 3 restarts in 3 minutes.
---@param code integer
---@param signal integer
---@param client_id integer
function M.on_exit(code, signal, client_id)
  local k = known[client_id]
  known[client_id] = nil
  vim.schedule(function()
    local state = require('ai_session.state')
    state.forget(client_id)
    local now = vim.uv.now()
    while restarts[1] and now - restarts[1] > 180000 do
      table.remove(restarts, 1)
    end
    local stopped_on_purpose = code == 0 and signal == 0
    if stopped_on_purpose or not k or vim.v.exiting ~= vim.NIL or #restarts >= 3 then
      if not stopped_on_purpose and k then
        state.set_notice('server stopped (:checkhealth ai_session)')
      end
      return
    end
    table.insert(restarts, now)
    state.set_notice('reconnecting…')
    local bufs = vim.tbl_filter(vim.api.nvim_buf_is_valid, vim.tbl_keys(k.bufs))
    local started, err = M.ensure(bufs[1], k.root)
    if not started then
      state.set_notice('server stopped: ' .. tostring(err))
      return
    end
    for _, b in ipairs(bufs) do
      pcall(vim.lsp.buf_attach_client, b, started.id)
    end
    when_ready(started, function(ready)
      if not ready then
        return state.set_notice('server stopped (:checkhealth ai_session)')
      end
      state.active = ready.id
      state.set_notice('reconnected')
      vim.defer_fn(function()
        if state.notice == 'reconnected' then
          state.set_notice(nil)
        end
      end, RECONNECTED_MS)
    end)
  end)
end

return M
