// Terminals on a session's shell, both as VS Code Pseudoterminals fed by the server:
// - SessionTerminal: interactive, `terminal/attach` + input/resize/detach; re-attaches after
//   the server restarted.
// - RunTerminal: shows commands run with "Run Command in Session" as they stream; Ctrl+C cancels.
import * as vscode from 'vscode';
import { SessionClient } from './client';
import { AiSessionContext, errorText } from './context';
import { runDescription } from './model/format';
import { toTerminal } from './model/terminalText';
import { CommandRun, Requests, SessionSummary } from './protocol.generated';

/** One line of our own, dimmed, on a line of its own. */
function note(text: string): string {
  return toTerminal(`\r\n\x1b[2m[ai-session] ${text}\x1b[0m\n`);
}

export class SessionTerminal implements vscode.Pseudoterminal {
  private readonly output = new vscode.EventEmitter<string>();
  private readonly ended = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.output.event;
  readonly onDidClose = this.ended.event;
  private terminalId: string | undefined;
  private dims: vscode.TerminalDimensions | undefined;
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly ctx: AiSessionContext, private readonly client: SessionClient, private readonly session: string) {}

  async open(dims: vscode.TerminalDimensions | undefined): Promise<void> {
    this.dims = dims;
    this.subs.push(
      this.ctx.onNotification('aiSession/terminalOutput', (e) => e.terminalId === this.terminalId && this.output.fire(e.data)),
      this.ctx.onNotification('aiSession/terminalClosed', (e) => {
        if (e.terminalId !== this.terminalId) return;
        this.output.fire(note(`terminal closed: ${e.reason}`));
        this.terminalId = undefined;
        this.ended.fire();
      }),
      this.ctx.onHealthChanged.event(({ client, health, cause }) => {
        // A new session host: the server attaches this terminal to it and says so in it.
        if (client !== this.client || !this.terminalId || cause === 'host') return;
        if (health === 'reconnecting') this.output.fire(note('the server stopped; reconnecting…'));
        if (health === 'reconnected') {
          this.output.fire(note('reconnected; a new shell starts from the session\'s last saved directory and environment'));
          void this.attach();
        }
      }),
    );
    await this.attach();
  }

  private async attach(): Promise<void> {
    try {
      const r = await this.client.request(Requests.terminalAttach, { session: this.session, cols: this.dims?.columns ?? 80, rows: this.dims?.rows ?? 24 });
      this.terminalId = r.terminalId;
    } catch (err) {
      this.output.fire(note(`could not attach: ${errorText(err)}`));
    }
  }

  handleInput(data: string): void {
    if (this.terminalId) void this.client.request(Requests.terminalInput, { terminalId: this.terminalId, data }).catch(() => undefined);
  }

  setDimensions(dims: vscode.TerminalDimensions): void {
    this.dims = dims;
    if (this.terminalId) void this.client.request(Requests.terminalResize, { terminalId: this.terminalId, cols: dims.columns, rows: dims.rows }).catch(() => undefined);
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
  private readonly opened: Promise<void>;
  private markOpen!: () => void;
  /** Runs started here and not finished: known from the exec answer, before any output. */
  private readonly waiting = new Map<string, (run: CommandRun | undefined) => void>();
  private latest: string | undefined;
  terminal: vscode.Terminal | undefined;

  constructor(ctx: AiSessionContext, private readonly client: SessionClient, readonly sessionId: string) {
    this.opened = new Promise((resolve) => (this.markOpen = resolve));
    this.subs.push(
      // The server sends what the program printed with bare "\n"; xterm needs "\r\n".
      ctx.onNotification('aiSession/runOutput', (e) => {
        if (e.sessionId !== this.sessionId) return;
        this.write.fire(toTerminal(e.data));
        this.follow();
      }),
      ctx.onNotification('aiSession/runFinished', (e) => {
        if (e.run.sessionId !== this.sessionId) return;
        const problems = e.diagnosticsCount ? ` · ${e.diagnosticsCount} in Problems` : '';
        this.write.fire(note(`${runDescription(e.run)}${problems}`));
        this.follow();
        const done = e.run.id ? this.waiting.get(e.run.id) : undefined;
        if (done && e.run.id) {
          this.waiting.delete(e.run.id);
          done(e.run);
        }
      }),
      ctx.onHealthChanged.event(({ client, health }) => {
        if (client !== this.client || health !== 'reconnecting' || this.waiting.size === 0) return;
        this.write.fire(note('the server stopped: the running command was interrupted'));
        for (const done of this.waiting.values()) done(undefined);
        this.waiting.clear();
      }),
    );
  }

  open(): void {
    this.markOpen();
  }

  private following: NodeJS.Timeout | undefined;

  /**
   * Keep the view at the newest line: a terminal revealed from behind another panel view
   * (Problems) keeps its old scroll position in newer VS Code, hiding what just ran.
   */
  private follow(): void {
    if (this.following || vscode.window.activeTerminal !== this.terminal) return;
    this.following = setTimeout(() => {
      this.following = undefined;
      if (vscode.window.activeTerminal === this.terminal) void vscode.commands.executeCommand('workbench.action.terminal.scrollToBottom');
    }, 200);
  }

  close(): void {
    for (const d of this.subs.splice(0)) d.dispose();
    if (this.following) clearTimeout(this.following);
    this.terminal = undefined;
  }

  /** Ctrl+C stops the newest run started here, also before it printed anything. */
  handleInput(data: string): void {
    if (data === '\x03' && this.latest && this.waiting.has(this.latest)) {
      this.write.fire('^C');
      void this.client.request(Requests.runCancel, { runId: this.latest }).catch(() => undefined);
    }
  }

  /** Echo the command, start it (its run id comes back at once), and resolve when it ends. */
  async run(command: string): Promise<CommandRun | undefined> {
    await this.opened;
    this.write.fire(toTerminal(`\x1b[1m$ ${command}\x1b[0m\n`));
    const started = await this.client.request(Requests.exec, { session: this.sessionId, command });
    this.latest = started.runId;
    const behind = started.queuedBehind;
    if (behind) this.write.fire(note(`queued behind run ${behind.id ?? ''} (${behind.command}); it starts when that one ends`));
    return new Promise((resolve) => this.waiting.set(started.runId, resolve));
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
    const shared = summary.session.shareTerminal ? ' (shared with the agent)' : '';
    const pty = new SessionTerminal(this.ctx, client, summary.session.id ?? summary.session.name);
    const term = vscode.window.createTerminal({ name: `AI Session: ${summary.session.name}${shared}`, pty, iconPath: new vscode.ThemeIcon('hubot') });
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
