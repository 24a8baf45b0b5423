import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveServerCommand, startFailureMessage } from '../../src/model/serverCommand';

test('the setting wins, split into command and args, blanks ignored', () => {
  const cmd = resolveServerCommand({ setting: ['/py', '-m', 'ai_session', 'serve', ' '], pythonInterpreter: '/other', onPath: '/bin/ai-session' });
  assert.deepEqual(cmd, { command: '/py', args: ['-m', 'ai_session', 'serve'], source: 'setting' });
});

test("then the Python extension's interpreter, then ai-session on PATH", () => {
  assert.deepEqual(resolveServerCommand({ setting: [], pythonInterpreter: '/venv/bin/python', onPath: '/bin/ai-session' }), {
    command: '/venv/bin/python', args: ['-m', 'ai_session', 'serve'], source: 'python-extension',
  });
  assert.deepEqual(resolveServerCommand({ setting: undefined, pythonInterpreter: undefined, onPath: '/bin/ai-session' }), {
    command: '/bin/ai-session', args: ['serve'], source: 'path',
  });
  assert.equal(resolveServerCommand({ setting: [], pythonInterpreter: undefined, onPath: undefined }), undefined);
});

test('the failure message names the command, where it came from, and the fix', () => {
  const msg = startFailureMessage({ command: '/nope', args: ['serve'], source: 'setting' }, 'not found');
  assert.match(msg, /`\/nope serve`/);
  assert.match(msg, /aiSession\.serverCommand setting/);
  assert.match(msg, /pip install ai-session/);
  assert.match(startFailureMessage(undefined, ''), /no server found/);
});

test('the privately installed server comes last, and "no server" offers to install one', () => {
  assert.deepEqual(resolveServerCommand({ setting: [], pythonInterpreter: undefined, onPath: undefined, installed: '/gs/server-venv/bin/ai-session' }), {
    command: '/gs/server-venv/bin/ai-session', args: ['serve'], source: 'installed',
  });
  assert.equal(resolveServerCommand({ setting: [], pythonInterpreter: undefined, onPath: '/bin/ai-session', installed: '/gs/x' })?.source, 'path');
  assert.match(startFailureMessage(undefined, ''), /Install Server/);
});
