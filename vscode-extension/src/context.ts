// The extension's state: the log, one SessionClient per workspace folder, and one typed
// `onNotification(method, handler)` for everything the servers push. Views and commands go
// through this object only.
import * as vscode from 'vscode';
import { Health, HealthCause, SessionClient } from './client';
import { startFailureMessage } from './model/serverCommand';
import { NotificationMethod, NotificationParams, Requests, SessionSummary } from './protocol.generated';
import { ResolvedServer, resolveServer, sameServer, ServerStartError } from './server';
import { getSettings } from './settings';

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** JSON-RPC errors carry the domain error's kind in `data.kind` (NotFound, NoProvider, ...). */
export function errorKind(err: unknown): string | undefined {
  const data = (err as { data?: { kind?: unknown } } | undefined)?.data;
  return typeof data?.kind === 'string' ? data.kind : undefined;
}

type Handler<M extends NotificationMethod> = (params: NotificationParams[M], client: SessionClient) => void;

export class AiSessionContext implements vscode.Disposable {
  readonly clients = new Map<string, SessionClient>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly handlers = new Map<NotificationMethod, Set<Handler<NotificationMethod>>>();
  private failureShown = false;

  readonly onClientsChanged = this.emitter<void>();
  readonly onHealthChanged = this.emitter<{ client: SessionClient; health: Health; cause: HealthCause }>();

  constructor(readonly extension: vscode.ExtensionContext, readonly log: vscode.LogOutputChannel) {}

  private emitter<T>(): vscode.EventEmitter<T> {
    const e = new vscode.EventEmitter<T>();
    this.disposables.push(e);
    return e;
  }

  /** Listen to one notification of every folder's server, typed by the generated table. */
  onNotification<M extends NotificationMethod>(method: M, handler: Handler<M>): vscode.Disposable {
    let set = this.handlers.get(method);
    if (!set) this.handlers.set(method, (set = new Set()));
    const h = handler as Handler<NotificationMethod>;
    set.add(h);
    return new vscode.Disposable(() => set.delete(h));
  }

  private dispatch<M extends NotificationMethod>(method: M, params: NotificationParams[M], client: SessionClient): void {
    for (const h of this.handlers.get(method) ?? []) {
      try {
        h(params, client);
      } catch (err) {
        this.log.error(`${method} handler failed: ${errorText(err)}`);
      }
    }
  }

  /** Start a server for every folder of the window (one per folder: each knows its worktree). */
  async startAll(): Promise<void> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    await Promise.all(folders.map((f) => this.startFolder(f)));
  }

  async startFolder(folder: vscode.WorkspaceFolder, resolved?: ResolvedServer): Promise<void> {
    const key = folder.uri.toString();
    if (this.clients.has(key)) return;
    const settings = getSettings(folder);
    let client: SessionClient | undefined;
    let server = resolved;
    try {
      server ??= await resolveServer(folder, settings, this.extension, this.log);
      client = new SessionClient(folder, server, settings, this.log, (m, p, c) => this.dispatch(m, p, c), (c, health, cause = 'server') => {
        this.log.info(`${cause === 'host' ? 'session host' : 'server'} for ${c.folder.name}: ${health}`);
        this.onHealthChanged.fire({ client: c, health, cause });
      });
      this.clients.set(key, client);
      await client.start();
      if (!client.current) {
        const cur = await client.request(Requests.worktreeCurrent, {});
        if (!client.current) {
          client.current = { summary: cur.summary ?? null, worktree: cur.worktree ?? null, branch: cur.branch ?? null };
          this.dispatch('aiSession/currentSessionChanged', client.current, client);
        }
      }
      this.log.info(`server for ${folder.name} is running`);
    } catch (err) {
      if (client) {
        this.clients.delete(key);
        await client.dispose();
      }
      const message = err instanceof ServerStartError ? err.message : startFailureMessage(server?.command, errorText(err));
      this.log.error(message);
      this.showFailureOnce(message, err instanceof ServerStartError && err.installable);
    }
    this.changed();
  }

  /** Several folders may fail for the same reason: one notification, with the fix and the log. */
  private showFailureOnce(message: string, installable: boolean): void {
    if (this.failureShown) return;
    this.failureShown = true;
    const actions = [...(installable ? ['Install Server'] : []), 'Open Settings', 'Show Log'];
    void vscode.window.showErrorMessage(message, ...actions).then((choice) => {
      if (choice === 'Install Server') void vscode.commands.executeCommand('aiSession.installServer');
      if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'aiSession.serverCommand');
      if (choice === 'Show Log') this.log.show();
    });
  }

  async stopFolder(folder: vscode.WorkspaceFolder): Promise<void> {
    const key = folder.uri.toString();
    const client = this.clients.get(key);
    this.clients.delete(key);
    await client?.dispose();
    this.changed();
  }

  async restart(): Promise<void> {
    const folders = [...this.clients.values()].map((c) => c.folder);
    await Promise.all(folders.map((f) => this.stopFolder(f)));
    this.failureShown = false;
    await this.startAll();
  }

  /**
   * Settings changed (maybe in another window, maybe to the same values): restart a folder's
   * server only when what it would be started with differs, and never swap a healthy server
   * for one that cannot start.
   */
  async settingsChanged(): Promise<void> {
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const running = this.clients.get(folder.uri.toString());
      let next: ResolvedServer;
      try {
        next = await resolveServer(folder, getSettings(folder), this.extension, this.log);
      } catch (err) {
        if (running) {
          this.log.warn(`settings changed, but ${errorText(err)}; the running server of ${folder.name} is kept`);
          continue;
        }
        await this.startFolder(folder);
        continue;
      }
      if (running && sameServer(running.server, next) && running.settings.autoAttach === getSettings(folder).autoAttach) continue;
      this.log.info(`server settings of ${folder.name} changed; restarting its server`);
      await this.stopFolder(folder);
      await this.startFolder(folder, next);
    }
  }

  private changed(): void {
    void vscode.commands.executeCommand('setContext', 'aiSession.ready', this.clients.size > 0);
    this.onClientsChanged.fire();
  }

  // ---------------------------------------------------------------- picking a client

  /** Any running client: all of them share one store, so lists and by-id requests agree. */
  primary(): SessionClient | undefined {
    for (const f of vscode.workspace.workspaceFolders ?? []) {
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
  forSession(summary: SessionSummary | undefined): SessionClient {
    const tree = summary?.session.worktree;
    if (tree) {
      for (const c of this.clients.values()) if (c.current?.worktree === tree) return c;
    }
    return this.requireClient();
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
    for (const c of this.clients.values()) void c.dispose();
    this.clients.clear();
    this.handlers.clear();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
