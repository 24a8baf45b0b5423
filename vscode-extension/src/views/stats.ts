// "Show Stats" as a read-only virtual document (previewed as markdown): closing it never asks
// to save, unlike an Untitled document.
import * as vscode from 'vscode';

export const STATS_SCHEME = 'ai-session-stats';

export class StatsDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private text = '';
  private readonly uri = vscode.Uri.from({ scheme: STATS_SCHEME, path: '/AI Session stats.md' });
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(STATS_SCHEME, this);

  /** Replace the document's text; returns its URI. */
  show(markdown: string): vscode.Uri {
    this.text = markdown;
    this.changed.fire(this.uri);
    return this.uri;
  }

  provideTextDocumentContent(): string {
    return this.text;
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}
