// The answers pane: a webview beside the editor where asks and their streamed answers appear,
// and where a failed ask says why with the actions that fix it (no dead-end toast).
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { AiSessionContext } from '../context';
import { Exchange, renderAnswersHtml } from '../model/answersHtml';

const KEEP = 20;

export class AnswersPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly exchanges: Exchange[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly subs: vscode.Disposable[];

  constructor(ctx: AiSessionContext) {
    this.subs = [
      ctx.onNotification('aiSession/answerChunk', (c) => {
        const x = this.exchanges.find((e) => e.askId === c.askId);
        if (!x) return;
        x.answer += c.text;
        this.render();
      }),
    ];
  }

  /** A new exchange, shown at once with its prompt; returns it for the caller to complete. */
  start(askId: string, session: string, prompt: string): Exchange {
    const x: Exchange = { askId, session, prompt, answer: '' };
    this.exchanges.push(x);
    this.exchanges.splice(0, Math.max(0, this.exchanges.length - KEEP));
    this.show();
    return x;
  }

  update(): void {
    this.render();
  }

  private show(): void {
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel('aiSession.answers', 'AI Session Answers', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
        enableScripts: false,
        enableCommandUris: ['aiSession.chooseProvider', 'aiSession.storeApiKey', 'aiSession.openConfig'],
      });
      this.panel.onDidDispose(() => (this.panel = undefined));
    } else {
      this.panel.reveal(undefined, true);
    }
    this.render(0);
  }

  /** Coalesce a stream of chunks into a few redraws. */
  private render(delay = 60): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.panel) return;
      const nonce = randomBytes(16).toString('base64');
      this.panel.webview.html = renderAnswersHtml(this.exchanges, nonce, this.panel.webview.cspSource);
    }, delay);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.panel?.dispose();
    for (const d of this.subs.splice(0)) d.dispose();
  }
}
