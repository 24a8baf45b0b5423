// One language client per workspace folder: its server knows that folder's worktree and
// current session. Every notification the server pushes goes to one dispatch function,
// keyed by the generated notification table.
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  LanguageClientOptions,
  RequestType,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import { CurrentSessionChanged, HostStatus, NOTIFICATION_METHODS, NotificationMethod, NotificationParams } from './protocol.generated';
import { ResolvedServer } from './server';
import { Settings } from './settings';

export type Dispatch = <M extends NotificationMethod>(method: M, params: NotificationParams[M], client: SessionClient) => void;

/** What a person is told about the connection: a crash is never silent. */
export type Health = 'running' | 'reconnecting' | 'reconnected' | 'stopped';
/** Whose restart: this window's server (terminals attach again) or the session host behind it. */
export type HealthCause = 'server' | 'host';

export class SessionClient implements vscode.Disposable {
  private readonly client: LanguageClient;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly restarts: number[] = [];
  private everRan = false;
  private restarting = false;
  /** Last known current session of this folder's worktree (from currentSessionChanged). */
  current: CurrentSessionChanged | undefined;

  constructor(
    readonly folder: vscode.WorkspaceFolder,
    /** What this server was started with: a settings change restarts it only if this differs. */
    readonly server: ResolvedServer,
    readonly settings: Settings,
    log: vscode.LogOutputChannel,
    dispatch: Dispatch,
    onHealth: (client: SessionClient, health: Health, cause?: HealthCause) => void,
  ) {
    const serverOptions: ServerOptions = {
      command: server.command.command,
      args: server.command.args,
      options: { cwd: folder.uri.fsPath, env: server.env },
    };
    const clientOptions: LanguageClientOptions = {
      // No documents: the server is about sessions; diagnostics it publishes still reach Problems.
      documentSelector: [],
      workspaceFolder: folder,
      outputChannel: log,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      diagnosticCollectionName: 'ai-session',
      initializationOptions: { autoAttach: settings.autoAttach },
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue }),
        closed: () => this.onClosed(),
      },
    };
    this.client = new LanguageClient('aiSession', `AI Session (${folder.name})`, serverOptions, clientOptions);
    for (const method of NOTIFICATION_METHODS) {
      this.disposables.push(
        this.client.onNotification(method, (params: NotificationParams[typeof method]) => {
          if (method === 'aiSession/currentSessionChanged') this.current = params as CurrentSessionChanged;
          // The session host (it owns the shells) was killed and replaced: told as a restarted
          // server is; the server keeps this window's terminals attached.
          if (method === 'aiSession/hostStatus') {
            const { state } = params as HostStatus;
            if (state === 'reconnecting' || state === 'reconnected') onHealth(this, state, 'host');
          }
          dispatch(method, params, this);
        }),
      );
    }
    this.disposables.push(
      this.client.onDidChangeState((e) => {
        if (e.newState === State.Starting && this.restarting) onHealth(this, 'reconnecting');
        if (e.newState === State.Running && this.restarting) {
          this.restarting = false;
          onHealth(this, 'reconnected');
        }
        if (e.newState === State.Stopped && !this.restarting && this.everRan) onHealth(this, 'stopped');
      }),
    );
  }

  /** Restart a crashed server, but not in a loop: at most 3 times in 3 minutes, and never before it ever ran. */
  private onClosed(): { action: CloseAction; message?: string; handled: boolean } {
    const now = Date.now();
    while (this.restarts.length && now - this.restarts[0] > 180_000) this.restarts.shift();
    if (!this.everRan || this.restarts.length >= 3) {
      this.restarting = false;
      return { action: CloseAction.DoNotRestart, message: 'The ai-session server stopped. See "AI Session: Show Log", then run "AI Session: Restart Server".', handled: false };
    }
    this.restarts.push(now);
    this.restarting = true;
    // Handled: the status bar says "reconnecting…" and "reconnected" instead of a pop-up.
    return { action: CloseAction.Restart, handled: true };
  }

  get running(): boolean {
    return this.client.state === State.Running;
  }

  async start(): Promise<void> {
    await this.client.start();
    this.everRan = true;
  }

  request<P, R>(type: RequestType<P, R, void>, params: P, token?: vscode.CancellationToken): Promise<R> {
    return this.client.sendRequest(type, params, token);
  }

  async dispose(): Promise<void> {
    for (const d of this.disposables.splice(0)) d.dispose();
    if (this.client.state !== State.Stopped) {
      await this.client.stop(5000).catch(() => undefined);
    }
  }
}
