// Provider API keys in VS Code's SecretStorage (the OS keychain), never in settings.json: they
// reach only the server's environment, under the variable each provider reads.
import * as vscode from 'vscode';
import type { Provider } from './settings';

/** The environment variable each provider with a key reads (the Claude CLI keeps its own login). */
export const KEY_ENV: Partial<Record<Provider, string>> = { anthropic: 'ANTHROPIC_API_KEY', openai: 'OPENAI_API_KEY' };

const secretName = (provider: Provider): string => `aiSession.apiKey.${provider}`;

export async function storeProviderKey(secrets: vscode.SecretStorage, provider: Provider, key: string): Promise<void> {
  await secrets.store(secretName(provider), key);
}

/** `{ANTHROPIC_API_KEY: ...}` for every key stored. */
export async function providerKeyEnv(secrets: vscode.SecretStorage): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const [provider, variable] of Object.entries(KEY_ENV) as [Provider, string][]) {
    const key = await secrets.get(secretName(provider));
    if (key) env[variable] = key;
  }
  return env;
}
