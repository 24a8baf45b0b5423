// The "Sessions" tree: worktree groups → sessions → recent runs. Rendering only; the grouping
// and every label come from src/model.
import * as vscode from 'vscode';
import { AiSessionContext } from '../context';
import { runDescription, runIcon, runLabel, runTooltip, sessionDescription, sessionIcon, sessionTooltip } from '../model/format';
import { Age, AGE_LABELS, groupByWorktree, newestFirst, runContextValue, sessionContextValue, splitByAge, upsertRun, WorktreeGroup } from '../model/tree';
import { CommandRun, Requests, SessionSummary, TrashedSession } from '../protocol.generated';

export type Node =
  | WorktreeGroup
  | { kind: 'age'; worktree: string | null; age: Exclude<Age, 'today'>; sessions: SessionSummary[] }
  | { kind: 'trash'; entries: TrashedSession[] }
  | { kind: 'trashed'; entry: TrashedSession }
  | { kind: 'session'; summary: SessionSummary; current: boolean }
  | { kind: 'run'; run: CommandRun; summary: SessionSummary }
  | { kind: 'more'; summary: SessionSummary; message: string }
  | { kind: 'loadMore'; shown: number; total: number };

const RUNS_SHOWN = 10;
/** Sessions asked for at a time: a store of 10,000 sessions is listed (and sent) a page at a time. */
export const SESSIONS_PAGE = 200;

function themeIcon(spec: { icon: string; color?: string }): vscode.ThemeIcon {
  return new vscode.ThemeIcon(spec.icon, spec.color ? new vscode.ThemeColor(spec.color) : undefined);
}

export class SessionsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private sessions: SessionSummary[] = [];
  private total = 0; // sessions in the whole listing; `sessions` holds the first `wanted` of them
  private wanted = SESSIONS_PAGE;
  private trash: TrashedSession[] = [];
  private readonly runs = new Map<string, CommandRun[]>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  readonly view: vscode.TreeView<Node>;

  constructor(private readonly ctx: AiSessionContext) {
    this.view = vscode.window.createTreeView('aiSession.sessions', { treeDataProvider: this, showCollapseAll: true, canSelectMany: true });
    this.disposables.push(
      this.view,
      this.changed,
      ctx.onClientsChanged.event(() => this.refresh()),
      ctx.onNotification('aiSession/currentSessionChanged', () => this.refresh()),
      ctx.onNotification('aiSession/sessionsChanged', (e) => {
        for (const change of e.changes) {
          if (change.sessionId && (change.kind === 'run' || change.kind === 'deleted')) this.runs.delete(change.sessionId);
          if (!change.sessionId) this.runs.clear();
        }
        this.refresh();
      }),
      ctx.onNotification('aiSession/runFinished', (e) => {
        const id = e.run.sessionId;
        if (id && this.runs.has(id)) this.runs.set(id, upsertRun(this.runs.get(id) ?? [], e.run, RUNS_SHOWN));
        this.refresh();
      }),
    );
  }

  /** Coalesces bursts of notifications into one list request. */
  refresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.reload(), 80);
  }

  private async reload(): Promise<void> {
    const client = this.ctx.primary();
    if (!client) {
      this.sessions = [];
    } else {
      try {
        const [result, trash] = await Promise.all([
          client.request(Requests.sessionsList, { offset: 0, limit: this.wanted }),
          client.request(Requests.trashList, {}),
        ]);
        this.sessions = result.sessions;
        this.total = result.total ?? result.sessions.length;
        this.trash = trash.sessions;
      } catch (err) {
        this.ctx.log.error(`listing sessions failed: ${String(err)}`);
      }
    }
    void vscode.commands.executeCommand('setContext', 'aiSession.hasSessions', this.sessions.length > 0);
    this.changed.fire(undefined);
  }

  allSessions(): SessionSummary[] {
    return this.sessions;
  }

  /** The next page of sessions (the tree shows the newest first, `SESSIONS_PAGE` more each time). */
  loadMore(): void {
    this.wanted = this.sessions.length + SESSIONS_PAGE;
    this.refresh();
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'worktree': {
        const item = new vscode.TreeItem(
          node.label,
          node.current ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed,
        );
        item.id = `wt:${node.worktree ?? ''}`;
        item.description = node.description;
        item.iconPath = new vscode.ThemeIcon(node.worktree ? (node.current ? 'folder-opened' : 'folder') : 'question');
        item.tooltip = node.worktree ?? 'Sessions not bound to a git worktree';
        item.contextValue = 'worktree';
        return item;
      }
      case 'trash': {
        const item = new vscode.TreeItem('Trash', vscode.TreeItemCollapsibleState.Collapsed);
        item.id = 'trash';
        item.description = `${node.entries.length} session${node.entries.length === 1 ? '' : 's'}`;
        item.iconPath = new vscode.ThemeIcon('trash');
        item.tooltip = 'Deleted sessions, kept until they expire: restore one from its context menu.';
        item.contextValue = 'trash';
        return item;
      }
      case 'trashed': {
        const s = node.entry.summary;
        const item = new vscode.TreeItem(s.session.name, vscode.TreeItemCollapsibleState.None);
        item.id = `t:${s.session.id}`;
        item.description = node.entry.expiresAt ? `removed for good on ${node.entry.expiresAt.slice(0, 10)}` : 'kept until emptied';
        item.iconPath = new vscode.ThemeIcon('trash');
        item.tooltip = new vscode.MarkdownString(sessionTooltip(s));
        item.contextValue = 'trashed';
        return item;
      }
      case 'age': {
        const item = new vscode.TreeItem(AGE_LABELS[node.age], vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `age:${node.worktree ?? ''}:${node.age}`;
        item.description = `${node.sessions.length} session${node.sessions.length === 1 ? '' : 's'}`;
        item.iconPath = new vscode.ThemeIcon('history');
        item.contextValue = 'age';
        return item;
      }
      case 'session': {
        const s = node.summary;
        const item = new vscode.TreeItem(
          s.session.name,
          node.current ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed,
        );
        item.id = `s:${s.session.id}`;
        item.description = (node.current ? '● ' : '') + sessionDescription(s);
        item.iconPath = themeIcon(sessionIcon(s.session.status));
        item.tooltip = new vscode.MarkdownString(sessionTooltip(s));
        item.contextValue = sessionContextValue(s, node.current);
        return item;
      }
      case 'run': {
        const r = node.run;
        const item = new vscode.TreeItem(runLabel(r), vscode.TreeItemCollapsibleState.None);
        item.id = `r:${r.id}`;
        item.description = runDescription(r);
        item.iconPath = themeIcon(runIcon(r));
        item.tooltip = new vscode.MarkdownString(runTooltip(r));
        item.contextValue = runContextValue(r);
        item.command = { command: 'aiSession.openRun', title: 'Open Run Output', arguments: [node] };
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem(node.message, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon('info');
        return item;
      }
      case 'loadMore': {
        const item = new vscode.TreeItem('Load more sessions…', vscode.TreeItemCollapsibleState.None);
        item.id = 'load-more';
        item.description = `${node.shown} of ${node.total} shown`;
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.command = { command: 'aiSession.loadMoreSessions', title: 'Load More Sessions' };
        return item;
      }
    }
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) {
      const groups: Node[] = groupByWorktree(this.sessions, this.ctx.openWorktrees(), this.ctx.currentIds());
      if (this.sessions.length < this.total) groups.push({ kind: 'loadMore', shown: this.sessions.length, total: this.total });
      return this.trash.length ? [...groups, { kind: 'trash', entries: this.trash }] : groups;
    }
    if (node.kind === 'trash') return node.entries.map((entry) => ({ kind: 'trashed', entry }));
    const current = this.ctx.currentIds();
    const sessionNode = (summary: SessionSummary): Node => ({ kind: 'session', summary, current: summary.current === true || current.has(summary.session.id ?? '') });
    if (node.kind === 'worktree') {
      const { top, week, older } = splitByAge(node.sessions, current);
      const ages: Node[] = [];
      if (week.length) ages.push({ kind: 'age', worktree: node.worktree, age: 'week', sessions: week });
      if (older.length) ages.push({ kind: 'age', worktree: node.worktree, age: 'older', sessions: older });
      return [...top.map(sessionNode), ...ages];
    }
    if (node.kind === 'age') return node.sessions.map(sessionNode);
    if (node.kind === 'session') {
      const runs = await this.runsOf(node.summary);
      if (runs.length === 0) return [{ kind: 'more', summary: node.summary, message: 'No commands yet' }];
      return runs.map((run) => ({ kind: 'run', run, summary: node.summary }));
    }
    return [];
  }

  private async runsOf(summary: SessionSummary): Promise<CommandRun[]> {
    const id = summary.session.id ?? summary.session.name;
    const cached = this.runs.get(id);
    if (cached) return cached;
    const client = this.ctx.primary();
    if (!client || !(summary.totals.runs ?? 0)) return [];
    let runs: CommandRun[];
    try {
      runs = (await client.request(Requests.runsList, { session: id, limit: RUNS_SHOWN })).runs;
    } catch {
      // Older servers: the session detail carries its recent runs too.
      runs = (await client.request(Requests.sessionsGet, { session: id, history: true, limit: RUNS_SHOWN })).runs ?? [];
    }
    runs = newestFirst(runs);
    this.runs.set(id, runs);
    return runs;
  }

  getParent(): undefined {
    return undefined;
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
