// Wiring only: build the context, the views and the commands, start one server per folder.
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { AiSessionContext } from './context';
import { createLog } from './log';
import { SERVER_SETTINGS } from './settings';
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
  await ctx.startAll();
}

export async function deactivate(): Promise<void> {
  state?.dispose();
  state = undefined;
}
