// Finding (or installing) and checking the command that starts `ai-session serve` for a folder.
import { execFile } from 'node:child_process';
import { constants as fsConstants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { resolveServerCommand, ServerCommand, startFailureMessage } from './model/serverCommand';
import { SERVER_VERSION } from './protocol.generated';
import { pythonInterpreter } from './python';
import { providerKeyEnv } from './secrets';
import { Settings } from './settings';

async function isExecutable(file: string): Promise<boolean> {
  try {
    await fs.access(file, fsConstants.X_OK);
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

/** Like `which`: the absolute path of an executable name on PATH. */
export async function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (name.includes('/') || name.includes('\\')) return (await isExecutable(name)) ? name : undefined;
  const exts = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      if (await isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

/** Run a program; resolves to undefined on success, else the last line it printed (or the error). */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv, log?: vscode.LogOutputChannel, timeout = 20_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (log) for (const line of `${stdout}${stderr}`.split('\n').filter(Boolean)) log.info(`  ${line}`);
      resolve(err ? (stderr.trim().split('\n').pop() ?? err.message) : undefined);
    });
  });
}

// ---------------------------------------------------------------- the private server

/** Where "Install Server" puts its venv: the extension's global storage, nowhere else. */
export function privateVenv(extension: vscode.ExtensionContext): string {
  return path.join(extension.globalStorageUri.fsPath, 'server-venv');
}

function venvProgram(venv: string, name: string): string {
  return process.platform === 'win32' ? path.join(venv, 'Scripts', `${name}.exe`) : path.join(venv, 'bin', name);
}

/** A Python 3.11+ to create the venv with: the Python extension's, else python3 / python on PATH. */
async function basePython(log: vscode.LogOutputChannel): Promise<string | undefined> {
  const candidates = [await pythonInterpreter(undefined, log), await findOnPath('python3'), await findOnPath('python')];
  for (const python of candidates) {
    if (python && !(await run(python, ['-c', 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))'], process.env))) return python;
  }
  return undefined;
}

/**
 * One button's work: a private venv under the extension's global storage with the server of the
 * extension's own version installed into it (the bundled-server pattern of the Python tools
 * extension template, installed on demand instead of shipped).
 */
export async function installServer(extension: vscode.ExtensionContext, log: vscode.LogOutputChannel): Promise<string> {
  const python = await basePython(log);
  if (!python) throw new Error('Installing the server needs Python 3.11 or newer (python3 on PATH, or selected in the Python extension).');
  const venv = privateVenv(extension);
  const spec = `ai-session==${SERVER_VERSION}`;
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `AI Session: installing ${spec}` },
    async (progress) => {
      progress.report({ message: 'creating a private environment…' });
      log.info(`creating ${venv} with ${python}`);
      await fs.mkdir(path.dirname(venv), { recursive: true });
      const made = await run(python, ['-m', 'venv', '--clear', venv], process.env, log, 120_000);
      if (made) throw new Error(`could not create ${venv}: ${made}`);
      progress.report({ message: `pip install ${spec}…` });
      const pip = await run(venvProgram(venv, 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', spec], process.env, log, 600_000);
      if (pip) throw new Error(`pip install ${spec} failed: ${pip}`);
    },
  );
  return venvProgram(venv, 'ai-session');
}

// ---------------------------------------------------------------- resolving

export interface ResolvedServer {
  command: ServerCommand;
  env: NodeJS.ProcessEnv;
}

/** Two resolutions start the same server: a settings event that changes neither needs no restart. */
export function sameServer(a: ResolvedServer, b: ResolvedServer): boolean {
  const key = (r: ResolvedServer): string => JSON.stringify([r.command.command, r.command.args, Object.entries(r.env).sort()]);
  return key(a) === key(b);
}

export class ServerStartError extends Error {
  constructor(message: string, readonly installable = false) {
    super(message);
  }
}

/**
 * The command for this folder, checked before the language client starts, so a missing server
 * gives one message with the fix (and an Install button) instead of a crash-restart loop.
 */
export async function resolveServer(
  folder: vscode.WorkspaceFolder,
  settings: Settings,
  extension: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
): Promise<ResolvedServer> {
  // API keys stored with "AI Session: Store API Key" reach the server's environment only.
  const env: NodeJS.ProcessEnv = { ...process.env, ...settings.serverEnv, ...(await providerKeyEnv(extension.secrets)) };
  let interpreter: string | undefined;
  if (settings.serverCommand.length === 0) {
    interpreter = await pythonInterpreter(folder.uri, log);
    if (interpreter) {
      const problem = await run(interpreter, ['-c', 'import ai_session'], env);
      if (problem) {
        log.info(`the Python extension's interpreter ${interpreter} has no ai_session (${problem}); trying PATH`);
        interpreter = undefined;
      }
    }
  }
  const searching = settings.serverCommand.length === 0 && !interpreter;
  const onPath = searching ? await findOnPath('ai-session', env) : undefined;
  const installed = searching && !onPath ? await findOnPath(venvProgram(privateVenv(extension), 'ai-session')) : undefined;
  const command = resolveServerCommand({ setting: settings.serverCommand, pythonInterpreter: interpreter, onPath, installed });
  if (!command) throw new ServerStartError(startFailureMessage(undefined, ''), true);
  if (!(await findOnPath(command.command, env))) {
    throw new ServerStartError(startFailureMessage(command, `${command.command} was not found or is not executable`));
  }
  log.info(`server for ${folder.name}: ${[command.command, ...command.args].join(' ')} (from ${command.source})`);
  return { command, env };
}
