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
    Request("aiSession/sessions/list", p.ListSessionsParams, p.ListSessionsResult, "Sessions, newest activity first, with totals."),
    Request("aiSession/sessions/get", p.GetSessionParams, p.SessionDetail, "One session, optionally with its recent messages and runs."),
    Request("aiSession/sessions/create", p.CreateSessionParams, p.SessionSummary, "Create a session (from a template or a pool)."),
    Request("aiSession/sessions/rename", p.RenameSessionParams, p.SessionSummary, "Rename a session."),
    Request("aiSession/sessions/pause", p.SessionRef, p.SessionSummary, "Pause a session."),
    Request("aiSession/sessions/resume", p.SessionRef, p.SessionSummary, "Resume a paused or idle session."),
    Request("aiSession/sessions/end", p.SessionRef, p.SessionSummary, "End a session (kept, read-only)."),
    Request("aiSession/sessions/delete", p.SessionRef, p.DeleteResult, "Delete a session and its history."),
    Request("aiSession/sessions/fork", p.ForkSessionParams, p.SessionSummary, "Branch a session at a message."),
    Request("aiSession/sessions/merge", p.MergeSessionsParams, p.SessionSummary, "Merge sessions into a new one."),
    Request("aiSession/sessions/export", p.ExportSessionParams, p.ExportSessionResult, "Export to versioned JSON (0600, secrets redacted)."),
    Request("aiSession/sessions/import", p.ImportSessionParams, p.SessionSummary, "Import ai-session, ChannelCoder or Claude Code files."),
    Request("aiSession/sessions/addMessage", p.AddMessageParams, p.SessionSummary, "Append a message (redacted, token-counted)."),
    Request("aiSession/templates/list", p.Empty, p.TemplateList, "Saved templates."),
    Request("aiSession/templates/save", p.TemplateSaveParams, Template, "Save a session as a template."),
    Request("aiSession/templates/delete", p.NameParams, p.DeleteResult, "Delete a template."),
    Request("aiSession/pool/list", p.Empty, p.PoolList, "Pools and their idle counts."),
    Request("aiSession/pool/set", PoolConfig, p.PoolState, "Create or change a role's pool (and fill it)."),
    Request("aiSession/pool/acquire", p.PoolAcquireParams, p.SessionSummary, "Take a session for a task from a role's pool."),
    Request("aiSession/worktree/attach", p.WorktreeAttachParams, p.WorktreeAttachResult, "Find or create the session of a worktree + branch; it becomes current."),
    Request("aiSession/worktree/current", p.Empty, p.CurrentSessionResult, "The workspace's worktree, branch and current session."),
    Request("aiSession/stats/get", p.StatsParams, p.StatsResult, "Usage and savings per session, agent or role."),
    Request("aiSession/store/validate", p.ValidateParams, p.ValidateResult, "Check (and with repair: fix) stored sessions."),
]

_NOTIFICATIONS = [
    Notification("aiSession/sessionsChanged", p.SessionsChanged, "Sessions were created, changed or deleted, by this or any other process."),
    Notification("aiSession/currentSessionChanged", p.CurrentSessionChanged, "The workspace's current session changed (attach, branch switch)."),
    Notification("aiSession/statsChanged", p.StatsChanged, "Figures for a status bar: context tokens against budget, savings, cost."),
]

REQUESTS: dict[str, Request] = {r.method: r for r in _REQUESTS}
NOTIFICATIONS: dict[str, Notification] = {n.method: n for n in _NOTIFICATIONS}

# Referenced by generated bindings so every domain model used on the wire is emitted.
WIRE_MODELS: tuple[type[BaseModel], ...] = (Session, Template, PoolConfig)

