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
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
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
    CommandRun,
    Message,
    PoolConfig,
    PoolRecord,
    Session,
    SessionStatus,
    Template,
    utcnow,
)
from ai_session.core.store import quarantine
from ai_session.core.store.base import Damage, Quarantined, SessionAccess, SessionFilter, SessionStore, Totals
from ai_session.core.store.codec import (
    MESSAGE_COLS,
    MESSAGE_UPDATE_COLS,
    RUN_COLS,
    SESSION_COLS,
    import_seqs,
    message_from_row,
    message_update,
    numbered,
    output_body,
    output_text,
    pool_data,
    run_data,
    run_from_row,
    scrubbed,
    session_filter_sql,
    session_from_row,
    session_row,
    template_data,
    utf8_text,
)
from ai_session.core.store.pg_schema import MIGRATIONS, NOTIFY_CHANNEL, SCHEMA, USERS_ROLE

T = TypeVar("T")
log = logging.getLogger(__name__)

PREPARE_THRESHOLD = 2  # executions of a statement before psycopg prepares it on the server
POOL_SIZE = 4
CONNECT_TIMEOUT = 10  # seconds
WRITE_ATTEMPTS = 8  # deadlock / serialization failure retries
CHANGE_LOG_KEEP = 50_000
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


class PostgresStore(SessionStore):
    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        migrate: bool = False,
        pool_size: int = POOL_SIZE,
    ) -> None:
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

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
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

    def create_session(
        self,
        session: Session,
        messages: Sequence[Message] = (),
        runs: Sequence[tuple[CommandRun, str | None]] = (),
    ) -> Session:
        _text(session.name, "session name")

        def work(conn: psycopg.Connection) -> None:
            conn.execute(
                f"INSERT INTO sessions ({SESSION_COLS}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                session_row(session, _ts),
            )
            for run, raw in runs:
                _put_run(conn, run.model_copy(update={"session_id": session.id}), raw)
            if seqs := import_seqs(messages):
                _insert_messages(conn, session.id, messages, seqs)
                conn.execute("UPDATE sessions SET last_seq = %s WHERE id = %s", (seqs[-1], session.id))

        try:
            self._write(work)
        except Conflict as exc:
            if "session with that name" in str(exc):
                raise Conflict(f"a session named {session.name!r} already exists") from None
            raise
        return scrubbed(session)

    def get_session(self, session_id: str) -> Session | None:
        rows = self._read(f"SELECT {SESSION_COLS} FROM sessions WHERE id = %s", (session_id,))
        return _session_from_row(rows[0]) if rows else None

    def get_session_by_name(self, name: str) -> Session | None:
        if "\x00" in name:
            return None
        rows = self._read(f"SELECT {SESSION_COLS} FROM sessions WHERE name = %s", (name,))
        return _session_from_row(rows[0]) if rows else None

    def find_session_ids(self, prefix: str) -> list[str]:
        return [r[0] for r in self._read("SELECT id FROM sessions WHERE id LIKE %s ORDER BY id", (_like_prefix(prefix),))]

    def list_sessions(self, filter: SessionFilter | None = None) -> list[Session]:
        clause, params = session_filter_sql(filter or SessionFilter(), "%s", _ts)
        sql = f"SELECT {SESSION_COLS} FROM sessions{clause} ORDER BY last_active DESC"
        return [_session_from_row(r) for r in self._read(sql, params)]

    def update_session(self, session: Session, *, expected_status: SessionStatus | None = None) -> bool:
        _text(session.name, "session name")
        sql = _UPDATE_SESSION
        params = (*session_row(session, _ts)[1:], session.id)
        if expected_status is not None:
            sql += " AND status = %s"  # compare-and-set: the row lock makes it atomic
            params += (expected_status.value,)

        def work(conn: psycopg.Connection) -> bool:
            updated = conn.execute(sql, params).rowcount > 0
            if not updated and expected_status is None:
                raise StoreError(f"session {session.id} vanished while being updated (deleted by another process?)")
            return updated

        try:
            return self._write(work)
        except Conflict as exc:
            if "session with that name" in str(exc):
                raise Conflict(f"a session named {session.name!r} already exists") from None
            raise

    def delete_session(self, session_id: str) -> bool:
        return self._write(lambda c: c.execute("DELETE FROM sessions WHERE id = %s", (session_id,)).rowcount > 0)

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
            return _insert_messages(conn, session_id, messages, range(first, first + len(messages)))

        return self._write(work)

    def list_messages(self, session_id: str, *, last: int | None = None, after_seq: int = 0) -> list[Message]:
        if last is not None:
            rows = self._read(
                f"SELECT {MESSAGE_COLS} FROM messages WHERE session_id = %s AND seq > %s ORDER BY seq DESC LIMIT %s",
                (session_id, after_seq, last),
            )
            rows.reverse()
        else:
            rows = self._read(
                f"SELECT {MESSAGE_COLS} FROM messages WHERE session_id = %s AND seq > %s ORDER BY seq",
                (session_id, after_seq),
            )
        return [_message_from_row(r) for r in rows]

    def taken_message_ids(self, ids: Sequence[str]) -> set[str]:
        return {r[0] for r in self._read("SELECT id FROM messages WHERE id = ANY(%s)", (list(ids),))} if ids else set()

    def update_messages(self, messages: Iterable[Message]) -> None:
        rows = [_message_update(m) for m in messages]
        if not rows:
            return

        def work(conn: psycopg.Connection) -> None:
            with conn.cursor() as cur:
                cur.executemany(_UPDATE_MESSAGE, rows)

        self._write(work)

    def delete_messages(self, session_id: str, seqs: Iterable[int]) -> int:
        seq_list = list(seqs)
        return self._write(
            lambda c: c.execute(
                "DELETE FROM messages WHERE session_id = %s AND seq = ANY(%s)", (session_id, seq_list)
            ).rowcount
        )

    # ------------------------------------------------------------------ runs

    def save_run(self, run: CommandRun, raw: str | None = None) -> None:
        self._write(lambda c: _put_run(c, run, raw))

    def get_run(self, run_id: str) -> CommandRun | None:
        rows = self._read(f"SELECT {RUN_COLS} FROM runs WHERE id = %s", (run_id,))
        return run_from_row(rows[0], _same) if rows else None

    def find_run_ids(self, prefix: str) -> list[str]:
        return [r[0] for r in self._read("SELECT id FROM runs WHERE id LIKE %s ORDER BY id", (_like_prefix(prefix),))]

    def list_runs(self, session_id: str, *, last: int | None = None) -> list[CommandRun]:
        sql = f"SELECT {RUN_COLS} FROM runs WHERE session_id = %s ORDER BY started_at DESC, n DESC"
        params: list[Any] = [session_id]
        if last is not None:
            sql += " LIMIT %s"
            params.append(last)
        runs = [run_from_row(r, _same) for r in self._read(sql, params)]
        runs.reverse()
        return runs

    def run_output(self, run_id: str) -> str | None:
        rows = self._read("SELECT raw, zstd, checksum FROM runs WHERE id = %s", (run_id,))
        return output_text(*rows[0]) if rows else None

    # ------------------------------------------------------------------ templates, pools

    def save_template(self, template: Template) -> None:
        self._write(
            lambda c: c.execute(
                "INSERT INTO templates (name, data) VALUES (%s, %s) ON CONFLICT (name) DO UPDATE SET data = excluded.data",
                (_text(template.name, "template name"), template_data(template)),
            )
        )

    def get_template(self, name: str) -> Template | None:
        rows = self._read("SELECT data FROM templates WHERE name = %s", (name,))
        return Template.model_validate_json(rows[0][0]) if rows else None

    def list_templates(self) -> list[Template]:
        return [Template.model_validate_json(r[0]) for r in self._read("SELECT data FROM templates ORDER BY name")]

    def delete_template(self, name: str) -> bool:
        return self._write(lambda c: c.execute("DELETE FROM templates WHERE name = %s", (name,)).rowcount > 0)

    def save_pool(self, pool: PoolConfig) -> None:
        self._write(
            lambda c: c.execute(
                "INSERT INTO pools (role, data) VALUES (%s, %s) ON CONFLICT (role) DO UPDATE SET data = excluded.data",
                (_text(pool.role, "pool role"), pool_data(pool)),
            )
        )

    def list_pools(self) -> list[PoolRecord]:
        return [PoolRecord.model_validate_json(r[0]) for r in self._read("SELECT data FROM pools ORDER BY role")]

    def delete_pool(self, role: str) -> bool:
        return self._write(lambda c: c.execute("DELETE FROM pools WHERE role = %s", (role,)).rowcount > 0)

    # ------------------------------------------------------------------ aggregates

    def totals(self, session_ids: Sequence[str] | None = None, since: datetime | None = None) -> dict[str, Totals]:
        where: list[str] = []
        params: list[Any] = []
        if session_ids is not None:
            if not session_ids:
                return {}
            where.append("session_id = ANY(%s)")
            params.append(list(session_ids))
        if since is not None:
            where.append("created_at >= %s")
            params.append(_ts(since))
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        out: dict[str, Totals] = {}
        for sid, kind, count, tokens, cost in self._read(
            "SELECT session_id, kind, count(*), COALESCE(sum(tokens), 0)::bigint, COALESCE(sum(cost_usd), 0.0)"
            f" FROM messages{clause} GROUP BY session_id, kind",
            params,
        ):
            t = out.setdefault(sid, Totals())
            t.messages += count
            t.message_tokens += tokens
            t.cost_usd += cost
            t.by_kind[kind] = tokens
        for sid, count, raw, ctx in self._read(
            "SELECT session_id, count(*), COALESCE(sum(raw_tokens), 0)::bigint, COALESCE(sum(context_tokens), 0)::bigint"
            f" FROM runs{clause.replace('created_at', 'started_at')} GROUP BY session_id",
            params,
        ):
            t = out.setdefault(sid, Totals())
            t.runs, t.raw_tokens, t.context_tokens = count, raw, ctx
        return out

    def origin_totals(self, session_ids: Sequence[str], since: datetime | None = None) -> Totals:
        if not session_ids:
            return Totals()
        params: list[Any] = [list(session_ids)]
        when = ""
        if since is not None:
            when = " AND {} >= %s"
            params.append(_ts(since))
        messages, tokens, cost = self._read(
            "SELECT count(*), COALESCE(sum(tokens), 0)::bigint, COALESCE(sum(cost), 0.0) FROM (SELECT max(tokens) AS tokens,"
            f" max(cost_usd) AS cost FROM messages WHERE session_id = ANY(%s){when.format('created_at')}"
            " GROUP BY COALESCE(copy_of, id)) AS originals",
            params,
        )[0]
        runs, raw, ctx = self._read(
            "SELECT count(*), COALESCE(sum(raw), 0)::bigint, COALESCE(sum(ctx), 0)::bigint FROM (SELECT max(raw_tokens) AS raw,"
            f" max(context_tokens) AS ctx FROM runs WHERE session_id = ANY(%s){when.format('started_at')}"
            " GROUP BY COALESCE(copy_of, id)) AS originals",
            params,
        )[0]
        return Totals(messages=messages, message_tokens=tokens, runs=runs, raw_tokens=raw, context_tokens=ctx,
                      cost_usd=cost)  # fmt: skip

    # ------------------------------------------------------------------ quarantine

    def quarantine(self, damage: Damage, replacement: Session | Message | CommandRun) -> int:
        def work(conn: psycopg.Connection) -> int:
            number = quarantine.move(conn.execute, "%s", _ts(utcnow()), damage)
            if isinstance(replacement, Session):
                conn.execute(_UPDATE_SESSION, (*session_row(replacement, _ts)[1:], replacement.id))
            elif isinstance(replacement, Message):
                conn.execute(_UPDATE_MESSAGE, _message_update(replacement))
            else:
                _put_run(conn, replacement, None)
                if damage.kind == "output":
                    conn.execute("UPDATE runs SET raw = NULL, zstd = false, checksum = NULL WHERE id = %s", (replacement.id,))
            return number

        return self._write(work)

    def list_quarantine(self, session_id: str | None = None) -> list[Quarantined]:
        where, params = (" WHERE session_id = %s", [session_id]) if session_id else ("", [])
        rows = self._read(f"SELECT {quarantine.COLUMNS} FROM quarantine{where} ORDER BY id", params)
        return [quarantine.from_row(r, _same) for r in rows]

    def restore_quarantined(self, quarantine_id: int) -> Quarantined:
        def work(conn: psycopg.Connection) -> Quarantined:
            found = quarantine.restore(conn.execute, "%s", quarantine_id, _same)
            # The columns this backend derives from the record follow it back.
            if found.kind == "message":
                if row := conn.execute(f"SELECT {MESSAGE_COLS} FROM messages WHERE id = %s", (found.ref,)).fetchone():
                    conn.execute("UPDATE messages SET cost_usd = %s WHERE id = %s", (_cost(_message_from_row(row)), found.ref))
            elif found.kind == "run":
                _put_run(conn, CommandRun.model_validate_json(found.row["data"]), None)
            return found

        return self._write(work)

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

    def last_change_id(self) -> int:
        return int(self._read("SELECT COALESCE(max(id), 0) FROM changes")[0][0])

    def changes_since(self, change_id: int, limit: int = 1000) -> list[Change]:
        return [_change(r) for r in self._read(_CHANGES_SQL, (change_id, limit))]

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
                            batch = [_change(r) for r in await cur.fetchall()]
                            if not batch:
                                break
                            last = batch[-1].id
                            yield batch
                        async for _ in conn.notifies(timeout=max(interval, 0.01), stop_after=1):
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

    def integrity_problems(self) -> list[str]:
        problems = []
        orphans = self._read(
            "SELECT count(*) FROM runs r WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = r.session_id)"
        )[0][0]
        if orphans:
            problems.append(f"{orphans} command run(s) belong to no session")
        return problems

    def remove_orphans(self) -> int:
        return self._write(
            lambda c: c.execute(
                "DELETE FROM runs r WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = r.session_id)"
            ).rowcount
        )

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


_CHANGES_SQL = "SELECT id, session_id, kind, at FROM changes WHERE id > %s ORDER BY id LIMIT %s"


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


def _session_from_row(row: tuple[Any, ...]) -> Session:
    return session_from_row(row, _same)


def _cost(m: Message) -> float:
    return m.usage.cost_usd if m.usage is not None else 0.0


def _insert_messages(
    conn: psycopg.Connection, session_id: str, messages: Sequence[Message], seqs: Iterable[int]
) -> list[Message]:
    stored, rows = numbered(messages, session_id, seqs, _ts)
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO messages ({MESSAGE_COLS}, cost_usd) VALUES ({', '.join(['%s'] * 16)})",
            [(*row, _cost(m)) for m, row in zip(stored, rows, strict=True)],
        )
    return stored


def _put_run(conn: psycopg.Connection, run: CommandRun, raw: str | None) -> None:
    # Totals sum the raw_tokens and context_tokens columns: each run's own figures.
    args = (run.id, run.session_id, _ts(run.started_at), run.status.value, run.exit_code, run.raw_tokens,
            run.context_tokens, run_data(run), run.copy_of)
    cols = "id, session_id, started_at, status, exit_code, raw_tokens, context_tokens, data, copy_of"
    update = (
        "session_id=excluded.session_id, started_at=excluded.started_at, status=excluded.status,"
        " exit_code=excluded.exit_code, raw_tokens=excluded.raw_tokens, context_tokens=excluded.context_tokens,"
        " data=excluded.data, copy_of=excluded.copy_of"
    )
    if raw is None:
        conn.execute(
            f"INSERT INTO runs ({cols}) VALUES ({', '.join(['%s'] * 9)}) ON CONFLICT (id) DO UPDATE SET {update}", args
        )
        return
    conn.execute(
        f"INSERT INTO runs ({cols}, raw, zstd, checksum) VALUES ({', '.join(['%s'] * 12)})"
        f" ON CONFLICT (id) DO UPDATE SET {update}, raw=excluded.raw, zstd=excluded.zstd, checksum=excluded.checksum",
        (*args, *output_body(run, raw)),
    )


def _message_from_row(r: tuple[Any, ...]) -> Message:
    return message_from_row(r, _same)


def _message_update(m: Message) -> tuple[Any, ...]:
    values = message_update(m, _ts)
    return (*values[:-1], _cost(m), values[-1])


_UPDATE_MESSAGE = f"UPDATE messages SET {', '.join(c + '=%s' for c in MESSAGE_UPDATE_COLS)}, cost_usd=%s WHERE id = %s"
_UPDATE_SESSION = (
    "UPDATE sessions SET name=%s, status=%s, agent=%s, role=%s, worktree=%s, branch=%s, pool=%s,"
    " created_at=%s, last_active=%s, data=%s, trashed_at=%s WHERE id=%s"
)


def _change(r: tuple[Any, ...]) -> Change:
    return Change(id=r[0], session_id=r[1], kind=r[2], at=r[3])
