import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderAnswersHtml } from '../../src/model/answersHtml';

test('a failed ask shows the problem and the commands that fix it, escaped, without scripts', () => {
  const html = renderAnswersHtml(
    [{ askId: 'a1', session: 'calc-main', prompt: 'why <b>?', answer: '', error: 'session calc-main has no provider: choose one of claude, openai, anthropic', providerProblem: true }],
    'NONCE', 'vscode-resource:',
  );
  assert.match(html, /why &lt;b&gt;\?/);
  assert.match(html, /has no provider/);
  for (const cmd of ['aiSession.chooseProvider', 'aiSession.storeApiKey', 'aiSession.openConfig']) assert.match(html, new RegExp(`href="command:${cmd}"`));
  assert.doesNotMatch(html, /<script/);
  assert.doesNotMatch(html, /--provider/);
});

test('an answered ask shows the answer and its footer, and no actions', () => {
  const html = renderAnswersHtml([{ askId: 'a2', session: 's', prompt: 'p', answer: 'Fix calc.add', footer: 'gpt · 10 in / 3 out' }], 'N', 'c');
  assert.match(html, /Fix calc\.add/);
  assert.match(html, /10 in \/ 3 out/);
  assert.doesNotMatch(html, /command:/);
});
