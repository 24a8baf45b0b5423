import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toTerminal } from '../../src/model/terminalText';

test('bare line feeds become CRLF so lines start at column 1 (no staircase)', () => {
  assert.equal(toTerminal('a\nb\n'), 'a\r\nb\r\n');
  assert.equal(toTerminal('already\r\nfine'), 'already\r\nfine');
  assert.equal(toTerminal('\x1b[32mok\x1b[0m\n'), '\x1b[32mok\x1b[0m\r\n');
  assert.equal(toTerminal('progress 10%\rprogress 99%'), 'progress 10%\rprogress 99%');
});
