// The sessions tree as plain data: which groups, in which order, which session is current.
// The TreeDataProvider only maps these nodes to TreeItems.
import type { CommandRun, SessionSummary } from '../protocol.generated';

export interface WorktreeGroup {
  kind: 'worktree';
  /** Absolute worktree path, or null for sessions bound to none. */
  worktree: string | null;
  label: string;
  description: string;
  /** A workspace folder of this window lives in this worktree. */
  current: boolean;
  sessions: SessionSummary[];
}

/** Last path segment, for a compact group label (the full path goes in the description). */
export function baseName(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, '');
  const i = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
  return i >= 0 ? trimmed.slice(i + 1) : trimmed;
}

function activity(s: SessionSummary): number {
  const t = Date.parse(s.session.lastActive ?? '');
  return Number.isNaN(t) ? 0 : t;
}

/**
 * Sessions grouped by worktree: the worktrees open in this window first (in folder order),
 * then the others by most recent activity, then the sessions with no worktree.
 * Inside a group: the current session first, then the most recently active.
 */
export function groupByWorktree(sessions: SessionSummary[], openWorktrees: string[], currentIds: Set<string> = new Set()): WorktreeGroup[] {
  const byTree = new Map<string | null, SessionSummary[]>();
  for (const s of sessions) {
    const key = s.session.worktree ?? null;
    const list = byTree.get(key);
    if (list) list.push(s);
    else byTree.set(key, [s]);
  }
  const isCurrent = (s: SessionSummary): boolean => s.current === true || currentIds.has(s.session.id ?? '');
  const groups: WorktreeGroup[] = [];
  for (const [worktree, list] of byTree) {
    list.sort((a, b) => Number(isCurrent(b)) - Number(isCurrent(a)) || activity(b) - activity(a));
    const branches = [...new Set(list.map((s) => s.session.branch).filter((b): b is string => !!b))];
    groups.push({
      kind: 'worktree',
      worktree,
      label: worktree ? baseName(worktree) : 'No worktree',
      description: worktree ? [branches.join(', '), worktree].filter(Boolean).join(' · ') : '',
      current: worktree !== null && openWorktrees.includes(worktree),
      sessions: list,
    });
  }
  const openIndex = (g: WorktreeGroup): number => (g.worktree === null ? -1 : openWorktrees.indexOf(g.worktree));
  groups.sort((a, b) => {
    if (a.current !== b.current) return a.current ? -1 : 1;
    if (a.current && b.current) return openIndex(a) - openIndex(b);
    if ((a.worktree === null) !== (b.worktree === null)) return a.worktree === null ? 1 : -1;
    return Math.max(...b.sessions.map(activity)) - Math.max(...a.sessions.map(activity));
  });
  return groups;
}

/** `contextValue` of a session item, matched by the menus in package.json (`session.<status>[.current][.shared]`). */
export function sessionContextValue(s: SessionSummary, current: boolean): string {
  return `session.${s.session.status ?? 'active'}${current ? '.current' : ''}${s.session.shareTerminal ? '.shared' : ''}`;
}

export function runContextValue(run: CommandRun): string {
  return (run.status ?? 'running') === 'running' ? 'run.running' : 'run.done';
}

/** Merge a run update (runFinished, or a fresh list) into a session's run list, newest first. */
export function upsertRun(runs: CommandRun[], run: CommandRun, limit = 20): CommandRun[] {
  const rest = runs.filter((r) => r.id !== run.id);
  return newestFirst([run, ...rest]).slice(0, limit);
}

/** Runs sorted by start time, newest first (servers may send them oldest first). */
export function newestFirst(runs: CommandRun[]): CommandRun[] {
  const time = (r: CommandRun): number => {
    const t = Date.parse(r.startedAt ?? '');
    return Number.isNaN(t) ? 0 : t;
  };
  return [...runs].sort((a, b) => time(b) - time(a));
}

export type Age = 'today' | 'week' | 'older';
export const AGE_LABELS: Record<Age, string> = { today: 'Today', week: 'This week', older: 'Older' };

/** Today (since local midnight), this week (the last 7 days), older: by last activity. */
export function ageOf(s: SessionSummary, now: Date = new Date()): Age {
  const t = activity(s);
  const midnight = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  if (t >= midnight) return 'today';
  if (t >= now.getTime() - 7 * 86_400_000) return 'week';
  return 'older';
}

/**
 * A worktree's sessions by time: today's (and the current one, whatever its age) stay at the top,
 * the rest fold into "This week" and "Older". Order inside each part is kept.
 */
export function splitByAge(sessions: SessionSummary[], currentIds: Set<string>, now: Date = new Date()): { top: SessionSummary[]; week: SessionSummary[]; older: SessionSummary[] } {
  const out = { top: [] as SessionSummary[], week: [] as SessionSummary[], older: [] as SessionSummary[] };
  for (const s of sessions) {
    const age = s.current === true || currentIds.has(s.session.id ?? '') ? 'today' : ageOf(s, now);
    (age === 'today' ? out.top : out[age]).push(s);
  }
  return out;
}

/** A command a person typed in an attached terminal (kept out of the model's context unless shared). */
export function isTyped(run: CommandRun): boolean {
  return run.metadata?.origin === 'typed';
}
