// Wiring only: build the context, the views and the commands, start one server per folder.
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { AiSessionContext } from './context';
import { createLog } from './log';
import { RESTART_SETTINGS } from './settings';
import { StatusBar } from './statusBar';
import { Terminals } from './terminal';
import { ContextPanel } from './views/contextPanel';
import { RUN_SCHEME, RunOutputProvider } from './views/runOutput';
import { SessionsTree } from './views/sessionsTree';

let state: AiSessionContext | undefined;

export async function activate(extension: vscode.ExtensionContext): Promise<void> {
  const log = createLog();
  const ctx = new AiSessionContext(extension, log);
  state = ctx;
  const tree = new SessionsTree(ctx);
  const terminals = new Terminals(ctx);
  extension.subscriptions.push(
    log,
    ctx,
    tree,
    terminals,
    new StatusBar(ctx),
    new ContextPanel(ctx),
    vscode.workspace.registerTextDocumentContentProvider(RUN_SCHEME, new RunOutputProvider(ctx)),
    ...registerCommands(ctx, tree, terminals),
    vscode.workspace.onDidChangeWorkspaceFolders(async (e) => {
      for (const f of e.removed) await ctx.stopFolder(f);
      for (const f of e.added) await ctx.startFolder(f);
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (RESTART_SETTINGS.some((s) => e.affectsConfiguration(s))) {
        log.info('server settings changed; restarting the servers');
        await ctx.restart();
      }
    }),
  );
  await ctx.startAll();
}

export async function deactivate(): Promise<void> {
  state?.dispose();
  state = undefined;
}
