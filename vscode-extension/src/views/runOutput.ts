// A run's output as a read-only document: `ai-session-run:/<runId>/<label>?mode=context|raw`.
// The server produces both forms (context = compressed, raw = as printed); we only show them.
import * as vscode from 'vscode';
import { AiSessionContext } from '../context';
import { Requests } from '../protocol.generated';

export const RUN_SCHEME = 'ai-session-run';
export type OutputMode = 'context' | 'raw';

export function runUri(runId: string, command: string, mode: OutputMode): vscode.Uri {
  const label = command.split('\n')[0].replace(/[^\w.-]+/g, '_').slice(0, 40) || 'output';
  return vscode.Uri.from({ scheme: RUN_SCHEME, path: `/${runId}/${label}.${mode}.txt`, query: `mode=${mode}` });
}

export function parseRunUri(uri: vscode.Uri): { runId: string; mode: OutputMode } {
  const runId = uri.path.split('/')[1] ?? '';
  const mode = new URLSearchParams(uri.query).get('mode') === 'raw' ? 'raw' : 'context';
  return { runId, mode };
}

export class RunOutputProvider implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly ctx: AiSessionContext) {
    ctx.onRunFinished.event((e) => {
      for (const doc of vscode.workspace.textDocuments) {
        if (doc.uri.scheme === RUN_SCHEME && parseRunUri(doc.uri).runId === e.run.id) this.changed.fire(doc.uri);
      }
    });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const { runId, mode } = parseRunUri(uri);
    const client = this.ctx.primary();
    if (!client) return 'The ai-session server is not running.';
    try {
      const result = await client.request(Requests.runOutput, { runId, mode });
      const r = result.run;
      const head = `# ${r.command}\n# ${mode === 'raw' ? 'raw output' : 'context form (what the agent gets)'} · ${r.status ?? 'running'}` +
        `${r.exitCode !== null && r.exitCode !== undefined ? ` · exit ${r.exitCode}` : ''}` +
        `${r.rawTruncated && mode === 'raw' ? ' · truncated when stored' : ''}\n\n`;
      return head + result.text;
    } catch (err) {
      return `Could not get the output of run ${runId}: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
}
