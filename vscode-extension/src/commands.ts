// Every palette and tree action. Each command resolves its session (tree item, else the current
// session, else a pick), sends one request, and lets the server's notifications update the views.
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { AiSessionContext } from './context';
import { formatCost, formatSavings, sessionDescription } from './model/format';
import { Requests, SessionSummary, StatsRow } from './protocol.generated';
import { getSettings } from './settings';
import { Terminals } from './terminal';
import { ContextPanel } from './views/contextPanel';
import { parseRunUri, RUN_SCHEME, runUri } from './views/runOutput';
import { Node, SessionsTree } from './views/sessionsTree';

type Handler = (...args: unknown[]) => unknown;

function isNode(x: unknown): x is Node {
  return typeof x === 'object' && x !== null && 'kind' in x;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function registerCommands(ctx: AiSessionContext, tree: SessionsTree, terminals: Terminals): vscode.Disposable[] {
  const answers = vscode.window.createOutputChannel('AI Session Answers', 'markdown');
  let lastCommand = '';

  async function pickSession(arg: unknown, placeHolder: string): Promise<SessionSummary | undefined> {
    if (isNode(arg) && (arg.kind === 'session' || arg.kind === 'run' || arg.kind === 'more')) return arg.summary;
    const current = ctx.active()?.current?.summary;
    if (current) return current;
    return pickFromList(placeHolder);
  }

  async function pickFromList(placeHolder: string, exclude: Set<string> = new Set()): Promise<SessionSummary | undefined> {
    const client = ctx.requireClient();
    const sessions = (await client.request(Requests.sessionsList, {})).sessions.filter((s) => !exclude.has(s.session.id ?? ''));
    if (sessions.length === 0) {
      void vscode.window.showInformationMessage('AI Session: there are no sessions yet. Run "AI Session: Attach Worktree Session" or "AI Session: Create Session".');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      sessions.map((s) => ({ label: s.session.name, description: sessionDescription(s), detail: s.session.worktree ?? undefined, s })),
      { placeHolder, matchOnDescription: true, matchOnDetail: true },
    );
    return picked?.s;
  }

  const ref = (s: SessionSummary): string => s.session.id ?? s.session.name;

  const commands: Record<string, Handler> = {
    'aiSession.attachWorktree': async () => {
      const client = ctx.requireClient();
      const r = await client.request(Requests.worktreeAttach, { path: client.folder.uri.fsPath });
      void vscode.window.showInformationMessage(`AI Session: ${r.created ? 'created' : 'attached'} ${r.summary.session.name} (${r.branch ?? 'detached'}).`);
    },
    'aiSession.create': async () => {
      const client = ctx.requireClient();
      const name = await vscode.window.showInputBox({ prompt: 'Name of the new session (empty: generated)', placeHolder: 'e.g. fix-login' });
      if (name === undefined) return;
      const agent = await vscode.window.showInputBox({ prompt: 'Agent (optional)', placeHolder: 'e.g. claude' });
      if (agent === undefined) return;
      const s = await client.request(Requests.sessionsCreate, {
        name: name || null,
        agent: agent || null,
        worktree: client.folder.uri.fsPath,
        provider: getSettings(client.folder).provider,
        maxTokens: getSettings(client.folder).maxTokens,
      });
      void vscode.window.showInformationMessage(`AI Session: created ${s.session.name}.`);
    },
    'aiSession.exec': async (arg?: unknown, command?: unknown) => {
      const summary = await pickSession(arg, 'Session to run the command in');
      if (!summary) return;
      const text = typeof command === 'string' ? command : await vscode.window.showInputBox({
        prompt: `Command to run in ${summary.session.name}'s shell (cwd and env persist between commands)`,
        value: lastCommand,
        placeHolder: 'e.g. python -m pytest -q',
      });
      if (!text) return;
      lastCommand = text;
      const client = ctx.forSession(summary) ?? ctx.requireClient();
      const pty = terminals.runTerminal(client, summary);
      await pty.run(text);
    },
    'aiSession.attachTerminal': async (arg?: unknown) => {
      const summary = await pickSession(arg, 'Session whose shell to attach');
      if (!summary) return;
      terminals.attach(ctx.forSession(summary) ?? ctx.requireClient(), summary);
    },
    'aiSession.ask': async (arg?: unknown) => {
      const summary = await pickSession(arg, 'Session to ask in');
      if (!summary) return;
      const prompt = await vscode.window.showInputBox({ prompt: `Ask in ${summary.session.name}`, placeHolder: 'Your question for the agent' });
      if (!prompt) return;
      const client = ctx.forSession(summary) ?? ctx.requireClient();
      const askId = `ask-${Date.now().toString(36)}`;
      answers.show(true);
      answers.appendLine(`\n## ${summary.session.name}\n\n> ${prompt.replace(/\n/g, '\n> ')}\n`);
      let streamed = false;
      const sub = ctx.onAnswerChunk.event((c) => {
        if (c.askId !== askId) return;
        streamed = true;
        answers.append(c.text);
      });
      try {
        const result = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Window, title: `AI Session: asking ${summary.session.name}` },
          () => client.request(Requests.ask, { session: ref(summary), prompt, askId, provider: getSettings(client.folder).provider }),
        );
        if (!streamed) answers.append(result.text);
        const u = result.usage;
        answers.appendLine(`\n\n_${result.model ?? 'model'}${u ? ` · ${u.inputTokens ?? 0} in / ${u.outputTokens ?? 0} out · ${formatCost(u.costUsd)}` : ''}${result.note ? ` · ${result.note}` : ''}_`);
      } finally {
        sub.dispose();
      }
    },
    'aiSession.pause': async (arg?: unknown) => {
      const s = await pickSession(arg, 'Session to pause');
      if (s) await ctx.requireClient().request(Requests.sessionsPause, { session: ref(s) });
    },
    'aiSession.resume': async (arg?: unknown) => {
      const s = await pickSession(arg, 'Session to resume');
      if (s) await ctx.requireClient().request(Requests.sessionsResume, { session: ref(s) });
    },
    'aiSession.end': async (arg?: unknown) => {
      const s = await pickSession(arg, 'Session to end');
      if (s) await ctx.requireClient().request(Requests.sessionsEnd, { session: ref(s) });
    },
    'aiSession.rename': async (arg?: unknown) => {
      const s = await pickSession(arg, 'Session to rename');
      if (!s) return;
      const newName = await vscode.window.showInputBox({ prompt: `New name for ${s.session.name}`, value: s.session.name });
      if (newName && newName !== s.session.name) await ctx.requireClient().request(Requests.sessionsRename, { session: ref(s), newName });
    },
    'aiSession.delete': async (arg?: unknown, selected?: unknown) => {
      const chosen = Array.isArray(selected) && selected.length > 1
        ? selected.filter(isNode).flatMap((n) => (n.kind === 'session' ? [n.summary] : []))
        : [await pickSession(arg, 'Session to delete')].filter((s): s is SessionSummary => !!s);
      if (chosen.length === 0) return;
      const names = chosen.map((s) => s.session.name).join(', ');
      const answer = await vscode.window.showWarningMessage(
        `Delete ${names}? Its messages, command runs and raw outputs are removed for good.`,
        { modal: true },
        'Delete',
      );
      if (answer !== 'Delete') return;
      for (const s of chosen) await ctx.requireClient().request(Requests.sessionsDelete, { session: ref(s) });
    },
    'aiSession.export': async (arg?: unknown) => {
      const s = await pickSession(arg, 'Session to export');
      if (!s) return;
      const target = await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.file(path.join(os.homedir(), `${s.session.name}.ai-session.json`)),
        filters: { 'ai-session export': ['json'] },
        title: `Export ${s.session.name}`,
      });
      if (!target) return;
      const r = await ctx.requireClient().request(Requests.sessionsExport, { session: ref(s), path: target.fsPath });
      const open = await vscode.window.showInformationMessage(`AI Session: exported ${s.session.name} to ${r.path} (secrets redacted).`, 'Open');
      if (open) await vscode.window.showTextDocument(vscode.Uri.file(r.path));
    },
    'aiSession.import': async () => {
      const files = await vscode.window.showOpenDialog({
        canSelectMany: false,
        filters: { 'Session files': ['json', 'jsonl'] },
        title: 'Import an ai-session export, a ChannelCoder session or a Claude Code transcript',
      });
      if (!files?.[0]) return;
      const s = await ctx.requireClient().request(Requests.sessionsImport, { path: files[0].fsPath });
      void vscode.window.showInformationMessage(`AI Session: imported ${s.session.name}.`);
    },
    'aiSession.merge': async (arg?: unknown, selected?: unknown) => {
      let chosen = Array.isArray(selected) ? selected.filter(isNode).flatMap((n) => (n.kind === 'session' ? [n.summary] : [])) : [];
      if (chosen.length < 2) {
        const client = ctx.requireClient();
        const sessions = (await client.request(Requests.sessionsList, {})).sessions;
        const first = isNode(arg) && arg.kind === 'session' ? arg.summary.session.id : undefined;
        const picked = await vscode.window.showQuickPick(
          sessions.map((s) => ({ label: s.session.name, description: sessionDescription(s), picked: s.session.id === first, s })),
          { canPickMany: true, placeHolder: 'Sessions to merge into a new one (two or more)' },
        );
        chosen = (picked ?? []).map((p) => p.s);
      }
      if (chosen.length < 2) return;
      const name = await vscode.window.showInputBox({ prompt: 'Name of the merged session (empty: generated)' });
      if (name === undefined) return;
      const s = await ctx.requireClient().request(Requests.sessionsMerge, { sessions: chosen.map(ref), name: name || null });
      void vscode.window.showInformationMessage(`AI Session: merged into ${s.session.name}.`);
    },
    'aiSession.fork': async (arg?: unknown) => {
      const s = await pickSession(arg, 'Session to fork');
      if (!s) return;
      const name = await vscode.window.showInputBox({ prompt: `Name of the fork of ${s.session.name} (empty: generated)` });
      if (name === undefined) return;
      const f = await ctx.requireClient().request(Requests.sessionsFork, { session: ref(s), name: name || null });
      void vscode.window.showInformationMessage(`AI Session: forked ${s.session.name} as ${f.session.name}.`);
    },
    'aiSession.openRun': async (arg?: unknown) => {
      if (isNode(arg) && arg.kind === 'run' && arg.run.id) {
        await vscode.window.showTextDocument(runUri(arg.run.id, arg.run.command, 'context'), { preview: true });
      }
    },
    'aiSession.openRunRaw': async (arg?: unknown) => {
      if (isNode(arg) && arg.kind === 'run' && arg.run.id) {
        await vscode.window.showTextDocument(runUri(arg.run.id, arg.run.command, 'raw'), { preview: true });
      }
    },
    'aiSession.toggleRunOutput': async () => {
      const uri = vscode.window.activeTextEditor?.document.uri;
      if (uri?.scheme !== RUN_SCHEME) return;
      const { runId, mode } = parseRunUri(uri);
      const label = path.basename(uri.path).replace(/\.(context|raw)\.txt$/, '');
      await vscode.window.showTextDocument(runUri(runId, label, mode === 'raw' ? 'context' : 'raw'), { preview: true });
    },
    'aiSession.cancelRun': async (arg?: unknown) => {
      if (isNode(arg) && arg.kind === 'run' && arg.run.id) await ctx.requireClient().request(Requests.runCancel, { runId: arg.run.id });
    },
    'aiSession.showContext': async () => {
      await vscode.commands.executeCommand(`${ContextPanel.viewId}.focus`);
    },
    'aiSession.showStats': async () => {
      const stats = await ctx.requireClient().request(Requests.statsGet, { groupBy: 'session', savings: true });
      const row = (r: StatsRow): string =>
        `| ${r.key} | ${r.messages} | ${r.commands} | ${r.rawTokens} | ${r.contextTokens} | ${formatSavings(r.savings) || '—'} | ${formatSavings(r.historySavings) || '—'} | ${formatCost(r.costUsd)} |`;
      const md = [
        '# AI Session stats',
        '',
        '| session | messages | commands | raw tokens | context tokens | output savings | history savings | cost |',
        '|---|---:|---:|---:|---:|---:|---:|---:|',
        ...stats.rows.map(row),
        row({ ...stats.total, key: '**total**' }),
      ].join('\n');
      const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: md });
      await vscode.commands.executeCommand('markdown.showPreview', doc.uri).then(undefined, () => vscode.window.showTextDocument(doc));
    },
    'aiSession.validate': async () => {
      const client = ctx.requireClient();
      const r = await client.request(Requests.storeValidate, {});
      if (r.problems.length === 0) {
        void vscode.window.showInformationMessage('AI Session: the store is consistent.');
        return;
      }
      ctx.log.warn(r.problems.map((p) => `${p.sessionId ?? '-'}: ${p.what}${p.fixable ? ' (fixable)' : ''}`).join('\n'));
      const fixable = r.problems.filter((p) => p.fixable).length;
      const choice = await vscode.window.showWarningMessage(
        `AI Session: ${r.problems.length} problem(s) in the store, ${fixable} fixable (details in the log).`,
        ...(fixable ? ['Repair'] : []),
        'Show Log',
      );
      if (choice === 'Show Log') ctx.log.show();
      if (choice === 'Repair') {
        const fixed = await client.request(Requests.storeValidate, { repair: true });
        void vscode.window.showInformationMessage(`AI Session: repaired ${fixed.problems.filter((p) => p.fixed).length} problem(s).`);
      }
    },
    'aiSession.refresh': () => tree.refresh(),
    'aiSession.restartServer': () => ctx.restart(),
    'aiSession.showLog': () => ctx.log.show(),
  };

  // Every command reports a failure once, as a message with the server's own words.
  return [
    answers,
    ...Object.entries(commands).map(([id, handler]) =>
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await handler(...args);
        } catch (err) {
          ctx.log.error(`${id} failed: ${errorText(err)}`);
          void vscode.window.showErrorMessage(`AI Session: ${errorText(err)}`);
          return undefined;
        }
      }),
    ),
  ];
}
