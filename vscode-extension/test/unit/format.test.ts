import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  escapeMarkdown,
  figuresFromSummary,
  formatAge,
  formatSavings,
  formatTokens,
  isOverBudget,
  runDescription,
  runIcon,
  runLabel,
  sessionDescription,
  sessionTooltip,
  statusBarText,
  statusBarTooltip,
} from '../../src/model/format';
import type { CommandRun, SessionSummary } from '../../src/protocol.generated';

function summary(over: Partial<SessionSummary['session']> = {}, totals: Partial<SessionSummary['totals']> = {}): SessionSummary {
  return {
    session: { id: 'ses_1', name: 'dev', status: 'active', maxTokens: 4096, ...over },
    totals: { messages: 0, messageTokens: 0, runs: 0, rawTokens: 0, contextTokens: 0, costUsd: 0, savings: null, ...totals },
  };
}

test('formatTokens scales to k and M with one decimal below ten', () => {
  assert.equal(formatTokens(0), '0');
  assert.equal(formatTokens(950), '950');
  assert.equal(formatTokens(1000), '1k');
  assert.equal(formatTokens(1340), '1.3k');
  assert.equal(formatTokens(4096), '4.1k');
  assert.equal(formatTokens(12_800), '13k');
  assert.equal(formatTokens(999_400), '999k');
  assert.equal(formatTokens(1_250_000), '1.3M');
});

test('formatSavings is the figure the CLI and Neovim show (positive = fewer tokens), and is empty when nothing ran', () => {
  assert.equal(formatSavings(0.87), '87% saved');
  assert.equal(formatSavings(-0.05), '-5% saved');
  assert.equal(formatSavings(0.001), '0% saved');
  assert.equal(formatSavings(-0.001), '0% saved');
  assert.equal(formatSavings(null), '');
  assert.equal(formatSavings(undefined), '');
});

test('formatAge is relative to the given now', () => {
  const now = new Date('2025-01-01T12:00:00Z');
  assert.equal(formatAge('2025-01-01T11:59:50Z', now), 'just now');
  assert.equal(formatAge('2025-01-01T11:55:00Z', now), '5 min ago');
  assert.equal(formatAge('2025-01-01T09:00:00Z', now), '3 h ago');
  assert.equal(formatAge('2024-12-30T12:00:00Z', now), '2 d ago');
  assert.equal(formatAge('not a date', now), '');
});

test('status bar text: name, context against budget, savings', () => {
  const f = { sessionName: 'dev', contextTokens: 1340, budget: 4000, rawTokens: 10_000, commandContextTokens: 1300, savings: 0.87, costUsd: 0 };
  assert.equal(statusBarText(f), '$(hubot) dev · 1.3k/4k · 87% saved');
  assert.equal(statusBarText({ ...f, savings: null }), '$(hubot) dev · 1.3k/4k');
  assert.equal(statusBarText({ ...f, contextTokens: null }), '$(hubot) dev · 4k budget · 87% saved');
});

test('over budget only when the next context is known and larger than the budget', () => {
  const f = { sessionName: 'dev', contextTokens: 5000, budget: 4096, rawTokens: 0, commandContextTokens: 0, savings: null, costUsd: 0 };
  assert.equal(isOverBudget(f), true);
  assert.equal(isOverBudget({ ...f, contextTokens: 4096 }), false);
  assert.equal(isOverBudget({ ...f, contextTokens: null }), false);
  assert.match(statusBarTooltip(f), /over budget/);
  assert.doesNotMatch(statusBarTooltip({ ...f, contextTokens: 10 }), /over budget/);
});

test('status tooltip shows raw and sent command tokens and escapes the name', () => {
  const text = statusBarTooltip({ sessionName: 'a*b', contextTokens: 100, budget: 4096, rawTokens: 1000, commandContextTokens: 100, savings: 0.9, costUsd: 0.5 });
  assert.match(text, /a\\\*b/);
  assert.match(text, /\| command output, raw \| 1000 \|/);
  assert.match(text, /\| command output, sent \| 100 \|/);
  assert.match(text, /\$0\.50/);
});

test('figures from a summary use the override budget, and know no context size', () => {
  const f = figuresFromSummary(summary({}, { rawTokens: 200, savings: 0.5 }), 8000);
  assert.equal(f.budget, 8000);
  assert.equal(f.contextTokens, null);
  assert.equal(figuresFromSummary(summary()).budget, 4096);
});

test('session description lists agent/role, runs, tokens, savings and a non-active status', () => {
  const s = summary({ agent: 'claude', role: 'dev', status: 'paused' }, { runs: 3, messageTokens: 1000, contextTokens: 240, savings: 0.9 });
  assert.equal(sessionDescription(s), 'claude/dev · 3 runs · 1.2k tok · 90% saved · paused');
  assert.equal(sessionDescription(summary()), '');
});

test('session tooltip is a markdown table naming the session and marking the current one', () => {
  const md = sessionTooltip({ ...summary({ worktree: '/src/app', branch: 'main' }), current: true });
  assert.match(md, /^\*\*dev\*\* — current session/);
  assert.match(md, /\| worktree \| `\/src\/app` \|/);
  assert.match(md, /id `ses_1`/);
});

test('escapeMarkdown neutralises markup characters', () => {
  assert.equal(escapeMarkdown('[x](y) *z*'), '\\[x\\]\\(y\\) \\*z\\*');
});

test('run label takes the first line and cuts long commands', () => {
  const run: CommandRun = { command: 'python -m pytest -q\necho done' };
  assert.equal(runLabel(run), 'python -m pytest -q');
  assert.equal(runLabel({ command: 'x'.repeat(100) }, 10), 'xxxxxxxxx…');
});

test('run icon and description follow status and exit code', () => {
  const now = new Date('2025-01-01T12:00:00Z');
  const failed: CommandRun = {
    command: 'pytest', status: 'finished', exitCode: 1, rawTokens: 4200, contextTokens: 310, savings: 0.926,
    diagnostics: [{ file: 'a.py', line: 1, message: 'boom' }], startedAt: '2025-01-01T11:55:00Z',
  };
  assert.equal(runIcon(failed).icon, 'error');
  assert.equal(runDescription(failed, now), 'exit 1 · 4.2k → 310 tok · 93% saved · 1 problem · 5 min ago');
  assert.equal(runIcon({ ...failed, exitCode: 0 }).icon, 'pass');
  assert.equal(runIcon({ command: 'x', status: 'running' }).icon, 'loading~spin');
  assert.equal(runDescription({ command: 'x', status: 'running' }, now), 'running');
  assert.equal(runDescription({ command: 'x', status: 'timeout', exitCode: null }, now), 'timeout');
});
