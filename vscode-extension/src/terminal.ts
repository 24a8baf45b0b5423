// Terminals on a session's shell, both as VS Code Pseudoterminals fed by the server:
// - SessionTerminal: interactive, `terminal/attach` + input/resize/detach.
// - RunTerminal: shows commands run with "Run Command in Session" as they stream; Ctrl+C cancels.
import * as vscode from 'vscode';
import { SessionClient } from './client';
import { AiSessionContext } from './context';
import { runDescription } from './model/format';
import { Requests, SessionSummary } from './protocol.generated';

/** xterm wants CRLF; the server sends what the PTY printed, but our own lines need it. */
function line(text: string): string {
  return text.replace(/\r?\n/g, '\r\n') + '\r\n';
}

export class SessionTerminal implements vscode.Pseudoterminal {
  private readonly output = new vscode.EventEmitter<string>();
  private readonly ended = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.output.event;
  readonly onDidClose = this.ended.event;
  private terminalId: string | undefined;
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly ctx: AiSessionContext, private readonly client: SessionClient, private readonly session: string) {}

  async open(dims: vscode.TerminalDimensions | undefined): Promise<void> {
    this.subs.push(
      this.ctx.onTerminalOutput.event((e) => e.terminalId === this.terminalId && this.output.fire(e.data)),
      this.ctx.onTerminalClosed.event((e) => {
        if (e.terminalId !== this.terminalId) return;
        this.output.fire(line(`\r\n[ai-session] terminal closed: ${e.reason}`));
        this.terminalId = undefined;
        this.ended.fire();
      }),
    );
    try {
      const r = await this.client.request(Requests.terminalAttach, { session: this.session, cols: dims?.columns ?? 80, rows: dims?.rows ?? 24 });
      this.terminalId = r.terminalId;
    } catch (err) {
      this.output.fire(line(`[ai-session] could not attach: ${err instanceof Error ? err.message : String(err)}`));
    }
  }

  handleInput(data: string): void {
    if (this.terminalId) void this.client.request(Requests.terminalInput, { terminalId: this.terminalId, data });
  }

  setDimensions(dims: vscode.TerminalDimensions): void {
    if (this.terminalId) void this.client.request(Requests.terminalResize, { terminalId: this.terminalId, cols: dims.columns, rows: dims.rows });
  }

  /** The user closed the terminal: detach; the session's shell keeps running. */
  close(): void {
    const id = this.terminalId;
    this.terminalId = undefined;
    if (id) void this.client.request(Requests.terminalDetach, { terminalId: id }).catch(() => undefined);
    for (const d of this.subs.splice(0)) d.dispose();
  }
}

export class RunTerminal implements vscode.Pseudoterminal {
  private readonly write = new vscode.EventEmitter<string>();
  readonly onDidWrite = this.write.event;
  private readonly subs: vscode.Disposable[] = [];
  private opened: Promise<void>;
  private markOpen!: () => void;
  /** Run currently streaming (learned from its first output chunk), for Ctrl+C. */
  private runningId: string | undefined;
  terminal: vscode.Terminal | undefined;

  constructor(ctx: AiSessionContext, private readonly client: SessionClient, readonly sessionId: string) {
    this.opened = new Promise((resolve) => (this.markOpen = resolve));
    this.subs.push(
      ctx.onRunOutput.event((e) => {
        if (e.sessionId !== this.sessionId) return;
        this.runningId = e.runId;
        this.write.fire(e.data);
      }),
      ctx.onRunFinished.event((e) => {
        if (e.run.sessionId !== this.sessionId) return;
        this.runningId = undefined;
        const problems = e.diagnosticsCount ? ` · ${e.diagnosticsCount} in Problems` : '';
        this.write.fire(line(`\r\n\x1b[2m[ai-session] ${runDescription(e.run)}${problems}\x1b[0m`));
      }),
    );
  }

  open(): void {
    this.markOpen();
  }

  close(): void {
    for (const d of this.subs.splice(0)) d.dispose();
    this.terminal = undefined;
  }

  handleInput(data: string): void {
    if (data === '\x03' && this.runningId) {
      this.write.fire('^C');
      void this.client.request(Requests.runCancel, { runId: this.runningId });
    }
  }

  /** Echo the command, then run it; the output arrives as runOutput notifications. */
  async run(command: string, token?: vscode.CancellationToken): Promise<void> {
    await this.opened;
    this.write.fire(line(`\x1b[1m$ ${command}\x1b[0m`));
    await this.client.request(Requests.exec, { session: this.sessionId, command, wait: true }, token);
  }

  get closed(): boolean {
    return this.terminal === undefined || this.terminal.exitStatus !== undefined;
  }
}

/** One run terminal per session, reused across commands. */
export class Terminals implements vscode.Disposable {
  private readonly runTerminals = new Map<string, RunTerminal>();

  constructor(private readonly ctx: AiSessionContext) {}

  attach(client: SessionClient, summary: SessionSummary): void {
    const pty = new SessionTerminal(this.ctx, client, summary.session.id ?? summary.session.name);
    const term = vscode.window.createTerminal({ name: `AI Session: ${summary.session.name}`, pty, iconPath: new vscode.ThemeIcon('hubot') });
    term.show();
  }

  runTerminal(client: SessionClient, summary: SessionSummary): RunTerminal {
    const id = summary.session.id ?? summary.session.name;
    let pty = this.runTerminals.get(id);
    if (!pty || pty.closed) {
      pty = new RunTerminal(this.ctx, client, id);
      pty.terminal = vscode.window.createTerminal({ name: `AI Session Runs: ${summary.session.name}`, pty, iconPath: new vscode.ThemeIcon('play') });
      this.runTerminals.set(id, pty);
    }
    pty.terminal?.show(true);
    return pty;
  }

  dispose(): void {
    for (const pty of this.runTerminals.values()) pty.terminal?.dispose();
    this.runTerminals.clear();
  }
}
