// A run's output as a read-only document: `ai-session-run:/<runId>/<label>.<mode>.txt?mode=context|raw`.
// The server produces both forms (context = what the agent gets; raw = as printed, here without
// ANSI escapes, as a pipe would have received it); we only show them, side by side in a diff.
import * as vscode from 'vscode';
import { AiSessionContext } from '../context';
import { CommandRun, Requests } from '../protocol.generated';

export const RUN_SCHEME = 'ai-session-run';
export type OutputMode = 'context' | 'raw';
/** Lines above the output in each document: the command, the form, a blank line. */
export const HEADER_LINES = 3;

export function runUri(runId: string, command: string, mode: OutputMode): vscode.Uri {
  const label = command.split('\n')[0].replace(/[^\w.-]+/g, '_').slice(0, 40) || 'output';
  return vscode.Uri.from({ scheme: RUN_SCHEME, path: `/${runId}/${label}.${mode}.txt`, query: `mode=${mode}` });
}

export function parseRunUri(uri: vscode.Uri): { runId: string; mode: OutputMode } {
  const runId = uri.path.split('/')[1] ?? '';
  const mode = new URLSearchParams(uri.query).get('mode') === 'raw' ? 'raw' : 'context';
  return { runId, mode };
}

/** What the agent sees beside what you saw: raw output (left) against its context form (right). */
export async function showRunDiff(run: Pick<CommandRun, 'id' | 'command'>): Promise<void> {
  const id = run.id ?? '';
  await vscode.commands.executeCommand(
    'vscode.diff',
    runUri(id, run.command, 'raw'),
    runUri(id, run.command, 'context'),
    `${run.command.split('\n')[0].slice(0, 50)}: raw ↔ what the agent sees`,
    { preview: true },
  );
}

export class RunOutputProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly subs: vscode.Disposable[];
  /** The runs of the documents shown, for "pin this line" (it needs the run's session). */
  readonly runs = new Map<string, CommandRun>();

  constructor(private readonly ctx: AiSessionContext) {
    this.subs = [
      this.changed,
      ctx.onNotification('aiSession/runFinished', (e) => {
        for (const doc of vscode.workspace.textDocuments) {
          if (doc.uri.scheme === RUN_SCHEME && parseRunUri(doc.uri).runId === e.run.id) this.changed.fire(doc.uri);
        }
      }),
    ];
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const { runId, mode } = parseRunUri(uri);
    const client = this.ctx.primary();
    if (!client) return 'The ai-session server is not running.';
    try {
      const result = await client.request(Requests.runOutput, { runId, mode, plain: mode === 'raw' });
      const r = result.run;
      if (r.id) this.runs.set(r.id, r);
      const head = `# ${r.command.replace(/\n/g, ' ⏎ ')}\n# ${mode === 'raw' ? 'raw output (colours removed)' : 'context form (what the agent gets)'} · ${r.status ?? 'running'}` +
        `${r.exitCode !== null && r.exitCode !== undefined ? ` · exit ${r.exitCode}` : ''}` +
        `${r.rawTruncated && mode === 'raw' ? ' · truncated when stored' : ''}\n\n`;
      return head + result.text;
    } catch (err) {
      return `Could not get the output of run ${runId}: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  dispose(): void {
    for (const d of this.subs.splice(0)) d.dispose();
  }
}
