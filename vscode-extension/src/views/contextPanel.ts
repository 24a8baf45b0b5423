// The "Context" webview: the context the model gets next for the current session, re-fetched
// when the server says the session or its stats changed.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { AiSessionContext, errorKind, errorText } from '../context';
import { PanelState, renderContextHtml } from '../model/contextHtml';
import { Requests } from '../protocol.generated';
import { getSettings } from '../settings';

export class ContextPanel implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'aiSession.context';
  private view: vscode.WebviewView | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly ctx: AiSessionContext) {
    this.disposables.push(
      vscode.window.registerWebviewViewProvider(ContextPanel.viewId, this),
      ctx.onNotification('aiSession/currentSessionChanged', () => this.refresh()),
      ctx.onNotification('aiSession/statsChanged', () => this.refresh()),
      ctx.onNotification('aiSession/sessionsChanged', (e) => {
        const current = this.ctx.active()?.current?.summary?.session.id;
        if (e.changes.some((c) => !c.sessionId || c.sessionId === current)) this.refresh();
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.refresh()),
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = { enableScripts: false };
    view.onDidChangeVisibility(() => view.visible && this.refresh());
    view.onDidDispose(() => (this.view = undefined));
    this.render({ kind: 'empty', message: 'Loading…' });
    this.refresh();
  }

  refresh(): void {
    if (!this.view?.visible) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.update(), 150);
  }

  /** No session in the requests: the server answers for its current one (or says there is none). */
  private async update(): Promise<void> {
    const client = this.ctx.active();
    if (!client) {
      this.render({ kind: 'empty', message: 'No server. Open a folder in a git worktree.' });
      return;
    }
    try {
      const [result, detail] = await Promise.all([
        client.request(Requests.contextGet, { maxTokens: getSettings(client.folder).maxTokens, withItems: true }),
        client.request(Requests.sessionsGet, {}),
      ]);
      this.render({ kind: 'context', sessionName: result.sessionName, costUsd: detail.summary.totals.costUsd ?? 0, result });
    } catch (err) {
      // None current: the server's own words (they say how to attach one).
      this.render(errorKind(err) === 'NotFound' ? { kind: 'empty', message: errorText(err) } : { kind: 'error', message: `Could not get the context: ${errorText(err)}` });
    }
  }

  private render(state: PanelState): void {
    if (!this.view) return;
    const nonce = randomBytes(16).toString('base64');
    this.view.webview.html = renderContextHtml(state, nonce, this.view.webview.cspSource);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
