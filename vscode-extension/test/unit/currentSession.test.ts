// "The current session" is the server's to decide: a request that means it names no session, and
// the server resolves it (or answers its error, which is shown). The client keeps what the server
// last said was current only to draw it (status bar, tree order); a module that reads that copy
// must not name a session in any request, or it would be choosing one itself.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const SRC = path.resolve(__dirname, '../../../src');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && e.name !== 'protocol.generated.ts' ? [p] : [];
  });
}

/** The parameter objects of every `.request(Requests.x, { ... })` call in a source text. */
function requestParams(text: string): string[] {
  const found: string[] = [];
  const call = /\.request\(\s*(?:Requests\.\w+|type)\s*,\s*\{/g;
  for (let m = call.exec(text); m; m = call.exec(text)) {
    let depth = 1;
    let i = m.index + m[0].length;
    for (; i < text.length && depth > 0; i++) depth += text[i] === '{' ? 1 : text[i] === '}' ? -1 : 0;
    found.push(text.slice(m.index + m[0].length - 1, i));
  }
  return found;
}

const READS_CACHED_CURRENT = /\.current\??\.summary/;
const NAMES_A_SESSION = /\bsession\s*:/;

test('the scanner finds request parameters (so the rule below is not vacuous)', () => {
  const text = "await c.request(Requests.contextGet, { session: x.current.summary.session.id, n: { a: 1 } });";
  assert.deepEqual(requestParams(text), ['{ session: x.current.summary.session.id, n: { a: 1 } }']);
  const all = sources(SRC).flatMap((f) => requestParams(fs.readFileSync(f, 'utf8')));
  assert.ok(all.length > 30, `${all.length} requests found`);
  assert.ok(all.some((p) => NAMES_A_SESSION.test(p)), 'requests that name a session (from a tree item or a server answer)');
});

test('no module that reads the cached current session names a session in a request', () => {
  const offenders = sources(SRC).flatMap((file) => {
    const text = fs.readFileSync(file, 'utf8');
    if (!READS_CACHED_CURRENT.test(text)) return [];
    return requestParams(text).filter((p) => NAMES_A_SESSION.test(p)).map((p) => `${path.relative(SRC, file)}: ${p}`);
  });
  assert.deepEqual(offenders, []);
});

test('no request takes its session from anything called current', () => {
  const offenders = sources(SRC).flatMap((file) =>
    requestParams(fs.readFileSync(file, 'utf8')).filter((p) => /\bsession\s*:[^,}]*current/i.test(p)).map((p) => `${path.relative(SRC, file)}: ${p}`),
  );
  assert.deepEqual(offenders, []);
});
