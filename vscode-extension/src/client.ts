// One language client per workspace folder: its server knows that folder's worktree and
// current session. Everything the server pushes is re-emitted as typed vscode events.
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  LanguageClientOptions,
  NotificationType,
  RequestType,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import {
  AnswerChunk,
  CurrentSessionChanged,
  Notifications,
  RunFinished,
  RunOutput,
  SessionsChanged,
  StatsChanged,
  TerminalClosed,
  TerminalOutput,
} from './protocol.generated';
import { ResolvedServer } from './server';
import { Settings } from './settings';

export class SessionClient implements vscode.Disposable {
  private readonly client: LanguageClient;
  private readonly disposables: vscode.Disposable[] = [];
  /** Last known current session of this folder's worktree (from currentSessionChanged). */
  current: CurrentSessionChanged | undefined;

  readonly onSessionsChanged = this.emitter<SessionsChanged>();
  readonly onCurrentSessionChanged = this.emitter<CurrentSessionChanged>();
  readonly onRunOutput = this.emitter<RunOutput>();
  readonly onRunFinished = this.emitter<RunFinished>();
  readonly onTerminalOutput = this.emitter<TerminalOutput>();
  readonly onTerminalClosed = this.emitter<TerminalClosed>();
  readonly onAnswerChunk = this.emitter<AnswerChunk>();
  readonly onStatsChanged = this.emitter<StatsChanged>();

  constructor(
    readonly folder: vscode.WorkspaceFolder,
    server: ResolvedServer,
    settings: Settings,
    log: vscode.LogOutputChannel,
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
    this.forward(Notifications.sessionsChanged, this.onSessionsChanged);
    this.forward(Notifications.currentSessionChanged, this.onCurrentSessionChanged);
    this.forward(Notifications.runOutput, this.onRunOutput);
    this.forward(Notifications.runFinished, this.onRunFinished);
    this.forward(Notifications.terminalOutput, this.onTerminalOutput);
    this.forward(Notifications.terminalClosed, this.onTerminalClosed);
    this.forward(Notifications.answerChunk, this.onAnswerChunk);
    this.forward(Notifications.statsChanged, this.onStatsChanged);
    this.disposables.push(this.onCurrentSessionChanged.event((c) => (this.current = c)));
  }

  private readonly restarts: number[] = [];

  /** Restart a crashed server, but not in a loop: at most 3 times in 3 minutes, and never before it ever ran. */
  private onClosed(): { action: CloseAction; message?: string } {
    const now = Date.now();
    while (this.restarts.length && now - this.restarts[0] > 180_000) this.restarts.shift();
    if (!this.everRan || this.restarts.length >= 3) {
      return { action: CloseAction.DoNotRestart, message: 'The ai-session server stopped. See "AI Session: Show Log", then run "AI Session: Restart Server".' };
    }
    this.restarts.push(now);
    return { action: CloseAction.Restart, message: 'The ai-session server stopped; restarting it.' };
  }

  private everRan = false;

  private emitter<T>(): vscode.EventEmitter<T> {
    const e = new vscode.EventEmitter<T>();
    this.disposables.push(e);
    return e;
  }

  private forward<T>(type: NotificationType<T>, emitter: vscode.EventEmitter<T>): void {
    this.disposables.push(this.client.onNotification(type, (params: T) => emitter.fire(params)));
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
