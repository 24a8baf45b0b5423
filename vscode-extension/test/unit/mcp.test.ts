import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MCP_LABEL, MCP_PROVIDER_ID, McpApi, McpProvider, McpServerSpec, mcpCommand, registerMcpServer } from '../../src/model/mcp';

class Definition {
  cwd?: string;
  constructor(readonly label: string, readonly command: string, readonly args?: string[], readonly env?: Record<string, string>, readonly version?: string) {}
}

/** VS Code 1.101+'s API, mocked: records what is registered. */
function modernApi() {
  const registered: { id: string; provider: McpProvider<Definition> }[] = [];
  let disposed = 0;
  const api: McpApi<Definition, string> = {
    lm: {
      registerMcpServerDefinitionProvider(id, provider) {
        registered.push({ id, provider });
        return { dispose: () => disposed++ };
      },
    },
    McpStdioServerDefinition: Definition,
  };
  return { api, registered, disposed: () => disposed };
}

const noEvents = () => ({ dispose() {} });
const spec = (over: Partial<McpServerSpec<string>> = {}): McpServerSpec<string> => ({
  server: { command: '/venv/bin/python', args: ['-m', 'ai_session', 'serve'], source: 'python-extension' },
  env: { AI_SESSION_HOME: '/store' }, cwd: '/w/repo', version: '0.1.0', ...over,
});

test("the MCP command is the language server's with serve replaced by mcp", () => {
  assert.deepEqual(mcpCommand({ command: '/bin/ai-session', args: ['serve'], source: 'path' }), { command: '/bin/ai-session', args: ['mcp'] });
  assert.deepEqual(mcpCommand({ command: '/py', args: ['-X', 'utf8', '-m', 'ai_session', 'serve', '--tcp', '0'], source: 'setting' }),
    { command: '/py', args: ['-X', 'utf8', '-m', 'ai_session', 'mcp'] });
  assert.equal(mcpCommand({ command: '/my/wrapper', args: [], source: 'setting' }), undefined);
});

test('an older VS Code (no lm.registerMcpServerDefinitionProvider, or no McpStdioServerDefinition) gets nothing', () => {
  let asked = 0;
  const ask = async () => (asked++, spec());
  assert.equal(registerMcpServer<Definition, string>({}, ask, noEvents), undefined);
  assert.equal(registerMcpServer<Definition, string>({ lm: {} }, ask, noEvents), undefined);
  const { api } = modernApi();
  assert.equal(registerMcpServer({ lm: api.lm }, ask, noEvents), undefined);
  assert.equal(asked, 0);
});

test('a VS Code with the API gets one stdio server in the worktree, with the folder settings env', async () => {
  const { api, registered, disposed } = modernApi();
  const changed = (listener: () => unknown) => ({ dispose() {}, listener });
  const handle = registerMcpServer(api, async () => spec(), changed);
  assert.ok(handle);
  const [{ id, provider }] = registered;
  assert.equal(id, MCP_PROVIDER_ID);
  assert.equal(provider.onDidChangeMcpServerDefinitions, changed);
  const [definition] = await provider.provideMcpServerDefinitions(undefined);
  assert.ok(definition instanceof Definition);
  assert.deepEqual({ ...definition }, {
    label: MCP_LABEL, command: '/venv/bin/python', args: ['-m', 'ai_session', 'mcp'],
    env: { AI_SESSION_HOME: '/store' }, version: '0.1.0', cwd: '/w/repo',
  });
  handle.dispose();
  assert.equal(disposed(), 1);
});

test('no folder, or a custom command that does not run serve: no definitions', async () => {
  const { api, registered } = modernApi();
  let next: McpServerSpec<string> | undefined;
  registerMcpServer(api, async () => next, noEvents);
  assert.deepEqual(await registered[0].provider.provideMcpServerDefinitions(undefined), []);
  next = spec({ server: { command: '/my/wrapper', args: [], source: 'setting' } });
  assert.deepEqual(await registered[0].provider.provideMcpServerDefinitions(undefined), []);
});
