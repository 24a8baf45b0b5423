// Wiring only: build the context, the views and the commands, start one server per folder.
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { AiSessionContext } from './context';
import { createLog } from './log';
import { McpApi, registerMcpServer } from './model/mcp';
import { SERVER_VERSION } from './protocol.generated';
import { resolveServer } from './server';
import { getSettings, SERVER_SETTINGS } from './settings';
import { StatusBar } from './statusBar';
import { Terminals } from './terminal';
import { AnswersPanel } from './views/answers';
import { ContextPanel } from './views/contextPanel';
import { RUN_SCHEME, RunOutputProvider } from './views/runOutput';
import { SessionsTree } from './views/sessionsTree';
import { StatsDocuments } from './views/stats';

let state: AiSessionContext | undefined;

export async function activate(extension: vscode.ExtensionContext): Promise<void> {
  const log = createLog();
  const ctx = new AiSessionContext(extension, log);
  state = ctx;
  const tree = new SessionsTree(ctx);
  const terminals = new Terminals(ctx);
  const answers = new AnswersPanel(ctx);
  const runs = new RunOutputProvider(ctx);
  const stats = new StatsDocuments();
  extension.subscriptions.push(
    log,
    ctx,
    tree,
    terminals,
    answers,
    runs,
    stats,
    new StatusBar(ctx),
    new ContextPanel(ctx),
    vscode.workspace.registerTextDocumentContentProvider(RUN_SCHEME, runs),
    ...registerCommands({ ctx, tree, terminals, answers, runs, stats }),
    vscode.workspace.onDidChangeWorkspaceFolders(async (e) => {
      for (const f of e.removed) await ctx.stopFolder(f);
      for (const f of e.added) await ctx.startFolder(f);
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (SERVER_SETTINGS.some((s) => e.affectsConfiguration(s))) await ctx.settingsChanged();
    }),
  );
  offerMcpServer(ctx, extension);
  await ctx.startAll();
}

/** `ai-session mcp` for VS Code's agent mode, in the first folder's worktree (its first root),
 * started like that folder's language server; only where VS Code has the API (1.101+). */
function offerMcpServer(ctx: AiSessionContext, extension: vscode.ExtensionContext): void {
  const registered = registerMcpServer(
    vscode as unknown as McpApi<vscode.Disposable, vscode.Uri>,
    async () => {
      const folder = vscode.workspace.workspaceFolders?.[0];
      if (!folder) return undefined;
      const settings = getSettings(folder);
      try {
        const server = ctx.clients.get(folder.uri.toString())?.server ?? (await resolveServer(folder, settings, extension, ctx.log));
        return { server: server.command, env: settings.serverEnv, cwd: folder.uri, version: SERVER_VERSION };
      } catch (err) {
        ctx.log.info(`no MCP server to offer: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      }
    },
    ctx.onClientsChanged.event,
  );
  if (registered) extension.subscriptions.push(registered);
  ctx.log.info(registered ? 'offering ai-session mcp to the agent mode' : "this VS Code has no MCP server-definition API: ai-session mcp is not offered");
}

export async function deactivate(): Promise<void> {
  state?.dispose();
  state = undefined;
}
