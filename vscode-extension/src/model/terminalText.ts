// Text for an xterm-based terminal (VS Code's Pseudoterminal): no `vscode` import, unit-tested.

/** Every line break as CRLF: a bare "\n" only moves down, so lines would staircase. */
export function toTerminal(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}
