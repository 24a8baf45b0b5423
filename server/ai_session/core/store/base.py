"""The storage interface every backend implements (SQLite embedded, PostgreSQL for teams).

Backends store and fetch; they do not decide. Naming, state rules, redaction and
token counting live in the SessionManager.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from ai_session.core.accounting import saving
from ai_session.core.errors import Damaged, InvalidInput
from ai_session.core.listing import Listed
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
    trashed: bool | None = False  # False: live sessions, True: the trash, None: both
    trashed_before: datetime | None = None  # in the trash since before this


@dataclass
class Totals:
    """Per-session sums: kept as the store is written (core/store/kept_totals.py), or summed
    over a period's rows (`since`)."""

    messages: int = 0
    message_tokens: int = 0
    runs: int = 0
    raw_tokens: int = 0  # command outputs' raw figures (core/accounting.py)
    context_tokens: int = 0
    cost_usd: float = 0.0
    by_kind: dict[str, int] = field(default_factory=dict)  # message tokens per kind
    kind_counts: dict[str, int] = field(default_factory=dict)  # messages per kind (kept totals only)
    history_raw_tokens: int = 0  # what answers recorded sending (core/stats.py; kept totals only)
    history_context_tokens: int = 0
    copied: Totals | None = None  # the part copies of other rows make (kept totals only)

    @property
    def savings(self) -> float | None:
        """The saving on command output, by the one definition (core/accounting.py)."""
        return saving(self.raw_tokens, self.context_tokens)

    def as_dict(self) -> dict[str, Any]:
        """The totals as every client gets them (CLI JSON, the protocol's SessionTotals)."""
        return {"messages": self.messages, "messageTokens": self.message_tokens, "runs": self.runs,
                "rawTokens": self.raw_tokens, "contextTokens": self.context_tokens, "savings": self.savings,
                "costUsd": self.cost_usd}  # fmt: skip


@dataclass
class CopyRow:
    """A stored message or run that copies another (`copy_of`), with the figures it adds."""

    session_id: str
    origin: str  # the id of the row it copies
    origin_session: str | None  # where that original is stored (None: it is gone)
    figures: Totals  # one message's or one run's


@dataclass
class StorageStats:
    bytes_on_disk: int  # the database file with its journal
    zstd_bodies: int  # message and output bodies stored zstd-compressed
    zstd_stored_bytes: int  # their size as stored
    zstd_raw_bytes: int  # their size before compression (from each frame's header)


@dataclass
class Damage:
    """One stored row that does not read back: which, and what is wrong with it."""

    kind: Literal["session", "message", "run", "output"]  # output: a run's raw output
    session_id: str
    ref: str  # the session, message or run id
    what: str
    seq: int | None = None  # a message's number in its session

    @classmethod
    def of_message(cls, m: Message) -> Damage:
        return cls("message", m.session_id, m.id, m.damage or "damaged", m.seq)


@dataclass
class Quarantined:
    """A damaged original `repair` moved out of the way, kept byte for byte."""

    id: int
    kind: str  # as Damage.kind
    session_id: str
    ref: str
    seq: int | None
    damage: str
    at: datetime
    row: dict[str, Any]  # the row's other columns as they were
    body: bytes | None  # the body or raw output bytes as they were


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
    def list_sessions(self, filter: SessionFilter | None = None, *, offset: int = 0, limit: int | None = None) -> list[Session]:
        """Sessions, newest activity first; `offset` and `limit` take one page of them."""

    @abstractmethod
    def count_sessions(self, filter: SessionFilter | None = None) -> int: ...

    @abstractmethod
    def listing(self, *, statuses: Sequence[str] | None = None, agent: str | None = None,
                role: str | None = None) -> list[Listed]:  # fmt: skip
        """Live sessions with their kept totals, as core/listing.py reads them: one query of
        plain rows, no record parsed (most of a 10,000-session listing's time otherwise)."""

    @abstractmethod
    def update_session(self, session: Session, *, expected_status: SessionStatus | None = None) -> bool:
        """Write the session; with `expected_status`, only if its stored status still is that
        (a compare-and-set, so two processes cannot take the same pooled session)."""

    @abstractmethod
    def update_session_fields(self, session_id: str, changes: Mapping[str, object]) -> Session:
        """Change only these fields of the session as stored now (read and written in one
        transaction), so a change another process made to other fields is never undone; returns
        the session as written."""

    @abstractmethod
    def delete_session(self, session_id: str) -> bool:
        """Remove a session and everything it holds for good (the manager's trash comes first)."""

    # messages
    @abstractmethod
    def append_messages(self, session_id: str, messages: Sequence[Message]) -> list[Message]:
        """Append in order, assigning gap-free seq numbers; returns the stored messages."""

    @abstractmethod
    def list_messages(
        self, session_id: str, *, last: int | None = None, after_seq: int = 0
    ) -> list[Message]: ...

    def iter_messages(self, session_id: str) -> Iterator[Message]:
        """A session's messages in order, read a batch at a time where the backend can."""
        yield from self.list_messages(session_id)

    @abstractmethod
    def taken_message_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of these message ids the store already holds (an import must not reuse them)."""

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
    def run_output(self, run_id: str) -> str | None:
        """The run's raw output; `Damaged` when it does not read back."""

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

    def totals_differ(self, session_id: str, *, rebuild: bool) -> bool:
        """Whether a session's kept totals differ from a fresh count of its rows; with
        `rebuild`, they are counted again (validate checks, repair rebuilds)."""
        return False

    @abstractmethod
    def copy_rows(self) -> list[CopyRow]:
        """Every stored copy (merge, fork, import) with where its original is: a total over
        several sessions counts a copy only when its original is not among them."""

    @abstractmethod
    def origin_totals(self, session_ids: Sequence[str], since: datetime | None = None) -> Totals:
        """Totals over these sessions counting each message and run once, however many of
        them hold a copy of it (copies name their original in `copy_of`)."""

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
        import asyncio  # here, not at the top: only the language server watches (CLI start-up)

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

    # per-row integrity
    def contents(self, session_id: str) -> tuple[list[Message], list[tuple[CommandRun, str | None]], list[Damage]]:
        """A session's readable messages, its runs with their raw outputs (read once), and the
        rows that did not read back (left out; a run whose output did not keeps no output)."""
        damaged: list[Damage] = []
        messages, runs = self.stream_contents(session_id, damaged)
        return list(messages), list(runs), damaged

    def stream_contents(
        self, session_id: str, damaged: list[Damage]
    ) -> tuple[Iterator[Message], Iterator[tuple[CommandRun, str | None]]]:
        """`contents`, read as it is consumed (messages first, then runs; memory stays that of
        one batch of rows, one raw output): each row that does not read back is appended to
        `damaged` before the next one is given."""

        def messages() -> Iterator[Message]:
            for m in self.iter_messages(session_id):
                if m.damage:
                    damaged.append(Damage.of_message(m))
                else:
                    yield m

        return messages(), self.stream_runs(session_id, damaged)

    def stream_runs(self, session_id: str, damaged: list[Damage]) -> Iterator[tuple[CommandRun, str | None]]:
        """The runs of `stream_contents`, each with its raw output, read as they are consumed."""
        for run in self.list_runs(session_id):
            if run.damage:
                damaged.append(Damage("run", session_id, run.id, run.damage))
                continue
            try:
                raw = self.run_output(run.id)
            except Damaged as exc:
                damaged.append(Damage("output", session_id, run.id, str(exc)))
                raw = None
            yield run, raw

    def stream_message_wire(self, session_id: str, damaged: list[Damage]) -> Iterator[dict[str, Any]]:
        """The messages of `stream_contents` in their wire form (`model_dump(mode="json",
        by_alias=True)`: what an export writes), where the backend can, without a model each."""
        for m in self.stream_contents(session_id, damaged)[0]:
            yield m.model_dump(mode="json", by_alias=True)

    def find_damage(self, session_id: str) -> list[Damage]:
        """Every row of a session (its record, messages, runs, raw outputs) that does not read back."""
        session = self.get_session(session_id)
        if session is None:
            return []
        record = [Damage("session", session_id, session_id, session.damage)] if session.damage else []
        return record + self.contents(session_id)[2]

    @abstractmethod
    def quarantine(self, damage: Damage, replacement: Session | Message | CommandRun) -> int:
        """In one transaction: copy the damaged row as it is into the quarantine table and put
        `replacement` (what is still readable, with a marker) in its place. Returns its number."""

    @abstractmethod
    def list_quarantine(self, session_id: str | None = None) -> list[Quarantined]: ...

    @abstractmethod
    def restore_quarantined(self, quarantine_id: int) -> Quarantined:
        """Put a quarantined original back where it was, if it now reads back; else `Damaged`."""

    # backups
    def backup(self, path: Path) -> None:
        """A consistent copy of the whole store in `path`, taken while others keep writing."""
        raise InvalidInput(f"the store {self.url} cannot be backed up by ai-session")

    def restore(self, path: Path, *, keep_current: Path) -> None:
        """Replace the store's content by the backup at `path` (checked first); the content it
        replaces is saved to `keep_current` before anything changes."""
        raise InvalidInput(f"the store {self.url} cannot be restored by ai-session")

    @abstractmethod
    def integrity_problems(self) -> list[str]:
        """Storage-level damage (integrity check, orphaned rows); empty when healthy."""

    @abstractmethod
    def remove_orphans(self) -> int: ...

    @abstractmethod
    def optimize(self) -> dict[str, int]: ...

    def redaction_level(self) -> int | None:
        """The redaction rules version every stored row was last rewritten with, or None when
        the backend does not keep it (then `repair --redact` is the way to rewrite old rows)."""
        return None

    def set_redaction_level(self, level: int) -> None:
        """Record that every stored row has been rewritten with rules version `level`."""
        return  # a backend that does not keep the level has nothing to record

    def compact(self) -> tuple[int, int]:
        """Drop what deleted and rewritten rows left on disk (freed pages, old row versions);
        returns the store's size in bytes before and after (0, 0 when it cannot tell)."""
        return 0, 0

    @abstractmethod
    def close(self) -> None: ...
