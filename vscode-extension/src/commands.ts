// Every palette and tree action, as a table of small functions (the shape of rust-analyzer's
// `createCommands`). A command's session is the tree item it was run on, else the one the
// server calls current (asked, never guessed here), else a pick. Commands that need the
// server are enabled only while one runs (`enablement: aiSession.ready` in package.json).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SessionClient } from './client';
import { AiSessionContext, errorKind, errorText } from './context';
import { formatCost, formatSavings, sessionDescription } from './model/format';
import { CommandRun, Requests, SessionSummary, StatsRow } from './protocol.generated';
import { KEY_ENV, storeProviderKey } from './secrets';
import { installServer } from './server';
import { getSettings, Provider, PROVIDERS } from './settings';
import { Terminals } from './terminal';
import { AnswersPanel } from './views/answers';
import { ContextPanel } from './views/contextPanel';
import { HEADER_LINES, parseRunUri, RUN_SCHEME, RunOutputProvider, runUri, showRunDiff } from './views/runOutput';
import { Node, SessionsTree } from './views/sessionsTree';
import { StatsDocuments } from './views/stats';

export interface Deps {
  ctx: AiSessionContext;
  tree: SessionsTree;
  terminals: Terminals;
  answers: AnswersPanel;
  runs: RunOutputProvider;
  stats: StatsDocuments;
}

type Command = (...args: unknown[]) => unknown;

function isNode(x: unknown): x is Node {
  return typeof x === 'object' && x !== null && 'kind' in x;
}

/** A request the user (or the server, for them) cancelled: not an error to report. */
function isCancellation(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === -32800 || err instanceof vscode.CancellationError;
}

/** Routine success goes to the status bar for a few seconds; pop-ups are for what needs an answer. */
function done(text: string): void {
  vscode.window.setStatusBarMessage(`$(check) AI Session: ${text}`, 5000);
}

const ref = (s: SessionSummary): string => s.session.id ?? s.session.name;

function runOf(arg: unknown): CommandRun | undefined {
  return isNode(arg) && arg.kind === 'run' && arg.run.id ? arg.run : undefined;
}

export function createCommands(d: Deps): Record<string, Command> {
  const { ctx } = d;
  let lastCommand = '';

  /** A pick among all sessions, titled with why one is asked for (the server's words). */
  async function pickFromList(placeHolder: string, why: string): Promise<SessionSummary | undefined> {
    const sessions = (await ctx.requireClient().request(Requests.sessionsList, {})).sessions;
    if (sessions.length === 0) {
      void vscode.window.showInformationMessage(`AI Session: ${why}; there are no sessions yet. Run "AI Session: Attach Worktree Session" or "AI Session: Create Session".`);
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      sessions.map((s) => ({ label: s.session.name, description: sessionDescription(s), detail: s.session.worktree ?? undefined, s })),
      { title: `AI Session: ${why}`, placeHolder, matchOnDescription: true, matchOnDetail: true },
    );
    return picked?.s;
  }

  /**
   * The tree item's session, else the one the server resolves for a request that names none (its
   * current one), else, when the server says there is none, the user's pick under its message.
   */
  async function sessionFor(arg: unknown, placeHolder: string): Promise<SessionSummary | undefined> {
    if (isNode(arg) && (arg.kind === 'session' || arg.kind === 'run' || arg.kind === 'more')) return arg.summary;
    try {
      return (await ctx.requireClient().request(Requests.sessionsGet, {})).summary;
    } catch (err) {
      if (errorKind(err) !== 'NotFound') throw err;
      return pickFromList(placeHolder, errorText(err));
    }
  }

  /** A name box that asks the server about each keystroke (one rule, defined there). */
  function askName(client: SessionClient, prompt: string, value: string, renaming?: string): Thenable<string | undefined> {
    return vscode.window.showInputBox({
      prompt,
      value,
      placeHolder: 'e.g. fix-login or café-menü (letters of any script, digits, . _ @ + : -)',
      validateInput: async (name) => (name === '' && !renaming ? undefined : (await client.request(Requests.sessionsCheckName, { name, renaming: renaming ?? null })).problem ?? undefined),
    });
  }

  const lifecycle = (verb: 'pause' | 'resume' | 'end', type: typeof Requests.sessionsPause) => async (arg?: unknown) => {
    const s = await sessionFor(arg, `Session to ${verb}`);
    if (s) done(`${(await ctx.requireClient().request(type, { session: ref(s) })).session.name}: ${verb === 'end' ? 'ended' : `${verb}d`}`);
  };

  const shareTerminal = (share: boolean) => async (arg?: unknown) => {
    const s = await sessionFor(arg, share ? 'Session whose terminal to share with the agent' : 'Session whose terminal to keep private');
    if (!s) return;
    await ctx.requireClient().request(Requests.sessionsShareTerminal, { session: ref(s), share });
    done(share ? `commands typed in ${s.session.name}'s terminal now go into the model's context` : `commands typed in ${s.session.name}'s terminal stay out of the model's context`);
  };

  const openRun = (mode: 'context' | 'raw') => async (arg?: unknown) => {
    const run = runOf(arg);
    if (run?.id) await vscode.window.showTextDocument(runUri(run.id, run.command, mode), { preview: true });
  };

  async function chooseProvider(): Promise<Provider | undefined> {
    const picked = await vscode.window.showQuickPick(
      [
        { label: 'anthropic', description: 'the Anthropic API (needs an API key)', provider: 'anthropic' as Provider },
        { label: 'openai', description: 'OpenAI or any compatible endpoint: Ollama, llama.cpp (key optional for local servers)', provider: 'openai' as Provider },
        { label: 'claude', description: 'the Claude Code CLI (uses its own login)', provider: 'claude' as Provider },
      ],
      { placeHolder: 'Provider for "AI Session: Ask" and new sessions' },
    );
    if (!picked) return undefined;
    await vscode.workspace.getConfiguration('aiSession').update('provider', picked.provider, vscode.ConfigurationTarget.Global);
    done(`asks go to ${picked.provider}`);
    return picked.provider;
  }

  return {
    attachWorktree: async () => {
      const client = ctx.requireClient();
      const r = await client.request(Requests.worktreeAttach, { path: client.folder.uri.fsPath });
      done(`${r.created ? 'created' : 'attached'} ${r.summary.session.name} (${r.branch ?? 'detached'})`);
    },
    create: async () => {
      const client = ctx.requireClient();
      const name = await askName(client, 'Name of the new session (empty: generated)', '');
      if (name === undefined) return;
      const agent = await vscode.window.showInputBox({ prompt: 'Agent (optional)', placeHolder: 'e.g. claude' });
      if (agent === undefined) return;
      const settings = getSettings(client.folder);
      const s = await client.request(Requests.sessionsCreate, {
        name: name || null,
        agent: agent || null,
        worktree: client.folder.uri.fsPath,
        provider: settings.provider,
        maxTokens: settings.maxTokens,
      });
      done(`created ${s.session.name}`);
    },
    rename: async (arg?: unknown) => {
      const s = await sessionFor(arg, 'Session to rename');
      if (!s) return;
      const client = ctx.requireClient();
      const newName = await askName(client, `New name for ${s.session.name}`, s.session.name, ref(s));
      if (newName && newName !== s.session.name) done(`renamed to ${(await client.request(Requests.sessionsRename, { session: ref(s), newName })).session.name}`);
    },
    exec: async (arg?: unknown, command?: unknown) => {
      const summary = await sessionFor(arg, 'Session to run the command in');
      if (!summary) return;
      const text = typeof command === 'string' ? command : await vscode.window.showInputBox({
        prompt: `Command to run in ${summary.session.name}'s shell (cwd and env persist between commands)`,
        value: lastCommand,
        placeHolder: 'e.g. python -m pytest -q',
      });
      if (!text) return;
      lastCommand = text;
      const pty = d.terminals.runTerminal(ctx.forSession(summary), summary);
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `AI Session: ${text}` }, () => pty.run(text));
    },
    attachTerminal: async (arg?: unknown) => {
      const summary = await sessionFor(arg, 'Session whose shell to attach');
      if (summary) d.terminals.attach(ctx.forSession(summary), summary);
    },
    shareTerminal: shareTerminal(true),
    unshareTerminal: shareTerminal(false),
    ask: async (arg?: unknown) => {
      const summary = await sessionFor(arg, 'Session to ask in');
      if (!summary) return;
      const prompt = await vscode.window.showInputBox({ prompt: `Ask in ${summary.session.name}`, placeHolder: 'Your question for the agent' });
      if (!prompt) return;
      const client = ctx.forSession(summary);
      const askId = `ask-${Date.now().toString(36)}`;
      const x = d.answers.start(askId, summary.session.name, prompt);
      try {
        const result = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Window, title: `AI Session: asking ${summary.session.name}` },
          () => client.request(Requests.ask, { session: ref(summary), prompt, askId, provider: getSettings(client.folder).provider }),
        );
        x.answer = result.text;
        const u = result.usage;
        x.footer = `${result.model ?? 'model'}${u ? ` · ${u.inputTokens ?? 0} in / ${u.outputTokens ?? 0} out · ${formatCost(u.costUsd)}` : ''}${result.note ? ` · ${result.note}` : ''}`;
      } catch (err) {
        if (isCancellation(err)) return;
        x.error = errorText(err);
        x.providerProblem = ['NoProvider', 'ProviderError'].includes(errorKind(err) ?? '');
        ctx.log.warn(`ask in ${summary.session.name} failed: ${x.error}`);
      } finally {
        d.answers.update();
      }
    },
    chooseProvider: () => chooseProvider(),
    storeApiKey: async () => {
      const withKeys = PROVIDERS.filter((p) => KEY_ENV[p]);
      const current = getSettings().provider;
      const provider = current && KEY_ENV[current] ? current : ((await vscode.window.showQuickPick(withKeys, { placeHolder: 'Provider of the API key' })) as Provider | undefined);
      if (!provider) return;
      const key = await vscode.window.showInputBox({
        prompt: `API key for ${provider} (kept in VS Code's secret storage; the server gets it as ${KEY_ENV[provider]})`,
        password: true,
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() ? undefined : 'the key is empty'),
      });
      if (!key) return;
      await storeProviderKey(ctx.extension.secrets, provider, key.trim());
      await ctx.restart(); // the key reaches the servers through their environment
      done(`stored the ${provider} API key; the servers were restarted with it`);
    },
    openConfig: async () => {
      const info = await ctx.requireClient().request(Requests.serverInfo, {});
      const exists = await fs.stat(info.configFile).then(() => true, () => false);
      const uri = vscode.Uri.file(info.configFile);
      await vscode.window.showTextDocument(exists ? uri : uri.with({ scheme: 'untitled' }));
    },
    pause: lifecycle('pause', Requests.sessionsPause),
    resume: lifecycle('resume', Requests.sessionsResume),
    end: lifecycle('end', Requests.sessionsEnd),
    delete: async (arg?: unknown, selected?: unknown) => {
      const chosen = Array.isArray(selected) && selected.length > 1
        ? selected.filter(isNode).flatMap((n) => (n.kind === 'session' ? [n.summary] : []))
        : [await sessionFor(arg, 'Session to delete')].filter((s): s is SessionSummary => !!s);
      if (chosen.length === 0) return;
      const names = chosen.map((s) => s.session.name).join(', ');
      const answer = await vscode.window.showWarningMessage(
        `Delete ${names}? It goes to the trash (the Trash group in the sessions view), where it can be restored until it expires.`,
        { modal: true },
        'Delete',
      );
      if (answer !== 'Delete') return;
      let trashed = true;
      for (const s of chosen) trashed = ((await ctx.requireClient().request(Requests.sessionsDelete, { session: ref(s) })).trashed ?? false) && trashed;
      done(trashed ? `moved ${names} to the trash` : `deleted ${names}`);
    },
    restoreFromTrash: async (arg?: unknown) => {
      if (!isNode(arg) || arg.kind !== 'trashed') return;
      const s = arg.entry.summary.session;
      const client = ctx.requireClient();
      let name: string | undefined;
      if ((await client.request(Requests.sessionsCheckName, { name: s.name })).problem) {
        name = await askName(client, `The name ${s.name} is taken now: restore it as`, `${s.name}-restored`);
        if (!name) return;
      }
      done(`restored ${(await client.request(Requests.trashRestore, { session: s.id ?? s.name, name: name ?? null })).session.name}`);
    },
    emptyTrash: async (arg?: unknown) => {
      const one = isNode(arg) && arg.kind === 'trashed' ? arg.entry.summary.session : undefined;
      const what = one ? one.name : 'every session in the trash';
      const answer = await vscode.window.showWarningMessage(`Remove ${what} for good? Messages, runs and raw outputs cannot be restored afterwards.`, { modal: true }, 'Remove for Good');
      if (answer !== 'Remove for Good') return;
      const r = await ctx.requireClient().request(Requests.trashEmpty, { session: one ? (one.id ?? one.name) : null });
      done(`removed ${r.deleted.length} session${r.deleted.length === 1 ? '' : 's'} for good`);
    },
    export: async (arg?: unknown) => {
      const s = await sessionFor(arg, 'Session to export');
      if (!s) return;
      const client = ctx.forSession(s);
      const target = await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.file(path.join(client.folder.uri.fsPath, `${s.session.name}.ai-session.json`)),
        filters: { 'ai-session export': ['json'] },
        title: `Export ${s.session.name}`,
      });
      if (!target) return;
      const r = await client.request(Requests.sessionsExport, { session: ref(s), path: target.fsPath });
      done(`exported ${s.session.name} to ${path.basename(r.path)} (secrets redacted)`);
    },
    import: async () => {
      const files = await vscode.window.showOpenDialog({
        canSelectMany: false,
        defaultUri: ctx.active()?.folder.uri,
        filters: { 'Session files': ['json', 'jsonl'] },
        title: 'Import an ai-session export, a ChannelCoder session or a Claude Code transcript',
      });
      if (!files?.[0]) return;
      done(`imported ${(await ctx.requireClient().request(Requests.sessionsImport, { path: files[0].fsPath })).session.name}`);
    },
    merge: async (arg?: unknown, selected?: unknown) => {
      let chosen = Array.isArray(selected) ? selected.filter(isNode).flatMap((n) => (n.kind === 'session' ? [n.summary] : [])) : [];
      if (chosen.length < 2) {
        const sessions = (await ctx.requireClient().request(Requests.sessionsList, {})).sessions;
        const first = isNode(arg) && arg.kind === 'session' ? arg.summary.session.id : undefined;
        const picked = await vscode.window.showQuickPick(
          sessions.map((s) => ({ label: s.session.name, description: sessionDescription(s), picked: s.session.id === first, s })),
          { canPickMany: true, placeHolder: 'Sessions to merge into a new one (two or more)' },
        );
        chosen = (picked ?? []).map((p) => p.s);
      }
      if (chosen.length < 2) return;
      const name = await askName(ctx.requireClient(), 'Name of the merged session (empty: generated)', '');
      if (name === undefined) return;
      done(`merged into ${(await ctx.requireClient().request(Requests.sessionsMerge, { sessions: chosen.map(ref), name: name || null })).session.name}`);
    },
    fork: async (arg?: unknown) => {
      const s = await sessionFor(arg, 'Session to fork');
      if (!s) return;
      const name = await askName(ctx.requireClient(), `Name of the fork of ${s.session.name} (empty: generated)`, '');
      if (name === undefined) return;
      done(`forked ${s.session.name} as ${(await ctx.requireClient().request(Requests.sessionsFork, { session: ref(s), name: name || null })).session.name}`);
    },
    openRun: openRun('context'),
    openRunRaw: openRun('raw'),
    diffRun: async (arg?: unknown) => {
      const uri = vscode.window.activeTextEditor?.document.uri;
      const run = runOf(arg) ?? (uri?.scheme === RUN_SCHEME ? d.runs.runs.get(parseRunUri(uri).runId) : undefined);
      if (run) await showRunDiff(run);
    },
    pinLine: async () => {
      const editor = vscode.window.activeTextEditor;
      if (editor?.document.uri.scheme !== RUN_SCHEME) return;
      const { runId } = parseRunUri(editor.document.uri);
      const run = d.runs.runs.get(runId);
      const lines = editor.selections.flatMap((sel) => {
        const out: string[] = [];
        for (let i = sel.start.line; i <= sel.end.line; i++) if (i >= HEADER_LINES) out.push(editor.document.lineAt(i).text);
        return out;
      }).filter((l) => l.trim());
      if (!run?.sessionId || lines.length === 0) {
        void vscode.window.showInformationMessage('AI Session: put the cursor on a line of the output to pin it.');
        return;
      }
      const first = editor.selection.start.line - HEADER_LINES + 1;
      const content = `From the output of \`${run.command}\` (run ${run.id}, line ${first}):\n${lines.join('\n')}`;
      await ctx.requireClient().request(Requests.sessionsAddMessage, { session: run.sessionId, role: 'user', content, pinned: true });
      done(`pinned ${lines.length} line${lines.length === 1 ? '' : 's'} into ${run.command.split('\n')[0].slice(0, 30)}'s session context`);
    },
    toggleRunOutput: async () => {
      const uri = vscode.window.activeTextEditor?.document.uri;
      if (uri?.scheme !== RUN_SCHEME) return;
      const { runId, mode } = parseRunUri(uri);
      const label = path.basename(uri.path).replace(/\.(context|raw)\.txt$/, '');
      await vscode.window.showTextDocument(runUri(runId, label, mode === 'raw' ? 'context' : 'raw'), { preview: true });
    },
    cancelRun: async (arg?: unknown) => {
      const run = runOf(arg);
      if (run?.id) await ctx.requireClient().request(Requests.runCancel, { runId: run.id });
    },
    showContext: () => vscode.commands.executeCommand(`${ContextPanel.viewId}.focus`),
    showStats: async () => {
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
      const uri = d.stats.show(md);
      await vscode.commands.executeCommand('markdown.showPreview', uri).then(undefined, async () => {
        await vscode.window.showTextDocument(uri, { preview: true });
      });
    },
    validate: async () => {
      const client = ctx.requireClient();
      const r = await client.request(Requests.storeValidate, {});
      if (r.problems.length === 0) {
        done('the store is consistent');
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
        done(`repaired ${fixed.problems.filter((p) => p.fixed).length} problem(s)`);
      }
    },
    refresh: () => d.tree.refresh(),
    loadMoreSessions: () => d.tree.loadMore(),
    restartServer: () => ctx.restart(),
    installServer: async () => {
      const program = await installServer(ctx.extension, ctx.log);
      ctx.log.info(`installed ${program}`);
      await ctx.restart();
      done('the server is installed and running');
    },
    showLog: () => ctx.log.show(),
  };
}

/** Registers `aiSession.<name>` for each; a failure is reported once, in the server's words. */
export function registerCommands(d: Deps): vscode.Disposable[] {
  return Object.entries(createCommands(d)).map(([name, command]) =>
    vscode.commands.registerCommand(`aiSession.${name}`, async (...args: unknown[]) => {
      try {
        return await command(...args);
      } catch (err) {
        if (isCancellation(err)) return undefined;
        d.ctx.log.error(`aiSession.${name} failed: ${errorText(err)}`);
        void vscode.window.showErrorMessage(`AI Session: ${errorText(err)}`);
        return undefined;
      }
    }),
  );
}

