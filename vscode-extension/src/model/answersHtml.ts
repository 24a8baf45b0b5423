// The answers pane's HTML: each ask with its prompt, the streamed answer, and (when it failed)
// the problem with what fixes it as command links. No scripts; escaping is unit-tested.
import { escapeHtml } from './contextHtml';

export interface Exchange {
  askId: string;
  session: string;
  prompt: string;
  answer: string;
  footer?: string;
  /** The server's words, when the ask failed. */
  error?: string;
  /** Offer provider set-up (no provider chosen, or the provider refused). */
  providerProblem?: boolean;
}

const ACTIONS: [string, string][] = [
  ['aiSession.chooseProvider', 'Choose a provider'],
  ['aiSession.storeApiKey', 'Store an API key (kept in VS Code\'s secret storage)'],
  ['aiSession.openConfig', 'Open the ai-session config file'],
];

const STYLE = `
  body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 12px 12px; }
  h2 { font-size: 1.05em; margin: 14px 0 4px; }
  .muted { color: var(--vscode-descriptionForeground); }
  .prompt { border-left: 3px solid var(--vscode-textBlockQuote-border); padding: 2px 8px; margin: 4px 0; white-space: pre-wrap; }
  .answer { white-space: pre-wrap; margin: 6px 0; }
  .problem { border: 1px solid var(--vscode-inputValidation-errorBorder); background: var(--vscode-inputValidation-errorBackground); padding: 6px 8px; margin: 6px 0; }
  .problem ul { margin: 4px 0 0; padding-left: 18px; }
  a { color: var(--vscode-textLink-foreground); }
`;

function exchangeHtml(x: Exchange): string {
  const problem = x.error
    ? `<div class="problem" role="alert"><strong>The question was not answered:</strong> ${escapeHtml(x.error)}` +
      (x.providerProblem ? `<ul>${ACTIONS.map(([cmd, label]) => `<li><a href="command:${cmd}">${escapeHtml(label)}</a></li>`).join('')}</ul>` : '') +
      '</div>'
    : '';
  return `<section class="exchange" data-ask="${escapeHtml(x.askId)}"><h2>${escapeHtml(x.session)}</h2>` +
    `<div class="prompt">${escapeHtml(x.prompt)}</div>` +
    (x.answer ? `<div class="answer">${escapeHtml(x.answer)}</div>` : '') + problem +
    (x.footer ? `<div class="muted">${escapeHtml(x.footer)}</div>` : '') + '</section>';
}

export function renderAnswersHtml(exchanges: Exchange[], nonce: string, cspSource: string): string {
  const csp = `default-src 'none'; style-src ${cspSource} 'nonce-${nonce}';`;
  const body = exchanges.length ? exchanges.map(exchangeHtml).join('') : '<p class="muted">Ask something with "AI Session: Ask".</p>';
  return `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<style nonce="${nonce}">${STYLE}</style></head><body>${body}</body></html>`;
}
