import * as vscode from 'vscode';
import { Provider, PROVIDERS } from './protocol.generated';

export { Provider, PROVIDERS };

export interface Settings {
  serverCommand: string[];
  serverEnv: Record<string, string>;
  autoAttach: boolean;
  maxTokens: number | null;
  provider: Provider | null;
}

/** `aiSession.*` for a folder (folder-scoped values win in multi-root workspaces). */
export function getSettings(folder?: vscode.WorkspaceFolder): Settings {
  const c = vscode.workspace.getConfiguration('aiSession', folder?.uri);
  const env = c.get<Record<string, unknown>>('serverEnv') ?? {};
  const provider = c.get<string>('provider') ?? '';
  return {
    serverCommand: (c.get<unknown[]>('serverCommand') ?? []).map(String),
    serverEnv: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
    autoAttach: c.get<boolean>('autoAttach') ?? true,
    maxTokens: c.get<number | null>('maxTokens') ?? null,
    // '' (the dropdown's "session's own") and anything unknown mean: let the session decide.
    provider: (PROVIDERS as readonly string[]).includes(provider) ? (provider as Provider) : null,
  };
}

/** Settings whose change may need a server restarted (the rest are read on use). */
export const SERVER_SETTINGS = ['aiSession.serverCommand', 'aiSession.serverEnv', 'aiSession.autoAttach'];
