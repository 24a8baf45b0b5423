"""The storage interface every backend implements (SQLite embedded, PostgreSQL for teams).

Backends store and fetch; they do not decide. Naming, state rules, redaction and
token counting live in the SessionManager.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ai_session.core.errors import InvalidInput
from ai_session.core.models import Change, CommandRun, Message, PoolConfig, PoolRecord, Session, SessionStatus, Template


@dataclass
class SessionFilter:
    statuses: set[SessionStatus] | None = None
    agent: str | None = None
    role: str | None = None
    worktree: str | None = None
    branch: str | None = None
    pool: str | None = None
    inactive_before: datetime | None = None  # last_active older than this


@dataclass
class Totals:
    """Per-session sums the store computes without loading bodies."""

    messages: int = 0
    message_tokens: int = 0
    runs: int = 0
    raw_tokens: int = 0  # command output as far as an agent would have read it (its own cap)
    context_tokens: int = 0
    cost_usd: float = 0.0
    by_kind: dict[str, int] = field(default_factory=dict)  # message tokens per kind


@dataclass
class StorageStats:
    bytes_on_disk: int  # the database file with its journal
    zstd_bodies: int  # message and output bodies stored zstd-compressed
    zstd_stored_bytes: int  # their size as stored
    zstd_raw_bytes: int  # their size before compression (from each frame's header)


@dataclass
class SessionAccess:
    """Who may see a session in a team store: its owner and the members it is shared with."""

    owner: str
    members: list[str] = field(default_factory=list)


class SessionStore(ABC):
    url: str

    # sessions
    @abstractmethod
    def create_session(
        self,
        session: Session,
        messages: Sequence[Message] = (),
        runs: Sequence[tuple[CommandRun, str | None]] = (),
    ) -> Session:
        """Insert a session with its messages and runs (raw output beside each) atomically."""

    @abstractmethod
    def get_session(self, session_id: str) -> Session | None: ...

    @abstractmethod
    def get_session_by_name(self, name: str) -> Session | None: ...

    @abstractmethod
    def find_session_ids(self, prefix: str) -> list[str]: ...

    @abstractmethod
    def list_sessions(self, filter: SessionFilter | None = None) -> list[Session]: ...

    @abstractmethod
    def update_session(self, session: Session, *, expected_status: SessionStatus | None = None) -> bool:
        """Write the session; with `expected_status`, only if its stored status still is that
        (a compare-and-set, so two processes cannot take the same pooled session)."""

    @abstractmethod
    def delete_session(self, session_id: str) -> bool: ...

    # messages
    @abstractmethod
    def append_messages(self, session_id: str, messages: Sequence[Message]) -> list[Message]:
        """Append in order, assigning gap-free seq numbers; returns the stored messages."""

    @abstractmethod
    def list_messages(
        self, session_id: str, *, last: int | None = None, after_seq: int = 0
    ) -> list[Message]: ...

    @abstractmethod
    def update_messages(self, messages: Iterable[Message]) -> None:
        """Rewrite tokens, pinned flag, content or metadata of stored messages (by id)."""

    @abstractmethod
    def delete_messages(self, session_id: str, seqs: Iterable[int]) -> int: ...

    # command runs
    @abstractmethod
    def save_run(self, run: CommandRun, raw: str | None = None) -> None:
        """Insert or update a run; `raw` (the full output) is replaced only when given."""

    @abstractmethod
    def get_run(self, run_id: str) -> CommandRun | None: ...

    @abstractmethod
    def find_run_ids(self, prefix: str) -> list[str]: ...

    @abstractmethod
    def list_runs(self, session_id: str, *, last: int | None = None) -> list[CommandRun]: ...

    @abstractmethod
    def run_output(self, run_id: str) -> str | None: ...

    # templates and pools
    @abstractmethod
    def save_template(self, template: Template) -> None: ...

    @abstractmethod
    def get_template(self, name: str) -> Template | None: ...

    @abstractmethod
    def list_templates(self) -> list[Template]: ...

    @abstractmethod
    def delete_template(self, name: str) -> bool: ...

    @abstractmethod
    def save_pool(self, pool: PoolConfig) -> None: ...

    @abstractmethod
    def list_pools(self) -> list[PoolRecord]: ...

    @abstractmethod
    def delete_pool(self, role: str) -> bool: ...

    # aggregates, change log, maintenance
    @abstractmethod
    def totals(self, session_ids: Sequence[str] | None = None, since: datetime | None = None) -> dict[str, Totals]: ...

    @abstractmethod
    def last_change_id(self) -> int: ...

    @abstractmethod
    def changes_since(self, change_id: int, limit: int = 1000) -> list[Change]: ...

    def version(self) -> object:
        """Changes whenever anything in the store changed (any process); for caches."""
        return self.last_change_id()

    def has_new_changes(self, change_id: int) -> bool:
        """Cheap probe before `changes_since`; backends override with something cheaper."""
        return self.last_change_id() > change_id

    async def watch(self, since: int, *, interval: float = 0.2) -> AsyncIterator[list[Change]]:
        """Yield batches of changes after `since`, from any process, as they happen.

        The default polls (SQLite: a `PRAGMA data_version` probe, no query when nothing
        changed); a backend with push notifications (PostgreSQL LISTEN/NOTIFY) overrides it.
        """
        last = since
        while True:
            if self.has_new_changes(last):
                batch = self.changes_since(last)
                if batch:
                    last = batch[-1].id
                    yield batch
                    continue
            await asyncio.sleep(interval)

    # sharing (team stores); the embedded store belongs to one user and has nothing to share
    def session_access(self, session_id: str) -> SessionAccess | None:
        """Owner and members of a session, or None for a single-user store."""
        return None

    def share_session(self, session_id: str, user: str, *, remove: bool = False) -> SessionAccess:
        """Add (or remove) `user` as a member of a session; only its owner may."""
        raise InvalidInput(
            f"the store {self.url} belongs to one user and cannot share sessions; "
            "sharing needs the team store (store = \"postgresql://...\", see docs/team-store.md)"
        )

    def storage_stats(self) -> StorageStats | None:
        """What the store takes on disk and what zstd does for its bodies; None when the
        backend cannot say (a team store's disk belongs to its server)."""
        return None

    @abstractmethod
    def integrity_problems(self) -> list[str]:
        """Storage-level damage (integrity check, orphaned rows); empty when healthy."""

    @abstractmethod
    def remove_orphans(self) -> int: ...

    @abstractmethod
    def optimize(self) -> dict[str, int]: ...

    @abstractmethod
    def close(self) -> None: ...
