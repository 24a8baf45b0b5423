import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ageOf, baseName, groupByWorktree, isTyped, newestFirst, runContextValue, sessionContextValue, splitByAge, upsertRun } from '../../src/model/tree';
import type { CommandRun, SessionSummary } from '../../src/protocol.generated';

function s(id: string, worktree: string | null, lastActive: string, extra: Partial<SessionSummary> = {}): SessionSummary {
  return { session: { id, name: id, worktree, branch: worktree ? 'main' : null, lastActive, status: 'active' }, totals: {}, ...extra };
}

test('open worktrees come first in folder order, then others by activity, then no worktree', () => {
  const sessions = [
    s('loose', null, '2025-01-05T00:00:00Z'),
    s('old', '/w/old', '2025-01-01T00:00:00Z'),
    s('recent', '/w/recent', '2025-01-04T00:00:00Z'),
    s('b1', '/w/b', '2025-01-02T00:00:00Z'),
    s('a1', '/w/a', '2025-01-02T00:00:00Z'),
  ];
  const groups = groupByWorktree(sessions, ['/w/b', '/w/a']);
  assert.deepEqual(groups.map((g) => g.label), ['b', 'a', 'recent', 'old', 'No worktree']);
  assert.deepEqual(groups.map((g) => g.current), [true, true, false, false, false]);
  assert.equal(groups[0].description, 'main · /w/b');
});

test('inside a group the current session is first, then the most recently active', () => {
  const sessions = [
    s('x', '/w', '2025-01-03T00:00:00Z'),
    s('cur', '/w', '2025-01-01T00:00:00Z'),
    s('y', '/w', '2025-01-02T00:00:00Z'),
  ];
  assert.deepEqual(groupByWorktree(sessions, ['/w'], new Set(['cur']))[0].sessions.map((x) => x.session.id), ['cur', 'x', 'y']);
  const flagged = [s('x', '/w', '2025-01-03T00:00:00Z'), s('f', '/w', '2025-01-01T00:00:00Z', { current: true })];
  assert.deepEqual(groupByWorktree(flagged, [])[0].sessions.map((x) => x.session.id), ['f', 'x']);
});

test('no sessions, no groups', () => {
  assert.deepEqual(groupByWorktree([], ['/w']), []);
});

test('baseName handles trailing and Windows separators', () => {
  assert.equal(baseName('/a/b/repo/'), 'repo');
  assert.equal(baseName('C:\\src\\repo'), 'repo');
  assert.equal(baseName('repo'), 'repo');
});

test('context values drive the menus', () => {
  assert.equal(sessionContextValue(s('a', null, ''), true), 'session.active.current');
  assert.equal(sessionContextValue({ ...s('a', null, ''), session: { name: 'a', status: 'paused' } }, false), 'session.paused');
  assert.equal(runContextValue({ command: 'x', status: 'running' }), 'run.running');
  assert.equal(runContextValue({ command: 'x', status: 'finished' }), 'run.done');
});

test('upsertRun replaces a run by id, keeps newest first and the limit', () => {
  const runs: CommandRun[] = [
    { id: 'r2', command: 'b', startedAt: '2025-01-02T00:00:00Z', status: 'running' },
    { id: 'r1', command: 'a', startedAt: '2025-01-01T00:00:00Z', status: 'finished' },
  ];
  const updated = upsertRun(runs, { id: 'r2', command: 'b', startedAt: '2025-01-02T00:00:00Z', status: 'finished', exitCode: 1 });
  assert.deepEqual(updated.map((r) => [r.id, r.status]), [['r2', 'finished'], ['r1', 'finished']]);
  const added = upsertRun(updated, { id: 'r3', command: 'c', startedAt: '2025-01-03T00:00:00Z' }, 2);
  assert.deepEqual(added.map((r) => r.id), ['r3', 'r2']);
  assert.deepEqual(newestFirst([{ id: 'x', command: 'x', startedAt: 'bad' }, runs[1]]).map((r) => r.id), ['r1', 'x']);
});

test('sessions split by time: today (and the current one) on top, then this week and older', () => {
  const now = new Date('2025-03-10T15:00:00');
  const at = (iso: string) => new Date(iso).toISOString();
  const sessions = [
    s('today', '/w', at('2025-03-10T09:00:00')),
    s('monday-last', '/w', at('2025-03-05T09:00:00')),
    s('old', '/w', at('2025-01-01T09:00:00')),
    s('old-current', '/w', at('2024-12-01T09:00:00')),
  ];
  assert.equal(ageOf(sessions[0], now), 'today');
  assert.equal(ageOf(sessions[1], now), 'week');
  const parts = splitByAge(sessions, new Set(['old-current']), now);
  assert.deepEqual(parts.top.map((x) => x.session.id), ['today', 'old-current']);
  assert.deepEqual(parts.week.map((x) => x.session.id), ['monday-last']);
  assert.deepEqual(parts.older.map((x) => x.session.id), ['old']);
});

test('a shared terminal shows in the context value; typed runs are told apart', () => {
  assert.equal(sessionContextValue({ ...s('a', null, ''), session: { name: 'a', status: 'active', shareTerminal: true } }, true), 'session.active.current.shared');
  assert.equal(isTyped({ command: 'ls', metadata: { origin: 'typed' } }), true);
  assert.equal(isTyped({ command: 'ls', metadata: { origin: 'exec' } }), false);
});
