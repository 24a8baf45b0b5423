// The status bar item of the current worktree session: name, next-context tokens against the
// budget, savings; warning colour over budget; hidden when there is no session.
import * as vscode from 'vscode';
import { AiSessionContext } from './context';
import { figuresFromStats, figuresFromSummary, isOverBudget, StatusFigures, statusBarText, statusBarTooltip } from './model/format';
import { Requests } from './protocol.generated';
import { getSettings } from './settings';

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: AiSessionContext) {
    this.item = vscode.window.createStatusBarItem('aiSession.status', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'AI Session';
    this.item.command = 'aiSession.showContext';
    this.disposables.push(
      this.item,
      ctx.onCurrentSessionChanged.event(() => this.refresh()),
      ctx.onClientsChanged.event(() => this.refresh()),
      ctx.onSessionsChanged.event(() => this.refresh()),
      ctx.onStatsChanged.event((stats) => {
        if (stats.sessionId === this.ctx.active()?.current?.summary?.session.id) this.show(figuresFromStats(stats));
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.refresh()),
    );
  }

  refresh(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.update(), 100);
  }

  /** Current summary from the server, then the size of the next context when the server can tell. */
  private async update(): Promise<void> {
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
      const context = await client.request(Requests.contextGet, { session: summary.session.id, maxTokens, withItems: false });
      figures.contextTokens = context.tokens;
      figures.budget = context.budget;
    } catch (err) {
      this.ctx.log.debug(`context/get for the status bar failed: ${String(err)}`);
    }
    this.show(figures);
  }

  private show(f: StatusFigures): void {
    this.item.text = statusBarText(f);
    const tooltip = new vscode.MarkdownString(statusBarTooltip(f), true);
    this.item.tooltip = tooltip;
    this.item.backgroundColor = isOverBudget(f) ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.accessibilityInformation = { label: `AI Session ${f.sessionName}: ${f.contextTokens ?? 'unknown'} of ${f.budget} tokens` };
    this.item.show();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
