import * as vscode from 'vscode';

/** One log for the extension and the server's stderr/trace (LogOutputChannel: levels, timestamps). */
export function createLog(): vscode.LogOutputChannel {
  return vscode.window.createOutputChannel('AI Session', { log: true });
}
