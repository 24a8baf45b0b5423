// Pure formatting of what the server sends: no `vscode` import, so it is unit-tested in plain node.
import type { CommandRun, ContextPartInfo, SessionStatus, SessionSummary, StatsChanged } from '../protocol.generated';
import { isTyped } from './tree';

/** 950 → "950", 1340 → "1.3k", 4096 → "4.1k", 12800 → "13k", 1_250_000 → "1.3M". */
export function formatTokens(n: number): string {
  const abs = Math.abs(n);
  const scaled = (value: number, suffix: string): string => {
    const text = value < 10 ? value.toFixed(1) : Math.round(value).toString();
    return text.replace(/\.0$/, '') + suffix;
  };
  if (abs < 1000) return Math.round(n).toString();
  if (abs < 999_500) return scaled(n / 1000, 'k');
  return scaled(n / 1_000_000, 'M');
}

/** The saving as the CLI and Neovim show it (1 − context/raw, positive = fewer tokens):
 * 0.87 → "87% saved", -0.05 → "-5% saved" (more tokens than raw); null (nothing raw) → "". */
export function formatSavings(savings: number | null | undefined): string {
  if (savings === null || savings === undefined || Number.isNaN(savings)) return '';
  const pct = Math.round(savings * 100);
  return `${pct === 0 ? 0 : pct}% saved`; // never "-0%"
}

export function formatCost(usd: number | null | undefined): string {
  if (!usd) return '$0';
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(2)}`;
}

/** "just now", "5 min ago", "3 h ago", "2 d ago" — for descriptions and tooltips. */
export function formatAge(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return '';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '';
  const seconds = Math.max(0, (now.getTime() - then) / 1000);
  if (seconds < 45) return 'just now';
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

/** Escapes text for a MarkdownString (names and commands are user text). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, (c) => `\\${c}`);
}

// ------------------------------------------------------------------ status bar

/** What the status bar shows; built from statsChanged, or from a summary until one arrives. */
export interface StatusFigures {
  sessionName: string;
  contextTokens: number | null;
  budget: number;
  rawTokens: number;
  /** command output as the agent received it (the server's figure, never derived here) */
  commandContextTokens: number;
  savings: number | null;
  costUsd: number;
}

export function figuresFromStats(stats: StatsChanged): StatusFigures {
  return {
    sessionName: stats.sessionName,
    contextTokens: stats.contextTokens,
    budget: stats.budget,
    rawTokens: stats.rawTokens,
    commandContextTokens: stats.commandContextTokens,
    savings: stats.savings,
    costUsd: stats.costUsd,
  };
}

/** From a session summary: no context size is known yet (only the server assembles it). */
export function figuresFromSummary(summary: SessionSummary, budgetOverride?: number | null): StatusFigures {
  return {
    sessionName: summary.session.name,
    contextTokens: null,
    budget: budgetOverride ?? summary.session.maxTokens ?? 4096,
    rawTokens: summary.totals.rawTokens ?? 0,
    commandContextTokens: summary.totals.contextTokens ?? 0,
    savings: summary.totals.savings ?? null,
    costUsd: summary.totals.costUsd ?? 0,
  };
}

export function isOverBudget(f: StatusFigures): boolean {
  return f.contextTokens !== null && f.contextTokens > f.budget;
}

/** `$(hubot) dev · 1.3k/4.1k · −87%` */
export function statusBarText(f: StatusFigures): string {
  const parts = [`$(hubot) ${f.sessionName}`];
  parts.push(f.contextTokens === null ? `${formatTokens(f.budget)} budget` : `${formatTokens(f.contextTokens)}/${formatTokens(f.budget)}`);
  const savings = formatSavings(f.savings);
  if (savings) parts.push(savings);
  return parts.join(' · ');
}

/** The tooltip's table; `parts` (from the server's context) split the next context like the context bar. */
export function statusBarTooltip(f: StatusFigures, parts: Pick<ContextPartInfo, 'name' | 'tokens'>[] = []): string {
  const lines = [`**AI Session: ${escapeMarkdown(f.sessionName)}**`, ''];
  lines.push('| | tokens |', '|---|---:|');
  if (f.contextTokens !== null) lines.push(`| next context | ${f.contextTokens} of ${f.budget} |`);
  else lines.push(`| budget | ${f.budget} |`);
  for (const part of parts) if (part.tokens > 0) lines.push(`| &nbsp;&nbsp;${part.name} | ${part.tokens} |`);
  lines.push(`| command output, raw | ${f.rawTokens} |`);
  if (f.savings !== null) lines.push(`| command output, sent | ${f.commandContextTokens} |`);
  lines.push('');
  if (f.savings !== null) lines.push(`Savings on command output: ${formatSavings(f.savings)} (1 − context/raw).`);
  else lines.push('No command has run in this session yet.');
  lines.push('', `Cost so far: ${formatCost(f.costUsd)}`);
  if (isOverBudget(f)) lines.push('', '$(warning) The next context is over budget: older turns will be summarized or dropped.');
  lines.push('', 'Click to open the context panel.');
  return lines.join('\n');
}

// ------------------------------------------------------------------ sessions and runs

const STATUS_ICONS: Record<SessionStatus, { icon: string; color?: string }> = {
  active: { icon: 'circle-filled', color: 'charts.green' },
  idle: { icon: 'circle-outline' },
  paused: { icon: 'debug-pause', color: 'charts.yellow' },
  pool: { icon: 'inbox' },
  ended: { icon: 'circle-slash', color: 'disabledForeground' },
};

export function sessionIcon(status: SessionStatus | undefined): { icon: string; color?: string } {
  return STATUS_ICONS[status ?? 'active'] ?? { icon: 'circle-outline' };
}

/** "claude/dev · 3 runs · 1.2k tok · −87%" */
export function sessionDescription(s: SessionSummary): string {
  const parts: string[] = [];
  const who = [s.session.agent, s.session.role].filter(Boolean).join('/');
  if (who) parts.push(who);
  const runs = s.totals.runs ?? 0;
  if (runs) parts.push(`${runs} run${runs === 1 ? '' : 's'}`);
  const tokens = (s.totals.messageTokens ?? 0) + (s.totals.contextTokens ?? 0);
  if (tokens) parts.push(`${formatTokens(tokens)} tok`);
  const savings = formatSavings(s.totals.savings);
  if (savings) parts.push(savings);
  if (s.session.status && s.session.status !== 'active') parts.push(s.session.status);
  if (s.session.shareTerminal) parts.push('terminal shared');
  return parts.join(' · ');
}

export function sessionTooltip(s: SessionSummary, now: Date = new Date()): string {
  const x = s.session;
  const t = s.totals;
  const rows: [string, string][] = [
    ['status', x.status ?? 'active'],
    ['worktree', x.worktree ? `\`${x.worktree}\`` : '—'],
    ['branch', x.branch ? escapeMarkdown(x.branch) : '—'],
    ['agent / role', [x.agent, x.role].filter(Boolean).map((v) => escapeMarkdown(v as string)).join(' / ') || '—'],
    ['messages', `${t.messages ?? 0} (${t.messageTokens ?? 0} tokens)`],
    ['commands', `${t.runs ?? 0}: ${t.rawTokens ?? 0} raw → ${t.contextTokens ?? 0} context tokens`],
    ['savings', formatSavings(t.savings) || '—'],
    ['cost', formatCost(t.costUsd)],
    ['budget', `${x.maxTokens ?? 4096} tokens`],
    ['terminal', x.shareTerminal ? 'shared with the agent: typed commands go into its context' : 'private: typed commands stay out of the model\'s context'],
    ['last active', formatAge(x.lastActive, now) || '—'],
  ];
  const head = `**${escapeMarkdown(x.name)}**${s.current ? ' — current session' : ''}`;
  return [head, '', '| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`), '', `id \`${x.id ?? ''}\``].join('\n');
}

export function runIcon(run: CommandRun): { icon: string; color?: string } {
  if (isTyped(run) && run.status !== 'running') return { icon: 'person', color: run.exitCode === 0 ? undefined : 'testing.iconFailed' };
  switch (run.status ?? 'running') {
    case 'running':
      return { icon: 'loading~spin' };
    case 'timeout':
      return { icon: 'watch', color: 'charts.orange' };
    case 'cancelled':
      return { icon: 'circle-slash', color: 'charts.orange' };
    case 'lost':
      return { icon: 'question', color: 'charts.orange' };
    default:
      return run.exitCode === 0 ? { icon: 'pass', color: 'testing.iconPassed' } : { icon: 'error', color: 'testing.iconFailed' };
  }
}

/** Commands can be long and multi-line; a tree label gets the first line, cut. */
export function runLabel(run: CommandRun, max = 60): string {
  const first = run.command.split('\n')[0].trim();
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}

/** "exit 1 · 4.2k → 310 tok · −93% · 2 problems" */
export function runDescription(run: CommandRun, now: Date = new Date()): string {
  const parts: string[] = [];
  if (isTyped(run)) parts.push('typed by you');
  const status = run.status ?? 'running';
  if (status === 'running') parts.push('running');
  else if (status === 'finished') parts.push(`exit ${run.exitCode ?? '?'}`);
  else parts.push(status);
  if (status !== 'running' && run.rawTokens) {
    parts.push(`${formatTokens(run.rawTokens)} → ${formatTokens(run.contextTokens ?? 0)} tok`);
    const savings = formatSavings(run.savings);
    if (savings) parts.push(savings);
  }
  const problems = run.diagnostics?.length ?? 0;
  if (problems) parts.push(`${problems} problem${problems === 1 ? '' : 's'}`);
  const age = formatAge(run.startedAt, now);
  if (age) parts.push(age);
  return parts.join(' · ');
}

export function runTooltip(run: CommandRun): string {
  const lines = ['```sh', run.command, '```', ''];
  if (run.cwd) lines.push(`in \`${run.cwd}\``, '');
  lines.push(`status: ${run.status ?? 'running'}${run.exitCode !== null && run.exitCode !== undefined ? `, exit code ${run.exitCode}` : ''}`);
  if (run.tool) lines.push('', `parsed as: ${escapeMarkdown(run.tool)}`);
  if (run.rawTokens) lines.push('', `${run.rawTokens} raw tokens → ${run.contextTokens ?? 0} in context`);
  if (run.rawTruncated) lines.push('', 'raw output was truncated when stored');
  if (isTyped(run)) lines.push('', 'Typed by you in an attached terminal: kept out of the model\'s context unless the session shares its terminal.');
  lines.push('', 'Click to open the context form; the raw output is one click away.');
  return lines.join('\n');
}
