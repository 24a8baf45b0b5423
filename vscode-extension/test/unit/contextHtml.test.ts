import assert from 'node:assert/strict';
import { test } from 'node:test';
import { budgetBar, escapeHtml, renderContextHtml } from '../../src/model/contextHtml';
import type { ContextResult } from '../../src/protocol.generated';

const part = (name: string, tokens: number, extra: Partial<ContextResult['parts'][number]> = {}) => ({
  name, tokens, rawTokens: tokens, items: [], compressed: 0, dropped: [], note: '', ...extra,
});

function result(over: Partial<ContextResult> = {}): ContextResult {
  return {
    sessionId: 'ses_1', sessionName: 'dev', strategy: 'sliding', budget: 1000, window: null, tokens: 600, needsCompaction: false,
    parts: [part('system', 100), part('summary', 0), part('recent', 500, { compressed: 2, rawTokens: 4000, items: [1, 2] })],
    accounting: { rawHistory: 4100, contextHistory: 600, rawCommands: 3900, contextCommands: 400, raw: 4100, context: 600, historySavings: 0.85, commandSavings: 0.9, savings: 0.85 },
    items: [{ part: 'recent', seq: 1, role: 'tool', kind: 'command', tokens: 40, rawTokens: 900, runId: 'run_1', covers: null, content: '<script>alert(1)</script>' }],
    ...over,
  };
}

test('the bar has a segment per non-empty part, scaled to the budget', () => {
  assert.deepEqual(budgetBar(result()).map((s) => [s.name, s.percent]), [['system', 10], ['recent', 50]]);
});

test('over budget the bar scales to the total, so it never exceeds 100%', () => {
  const segments = budgetBar(result({ tokens: 2000, parts: [part('recent', 1500), part('prompt', 500)] }));
  assert.equal(segments.reduce((sum, s) => sum + s.percent, 0), 100);
});

test('html escapes message content and allows no inline script', () => {
  const html = renderContextHtml({ kind: 'context', sessionName: 'dev', result: result() }, 'NONCE', 'vscode-resource:');
  assert.doesNotMatch(html, /<script>/);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /default-src 'none'/);
  assert.match(html, /<style nonce="NONCE">/);
  assert.match(html, /600 \/ 1k tokens/);
  assert.match(html, /2 compressed/);
  assert.match(html, /3900 → 400/);
});

test('savings show a dash until there was raw text', () => {
  const empty = result({ accounting: { rawHistory: 0, contextHistory: 0, rawCommands: 0, contextCommands: 0, raw: 0, context: 0, historySavings: null, commandSavings: null, savings: null } });
  const html = renderContextHtml({ kind: 'context', result: empty }, 'n', 'c');
  assert.doesNotMatch(html, /±0%/);
  assert.match(renderContextHtml({ kind: 'context', result: result() }, 'n', 'c'), /90% saved/);
});

test('over budget is said in words', () => {
  const html = renderContextHtml({ kind: 'context', result: result({ tokens: 1200 }) }, 'n', 'c');
  assert.match(html, /over budget/);
});

test('empty and error states show their message', () => {
  assert.match(renderContextHtml({ kind: 'error', message: 'boom & <b>' }, 'n', 'c'), /boom &amp; &lt;b&gt;/);
  assert.equal(escapeHtml(`"'`), '&quot;&#39;');
});

test('bar widths live in the nonce style sheet, not in style attributes the CSP would block', () => {
  const html = renderContextHtml({ kind: 'context', sessionName: 's', costUsd: 0.0042, result: {
    sessionId: 's', sessionName: 's', strategy: 'preserve_important', budget: 1000, window: null, tokens: 500, needsCompaction: false,
    parts: [{ name: 'recent', tokens: 500, rawTokens: 900, items: [1], compressed: 1, dropped: [], note: '' }],
    accounting: { rawHistory: 0, contextHistory: 0, rawCommands: 900, contextCommands: 500, raw: 900, context: 500, historySavings: 0, commandSavings: 0.44, savings: 0.44 },
  } }, 'N', 'c');
  assert.doesNotMatch(html, /style="/);
  assert.match(html, /\.w0 \{ width: 50%; \}/);
  assert.match(html, /\$0\.0042/);
});
