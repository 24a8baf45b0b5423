// Offering `ai-session mcp` to VS Code's agent mode, where the running VS Code can take it: the MCP
// server-definition API came in 1.101, after the engine this extension supports, so it is
// feature-detected on the `vscode` module it is given (a mock in the unit tests).
import type { ServerCommand } from './serverCommand';

export const MCP_PROVIDER_ID = 'aiSession.mcp';
export const MCP_LABEL = 'AI Session';

interface Disposable {
  dispose(): unknown;
}
type Event<T> = (listener: (e: T) => unknown) => Disposable;

/** The part of VS Code's MCP API this uses (`vscode.lm.registerMcpServerDefinitionProvider`,
 * `vscode.McpStdioServerDefinition`). */
export interface McpProvider<D> {
  onDidChangeMcpServerDefinitions?: Event<void>;
  provideMcpServerDefinitions(token: unknown): Promise<D[]>;
}
export interface McpApi<D = unknown, U = unknown> {
  lm?: { registerMcpServerDefinitionProvider?: (id: string, provider: McpProvider<D>) => Disposable };
  McpStdioServerDefinition?: new (label: string, command: string, args?: string[], env?: Record<string, string>, version?: string) => D & { cwd?: U };
}

/** Where and how the server of the window's worktree runs: the folder's own resolved command and
 * its `aiSession.serverEnv` (the provider keys stay with the language server: MCP tools need none). */
export interface McpServerSpec<U = unknown> {
  server: ServerCommand;
  env: Record<string, string>;
  cwd: U;
  version: string;
}

/** The MCP server's command line: the language server's, with `serve` (and its options) replaced by
 * `mcp`; undefined when a custom command does not run `serve`. */
export function mcpCommand(server: ServerCommand): { command: string; args: string[] } | undefined {
  const at = server.args.indexOf('serve');
  return at < 0 ? undefined : { command: server.command, args: [...server.args.slice(0, at), 'mcp'] };
}

/**
 * Register the provider when the API is there; undefined (nothing registered) when it is not.
 * `spec` is asked each time VS Code wants the definitions, so a changed setting or folder shows
 * up after `changed` fires.
 */
export function registerMcpServer<D, U>(
  api: McpApi<D, U>,
  spec: () => Promise<McpServerSpec<U> | undefined>,
  changed: Event<void>,
): Disposable | undefined {
  const register = api.lm?.registerMcpServerDefinitionProvider;
  const Definition = api.McpStdioServerDefinition;
  if (typeof register !== 'function' || typeof Definition !== 'function') return undefined;
  return register.call(api.lm, MCP_PROVIDER_ID, {
    onDidChangeMcpServerDefinitions: changed,
    async provideMcpServerDefinitions(): Promise<D[]> {
      const found = await spec();
      const line = found && mcpCommand(found.server);
      if (!found || !line) return [];
      const definition = new Definition(MCP_LABEL, line.command, line.args, found.env, found.version);
      definition.cwd = found.cwd;
      return [definition];
    },
  });
}
