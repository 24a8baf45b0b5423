"""Payload models of the wire protocol (camelCase on the wire, snake_case in Python).

Domain models (Session, Message, CommandRun, Diagnostic, Template, PoolConfig, Usage) are
reused as they are; these add what only the wire needs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from ai_session.core.models import (
    CommandRun,
    Diagnostic,
    Message,
    Model,
    PoolConfig,
    ProviderName,
    Session,
    SessionStatus,
    Template,
    Usage,
)


class Empty(Model):
    """No parameters."""


CURRENT = "session name, id or unique id prefix; omitted: the workspace's current session"


class SessionRef(Model):
    """Every request about one session: an omitted session means the workspace's current one."""

    session: str | None = Field(None, description=CURRENT)


class SessionTotals(Model):
    messages: int = 0
    message_tokens: int = 0
    runs: int = 0
    raw_tokens: int = 0
    context_tokens: int = 0
    cost_usd: float = 0.0
    savings: float | None = Field(None, description="1 - context/raw over command output; null when nothing ran")


class SessionSummary(Model):
    session: Session
    totals: SessionTotals
    current: bool = Field(False, description="the session of the server's workspace worktree")


# ------------------------------------------------------------------ sessions


class ListSessionsParams(Model):
    statuses: list[SessionStatus] | None = None
    agent: str | None = None
    role: str | None = None
    worktree: str | None = None
    include_pool: bool = False
    offset: int = Field(0, ge=0, description="skip this many sessions of the listing (newest activity first)")
    limit: int | None = Field(None, ge=1, description="at most this many sessions (a page); null for all")


class ListSessionsResult(Model):
    sessions: list[SessionSummary]
    current_session_id: str | None = None
    total: int = Field(0, description="sessions in the whole listing: more pages follow while offset + len(sessions) < total")


class GetSessionParams(SessionRef):
    history: bool = False
    limit: int | None = Field(20, description="last N messages and runs; null for all")


class SessionDetail(Model):
    summary: SessionSummary
    messages: list[Message] = Field(default_factory=list)
    runs: list[CommandRun] = Field(default_factory=list)


class CreateSessionParams(Model):
    name: str | None = None
    agent: str | None = None
    role: str | None = None
    template: str | None = None
    from_pool: bool = False
    max_tokens: int | None = Field(None, gt=0)
    worktree: str | None = Field(None, description="bind to the git worktree containing this path")
    provider: ProviderName | None = None
    model: str | None = None
    system_prompt: str | None = None
    tags: list[str] = Field(default_factory=list)


class CheckNameParams(Model):
    name: str
    renaming: str | None = Field(None, description="the session being renamed (its own name is no conflict)")


class NameCheck(Model):
    problem: str | None = Field(description="why the name cannot be used; null when it can")


class ShareTerminalParams(SessionRef):
    share: bool = Field(description="commands typed in attached terminals go into the model's context")


class RenameSessionParams(SessionRef):
    new_name: str


class ForkSessionParams(SessionRef):
    at: int | None = Field(None, description="last message seq to keep")
    name: str | None = None


class MergeSessionsParams(Model):
    sessions: list[str] = Field(min_length=2)
    name: str | None = None


class ExportSessionParams(SessionRef):
    path: str | None = Field(None, description="file to write; default: the exports dir")


class ExportSessionResult(Model):
    path: str


class ImportSessionParams(Model):
    path: str
    format: Literal["auto", "native", "channelcoder", "claude-code"] = "auto"
    name: str | None = None


class AddMessageParams(SessionRef):
    role: Literal["user", "assistant", "system", "tool"] = "user"
    content: str
    kind: Literal["chat", "command", "summary", "decision"] = "chat"
    pinned: bool = False
    agent: str | None = None


class DeleteResult(Model):
    deleted: str
    trashed: bool = Field(False, description="a session went to the trash (false: it is gone for good)")


# ------------------------------------------------------------------ trash


class TrashedSession(Model):
    summary: SessionSummary
    expires_at: datetime | None = Field(description="when the trash removes it for good (null: kept until emptied)")


class TrashList(Model):
    sessions: list[TrashedSession] = Field(description="most recently trashed first")
    keep_days: float = Field(description="how long the trash keeps a session ([trash] keep_days)")


class TrashRestoreParams(SessionRef):
    session: str = Field(description="a trashed session's name, id or unique id prefix")
    name: str | None = Field(None, description="restore it under this name (when its own is taken)")


class TrashEmptyParams(Model):
    session: str | None = Field(None, description="only this trashed session; default: all of them")
    older_than_days: float | None = Field(None, gt=0, description="only those trashed longer ago than this")


class TrashEmptyResult(Model):
    deleted: list[str] = Field(description="ids of the sessions removed for good")


# ------------------------------------------------------------------ templates, pools, worktree


class TemplateSaveParams(SessionRef):
    name: str
    system_prompt: str | None = None


class NameParams(Model):
    name: str


class TemplateList(Model):
    templates: list[Template]


class PoolState(Model):
    config: PoolConfig
    idle: int


class PoolList(Model):
    pools: list[PoolState]


class PoolAcquireParams(Model):
    role: str
    name: str | None = None


class WorktreeAttachParams(Model):
    path: str | None = Field(None, description="a folder in the worktree; default: the workspace root")
    agent: str | None = None


class WorktreeAttachResult(Model):
    summary: SessionSummary
    created: bool
    worktree: str
    branch: str | None


class CurrentSessionResult(Model):
    summary: SessionSummary | None = None
    worktree: str | None = None
    branch: str | None = None


# ------------------------------------------------------------------ stats


class StatsParams(Model):
    period_days: float | None = Field(None, gt=0)
    group_by: Literal["session", "agent", "role"] = "session"
    savings: bool = Field(False, description="also compute history raw-vs-context savings (slower)")


class StatsRow(Model):
    key: str
    sessions: int
    messages: int
    message_tokens: int
    commands: int
    raw_tokens: int
    context_tokens: int
    cost_usd: float
    history_raw_tokens: int = Field(description="history tokens the agent would have been sent without ai-session")
    history_context_tokens: int
    cost_avoided_usd: float
    saved_tokens: int
    savings: float | None = Field(description="1 - context/raw over command outputs; null when nothing ran")
    history_savings: float | None = Field(description="1 - context/raw over history; null without history figures")


class StatsResult(Model):
    group_by: str
    period_days: float | None
    rows: list[StatsRow]
    total: StatsRow = Field(description="each message and run counted once, however many sessions hold a copy")
    copies: int = Field(0, description="copies (merge, fork, import) the rows hold and the total counts once")


# ------------------------------------------------------------------ maintenance


class ValidateParams(Model):
    session: str | None = None
    repair: bool = False


class ProblemInfo(Model):
    session_id: str | None
    what: str
    fixable: bool
    fixed: bool
    session: str | None = Field(None, description="the session's name")
    seq: int | None = Field(None, description="the damaged message's number")
    ref: str | None = Field(None, description="the damaged row's id (message, run or session)")
    damaged: bool = Field(False, description="a stored row that does not read back; repair quarantines it")


class ValidateResult(Model):
    problems: list[ProblemInfo]


# ------------------------------------------------------------------ notifications


class SessionChange(Model):
    session_id: str | None
    kind: str = Field(description="created | updated | deleted | message (appended) | edited (messages changed or removed) | run | template | pool | restored (the whole store)")


class SessionsChanged(Model):
    changes: list[SessionChange]


class CurrentSessionChanged(Model):
    summary: SessionSummary | None
    worktree: str | None
    branch: str | None


class StatsChanged(Model):
    session_id: str
    session_name: str
    context_tokens: int = Field(description="tokens of the context the model would get next")
    budget: int
    raw_tokens: int = Field(description="the session's command outputs, raw (as an agent's pipe would carry them)")
    command_context_tokens: int = Field(description="the session's command outputs as the agent received them")
    savings: float | None = Field(description="1 - context/raw over the session's command outputs; null when nothing ran")
    cost_usd: float


class RunDiagnostics(Model):
    diagnostics: list[Diagnostic]



# ------------------------------------------------------------------ exec and runs


class ExecParams(SessionRef):
    command: str = Field(min_length=1)
    cwd: str | None = None
    timeout: float | None = Field(None, gt=0, description="seconds; the process group is killed after")
    wait: bool = Field(False, description="resolve when the command ends (with $/progress; $/cancelRequest kills it)")
    output_cap: int | None = Field(None, gt=0, description=(
        "the agent's own limit on a command's output, in characters (Claude Code's BASH_MAX_OUTPUT_LENGTH): "
        "the run's raw figure counts what the agent would have received; default [context] agent_output_cap"))


class ExecResult(Model):
    run_id: str
    session_id: str
    run: CommandRun | None = Field(None, description="the finished run, when wait was set")
    queued_behind: CommandRun | None = Field(
        None, description="the run still going in the session's shell: this command starts when it ends")


class RunRef(Model):
    run_id: str = Field(description="run id or unique prefix")


class CancelResult(Model):
    cancelled: bool
    run: CommandRun | None = Field(None, description="the run as recorded once stopped (every client also gets runFinished)")


class RunOutputParams(RunRef):
    mode: Literal["context", "raw", "lines", "grep"] = "context"
    lines: str | None = Field(None, description="A:B (1-based, inclusive) for mode lines")
    pattern: str | None = Field(None, description="regular expression for mode grep")
    context_lines: int = Field(0, ge=0, le=50)
    plain: bool = Field(False, description="raw as a pipe would have received it: ANSI escapes removed, \\r redraws collapsed")


class RunOutputResult(Model):
    run: CommandRun
    text: str


class ListRunsParams(SessionRef):
    limit: int | None = Field(20, description="most recent N; null for all")


class RunList(Model):
    runs: list[CommandRun]


# ------------------------------------------------------------------ terminal


class TerminalAttachParams(SessionRef):
    cols: int = Field(80, gt=0, le=1000)
    rows: int = Field(24, gt=0, le=1000)


class TerminalAttachResult(Model):
    terminal_id: str
    session_id: str


class TerminalRef(Model):
    terminal_id: str


class TerminalInputParams(TerminalRef):
    data: str = Field(description="keystrokes, as typed (UTF-8)")


class TerminalResizeParams(TerminalRef):
    cols: int = Field(gt=0, le=1000)
    rows: int = Field(gt=0, le=1000)


class Ok(Model):
    ok: bool = True


# ------------------------------------------------------------------ context and ask


class ContextParams(SessionRef):
    max_tokens: int | None = Field(None, gt=0)
    strategy: Literal["sliding", "summarize", "preserve_important"] | None = None
    window: int | None = Field(None, gt=0, description="keep only the last N message pairs")
    with_items: bool = Field(True, description="include the messages themselves, not only the parts")


class ContextItemInfo(Model):
    part: str
    seq: int | None
    role: str
    kind: str
    tokens: int
    raw_tokens: int
    run_id: str | None
    covers: list[int] | None
    content: str


class ContextPartInfo(Model):
    name: str = Field(description="system | summary | pinned | recent | prompt")
    tokens: int
    raw_tokens: int
    items: list[int]
    compressed: int = Field(description="command runs sent in their compressed form")
    dropped: list[int] = Field(description="message seqs that did not fit")
    note: str


class ContextAccounting(Model):
    raw_history: int
    context_history: int
    raw_commands: int
    context_commands: int
    raw: int
    context: int
    history_savings: float | None = Field(description="1 - context/raw over history; null when nothing raw")
    command_savings: float | None = Field(description="1 - context/raw over command outputs; null when nothing ran")
    savings: float | None = Field(description="1 - context/raw over both; null when nothing raw")


class ContextResult(Model):
    session_id: str
    session_name: str = Field(description="the session the server resolved (the current one when none was given)")
    strategy: str
    budget: int
    window: int | None
    tokens: int
    needs_compaction: bool
    parts: list[ContextPartInfo]
    accounting: ContextAccounting
    unreadable: list[int] = Field([], description="messages left out: they do not read back (see store/validate)")
    items: list[ContextItemInfo] | None = None


class AskParams(SessionRef):
    prompt: str = Field(min_length=1)
    provider: ProviderName | None = None
    model: str | None = None
    agent: str | None = None
    ask_id: str | None = Field(None, description="echoed in answerChunk notifications")


class AskResult(Model):
    session_id: str
    text: str
    model: str | None
    usage: Usage | None
    note: str | None = Field(None, description="e.g. a provider conversation could not be resumed")


# ------------------------------------------------------------------ streaming notifications


class RunOutput(Model):
    run_id: str
    session_id: str
    data: str = Field(description="output as it came (terminal text, may hold ANSI escapes)")


class RunFinished(Model):
    run: CommandRun
    diagnostics_count: int


class TerminalOutput(Model):
    terminal_id: str
    data: str


class TerminalClosed(Model):
    terminal_id: str
    reason: str


class HostStatus(Model):
    """The session host (the process that owns the shells) changed: it was killed and a new one
    started (reconnecting, then reconnected: shells are back in their saved cwd and env), an
    older version was replaced, or none can run here and shells run in the editor's server."""

    state: Literal["reconnecting", "reconnected", "replaced", "local", "lost"]
    message: str


class AnswerChunk(Model):
    session_id: str
    ask_id: str | None
    text: str


class ServerInfo(Model):
    version: str
    config_file: str = Field(description="the user's config file (it may not exist yet)")
    store_url: str = Field(description="passwords removed")
    data_dir: str
    data_dir_mode: str = Field(description="octal permissions, e.g. 0700")
    store_file_mode: str | None = Field(None, description="octal permissions of the SQLite file, e.g. 0600")
    encoding: str = Field(description="the tokenizer used for counts")
    encoding_ok: bool = Field(description="the tokenizer loads (offline) and counts")
    workspace: str | None
    worktree: str | None
    branch: str | None
