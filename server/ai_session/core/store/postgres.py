"""The team store: PostgreSQL through psycopg 3, shared by several people and machines.

Same guarantees as the embedded store:

- Every write is one transaction on a pooled connection. Deadlocks and serialization
  failures are retried, so concurrent writers never see them.
- Per-session sequence numbers are gap-free and ordered: an append bumps a counter on its
  session row, which row-locks it until commit and re-reads it after waiting for the lock.
- Statements are prepared server-side after `PREPARE_THRESHOLD` uses (psycopg's automatic
  prepare), so the hot paths (append, list) skip parsing and planning.
- The schema is versioned (`pg_schema`); `migrate()` creates or upgrades it, and a store
  with an older or newer schema is refused with a message saying what to do.

Beyond it: access control by row-level security on the database role (see pg_schema),
and live updates by LISTEN/NOTIFY (`watch`), with the change log as the source of truth.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, UTC
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pgerr
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool, PoolTimeout

from ai_session.core import blob
from ai_session.core.errors import AccessDenied, AiSessionError, Conflict, InvalidInput, NotFound, StoreError
from ai_session.core.models import (
    Change,
    Message,
    Session,
)
from ai_session.core.store.base import SessionAccess
from ai_session.core.store.codec import utf8_text
from ai_session.core.store.pg_schema import MIGRATIONS, NOTIFY_CHANNEL, SCHEMA, USERS_ROLE
from ai_session.core.store.sql import Dialect, SQLStore, changes_sql

T = TypeVar("T")
log = logging.getLogger(__name__)

PREPARE_THRESHOLD = 2  # executions of a statement before psycopg prepares it on the server
POOL_SIZE = 4
CONNECT_TIMEOUT = 10  # seconds
WRITE_ATTEMPTS = 8  # deadlock / serialization failure retries
CHANGE_LOG_KEEP = 50_000
NOTIFY_GATHER = 0.05  # seconds a watcher waits after a notification for the rest of a burst
FALLBACK_POLL = 5.0  # seconds between change-log reads when no notification arrives
RECONNECT_MAX = 10.0  # longest wait between reconnection attempts of a watcher
MIGRATION_LOCK = 0x61695F6D6967  # advisory lock: one migrator at a time ("ai_mig")



def connection_info(url: str, user: str | None = None) -> dict[str, Any]:
    """libpq parameters for a store URL: the schema on the search path, UTC, and `user` as the
    role when neither the URL nor PGUSER names one (the identity from the config)."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise InvalidInput(f"bad PostgreSQL URL {redacted_url(url)!r}: {exc}") from None
    if user and "user" not in params and not os.environ.get("PGUSER"):
        params["user"] = user
    options = str(params.get("options") or "")
    params["options"] = f"{options} -c search_path={SCHEMA},pg_catalog -c timezone=UTC".strip()
    params.setdefault("connect_timeout", str(CONNECT_TIMEOUT))
    params.setdefault("application_name", "ai-session")
    return params


def redacted_url(url: str) -> str:
    """The URL without its password, for messages and `store.url` (secrets are never shown)."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://(unparseable URL)"
    user = str(params.get("user") or "")
    host = str(params.get("host") or "")
    port = f":{params['port']}" if params.get("port") else ""
    dbname = params.get("dbname", "")
    hidden = {"user", "host", "port", "dbname", "password"}
    query = "&".join(f"{k}={v}" for k, v in params.items() if k not in hidden)
    authority = f"{user}@" if user else ""
    if host.startswith("/"):  # a Unix-socket directory goes in the query
        query = f"host={host}" + (f"&{query}" if query else "")
        host = ""
    return f"postgresql://{authority}{host}{port}/{dbname}" + (f"?{query}" if query else "")


def _ts(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _text(text: str, what: str) -> str:
    utf8_text(text, what)
    if "\x00" in text:
        raise InvalidInput(f"{what} contains a NUL character")
    return text


def _translate(exc: psycopg.Error, where: str) -> AiSessionError:
    """A database error as the error a user can act on."""
    if isinstance(exc, pgerr.UniqueViolation):
        if exc.diag.constraint_name == "sessions_name_key":
            return Conflict("a session with that name already exists (names are unique across the team store)")
        return Conflict(f"already stored: {exc.diag.message_detail or exc}")
    if isinstance(exc, pgerr.ForeignKeyViolation):
        return NotFound("the session no longer exists (deleted by another process?)")
    if isinstance(exc, pgerr.InsufficientPrivilege) and "row-level security" in str(exc):
        # Writing under a session the role cannot see: to it, the session does not exist.
        return NotFound("the session no longer exists or is not shared with you")
    if isinstance(exc, pgerr.InsufficientPrivilege):
        return AccessDenied(f"{where}: {exc.diag.message_primary or exc}")
    if isinstance(exc, (pgerr.DataError, pgerr.CharacterNotInRepertoire)):
        return InvalidInput(f"{where}: {exc.diag.message_primary or exc}")
    if isinstance(exc, pgerr.UndefinedTable):
        return StoreError(f"{where}: the team store has no ai-session schema; run `ai-session store migrate`")
    return StoreError(f"{where}: {str(exc).strip() or type(exc).__name__}")


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, (pgerr.DeadlockDetected, pgerr.SerializationFailure, pgerr.LockNotAvailable))


class PostgresStore(SQLStore):
    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        migrate: bool = False,
        pool_size: int = POOL_SIZE,
    ) -> None:
        self.dialect = DIALECT
        self.url = redacted_url(url)
        self._params = connection_info(url, user)
        self._conninfo = make_conninfo(**self._params)
        with self._direct() as conn:
            if migrate:
                _migrate(conn, self.url)
            self.user: str = _value(conn.execute("SELECT current_user"))
            _check_version(conn, self.url)
        self._pool = ConnectionPool(
            self._conninfo,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "prepare_threshold": PREPARE_THRESHOLD},
            open=False,
            name="ai-session",
            timeout=60,
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        except PoolTimeout:
            raise StoreError(f"cannot connect to the team store {self.url} (timed out)") from None

    @classmethod
    def migrate(cls, url: str, *, user: str | None = None) -> tuple[int, int]:
        """Create or upgrade the schema; returns (version before, version after)."""
        params = connection_info(url, user)
        try:
            conn = psycopg.connect(make_conninfo(**params), autocommit=True)
        except psycopg.OperationalError as exc:
            raise StoreError(f"cannot connect to the team store {redacted_url(url)}: {str(exc).strip()}") from None
        with conn:
            return _migrate(conn, redacted_url(url))

    # ------------------------------------------------------------------ plumbing

    @contextmanager
    def _direct(self) -> Iterator[psycopg.Connection]:
        try:
            conn = psycopg.connect(self._conninfo, autocommit=True)
        except psycopg.OperationalError as exc:
            raise StoreError(f"cannot connect to the team store {self.url}: {str(exc).strip()}") from None
        with conn:
            yield conn

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        # A read is safe to repeat: once more on a fresh connection if the pooled one had died.
        for attempt in (1, 2):
            try:
                with self._pool.connection() as conn:
                    return conn.execute(sql, params).fetchall()
            except psycopg.OperationalError as exc:
                if attempt == 2:
                    raise _translate(exc, f"team store {self.url}") from None
            except PoolTimeout:
                raise StoreError(f"no connection to the team store {self.url} became free") from None
            except psycopg.Error as exc:
                raise _translate(exc, f"team store {self.url}") from None
        raise AssertionError("unreachable")

    def _write(self, work: Callable[[psycopg.Connection], T]) -> T:
        """Run `work` in one transaction, retrying deadlocks and serialization failures."""
        delay = 0.005
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self._pool.connection() as conn, conn.transaction():
                    return work(conn)
            except psycopg.Error as exc:
                if _retryable(exc) and attempt < WRITE_ATTEMPTS:
                    time.sleep(delay * (0.5 + random.random()))
                    delay = min(delay * 2, 0.5)
                    continue
                raise _translate(exc, f"team store {self.url}") from None
            except PoolTimeout:
                raise StoreError(f"no connection to the team store {self.url} became free") from None
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ sessions

    def get_session_by_name(self, name: str) -> Session | None:
        return None if "\x00" in name else super().get_session_by_name(name)  # a name PostgreSQL cannot hold

    # ------------------------------------------------------------------ messages

    def append_messages(self, session_id: str, messages: Sequence[Message]) -> list[Message]:
        if not messages:
            return []

        def work(conn: psycopg.Connection) -> list[Message]:
            # Row-locks the session until commit: appends to one session queue up here, and
            # bumping `appends` writes one change-log entry (a deferred trigger) per append.
            # An UPDATE that waited for the lock re-reads the row, so `last_seq` is the
            # previous holder's committed value: numbers in one round trip, no MAX(seq) scan.
            row = conn.execute(
                "UPDATE sessions SET last_active = %s, appends = appends + 1, last_seq = last_seq + %s"
                " WHERE id = %s RETURNING last_seq",
                (_ts(messages[-1].created_at), len(messages), session_id),
            ).fetchone()
            if row is None:
                raise NotFound("the session no longer exists (deleted by another process?)")
            first = row[0] - len(messages) + 1
            return self._insert_messages(conn, session_id, messages, range(first, first + len(messages)))

        return self._write(work)

    def _log_edits(self, conn: psycopg.Connection, session_ids: Sequence[str]) -> None:
        # Only the change log's own functions write it: bumping `edits` has its trigger log it.
        if session_ids:
            conn.execute("UPDATE sessions SET edits = edits + 1 WHERE id = ANY(%s)", (list(session_ids),))

    # ------------------------------------------------------------------ backups

    def backup(self, path: Path) -> None:
        raise InvalidInput(
            f"the team store {self.url} is backed up with PostgreSQL's own tools, e.g. "
            "`pg_dump --format=custom --schema=ai_session --file=ai-session.dump DBNAME` "
            "(see docs/storage.md#backups)"
        )

    def restore(self, path: Path, *, keep_current: Path) -> None:
        raise InvalidInput(
            f"the team store {self.url} is restored with PostgreSQL's own tools, e.g. "
            "`pg_restore --clean --if-exists --schema=ai_session --dbname=DBNAME ai-session.dump` "
            "(see docs/storage.md#backups)"
        )

    # ------------------------------------------------------------------ change log, live updates

    def has_new_changes(self, change_id: int) -> bool:
        return bool(self._read("SELECT EXISTS (SELECT 1 FROM changes WHERE id > %s)", (change_id,))[0][0])

    async def watch(self, since: int, *, interval: float = FALLBACK_POLL) -> AsyncIterator[list[Change]]:
        """Yield batches of changes after `since` as they are committed, by any machine.

        A dedicated connection LISTENs; a notification (sent in the writing transaction, so
        delivered at its commit) wakes it to read the change log, which stays the source of
        truth: a lost notification is caught by the next read (at the latest after `interval`
        seconds), and a dropped connection is re-opened with back-off, resuming from the last
        change seen — batches are the same as a polling reader's, never duplicated or skipped.
        """
        last = since
        backoff = 0.2
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, application_name="ai-session watch"
                )
            except psycopg.OperationalError as exc:
                log.warning("team store %s: watcher cannot connect (%s); retrying", self.url, str(exc).strip())
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, RECONNECT_MAX)
                continue
            try:
                async with conn:
                    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    backoff = 0.2
                    while True:
                        # Read first: changes committed before LISTEN took effect are found here.
                        while True:
                            cur = await conn.execute(_CHANGES_SQL, (last, 1000))
                            batch = [self._change(r) for r in await cur.fetchall()]
                            if not batch:
                                break
                            last = batch[-1].id
                            yield batch
                        woke = False
                        async for _ in conn.notifies(timeout=max(interval, 0.01), stop_after=1):
                            woke = True
                        if woke:
                            # Let a burst of commits gather and take their notifications at once:
                            # under load one read of the change log serves many writes, not one
                            # read per write in every listening server.
                            await asyncio.sleep(NOTIFY_GATHER)
                            async for _ in conn.notifies(timeout=0):
                                pass
            except psycopg.OperationalError as exc:
                log.warning("team store %s: watcher connection lost (%s); reconnecting", self.url, str(exc).strip())
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, RECONNECT_MAX)

    # ------------------------------------------------------------------ sharing

    def session_access(self, session_id: str) -> SessionAccess | None:
        rows = self._read("SELECT owner, members FROM sessions WHERE id = %s", (session_id,))
        if not rows:
            raise NotFound(f"no session {session_id} (or it is not shared with {self.user})")
        return SessionAccess(owner=rows[0][0], members=list(rows[0][1]))

    def share_session(self, session_id: str, user: str, *, remove: bool = False) -> SessionAccess:
        if not user or len(user.encode()) > 63 or "\x00" in user:
            raise InvalidInput(f"{user!r} is not a database role name")
        if not remove and not self._read("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)):
            raise InvalidInput(f"no database role {user!r}: an admin creates it first (see docs/team-store.md)")
        change = "array_remove(members, %s::name)" if remove else (
            "CASE WHEN %s::name = ANY(members) OR %s::name = owner THEN members ELSE members || %s::name END"
        )
        params = (user,) if remove else (user, user, user)

        def work(conn: psycopg.Connection) -> SessionAccess:
            row = conn.execute(
                f"UPDATE sessions SET members = {change} WHERE id = %s RETURNING owner, members",
                (*params, session_id),
            ).fetchone()
            if row is None:
                raise NotFound(f"no session {session_id} (or it is not shared with {self.user})")
            return SessionAccess(owner=row[0], members=list(row[1]))

        return self._write(work)

    # ------------------------------------------------------------------ maintenance

    def optimize(self) -> dict[str, int]:
        """Re-compress plain bodies over the threshold, prune the change log, refresh statistics."""

        def recompress(conn: psycopg.Connection) -> int:
            count = 0
            for table, column in (("messages", "body"), ("runs", "raw")):
                found = conn.execute(
                    f"SELECT id, {column} FROM {table} WHERE NOT zstd AND length({column}) >= %s FOR UPDATE",
                    (blob.COMPRESS_THRESHOLD,),
                ).fetchall()
                for ident, data in found:
                    conn.execute(
                        f"UPDATE {table} SET {column} = %s, zstd = true WHERE id = %s", (blob.compress(bytes(data)), ident)
                    )
                    count += 1
            return count

        size_before = self._size()
        recompressed = self._write(recompress)
        pruned: int = self._write(lambda c: _value(c.execute("SELECT prune_changes(%s)", (CHANGE_LOG_KEEP,))))
        with self._pool.connection() as conn:
            for table in ("sessions", "messages", "runs", "changes"):
                with suppress(psycopg.errors.InsufficientPrivilege):  # only the schema owner may; autovacuum does it anyway
                    conn.execute(f"ANALYZE {table}")
        return {
            "recompressed": recompressed,
            "changes_pruned": pruned,
            "bytes_before": size_before,
            "bytes_after": self._size(),
        }

    def _size(self) -> int:
        return int(self._read(
            "SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
            (SCHEMA,),
        )[0][0])

    def close(self) -> None:
        self._pool.close()


_CHANGES_SQL = changes_sql("%s")


# ---------------------------------------------------------------------- schema versions


def _version(conn: psycopg.Connection) -> int | None:
    exists = _value(conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.schema_version",)))
    if exists is None:
        return None
    row = conn.execute(f"SELECT version FROM {SCHEMA}.schema_version").fetchone()
    return row[0] if row else 0


def _check_version(conn: psycopg.Connection, url: str) -> None:
    version = _version(conn)
    latest = len(MIGRATIONS)
    if version is None:
        raise StoreError(f"the team store {url} has no ai-session schema; an admin runs `ai-session store migrate`")
    if version > latest:
        raise StoreError(
            f"the team store {url} has schema v{version}, newer than this ai-session (v{latest}); upgrade ai-session"
        )
    if version < latest:
        raise StoreError(
            f"the team store {url} has schema v{version}, older than this ai-session (v{latest}); "
            "an admin runs `ai-session store migrate`"
        )


def _migrate(conn: psycopg.Connection, url: str) -> tuple[int, int]:
    """Create the group role, the schema and every migration not applied yet, all in one
    transaction (an upgrade happens whole or not at all), under an advisory lock so two
    migrators cannot interleave."""
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (USERS_ROLE,)).fetchone():
                conn.execute(f"CREATE ROLE {USERS_ROLE} NOLOGIN")
            with conn.transaction():
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
                conn.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_version (version integer NOT NULL)")
                if not conn.execute(f"SELECT 1 FROM {SCHEMA}.schema_version").fetchone():
                    conn.execute(f"INSERT INTO {SCHEMA}.schema_version VALUES (0)")
            before = _version(conn) or 0
            if before > len(MIGRATIONS):
                raise StoreError(
                    f"the team store {url} has schema v{before}, newer than this ai-session (v{len(MIGRATIONS)}); "
                    "upgrade ai-session"
                )
            with conn.transaction():
                conn.execute(f"SET LOCAL search_path = {SCHEMA}, pg_catalog")
                for number, migration in enumerate(MIGRATIONS[before:], start=before + 1):
                    if callable(migration):
                        migration(conn)
                    else:
                        for statement in migration:
                            conn.execute(statement)
                    conn.execute(f"UPDATE {SCHEMA}.schema_version SET version = %s", (number,))
            return before, len(MIGRATIONS)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    except psycopg.errors.InsufficientPrivilege as exc:
        raise AccessDenied(
            f"migrating the team store {url} needs an admin role (to create the schema and the "
            f"{USERS_ROLE} role): {exc.diag.message_primary}"
        ) from None
    except psycopg.Error as exc:
        raise StoreError(f"migrating the team store {url}: {str(exc).strip()}") from None


# ---------------------------------------------------------------------- rows


def _value(cursor: psycopg.Cursor[Any]) -> Any:
    """The one value a one-row query returns."""
    row = cursor.fetchone()
    if row is None:
        raise StoreError("the team store returned no row where one was expected")
    return row[0]


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _same(value: datetime) -> datetime:
    return value  # psycopg already gives datetimes


def _cost(m: Message) -> float:
    return m.usage.cost_usd if m.usage is not None else 0.0




DIALECT = Dialect(
    mark="%s",
    ts=_ts,
    parse_ts=_same,
    text=_text,
    prefix=lambda prefix: ("id LIKE %s", [_like_prefix(prefix)]),
    any_of=lambda column, values: (f"{column} = ANY(%s)", [list(values)]),
    insertion_order="n",
    message_cost="cost_usd",  # columns this backend derives from the record on write
    run_raw="raw_tokens",
    run_context="context_tokens",
    message_derived=lambda m: {"cost_usd": _cost(m)},
    run_derived=lambda run: {"raw_tokens": run.raw_tokens, "context_tokens": run.context_tokens},
    for_update=" FOR UPDATE",
    session_model="(s.data::json ->> 'model')",
)
