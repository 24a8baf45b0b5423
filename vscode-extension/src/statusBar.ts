// The status bar item of the current worktree session: name, next-context tokens against the
// budget, savings; warning colour over budget; hidden when there is no session. A stopped
// server shows "reconnecting…", then "reconnected", never nothing.
import * as vscode from 'vscode';
import { Health } from './client';
import { AiSessionContext } from './context';
import { figuresFromStats, figuresFromSummary, isOverBudget, StatusFigures, statusBarText, statusBarTooltip } from './model/format';
import { ContextPartInfo, Requests } from './protocol.generated';
import { getSettings } from './settings';

const RECONNECTED_MS = 4000;

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private health: Health = 'running';
  private healthTimer: NodeJS.Timeout | undefined;
  private parts: ContextPartInfo[] = [];

  constructor(private readonly ctx: AiSessionContext) {
    this.item = vscode.window.createStatusBarItem('aiSession.status', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'AI Session';
    this.item.command = 'aiSession.showContext';
    this.disposables.push(
      this.item,
      ctx.onNotification('aiSession/currentSessionChanged', () => this.refresh()),
      ctx.onClientsChanged.event(() => this.refresh()),
      ctx.onNotification('aiSession/sessionsChanged', () => this.refresh()),
      ctx.onNotification('aiSession/statsChanged', (stats) => {
        if (this.health === 'running' && stats.sessionId === this.ctx.active()?.current?.summary?.session.id) this.show(figuresFromStats(stats));
      }),
      ctx.onHealthChanged.event(({ health }) => this.setHealth(health)),
      vscode.window.onDidChangeActiveTextEditor(() => this.refresh()),
    );
  }

  private setHealth(health: Health): void {
    if (this.healthTimer) clearTimeout(this.healthTimer);
    this.health = health;
    this.item.backgroundColor = undefined;
    if (health === 'reconnecting') {
      this.item.text = '$(sync~spin) AI Session: reconnecting…';
      this.item.tooltip = 'The ai-session server stopped; it is being restarted.';
      this.item.show();
    } else if (health === 'reconnected') {
      this.item.text = '$(check) AI Session: reconnected';
      this.item.tooltip = 'The ai-session server was restarted; diagnostics were published again.';
      this.item.show();
      this.healthTimer = setTimeout(() => {
        this.health = 'running';
        this.refresh();
      }, RECONNECTED_MS);
    } else if (health === 'stopped') {
      this.item.text = '$(error) AI Session: server stopped';
      this.item.tooltip = 'Run "AI Session: Restart Server"; "AI Session: Show Log" says why it stopped.';
      this.item.command = 'aiSession.restartServer';
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
      this.item.show();
    }
  }

  refresh(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.update(), 100);
  }

  /** Current summary from the server, then the size of the next context, split by part. */
  private async update(): Promise<void> {
    if (this.health !== 'running') return;
    this.item.command = 'aiSession.showContext';
    const client = this.ctx.active();
    if (!client?.current?.summary) {
      this.item.hide();
      return;
    }
    const maxTokens = getSettings(client.folder).maxTokens;
    let summary = client.current.summary;
    try {
      const cur = await client.request(Requests.worktreeCurrent, {});
      if (!cur.summary) {
        this.item.hide();
        return;
      }
      summary = cur.summary;
    } catch (err) {
      this.ctx.log.warn(`worktree/current failed: ${String(err)}`);
    }
    const figures = figuresFromSummary(summary, maxTokens);
    try {
      const context = await client.request(Requests.contextGet, { maxTokens, withItems: false });  // the server's current session
      figures.contextTokens = context.tokens;
      figures.budget = context.budget;
      this.parts = context.parts;
    } catch (err) {
      this.ctx.log.debug(`context/get for the status bar failed: ${String(err)}`);
    }
    if (this.health === 'running') this.show(figures);
  }

  private show(f: StatusFigures): void {
    this.item.text = statusBarText(f);
    const tooltip = new vscode.MarkdownString(statusBarTooltip(f, this.parts), true);
    this.item.tooltip = tooltip;
    this.item.backgroundColor = isOverBudget(f) ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.accessibilityInformation = { label: `AI Session ${f.sessionName}: ${f.contextTokens ?? 'unknown'} of ${f.budget} tokens` };
    this.item.show();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.healthTimer) clearTimeout(this.healthTimer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
