// Finding and checking the command that starts `ai-session serve` for a workspace folder.
import { execFile } from 'node:child_process';
import { constants as fsConstants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { resolveServerCommand, ServerCommand, startFailureMessage } from './model/serverCommand';
import { pythonInterpreter } from './python';
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

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: 20_000 }, (err, _stdout, stderr) => {
      resolve(err ? (stderr.trim().split('\n').pop() ?? err.message) : undefined);
    });
  });
}

export interface ResolvedServer {
  command: ServerCommand;
  env: NodeJS.ProcessEnv;
}

export class ServerStartError extends Error {}

/**
 * The command for this folder, checked before the language client starts, so a missing server
 * gives one message with the fix instead of a crash-restart loop.
 */
export async function resolveServer(folder: vscode.WorkspaceFolder, settings: Settings, log: vscode.LogOutputChannel): Promise<ResolvedServer> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...settings.serverEnv };
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
  const onPath = settings.serverCommand.length === 0 && !interpreter ? await findOnPath('ai-session', env) : undefined;
  const command = resolveServerCommand({ setting: settings.serverCommand, pythonInterpreter: interpreter, onPath });
  if (!command) throw new ServerStartError(startFailureMessage(undefined, ''));
  if (!(await findOnPath(command.command, env))) {
    throw new ServerStartError(startFailureMessage(command, `${command.command} was not found or is not executable`));
  }
  log.info(`server for ${folder.name}: ${[command.command, ...command.args].join(' ')} (from ${command.source})`);
  return { command, env };
}
