// The extension's state: the log, one SessionClient per workspace folder, and the events the
// views listen to (merged over all clients). Views and commands go through this object only.
import * as vscode from 'vscode';
import { SessionClient } from './client';
import { startFailureMessage } from './model/serverCommand';
import {
  AnswerChunk,
  CurrentSessionChanged,
  Requests,
  RunFinished,
  RunOutput,
  SessionsChanged,
  SessionSummary,
  StatsChanged,
  TerminalClosed,
  TerminalOutput,
} from './protocol.generated';
import { ResolvedServer, resolveServer, ServerStartError } from './server';
import { getSettings } from './settings';

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class AiSessionContext implements vscode.Disposable {
  readonly clients = new Map<string, SessionClient>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly perClient = new Map<string, vscode.Disposable[]>();
  private failureShown = false;

  readonly onClientsChanged = this.emitter<void>();
  readonly onSessionsChanged = this.emitter<SessionsChanged>();
  readonly onCurrentSessionChanged = this.emitter<{ client: SessionClient; change: CurrentSessionChanged }>();
  readonly onRunOutput = this.emitter<RunOutput>();
  readonly onRunFinished = this.emitter<RunFinished>();
  readonly onTerminalOutput = this.emitter<TerminalOutput>();
  readonly onTerminalClosed = this.emitter<TerminalClosed>();
  readonly onAnswerChunk = this.emitter<AnswerChunk>();
  readonly onStatsChanged = this.emitter<StatsChanged>();

  constructor(readonly extension: vscode.ExtensionContext, readonly log: vscode.LogOutputChannel) {}

  private emitter<T>(): vscode.EventEmitter<T> {
    const e = new vscode.EventEmitter<T>();
    this.disposables.push(e);
    return e;
  }

  /** Start a server for every folder of the window (one per folder: each knows its worktree). */
  async startAll(): Promise<void> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    await Promise.all(folders.map((f) => this.startFolder(f)));
    this.updateReady();
  }

  async startFolder(folder: vscode.WorkspaceFolder): Promise<void> {
    const key = folder.uri.toString();
    if (this.clients.has(key)) return;
    const settings = getSettings(folder);
    let client: SessionClient | undefined;
    let server: ResolvedServer | undefined;
    try {
      server = await resolveServer(folder, settings, this.log);
      client = new SessionClient(folder, server, settings, this.log);
      this.wire(key, client);
      this.clients.set(key, client);
      await client.start();
      if (!client.current) {
        const cur = await client.request(Requests.worktreeCurrent, {});
        if (!client.current) client.current = { summary: cur.summary ?? null, worktree: cur.worktree ?? null, branch: cur.branch ?? null };
        this.onCurrentSessionChanged.fire({ client, change: client.current });
      }
      this.log.info(`server for ${folder.name} is running`);
    } catch (err) {
      if (client) {
        this.clients.delete(key);
        this.unwire(key);
        await client.dispose();
      }
      const message = err instanceof ServerStartError ? err.message : startFailureMessage(server?.command, errorText(err));
      this.log.error(message);
      this.showFailureOnce(message);
    }
    this.onClientsChanged.fire();
  }

  /** Several folders may fail for the same reason: one notification, with the fix and the log. */
  private showFailureOnce(message: string): void {
    if (this.failureShown) return;
    this.failureShown = true;
    void vscode.window.showErrorMessage(message, 'Open Settings', 'Show Log').then((choice) => {
      if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'aiSession.serverCommand');
      if (choice === 'Show Log') this.log.show();
    });
  }

  private wire(key: string, client: SessionClient): void {
    const subs = [
      client.onSessionsChanged.event((e) => this.onSessionsChanged.fire(e)),
      client.onCurrentSessionChanged.event((change) => this.onCurrentSessionChanged.fire({ client, change })),
      client.onRunOutput.event((e) => this.onRunOutput.fire(e)),
      client.onRunFinished.event((e) => this.onRunFinished.fire(e)),
      client.onTerminalOutput.event((e) => this.onTerminalOutput.fire(e)),
      client.onTerminalClosed.event((e) => this.onTerminalClosed.fire(e)),
      client.onAnswerChunk.event((e) => this.onAnswerChunk.fire(e)),
      client.onStatsChanged.event((e) => this.onStatsChanged.fire(e)),
    ];
    this.perClient.set(key, subs);
  }

  private unwire(key: string): void {
    for (const d of this.perClient.get(key) ?? []) d.dispose();
    this.perClient.delete(key);
  }

  async stopFolder(folder: vscode.WorkspaceFolder): Promise<void> {
    const key = folder.uri.toString();
    const client = this.clients.get(key);
    this.clients.delete(key);
    this.unwire(key);
    await client?.dispose();
    this.onClientsChanged.fire();
    this.updateReady();
  }

  async restart(): Promise<void> {
    const folders = [...this.clients.values()].map((c) => c.folder);
    await Promise.all(folders.map((f) => this.stopFolder(f)));
    this.failureShown = false;
    await this.startAll();
  }

  private updateReady(): void {
    void vscode.commands.executeCommand('setContext', 'aiSession.ready', this.clients.size > 0);
  }

  // ---------------------------------------------------------------- picking a client

  /** Any running client: all of them share one store, so lists and by-id requests agree. */
  primary(): SessionClient | undefined {
    const folders = vscode.workspace.workspaceFolders ?? [];
    for (const f of folders) {
      const c = this.clients.get(f.uri.toString());
      if (c) return c;
    }
    return this.clients.values().next().value;
  }

  /** The client of the active editor's folder, else the first folder's. */
  active(): SessionClient | undefined {
    const uri = vscode.window.activeTextEditor?.document.uri;
    const folder = uri ? vscode.workspace.getWorkspaceFolder(uri) : undefined;
    return (folder && this.clients.get(folder.uri.toString())) || this.primary();
  }

  /** The client whose folder is in the session's worktree (its server runs that session's shell best). */
  forSession(summary: SessionSummary | undefined): SessionClient | undefined {
    const tree = summary?.session.worktree;
    if (tree) {
      for (const c of this.clients.values()) if (c.current?.worktree === tree) return c;
    }
    return this.active();
  }

  /** Worktrees of the open folders, in folder order (for the tree's "current first"). */
  openWorktrees(): string[] {
    return [...this.clients.values()].map((c) => c.current?.worktree).filter((w): w is string => !!w);
  }

  currentIds(): Set<string> {
    const ids = new Set<string>();
    for (const c of this.clients.values()) {
      const id = c.current?.summary?.session.id;
      if (id) ids.add(id);
    }
    return ids;
  }

  requireClient(): SessionClient {
    const c = this.active();
    if (!c) throw new Error('The ai-session server is not running. Run "AI Session: Restart Server", or "AI Session: Show Log" to see why.');
    return c;
  }

  dispose(): void {
    for (const key of [...this.perClient.keys()]) this.unwire(key);
    for (const c of this.clients.values()) void c.dispose();
    this.clients.clear();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
