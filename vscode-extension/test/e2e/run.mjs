#!/usr/bin/env node
// End-to-end test in a real VS Code: code-server 4.96.4 driven by playwright-core in Debian's
// Chromium, with the packaged .vsix installed and the real Python server.
//
//   bash test/e2e/install.sh && node test/e2e/run.mjs      (npm run test:e2e)
//
// Env: PYTHON = interpreter that can run `-m ai_session` and pytest (default: python3);
//      KEEP=1 keeps the temp dir (store, logs, project) for a look afterwards.
// Screenshots: tests/artifacts/vscode-*.png. Exit code 0 only when every check passed.
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const EXT = path.resolve(HERE, '../..');
const ROOT = path.resolve(EXT, '..');
const CACHE = process.env.AI_SESSION_E2E_CACHE ?? path.join(ROOT, '.cache/vscode-e2e');
const ARTIFACTS = path.join(ROOT, 'tests/artifacts');
const PYTHON = process.env.PYTHON ?? 'python3';
const STEP_MS = 60_000;

const require = createRequire(path.join(CACHE, 'package.json'));
const { chromium } = require('playwright-core');
const CODE_SERVER = path.join(CACHE, 'node_modules/code-server/out/node/entry.js');

const results = [];
let failed = 0;
function check(name, ok, detail = '') {
  results.push({ name, ok, detail });
  if (!ok) failed += 1;
  console.log(`${ok ? 'ok' : 'not ok'} ${results.length} - ${name}${detail ? ` # ${detail}` : ''}`);
}

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}

/** A git repository with a tiny Python project whose test fails. */
function makeProject(dir) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'calc.py'), 'def add(a, b):\n    return a - b\n');
  fs.writeFileSync(
    path.join(dir, 'test_calc.py'),
    'from calc import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n\n\ndef test_zero():\n    assert add(0, 0) == 0\n',
  );
  const git = (...a) => sh('git', a, { cwd: dir });
  git('init', '-q', '-b', 'main');
  git('-c', 'user.name=e2e', '-c', 'user.email=e2e@example.invalid', 'add', '.');
  git('-c', 'user.name=e2e', '-c', 'user.email=e2e@example.invalid', 'commit', '-q', '-m', 'calc');
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const pyBin = sh(PYTHON, ['-c', 'import sys; print(sys.executable)']).trim();
  const serverPath = path.join(ROOT, 'server');
  sh(pyBin, ['-c', 'import ai_session, pytest'], { env: { ...process.env, PYTHONPATH: serverPath } });

  console.log('# packaging the extension');
  sh('npm', ['run', '--silent', 'package'], { cwd: EXT, stdio: ['ignore', 'ignore', 'inherit'] });
  const vsix = path.join(EXT, 'dist/ai-session.vsix');

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-session-vscode-e2e-'));
  const project = path.join(tmp, 'calc');
  const userData = path.join(tmp, 'user-data');
  const extDir = path.join(tmp, 'extensions');
  const home = path.join(tmp, 'home');
  makeProject(project);
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.mkdirSync(home, { recursive: true });
  const serverEnv = {
    PYTHONPATH: serverPath,
    AI_SESSION_HOME: path.join(tmp, 'store'),
    // `python` in the session's shell is the interpreter under test.
    PATH: `${path.dirname(pyBin)}${path.delimiter}${process.env.PATH}`,
  };
  fs.writeFileSync(
    path.join(userData, 'User/settings.json'),
    JSON.stringify(
      {
        'security.workspace.trust.enabled': false,
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.enableExperiments': false,
        'extensions.ignoreRecommendations': true,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'aiSession.serverCommand': [pyBin, '-m', 'ai_session', 'serve'],
        'aiSession.serverEnv': serverEnv,
      },
      null,
      2,
    ),
  );
  const csEnv = { ...process.env, HOME: home, XDG_DATA_HOME: path.join(home, '.local/share'), XDG_CONFIG_HOME: path.join(home, '.config') };
  const csArgs = ['--user-data-dir', userData, '--extensions-dir', extDir, '--disable-telemetry'];

  console.log('# installing the .vsix into code-server');
  sh(process.execPath, [CODE_SERVER, ...csArgs, '--install-extension', vsix], { env: csEnv });

  const port = await freePort();
  const csLog = fs.openSync(path.join(tmp, 'code-server.log'), 'w');
  const cs = spawn(
    process.execPath,
    [CODE_SERVER, ...csArgs, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-workspace-trust', '--disable-update-check', project],
    { env: csEnv, stdio: ['ignore', csLog, csLog], detached: true },
  );
  let browser;
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(STEP_MS);
    const consoleLog = fs.createWriteStream(path.join(tmp, 'browser-console.log'));
    page.on('console', (m) => consoleLog.write(`[${m.type()}] ${m.text()}\n`));
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(project)}`);
    await page.locator('.monaco-workbench').waitFor();
    await page.locator('.statusbar').waitFor();
    try {
      await runE2e(page, { project });
    } catch (err) {
      await shot(page, 'failure').catch(() => undefined);
      throw err;
    }
  } finally {
    await browser?.close().catch(() => undefined);
    try {
      process.kill(-cs.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    if (process.env.KEEP) console.log(`# kept ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  }
}

async function shot(page, name) {
  const file = path.join(ARTIFACTS, `vscode-${name}.png`);
  await page.screenshot({ path: file });
  console.log(`# screenshot ${path.relative(ROOT, file)}`);
}

/** F1, type the command's title, run the exact match (re-open: the list does not refresh itself). */
async function palette(page, title) {
  const input = page.locator('.quick-input-widget input.input');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  const end = Date.now() + STEP_MS;
  for (;;) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    await input.waitFor();
    await input.fill(`>${title}`);
    if (await row.waitFor({ timeout: 5000 }).then(() => true, () => false)) break;
    if (Date.now() > end) throw new Error(`command "${title}" is not in the palette`);
  }
  await page.keyboard.press('Enter');
}

async function statusText(page, sessionName) {
  const item = page.locator('.statusbar-item', { hasText: sessionName }).first();
  await item.waitFor();
  return (await item.innerText()).trim();
}

async function runE2e(page, { project }) {
  const sessionName = `${path.basename(project)}-main`;
  const sidebar = page.locator('.part.sidebar');

  // 1. The sidebar shows the worktree's session (auto-attached by the server).
  const container = page.locator('.activitybar [aria-label^="AI Sessions"]').first();
  await container.waitFor();
  await container.click();
  const sessionRow = sidebar.locator('.monaco-list-row', { hasText: sessionName }).first();
  let ok = await sessionRow.waitFor().then(() => true, () => false);
  const worktreeRow = await sidebar.locator('.monaco-list-row', { hasText: path.basename(project) }).count();
  check('sidebar shows the worktree session', ok && worktreeRow > 0, sessionName);
  await shot(page, '1-sidebar');

  // 2. The status bar shows the session.
  const before = await statusText(page, sessionName).catch(() => '');
  check('status bar shows the current session', before.includes(sessionName), before);

  // 3. Run a command from the palette.
  await palette(page, 'AI Session: Run Command in Session');
  const box = page.locator('.quick-input-widget input.input');
  await box.waitFor();
  await box.fill('python -m pytest -q');
  await shot(page, '2-run-command');
  await page.keyboard.press('Enter');

  // 4. The run appears in the tree, finished with exit 1.
  const runRow = sidebar.locator('.monaco-list-row', { hasText: 'python -m pytest -q' }).first();
  ok = await runRow.waitFor().then(() => true, () => false);
  let finished = false;
  if (ok) {
    finished = await page
      .waitForFunction(() => [...document.querySelectorAll('.part.sidebar .monaco-list-row')].some((r) => /python -m pytest -q[\s\S]*exit 1/.test(r.textContent ?? '')))
      .then(() => true, () => false);
  }
  check('the run appears in the tree', ok, ok ? (await runRow.innerText()).replace(/\s+/g, ' ') : '');
  check('the run in the tree is finished with exit 1', finished);
  const terminalText = await page.locator('.terminal-wrapper, .xterm').first().innerText().catch(() => '');
  await shot(page, '3-run-finished');

  // 5. The status bar text changed (savings of the command output appear).
  const changed = await page
    .waitForFunction(
      ([name, old]) => [...document.querySelectorAll('.statusbar-item')].some((e) => (e.textContent ?? '').includes(name) && e.textContent.trim() !== old),
      [sessionName, before],
    )
    .then(() => true, () => false);
  const after = await statusText(page, sessionName).catch(() => '');
  check('the status bar text changed after the run', changed && after !== before, `${before} → ${after}`);

  // 6. The Problems panel shows the error parsed from pytest's output.
  await palette(page, 'View: Focus Problems');
  const markers = page.locator('.markers-panel .monaco-list-row');
  ok = await markers.first().waitFor().then(() => true, () => false);
  const problemText = ok ? (await page.locator('.markers-panel').innerText()).replace(/\s+/g, ' ') : '';
  check('the Problems panel shows the parsed error', ok && /test_calc\.py/.test(problemText), problemText.slice(0, 160));
  await shot(page, '4-problems');

  // 7. Clicking the run opens its context form.
  if (await runRow.count()) {
    await runRow.click();
    const editor = page.locator('.editor-group-container .view-lines').first();
    ok = await editor.waitFor().then(() => true, () => false);
    const text = ok ? await editor.innerText() : '';
    check('clicking the run opens its context form', /context\s+form/.test(text)  /* monaco renders spaces as U+00A0 */, text.split('\n')[1] ?? '');
  }

  // 8. The context panel renders the session's context.
  await palette(page, 'AI Session: Show Context');
  const frame = page.frameLocator('.webview.ready').frameLocator('#active-frame');
  ok = await frame.locator('#total').waitFor().then(() => true, () => false);
  check('the context panel shows tokens against the budget', ok, ok ? await frame.locator('#total').innerText() : '');
  await shot(page, '5-context');
  if (terminalText) console.log(`# run terminal: ${terminalText.replace(/\s+/g, ' ').slice(0, 200)}`);
}

const started = Date.now();
main()
  .catch((err) => {
    check('end-to-end run completed', false, String(err?.stack ?? err));
  })
  .finally(() => {
    const passed = results.filter((r) => r.ok).length;
    console.log(`# ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log(`${passed} passed, ${failed} failed`);
    process.exitCode = failed || results.length === 0 ? 1 : 0;
  });
