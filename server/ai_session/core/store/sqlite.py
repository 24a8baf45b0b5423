"""The embedded store: one SQLite file in WAL mode, shared safely by several processes.

Every write is one `BEGIN IMMEDIATE` transaction, retried while another process holds the
write lock, so "database is locked" never reaches a user. Message bodies and outputs above
a threshold are zstd-compressed (see `blob`). The db, its -wal and -shm are 0600 in a
0700 directory whatever the umask.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, UTC
from pathlib import Path
from typing import Any, TypeVar

from ai_session.core import blob
from ai_session.core.errors import Conflict, InvalidInput, NotFound, StoreError
from ai_session.core.models import Message
from ai_session.core.privacy import private_dir, private_file
from ai_session.core.store.base import StorageStats
from ai_session.core.store.codec import utf8_text
from ai_session.core.store.schema import MIGRATIONS
from ai_session.core.store.sql import Dialect, SQLStore

T = TypeVar("T")

LOCK_WAIT_SECONDS = 60.0  # how long a writer waits for another process before giving up
CHANGE_LOG_KEEP = 50_000  # change-log rows kept; older ones are pruned by optimize()


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


class SQLiteStore(SQLStore):
    def __init__(self, path: Path | str) -> None:
        self.dialect = DIALECT
        self.path = Path(path).expanduser()
        self.url = f"sqlite:///{self.path}"
        private_dir(self.path.parent)
        private_file(self.path)
        self._lock = threading.RLock()
        self._commits = 0
        self._seen_probe: tuple[int, int, int] | None = None
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=0.2)
            # Set before the first table exists (a no-op afterwards): an append dirties ~5 pages,
            # and with WAL every one is written at commit; smaller pages, less to write.
            self._db.execute("PRAGMA page_size=2048")
            self._db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the store at {self.path}: {exc}") from None
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=200")
        self._db.execute("PRAGMA secure_delete=ON")  # freed pages are zeroed: a deleted secret does not linger
        self._migrate()
        for suffix in ("-wal", "-shm"):
            side = Path(f"{self.path}{suffix}")
            if side.exists():
                os.chmod(side, 0o600)

    # ------------------------------------------------------------------ plumbing

    def _migrate(self) -> None:
        def upgrade(db: sqlite3.Connection) -> None:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise StoreError(
                    f"the store at {self.path} has schema v{version}, newer than this ai-session "
                    f"(v{len(MIGRATIONS)}); upgrade ai-session"
                )
            for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
                if callable(migration):
                    migration(db)
                else:
                    for statement in migration:
                        db.execute(statement)
                db.execute(f"PRAGMA user_version={number}")

        self._write(upgrade)

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in one BEGIN IMMEDIATE transaction, waiting out other writers."""
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        delay = 0.002
        with self._lock:
            while True:
                try:
                    self._db.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as exc:
                    if not _is_busy(exc) or time.monotonic() > deadline:
                        raise self._store_error(exc) from None
                    time.sleep(delay * (0.5 + random.random()))
                    delay = min(delay * 2, 0.1)
                    continue
                try:
                    result = work(self._db)
                    self._db.execute("COMMIT")
                    self._commits += 1
                    return result
                except BaseException as exc:
                    self._db.execute("ROLLBACK")
                    if isinstance(exc, sqlite3.IntegrityError):
                        if "FOREIGN KEY" in str(exc):  # e.g. appending to a session another process deleted
                            raise NotFound("the session no longer exists (deleted by another process?)") from None
                        raise Conflict(str(exc)) from None
                    if isinstance(exc, sqlite3.OperationalError) and _is_busy(exc) and time.monotonic() < deadline:
                        continue
                    if isinstance(exc, sqlite3.DatabaseError):
                        raise self._store_error(exc) from None
                    raise

    def _store_error(self, exc: sqlite3.Error) -> StoreError:
        if _is_busy(exc):
            return StoreError(
                f"the store {self.path} stayed locked by another process for {LOCK_WAIT_SECONDS:.0f}s; "
                "is a process stuck holding it?"
            )
        return StoreError(f"store {self.path}: {exc}")

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise self._store_error(exc) from None

    # ------------------------------------------------------------------ messages

    def append_messages(self, session_id: str, messages: Sequence[Message]) -> list[Message]:
        if not messages:
            return []

        def work(db: sqlite3.Connection) -> list[Message]:
            # Taking the numbers and bumping last_active is one write to the session row (read
            # back by a SELECT: RETURNING costs SQLite more than a second statement).
            if not db.execute("UPDATE sessions SET last_seq = last_seq + ?, last_active = ? WHERE id = ?",
                              (len(messages), _ts(messages[-1].created_at), session_id)).rowcount:  # fmt: skip
                raise NotFound("the session no longer exists (deleted by another process?)")
            last = db.execute("SELECT last_seq FROM sessions WHERE id = ?", (session_id,)).fetchone()[0]
            first = last - len(messages) + 1
            stored = self._insert_messages(db, session_id, messages, range(first, first + len(messages)))
            # One change-log row per append, not per message (a trigger would write one each).
            db.execute("INSERT INTO changes (session_id, kind) VALUES (?, 'message')", (session_id,))
            return stored

        return self._write(work)

    def _log_edits(self, conn: sqlite3.Connection, session_ids: Sequence[str]) -> None:
        conn.executemany("INSERT INTO changes (session_id, kind) VALUES (?, 'edited')", [(s,) for s in session_ids])

    # ------------------------------------------------------------------ change log

    def version(self) -> object:
        return (self._read("PRAGMA data_version")[0][0], self._commits)

    def has_new_changes(self, change_id: int) -> bool:
        # PRAGMA data_version moves when another connection commits and `_commits` when
        # this one does; only then is the change log queried.
        probe = (self._read("PRAGMA data_version")[0][0], self._commits, change_id)
        if probe == self._seen_probe:
            return False
        self._seen_probe = probe
        return self.last_change_id() > change_id

    # ------------------------------------------------------------------ backups

    def backup(self, path: Path) -> None:
        """SQLite's online backup in one step: it reads one snapshot, so writers in other
        processes carry on (WAL) and the copy is consistent. The copy is a single 0600 file."""
        path = Path(path).expanduser()
        if path.exists():
            raise Conflict(f"{path} already exists; choose another file")
        if not path.parent.exists():  # made private; a folder of the user's own is left as it is
            private_dir(path.parent)
        partial = path.with_name(f".{path.name}.partial")
        partial.unlink(missing_ok=True)
        copy = sqlite3.connect(private_file(partial))
        try:
            with self._lock:
                self._db.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        except sqlite3.Error as exc:
            partial.unlink(missing_ok=True)
            raise self._store_error(exc) from None
        finally:
            copy.close()
        os.replace(partial, path)

    def restore(self, path: Path, *, keep_current: Path) -> None:
        """Check the backup (a readable SQLite file, integrity, an ai-session schema this version
        can read), upgrade a copy of it, save the current content, then copy it in through the
        backup API, so processes that have the store open see the restored content."""
        staged = self.path.with_name(f".restore-{os.getpid()}.db")
        try:
            _stage_backup(Path(path).expanduser(), staged)
            SQLiteStore(staged).close()  # upgrades an older backup (one transaction)
            page_size = self._read("PRAGMA page_size")[0][0]
            source = sqlite3.connect(staged, isolation_level=None)
            try:
                # The backup API needs equal page sizes when the target is in WAL mode.
                source.execute("PRAGMA journal_mode=DELETE")
                if source.execute("PRAGMA page_size").fetchone()[0] != page_size:
                    source.execute(f"PRAGMA page_size={int(page_size)}")
                    source.execute("VACUUM")
                last_change = self.last_change_id()
                self.backup(keep_current)
                with self._lock:
                    source.backup(self._db)
                    self._db.execute("PRAGMA journal_mode=WAL")
                # Change ids keep growing across the restore, so watchers notice it.
                self._write(lambda db: db.execute(
                    "INSERT INTO changes (id, session_id, kind) VALUES (MAX(?, (SELECT COALESCE(MAX(id), 0) FROM changes)) + 1, NULL, 'restored')",
                    (last_change,),
                ))  # fmt: skip
            finally:
                source.close()
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{staged}{suffix}").unlink(missing_ok=True)

    # ------------------------------------------------------------------ maintenance

    def integrity_problems(self) -> list[str]:
        return [r[0] for r in self._read("PRAGMA integrity_check") if r[0] != "ok"] + super().integrity_problems()

    def storage_stats(self) -> StorageStats:
        on_disk = sum(f.stat().st_size for f in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm"))
                      if f.exists())  # fmt: skip
        rows = self._read("SELECT body FROM messages WHERE zstd = 1 UNION ALL SELECT raw FROM runs WHERE zstd = 1")
        stored = raw = 0
        for (body,) in rows:
            stored += len(body)
            raw += blob.content_size(body)
        return StorageStats(on_disk, len(rows), stored, raw)

    def optimize(self) -> dict[str, int]:
        """Re-compress bodies stored plain that are over the threshold, prune the change log, vacuum."""

        def recompress(db: sqlite3.Connection) -> int:
            count = 0
            for table, key in (("messages", "id"), ("runs", "id")):
                column = "body" if table == "messages" else "raw"
                for ident, data in db.execute(
                    f"SELECT {key}, {column} FROM {table} WHERE zstd = 0 AND length({column}) >= ?",
                    (blob.COMPRESS_THRESHOLD,),
                ).fetchall():
                    db.execute(f"UPDATE {table} SET {column} = ?, zstd = 1 WHERE {key} = ?", (blob.compress(data), ident))
                    count += 1
            return count

        recompressed = self._write(recompress)
        pruned = self._write(
            lambda db: db.execute(
                "DELETE FROM changes WHERE id <= (SELECT MAX(id) FROM changes) - ?", (CHANGE_LOG_KEEP,)
            ).rowcount
        )
        size_before, size_after = self.compact()
        with self._lock:
            self._db.execute("PRAGMA optimize")
        return {
            "recompressed": recompressed,
            "changes_pruned": pruned,
            "bytes_before": size_before,
            "bytes_after": size_after,
        }

    def redaction_level(self) -> int | None:
        rows = self._read("SELECT value FROM meta WHERE key = 'redaction'")
        return int(rows[0][0]) if rows else 0

    def set_redaction_level(self, level: int) -> None:
        self._write(
            lambda db: db.execute(
                "INSERT INTO meta (key, value) VALUES ('redaction', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (str(level),),
            )
        )

    def compact(self) -> tuple[int, int]:
        before = self._disk_size()
        with self._lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self._db.execute("VACUUM")
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.DatabaseError as exc:
                raise self._store_error(exc) from None
        return before, self._disk_size()

    def _disk_size(self) -> int:
        return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())

    def close(self) -> None:
        with self._lock:
            self._db.close()


# Figures summed from JSON columns; a row whose JSON does not parse counts 0 instead of
# failing the whole query (validate reports it).
_MESSAGE_COST = "CASE WHEN json_valid(extra) THEN json_extract(extra, '$.usage.cost_usd') END"
_RUN_RAW = "CASE WHEN json_valid(data) THEN json_extract(data, '$.raw_tokens') END"  # each run's raw figure
_RUN_CONTEXT = "CASE WHEN json_valid(data) THEN json_extract(data, '$.context_tokens') END"


def _stage_backup(path: Path, staged: Path) -> None:
    """Copy a backup file (never changed itself) to `staged` and check it can be restored."""
    try:
        with path.open("rb") as fh:
            header = fh.read(16)
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    if header != b"SQLite format 3\x00":
        raise InvalidInput(f"{path} is not an ai-session backup (not a SQLite database); nothing was changed")
    staged.unlink(missing_ok=True)
    try:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(private_file(staged))
        try:
            source.backup(target)
            problems = [r[0] for r in target.execute("PRAGMA integrity_check").fetchall() if r[0] != "ok"]
            version = target.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in target.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            source.close()
            target.close()
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"{path} cannot be read as a backup ({exc}); nothing was changed") from None
    if problems:
        raise InvalidInput(f"{path} fails the integrity check ({problems[0]}); nothing was changed")
    if version > len(MIGRATIONS):
        raise StoreError(
            f"{path} was written by a newer ai-session (schema v{version}, this one reads up to "
            f"v{len(MIGRATIONS)}); upgrade ai-session to restore it. Nothing was changed"
        )
    if version == 0 or not {"sessions", "messages", "runs"} <= tables:
        raise InvalidInput(f"{path} is a SQLite database but not an ai-session store; nothing was changed")


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _prefix(prefix: str) -> tuple[str, list[Any]]:
    # A range scan on the primary key instead of LIKE, which would treat _ as a wildcard.
    return "id >= ? AND id < ?", [prefix, prefix + "\U0010ffff"]


def _any_of(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    return f"{column} IN ({','.join('?' * len(values))})", list(values)


DIALECT = Dialect(
    mark="?",
    ts=_ts,
    parse_ts=datetime.fromisoformat,
    text=utf8_text,
    prefix=_prefix,
    any_of=_any_of,
    insertion_order="rowid",
    message_cost=_MESSAGE_COST,
    run_raw=_RUN_RAW,
    run_context=_RUN_CONTEXT,
    session_model="json_extract(s.data, '$.model')",
)
