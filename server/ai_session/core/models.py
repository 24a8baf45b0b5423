"""The domain: sessions, their messages and command runs, templates and pools.

Pydantic models, because every one of them crosses an edge (store rows, export files,
CLI JSON, the language-server wire). Field names are snake_case in Python; `by_alias`
dumps give camelCase for the wire.
"""

from __future__ import annotations

from datetime import datetime, UTC
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator
from pydantic.alias_generators import to_camel

from ai_session.core.accounting import saving
from ai_session.core.config import DEFAULT_MAX_TOKENS as DEFAULT_MAX_TOKENS
from ai_session.core.ids import new_id

# The AI providers core/providers implements: the one list the CLI's choices, the protocol's
# payloads and the editors' pickers (generated from the protocol) are made from.
ProviderName = Literal["claude", "openai", "anthropic"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True)

    def replaced(self, **changes: Any) -> Self:
        """`model_copy(update=changes)` at a third of its cost (an append copies each message
        three times): the same shallow copy, unvalidated as there, of a model that has no extra
        or private attributes."""
        copy = self.__class__.__new__(self.__class__)
        object.__setattr__(copy, "__dict__", {**self.__dict__, **changes})
        object.__setattr__(copy, "__pydantic_fields_set__", self.__pydantic_fields_set__ | changes.keys())
        object.__setattr__(copy, "__pydantic_extra__", None)
        object.__setattr__(copy, "__pydantic_private__", None)
        return copy


class SessionStatus(StrEnum):
    ACTIVE = "active"
    IDLE = "idle"
    PAUSED = "paused"
    POOL = "pool"  # pre-created, waiting in a role's pool
    ENDED = "ended"


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    TOOL = "tool"


class MessageKind(StrEnum):
    CHAT = "chat"
    COMMAND = "command"
    SUMMARY = "summary"
    DECISION = "decision"


class RunStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"  # exited on its own, whatever the exit code
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    LOST = "lost"  # the process owning it died before it finished


class Usage(Model):
    """What a provider reported for one answer (or our own count when it reported nothing)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    reported: bool = False  # True when the numbers came from the provider


class Session(Model):
    id: str = Field(default_factory=lambda: new_id("sess"))
    name: str
    status: SessionStatus = SessionStatus.ACTIVE
    worktree: str | None = None
    branch: str | None = None
    agent: str | None = None
    role: str | None = None
    provider: str | None = None
    # Provider-side conversation ids, oldest first (a resume that fails starts a new one).
    provider_sessions: list[str] = Field(default_factory=list)
    model: str | None = None
    max_tokens: int = DEFAULT_MAX_TOKENS
    system_prompt: str | None = None
    template: str | None = None
    pool: str | None = None  # role of the pool it came from
    tags: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)
    last_active: datetime = Field(default_factory=utcnow)
    # The shell's state when its process last exited: restored by the next shell.
    shell_cwd: str | None = None
    shell_env: dict[str, str] = Field(default_factory=dict)
    # Commands a person types in an attached terminal go into the model's context only when shared.
    share_terminal: bool = False
    # Provenance and anything adapters attach (merged_from, forked_from, imported_from, ...).
    metadata: dict[str, Any] = Field(default_factory=dict)
    # When it was moved to the trash (None: a live session); the trash keeps it for a while.
    trashed_at: datetime | None = None
    # Set by the store when this session's stored record does not read back (the fields above
    # are then what its columns still tell); such a session cannot be written until repaired.
    damage: str | None = None


class Message(Model):
    id: str = Field(default_factory=lambda: new_id("msg"))
    session_id: str = ""
    seq: int = 0  # assigned by the store: 1, 2, 3... per session, gap-free
    role: Role
    content: str
    kind: MessageKind = MessageKind.CHAT
    created_at: datetime = Field(default_factory=utcnow)
    tokens: int | None = None  # cached cl100k count; filled in when stored
    pinned: bool = False
    agent: str | None = None  # who wrote it, for shared sessions
    run_id: str | None = None  # the CommandRun a command message stands for
    covers: tuple[int, int] | None = None  # a summary's first and last covered seq
    usage: Usage | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    copy_of: str | None = None  # the message this one copies (merge, fork, import): counted once
    # Set by the store when the stored row does not read back (its text is then empty); such a
    # message is left out of contexts and exports and never written until repaired.
    damage: str | None = None


class Diagnostic(Model):
    file: str
    line: int
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None
    severity: str = "error"  # error | warning | info | hint
    message: str
    source: str = ""  # the tool: pytest, tsc, gcc...
    code: str | None = None


SAVINGS_DESCRIPTION = "1 - context/raw: a positive number means fewer tokens; null when nothing raw"


def _savings_schema(schema: dict[str, Any]) -> None:
    """The derived `savings` in the schema clients are generated from (read-only: the server sends it)."""
    schema["properties"]["savings"] = {"anyOf": [{"type": "number"}, {"type": "null"}], "readOnly": True,
                                       "description": SAVINGS_DESCRIPTION}  # fmt: skip


class CommandRun(Model):
    id: str = Field(default_factory=lambda: new_id("run"))
    session_id: str = ""
    command: str
    cwd: str | None = None
    started_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    exit_code: int | None = None
    status: RunStatus = RunStatus.RUNNING
    tool: str | None = None  # reducer that made the context form
    context: str | None = None  # compressed form the agent sees
    raw_bytes: int = 0  # size of the stored raw output
    raw_truncated: bool = False  # raw was over the cap: head and tail kept
    raw_tokens: int = 0  # the output as an agent's pipe would carry it, capped (core/accounting.py)
    context_tokens: int = 0  # the context form
    diagnostics: list[Diagnostic] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    copy_of: str | None = None  # the run this one copies (merge, import): stats count it once
    # Set by the store when the stored record does not read back (the fields are then what
    # its columns still tell); such a run is never written until repaired.
    damage: str | None = None

    # On the wire and in exports the run carries its saving, computed here from the two
    # counts (clients display it, never recompute it); reading drops it as derived.
    model_config = ConfigDict(json_schema_extra=lambda schema: _savings_schema(schema))

    @computed_field(description=SAVINGS_DESCRIPTION)  # type: ignore[prop-decorator]
    @property
    def savings(self) -> float | None:
        return saving(self.raw_tokens, self.context_tokens)

    @model_validator(mode="before")
    @classmethod
    def _derived_and_older_fields(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not ("savings" in data or "metadata" in data):
            return data
        data = {k: v for k, v in data.items() if k != "savings"}
        meta = data.get("metadata")
        if isinstance(meta, dict) and "raw_tokens_capped" in meta:  # runs stored before raw was one figure
            meta = dict(meta)
            capped = meta.pop("raw_tokens_capped")
            key = "raw_tokens" if "raw_tokens" in data else "rawTokens"
            if isinstance(capped, int) and 0 <= capped < int(data.get(key) or 0):
                data[key] = capped
            data["metadata"] = meta
        return data

    @property
    def duration(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


def quarantine_marker(item: Message | CommandRun | Session) -> dict[str, Any] | None:
    """What `repair` recorded when it moved this row's damaged original to quarantine."""
    marker = item.metadata.get("quarantine")
    return marker if isinstance(marker, dict) else None


class Template(Model):
    name: str
    system_prompt: str | None = None
    agent: str | None = None
    role: str | None = None
    provider: str | None = None
    model: str | None = None
    max_tokens: int = DEFAULT_MAX_TOKENS
    tags: list[str] = Field(default_factory=list)
    # Messages preloaded into every session made from it (pinned system/context turns).
    preload: list[Message] = Field(default_factory=list)
    source_session: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class PoolConfig(Model):
    role: str
    min_idle: int = 1
    max_idle: int = 4
    idle_timeout: int = 3600  # seconds a pooled session may wait before it is retired
    agent: str | None = None
    template: str | None = None


class PoolRecord(PoolConfig):
    """A pool as stored: its settings and what it has done so far (`stats --pool`)."""

    created: int = 0  # pooled sessions made for it
    taken: int = 0  # handed to a task
    retired: int = 0  # removed after waiting past idle_timeout or above max_idle

    @property
    def config(self) -> PoolConfig:
        return PoolConfig.model_validate(self.model_dump(include=set(PoolConfig.model_fields)))


class Change(Model):
    """One entry of the store's change log, for live updates across processes."""

    id: int
    session_id: str | None
    kind: str  # created | updated | deleted | message (appended) | edited (messages changed or removed) | run | template | pool | restored
    at: datetime
