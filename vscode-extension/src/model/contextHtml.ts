// The context panel's HTML, built from a ContextResult. Pure string building so the escaping and
// the bar arithmetic are unit-tested; the WebviewView only supplies the nonce and CSP source.
import type { ContextResult } from '../protocol.generated';
import { formatCost, formatSavings, formatTokens } from './format';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

export interface BarSegment {
  name: string;
  tokens: number;
  /** Share of the bar's width, 0..100, against max(budget, total). */
  percent: number;
}

/** One segment per non-empty part; over budget the bar scales to the total so it never overflows. */
export function budgetBar(result: Pick<ContextResult, 'parts' | 'budget' | 'tokens'>): BarSegment[] {
  const scale = Math.max(result.budget, result.tokens, 1);
  return result.parts
    .filter((p) => p.tokens > 0)
    .map((p) => ({ name: p.name, tokens: p.tokens, percent: Math.round((p.tokens / scale) * 1000) / 10 }));
}

export interface PanelState {
  kind: 'empty' | 'error' | 'context';
  message?: string;
  sessionName?: string;
  /** The session's cost so far (the server's figure). */
  costUsd?: number;
  result?: ContextResult;
}

const STYLE = `
  body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 8px 8px; overflow-x: auto; }
  main { min-width: 260px; }
  .legend { display: flex; flex-wrap: wrap; gap: 2px 10px; font-size: 0.92em; }
  h2 { font-size: 1.05em; margin: 8px 0 4px; }
  .muted { color: var(--vscode-descriptionForeground); }
  .bar { display: flex; height: 14px; border: 1px solid var(--vscode-panel-border, var(--vscode-widget-border, transparent)); border-radius: 2px; overflow: hidden; background: var(--vscode-editorWidget-background); margin: 6px 0 2px; }
  .seg { height: 100%; }
  .over { color: var(--vscode-editorWarning-foreground); }
  table { border-collapse: collapse; width: 100%; margin-top: 6px; }
  td, th { text-align: left; padding: 2px 4px; border-bottom: 1px solid var(--vscode-panel-border, transparent); vertical-align: top; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .swatch { display: inline-block; width: 8px; height: 8px; margin-right: 4px; border-radius: 1px; }
  details { margin-top: 8px; }
  pre { white-space: pre; overflow-x: auto; font-family: var(--vscode-editor-font-family); font-size: 0.92em; background: var(--vscode-textCodeBlock-background); padding: 4px; margin: 2px 0 6px; }
  .c0 { background: var(--vscode-charts-blue); } .c1 { background: var(--vscode-charts-purple); }
  .c2 { background: var(--vscode-charts-green); } .c3 { background: var(--vscode-charts-orange); }
  .c4 { background: var(--vscode-charts-yellow); } .c5 { background: var(--vscode-charts-red); }
`;

const PART_ORDER = ['system', 'summary', 'pinned', 'recent', 'prompt'];

function colourClass(name: string): string {
  const i = PART_ORDER.indexOf(name);
  return `c${i >= 0 ? i : 5}`;
}

function bodyFor(state: PanelState): string {
  if (state.kind !== 'context' || !state.result) {
    return `<p class="muted">${escapeHtml(state.message ?? 'No current session.')}</p>`;
  }
  const r = state.result;
  const over = r.tokens > r.budget;
  // Widths go in the nonce'd style sheet: the CSP blocks inline style attributes.
  const segments = budgetBar(r)
    .map((s, i) => `<div class="seg ${colourClass(s.name)} w${i}" title="${escapeHtml(s.name)}: ${s.tokens} tokens"></div>`)
    .join('');
  const rows = r.parts
    .map(
      (p) =>
        `<tr><td><span class="swatch ${colourClass(p.name)}"></span>${escapeHtml(p.name)}</td>` +
        `<td class="num">${p.items.length}</td><td class="num">${p.tokens}</td><td class="num">${p.rawTokens}</td>` +
        `<td>${[p.compressed ? `${p.compressed} compressed` : '', p.dropped.length ? `${p.dropped.length} dropped` : '', escapeHtml(p.note)].filter(Boolean).join(' · ')}</td></tr>`,
    )
    .join('');
  const a = r.accounting;
  // Savings only mean something once there was raw text to save on.
  const saved = (raw: number, savings: number): string => (raw > 0 ? formatSavings(savings) || '—' : '—');
  const items = (r.items ?? [])
    .map(
      (it) =>
        `<div class="muted">${escapeHtml(it.part)} · ${escapeHtml(it.role)}${it.kind !== 'chat' ? ` · ${escapeHtml(it.kind)}` : ''} · ${it.tokens} tok` +
        `${it.rawTokens > it.tokens ? ` (raw ${it.rawTokens})` : ''}</div><pre>${escapeHtml(it.content)}</pre>`,
    )
    .join('');
  const legend = budgetBar(r)
    .map((s) => `<span><span class="swatch ${colourClass(s.name)}"></span>${escapeHtml(s.name)} ${formatTokens(s.tokens)}</span>`)
    .join('');
  return `<main>
  <h2>${escapeHtml(state.sessionName ?? r.sessionId)}</h2>
  <div class="${over ? 'over' : ''}" id="total">${formatTokens(r.tokens)} / ${formatTokens(r.budget)} tokens${over ? ' — over budget' : ''}${r.needsCompaction ? ' — compaction due' : ''} · <span id="cost">${formatCost(state.costUsd)}</span></div>
  <div class="bar" id="context-bar" role="img" aria-label="${r.tokens} of ${r.budget} tokens">${segments}</div>
  <div class="legend muted">${legend}</div>
  <div class="muted">strategy ${escapeHtml(r.strategy)}${r.window ? `, window ${r.window}` : ''}</div>
  <table><thead><tr><th>part</th><th class="num">items</th><th class="num">tokens</th><th class="num">raw</th><th></th></tr></thead><tbody>${rows}</tbody></table>
  <h2>Compression</h2>
  <table><tbody>
    <tr><td>command output</td><td class="num">${a.rawCommands} → ${a.contextCommands}</td><td class="num">${saved(a.rawCommands, a.commandSavings)}</td></tr>
    <tr><td>history</td><td class="num">${a.rawHistory} → ${a.contextHistory}</td><td class="num">${saved(a.rawHistory, a.historySavings)}</td></tr>
    <tr><td>all</td><td class="num">${a.raw} → ${a.context}</td><td class="num">${saved(a.raw, a.savings)}</td></tr>
  </tbody></table>
  ${items ? `<details><summary>Messages in the context (${r.items?.length ?? 0})</summary>${items}</details>` : ''}</main>`;
}

/** A full document with a strict CSP: no scripts at all, styles only from this nonce. */
/** One width rule per bar segment, for the style sheet. */
function widths(state: PanelState): string {
  return state.kind === 'context' && state.result ? budgetBar(state.result).map((s, i) => `.w${i} { width: ${s.percent}%; }`).join('\n') : '';
}

export function renderContextHtml(state: PanelState, nonce: string, cspSource: string): string {
  const csp = `default-src 'none'; style-src ${cspSource} 'nonce-${nonce}'; img-src ${cspSource} data:; script-src 'nonce-${nonce}';`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${nonce}">${STYLE}${widths(state)}</style></head>
<body>${bodyFor(state)}</body></html>`;
}
