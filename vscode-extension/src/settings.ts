import * as vscode from 'vscode';

export type Provider = 'claude' | 'openai' | 'anthropic';

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
  return {
    serverCommand: (c.get<unknown[]>('serverCommand') ?? []).map(String),
    serverEnv: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
    autoAttach: c.get<boolean>('autoAttach') ?? true,
    maxTokens: c.get<number | null>('maxTokens') ?? null,
    provider: c.get<Provider | null>('provider') ?? null,
  };
}

/** Settings whose change needs the server restarted (the rest are read on use). */
export const RESTART_SETTINGS = ['aiSession.serverCommand', 'aiSession.serverEnv', 'aiSession.autoAttach'];
