"""Every JSON-RPC method: name, direction, params and result, declared once.

Requests are `aiSession/<noun>/<verb>` (client → server); notifications are
`aiSession/<event>` (server → client).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from ai_session.core.models import PoolConfig, Session, Template
from ai_session.protocol import payloads as p


@dataclass(frozen=True)
class Request:
    method: str
    params: type[BaseModel]
    result: type[BaseModel]
    doc: str


@dataclass(frozen=True)
class Notification:
    method: str
    params: type[BaseModel]
    doc: str


_REQUESTS = [
    Request("aiSession/sessions/list", p.ListSessionsParams, p.ListSessionsResult, "Sessions, newest activity first, with totals (without shellEnv, metadata, providerSessions, systemPrompt: see sessions/get)."),
    Request("aiSession/sessions/get", p.GetSessionParams, p.SessionDetail, "One session, optionally with its recent messages and runs."),
    Request("aiSession/sessions/create", p.CreateSessionParams, p.SessionSummary, "Create a session (from a template or a pool)."),
    Request("aiSession/sessions/rename", p.RenameSessionParams, p.SessionSummary, "Rename a session."),
    Request("aiSession/sessions/checkName", p.CheckNameParams, p.NameCheck, "Whether a name can name a new (or the renamed) session, and why not: for validating as the user types."),
    Request("aiSession/sessions/shareTerminal", p.ShareTerminalParams, p.SessionSummary, "Share (or stop sharing) what a person types in the session's attached terminals with the model."),
    Request("aiSession/sessions/pause", p.SessionRef, p.SessionSummary, "Pause a session."),
    Request("aiSession/sessions/resume", p.SessionRef, p.SessionSummary, "Resume a paused or idle session."),
    Request("aiSession/sessions/end", p.SessionRef, p.SessionSummary, "End a session (kept, read-only)."),
    Request("aiSession/sessions/delete", p.SessionRef, p.DeleteResult, "Move a session to the trash (kept [trash] keep_days, 30 by default; 0: deleted at once)."),
    Request("aiSession/sessions/fork", p.ForkSessionParams, p.SessionSummary, "Branch a session at a message."),
    Request("aiSession/sessions/merge", p.MergeSessionsParams, p.SessionSummary, "Merge sessions into a new one."),
    Request("aiSession/sessions/export", p.ExportSessionParams, p.ExportSessionResult, "Export to versioned JSON (0600, secrets redacted)."),
    Request("aiSession/sessions/import", p.ImportSessionParams, p.SessionSummary, "Import ai-session, ChannelCoder or Claude Code files."),
    Request("aiSession/sessions/addMessage", p.AddMessageParams, p.SessionSummary, "Append a message (redacted, token-counted)."),
    Request("aiSession/trash/list", p.Empty, p.TrashList, "Trashed sessions, most recent first, with when each is removed for good."),
    Request("aiSession/trash/restore", p.TrashRestoreParams, p.SessionSummary, "Bring a session back from the trash (under another name when its own is taken)."),
    Request("aiSession/trash/empty", p.TrashEmptyParams, p.TrashEmptyResult, "Remove trashed sessions for good: one, those older than some days, or all."),
    Request("aiSession/templates/list", p.Empty, p.TemplateList, "Saved templates."),
    Request("aiSession/templates/save", p.TemplateSaveParams, Template, "Save a session as a template."),
    Request("aiSession/templates/delete", p.NameParams, p.DeleteResult, "Delete a template."),
    Request("aiSession/pool/list", p.Empty, p.PoolList, "Pools and their idle counts."),
    Request("aiSession/pool/set", PoolConfig, p.PoolState, "Create or change a role's pool (and fill it)."),
    Request("aiSession/pool/acquire", p.PoolAcquireParams, p.SessionSummary, "Take a session for a task from a role's pool."),
    Request("aiSession/worktree/attach", p.WorktreeAttachParams, p.WorktreeAttachResult, "Find or create the session of a worktree + branch; it becomes current."),
    Request("aiSession/worktree/current", p.Empty, p.CurrentSessionResult, "The workspace's worktree, branch and current session."),
    Request("aiSession/exec", p.ExecParams, p.ExecResult, "Run a command in the session's shell; returns the run id at once (or, with wait, the finished run)."),
    Request("aiSession/run/cancel", p.RunRef, p.CancelResult, "Stop a running command (its whole process group)."),
    Request("aiSession/run/output", p.RunOutputParams, p.RunOutputResult, "A run's output: context form, raw, a line range or grep."),
    Request("aiSession/runs/list", p.ListRunsParams, p.RunList, "A session's recent command runs."),
    Request("aiSession/terminal/attach", p.TerminalAttachParams, p.TerminalAttachResult, "Open an interactive terminal on the session's shell."),
    Request("aiSession/terminal/input", p.TerminalInputParams, p.Ok, "Keystrokes into an attached terminal."),
    Request("aiSession/terminal/resize", p.TerminalResizeParams, p.Ok, "Resize an attached terminal."),
    Request("aiSession/terminal/detach", p.TerminalRef, p.Ok, "Detach (the shell keeps running)."),
    Request("aiSession/context/get", p.ContextParams, p.ContextResult, "The exact context the model gets next, with parts and counts."),
    Request("aiSession/ask", p.AskParams, p.AskResult, "Ask the session's provider; the answer streams as answerChunk notifications."),
    Request("aiSession/stats/get", p.StatsParams, p.StatsResult, "Usage and savings per session, agent or role."),
    Request("aiSession/server/info", p.Empty, p.ServerInfo, "Version, store location and permissions, tokenizer: for health checks."),
    Request("aiSession/store/validate", p.ValidateParams, p.ValidateResult, "Check (and with repair: fix) stored sessions."),
]

_NOTIFICATIONS = [
    Notification("aiSession/sessionsChanged", p.SessionsChanged, "Sessions were created, changed or deleted, by this or any other process."),
    Notification("aiSession/currentSessionChanged", p.CurrentSessionChanged, "The workspace's current session changed (attach, branch switch)."),
    Notification("aiSession/runOutput", p.RunOutput, "Output of a running command, as it comes (at most one per 50 ms or 64 KiB of a run)."),
    Notification("aiSession/runFinished", p.RunFinished, "A command ended: exit code, raw/context tokens, diagnostics."),
    Notification("aiSession/terminalOutput", p.TerminalOutput, "Output of an attached terminal."),
    Notification("aiSession/terminalClosed", p.TerminalClosed, "An attached terminal ended (shell exited or detached)."),
    Notification("aiSession/hostStatus", p.HostStatus, "The session host that owns the shells restarted (reconnecting, reconnected), was replaced, or runs in this server."),
    Notification("aiSession/answerChunk", p.AnswerChunk, "A piece of an answer being streamed."),
    Notification("aiSession/statsChanged", p.StatsChanged, "Figures for a status bar: context tokens against budget, savings, cost."),
]

REQUESTS: dict[str, Request] = {r.method: r for r in _REQUESTS}
NOTIFICATIONS: dict[str, Notification] = {n.method: n for n in _NOTIFICATIONS}

# Referenced by generated bindings so every domain model used on the wire is emitted.
WIRE_MODELS: tuple[type[BaseModel], ...] = (Session, Template, PoolConfig)

