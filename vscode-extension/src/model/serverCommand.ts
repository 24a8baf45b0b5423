// How the server is started, decided from plain inputs so the order of preference is testable.

export interface ServerCommand {
  command: string;
  args: string[];
  /** Where the command came from, for the log and for error messages. */
  source: 'setting' | 'python-extension' | 'path' | 'installed';
}

export interface ServerCommandInputs {
  /** `aiSession.serverCommand`, as configured (may be empty). */
  setting: readonly string[] | undefined;
  /** The interpreter selected in the Python extension, when it is installed and has one. */
  pythonInterpreter: string | undefined;
  /** Absolute path of `ai-session` found on PATH, if any. */
  onPath: string | undefined;
  /** The `ai-session` that "Install Server" put in the extension's private venv, if any. */
  installed?: string | undefined;
}

/** Setting first, then the Python extension's interpreter, then `ai-session` on PATH, then the
 * privately installed one; undefined if none. */
export function resolveServerCommand(inputs: ServerCommandInputs): ServerCommand | undefined {
  const setting = (inputs.setting ?? []).filter((part) => part.trim() !== '');
  if (setting.length > 0) {
    return { command: setting[0], args: setting.slice(1), source: 'setting' };
  }
  if (inputs.pythonInterpreter) {
    return { command: inputs.pythonInterpreter, args: ['-m', 'ai_session', 'serve'], source: 'python-extension' };
  }
  if (inputs.onPath) {
    return { command: inputs.onPath, args: ['serve'], source: 'path' };
  }
  if (inputs.installed) {
    return { command: inputs.installed, args: ['serve'], source: 'installed' };
  }
  return undefined;
}

/** The one message a person sees when the server cannot start, with the fix. */
export function startFailureMessage(cmd: ServerCommand | undefined, error: string): string {
  const fix =
    'Install the server (`pip install ai-session`) into your Python environment, or set ' +
    '"aiSession.serverCommand" to a command that starts it, e.g. ["/path/to/python", "-m", "ai_session", "serve"].';
  if (!cmd) {
    return 'AI Session: no server found (no "aiSession.serverCommand", no Python interpreter with ai_session, no "ai-session" on PATH). ' +
      '"Install Server" sets up a private one for this extension, or: ' + fix;
  }
  const shown = [cmd.command, ...cmd.args].join(' ');
  return `AI Session: the server could not start (\`${shown}\`, from ${describeSource(cmd.source)}): ${error}. ${fix}`;
}

function describeSource(source: ServerCommand['source']): string {
  switch (source) {
    case 'setting':
      return 'the aiSession.serverCommand setting';
    case 'python-extension':
      return "the Python extension's interpreter";
    case 'installed':
      return "the extension's private install";
    default:
      return 'PATH';
  }
}
