"""The SQL both backends share, written once; a `Dialect` says how each database spells it.

A backend (SQLite, PostgreSQL) keeps only what is really its own: connections, locking and
retries (`_read`, `_write`), change notification, migrations, and the few statements whose
shape differs. Everything here reads the same tables with the same meaning, so the two
stores cannot disagree on a rule again (they did on how raw tokens were summed).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from ai_session.core import listing as listing_query
from ai_session.core.errors import Conflict, StoreError
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
from ai_session.core.store import kept_totals, quarantine
from ai_session.core.store.base import CopyRow, Damage, Quarantined, SessionFilter, SessionStore, Totals
from ai_session.core.store.codec import (
    MESSAGE_COLS,
    MESSAGE_UPDATE_COLS,
    RUN_COLS,
    SESSION_COLS,
    import_seqs,
    message_from_row,
    message_update,
    message_wire,
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
)

T = TypeVar("T")


@dataclass(frozen=True)
class Dialect:
    """How one database spells what the shared SQL needs."""

    mark: str  # the driver's placeholder: "?" or "%s"
    ts: Callable[[datetime], Any]  # a datetime as its columns store it
    parse_ts: Callable[[Any], datetime]  # and back
    text: Callable[[str, str], str]  # checks a name the database must be able to hold
    prefix: Callable[[str], tuple[str, list[Any]]]  # an id-prefix condition on `id` and its params
    any_of: Callable[[str, Sequence[Any]], tuple[str, list[Any]]]  # "column is one of these"
    insertion_order: str  # the column that orders rows by insertion (runs started in one instant)
    message_cost: str  # a message's cost in USD, as an SQL expression
    run_raw: str  # a run's raw tokens (core/accounting.py), as an SQL expression
    run_context: str  # a run's context tokens, as an SQL expression
    # Columns a backend derives from a record on every write, so its queries need not parse JSON.
    message_derived: Callable[[Message], dict[str, Any]] = lambda m: {}
    run_derived: Callable[[CommandRun], dict[str, Any]] = lambda r: {}
    session_model: str = "NULL"  # the model a session's record names, as an SQL expression on `s`
    # Appended to a SELECT of a session row to hold its lock until commit (PostgreSQL: the
    # writers of one session's totals take turns, as its appends do on the same row).
    for_update: str = ""

    def marks(self, count: int) -> str:
        return ", ".join([self.mark] * count)


class SQLStore(SessionStore):
    """The body of a store over SQL: every read and the plain writes, in one dialect."""

    dialect: Dialect

    @abstractmethod
    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows of one query; the backend maps its driver's errors to ours."""

    @abstractmethod
    def _write(self, work: Callable[[Any], T]) -> T:
        """Run `work(connection)` in one write transaction, as the backend locks and retries."""

    @abstractmethod
    def _log_edits(self, conn: Any, session_ids: Sequence[str]) -> None:
        """Log edited or removed messages (one `edited` entry per session), in the writing
        transaction: followers (editors, caches) hear of a pin or a prune, and tell it from an
        append (`message`), after which what they read of the session still holds."""

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement in its own write transaction; returns the rows it changed."""
        return int(self._write(lambda conn: conn.execute(sql, params).rowcount))

    # ------------------------------------------------------------------ sessions

    def create_session(
        self,
        session: Session,
        messages: Sequence[Message] = (),
        runs: Sequence[tuple[CommandRun, str | None]] = (),
    ) -> Session:
        d = self.dialect
        d.text(session.name, "session name")

        def work(conn: Any) -> None:
            self._refuse_name_clash(conn, session)
            conn.execute(f"INSERT INTO sessions ({SESSION_COLS}) VALUES ({d.marks(_count(SESSION_COLS))})",
                         session_row(session, d.ts))  # fmt: skip
            for run, raw in runs:
                self._put_run(conn, run.model_copy(update={"session_id": session.id}), raw)
            if seqs := import_seqs(messages):
                self._insert_messages(conn, session.id, messages, seqs)
                conn.execute(f"UPDATE sessions SET last_seq = {d.mark} WHERE id = {d.mark}", (seqs[-1], session.id))

        with _named(session.name):
            self._write(work)
        return scrubbed(session)

    def update_session(self, session: Session, *, expected_status: SessionStatus | None = None) -> bool:
        d = self.dialect
        d.text(session.name, "session name")
        sql = self._update_session_sql
        params = (*session_row(session, d.ts)[1:], session.id)
        if expected_status is not None:
            sql += f" AND status = {d.mark}"  # compare-and-set: the row lock makes it atomic
            params += (expected_status.value,)

        def work(conn: Any) -> bool:
            self._refuse_name_clash(conn, session)
            updated: bool = conn.execute(sql, params).rowcount > 0
            if not updated and expected_status is None:
                raise StoreError(f"session {session.id} vanished while being updated (deleted by another process?)")
            return updated

        with _named(session.name):
            return self._write(work)

    def update_session_fields(self, session_id: str, changes: Mapping[str, object]) -> Session:
        d = self.dialect

        def work(conn: Any) -> Session:
            # Read and write in one transaction (SQLite's write lock, PostgreSQL's row lock): what
            # another process changed in the other fields since this one last read is kept.
            row = conn.execute(f"SELECT {SESSION_COLS} FROM sessions WHERE id = {d.mark}{d.for_update}",
                               (session_id,)).fetchone()  # fmt: skip
            if row is None:
                raise StoreError(f"session {session_id} vanished while being updated (deleted by another process?)")
            session = session_from_row(row, d.parse_ts).model_copy(update=dict(changes))
            d.text(session.name, "session name")
            self._refuse_name_clash(conn, session)
            conn.execute(self._update_session_sql, (*session_row(session, d.ts)[1:], session.id))
            return session

        with _named(str(changes.get("name", ""))):
            return self._write(work)

    def _refuse_name_clash(self, conn: Any, session: Session) -> None:
        m = self.dialect.mark
        if conn.execute(f"SELECT 1 FROM sessions WHERE name = {m} AND id != {m}", (session.name, session.id)).fetchone():
            raise Conflict(f"a session named {session.name!r} already exists")

    @property
    def _update_session_sql(self) -> str:
        columns = [c.strip() for c in SESSION_COLS.split(",")][1:]
        return f"UPDATE sessions SET {', '.join(f'{c}={self.dialect.mark}' for c in columns)} WHERE id={self.dialect.mark}"

    def get_session(self, session_id: str) -> Session | None:
        rows = self._read(f"SELECT {SESSION_COLS} FROM sessions WHERE id = {self.dialect.mark}", (session_id,))
        return session_from_row(rows[0], self.dialect.parse_ts) if rows else None

    def get_session_by_name(self, name: str) -> Session | None:
        rows = self._read(f"SELECT {SESSION_COLS} FROM sessions WHERE name = {self.dialect.mark}", (name,))
        return session_from_row(rows[0], self.dialect.parse_ts) if rows else None

    def find_session_ids(self, prefix: str) -> list[str]:
        where, params = self.dialect.prefix(prefix)
        return [r[0] for r in self._read(f"SELECT id FROM sessions WHERE {where} ORDER BY id", params)]

    def list_sessions(self, filter: SessionFilter | None = None, *, offset: int = 0, limit: int | None = None) -> list[Session]:
        m = self.dialect.mark
        clause, params = session_filter_sql(filter or SessionFilter(), m, self.dialect.ts)
        # id breaks ties (pages neither repeat nor skip sessions active in one instant); the
        # index on (last_active, id) gives the order without sorting.
        sql = f"SELECT {SESSION_COLS} FROM sessions{clause} ORDER BY last_active DESC, id DESC"
        if limit is not None:
            sql += f" LIMIT {m} OFFSET {m}"
            params += [limit, offset]
        rows = self._read(sql, params)
        return [session_from_row(r, self.dialect.parse_ts) for r in (rows if limit is not None else rows[offset:])]

    def count_sessions(self, filter: SessionFilter | None = None) -> int:
        clause, params = session_filter_sql(filter or SessionFilter(), self.dialect.mark, self.dialect.ts)
        return int(self._read(f"SELECT COUNT(*) FROM sessions{clause}", params)[0][0])

    def listing(self, *, statuses: Sequence[str] | None = None, agent: str | None = None,
                role: str | None = None) -> list[listing_query.Listed]:  # fmt: skip
        d = self.dialect
        sql, params = listing_query.query(d.mark, d.ts(utcnow() - listing_query.IDLE_AFTER), statuses=statuses,
                                          agent=agent, role=role, model=d.session_model)  # fmt: skip
        return [listing_query.Listed(r) for r in self._read(sql, params)]

    def delete_session(self, session_id: str) -> bool:
        return self._execute(f"DELETE FROM sessions WHERE id = {self.dialect.mark}", (session_id,)) > 0

    # ------------------------------------------------------------------ messages

    def list_messages(self, session_id: str, *, last: int | None = None, after_seq: int = 0) -> list[Message]:
        m = self.dialect.mark
        sql = f"SELECT {MESSAGE_COLS} FROM messages WHERE session_id = {m} AND seq > {m}"
        if last is None:
            rows = self._read(sql + " ORDER BY seq", (session_id, after_seq))
        else:
            rows = self._read(sql + f" ORDER BY seq DESC LIMIT {m}", (session_id, after_seq, last))
            rows.reverse()
        return [message_from_row(r, self.dialect.parse_ts) for r in rows]

    # Rows of a whole-history read held at once (a batch of message models, some 2 MB).
    MESSAGE_BATCH = 2000

    def iter_messages(self, session_id: str) -> Iterator[Message]:
        parse = self.dialect.parse_ts
        return (message_from_row(r, parse) for r in self._message_rows(session_id))

    def stream_message_wire(self, session_id: str, damaged: list[Damage]) -> Iterator[dict[str, Any]]:
        parse = self.dialect.parse_ts
        for r in self._message_rows(session_id):
            item = message_wire(r)
            if item is None:  # what only the model can tell (damage, an odd column): as the base does
                m = message_from_row(r, parse)
                if m.damage:
                    damaged.append(Damage.of_message(m))
                    continue
                item = m.model_dump(mode="json", by_alias=True)
            yield item

    def _message_rows(self, session_id: str) -> Iterator[Sequence[Any]]:
        m = self.dialect.mark
        sql = f"SELECT {MESSAGE_COLS} FROM messages WHERE session_id = {m} AND seq > {m} ORDER BY seq LIMIT {m}"
        after = 0
        while True:  # by seq, not OFFSET: each batch is an index range, whatever came before
            rows = self._read(sql, (session_id, after, self.MESSAGE_BATCH))
            yield from rows
            if len(rows) < self.MESSAGE_BATCH:
                return
            after = rows[-1][1]

    def _insert_messages(self, conn: Any, session_id: str, messages: Sequence[Message], seqs: Iterable[int]) -> list[Message]:
        d = self.dialect
        stored, rows = numbered(messages, session_id, seqs, d.ts)
        derived = [d.message_derived(m) for m in stored]
        extra = list(derived[0]) if derived else []
        values = [(*row, *more.values()) for row, more in zip(rows, derived, strict=True)]
        sql = f"INSERT INTO messages ({', '.join([MESSAGE_COLS, *extra])}) VALUES ({d.marks(_count(MESSAGE_COLS) + len(extra))})"
        if len(values) == 1:  # an append of one: a statement, not a cursor of its own
            conn.execute(sql, values[0])
        else:
            _executemany(conn, sql, values)
        # role, kind, tokens, extra, copy_of of each row (MESSAGE_COLS)
        kept_totals.add_messages(conn.execute, d.mark, session_id, [(r[3], r[4], r[6], r[12], r[14]) for r in rows])
        return stored

    def _refresh_totals(self, conn: Any, session_id: str, *, runs_only: bool = False) -> None:
        """Count a session's kept totals again, in the writing transaction."""
        d = self.dialect
        if conn.execute(f"SELECT id FROM sessions WHERE id = {d.mark}{d.for_update}", (session_id,)).fetchone():
            kept_totals.refresh(conn.execute, d.mark, d.run_raw, d.run_context, session_id, runs_only=runs_only)

    def totals_differ(self, session_id: str, *, rebuild: bool) -> bool:
        d = self.dialect

        def work(conn: Any) -> bool:
            fresh = kept_totals.counted(conn.execute, d.mark, d.run_raw, d.run_context, session_id)
            differ = not kept_totals.same(fresh, kept_totals.kept(conn.execute, d.mark, session_id))
            if differ and rebuild:
                self._refresh_totals(conn, session_id)
            return differ

        return self._write(work)

    def _message_update(self, m: Message) -> tuple[str, tuple[Any, ...]]:
        """The statement and values that rewrite a stored message's changeable columns."""
        d = self.dialect
        values = message_update(m, d.ts)
        derived = d.message_derived(m)
        columns = ", ".join(f"{c}={d.mark}" for c in [*MESSAGE_UPDATE_COLS, *derived])
        return f"UPDATE messages SET {columns} WHERE id = {d.mark}", (*values[:-1], *derived.values(), values[-1])

    def update_messages(self, messages: Iterable[Message]) -> None:
        messages = list(messages)
        updates = [self._message_update(m) for m in messages]
        if not updates:
            return
        sessions = sorted({m.session_id for m in messages if m.session_id})

        def work(conn: Any) -> None:
            _executemany(conn, updates[0][0], [values for _, values in updates])
            for session_id in sessions:
                self._refresh_totals(conn, session_id)
            self._log_edits(conn, sessions)

        self._write(work)

    def delete_messages(self, session_id: str, seqs: Iterable[int]) -> int:
        seq_list = list(seqs)

        def work(conn: Any) -> int:
            deleted = 0
            for i in range(0, len(seq_list), 500):
                where, params = self.dialect.any_of("seq", seq_list[i : i + 500])
                deleted += conn.execute(f"DELETE FROM messages WHERE session_id = {self.dialect.mark} AND {where}",
                                        [session_id, *params]).rowcount  # fmt: skip
            if deleted:
                self._refresh_totals(conn, session_id)
                self._log_edits(conn, [session_id])
            return deleted

        return self._write(work)

    def taken_message_ids(self, ids: Sequence[str]) -> set[str]:
        taken: set[str] = set()
        for i in range(0, len(ids), 500):  # bounded statements whatever the import's size
            where, params = self.dialect.any_of("id", ids[i : i + 500])
            taken.update(r[0] for r in self._read(f"SELECT id FROM messages WHERE {where}", params))
        return taken

    # ------------------------------------------------------------------ runs

    def save_run(self, run: CommandRun, raw: str | None = None) -> None:
        self._write(lambda conn: self._put_run(conn, run, raw))

    def _put_run(self, conn: Any, run: CommandRun, raw: str | None) -> None:
        """Insert or update a run; its raw output is replaced only when `raw` is given."""
        d = self.dialect
        values: dict[str, Any] = {"id": run.id, "session_id": run.session_id, "started_at": d.ts(run.started_at),
                                  "status": run.status.value, "exit_code": run.exit_code, "data": run_data(run),
                                  "copy_of": run.copy_of, **d.run_derived(run)}  # fmt: skip
        if raw is not None:
            values.update(zip(("raw", "zstd", "checksum"), output_body(run, raw), strict=True))
        update = ", ".join(f"{c}=excluded.{c}" for c in list(values)[1:])
        conn.execute(f"INSERT INTO runs ({', '.join(values)}) VALUES ({d.marks(len(values))})"
                     f" ON CONFLICT (id) DO UPDATE SET {update}", tuple(values.values()))  # fmt: skip
        self._refresh_totals(conn, run.session_id, runs_only=True)

    def get_run(self, run_id: str) -> CommandRun | None:
        rows = self._read(f"SELECT {RUN_COLS} FROM runs WHERE id = {self.dialect.mark}", (run_id,))
        return run_from_row(rows[0], self.dialect.parse_ts) if rows else None

    def find_run_ids(self, prefix: str) -> list[str]:
        where, params = self.dialect.prefix(prefix)
        return [r[0] for r in self._read(f"SELECT id FROM runs WHERE {where} ORDER BY id", params)]

    def list_runs(self, session_id: str, *, last: int | None = None) -> list[CommandRun]:
        m = self.dialect.mark
        sql = f"SELECT {RUN_COLS} FROM runs WHERE session_id = {m} ORDER BY started_at DESC, {self.dialect.insertion_order} DESC"
        params: list[Any] = [session_id]
        if last is not None:
            sql += f" LIMIT {m}"
            params.append(last)
        runs = [run_from_row(r, self.dialect.parse_ts) for r in self._read(sql, params)]
        runs.reverse()
        return runs

    def run_output(self, run_id: str) -> str | None:
        rows = self._read(f"SELECT raw, zstd, checksum FROM runs WHERE id = {self.dialect.mark}", (run_id,))
        return output_text(*rows[0]) if rows else None

    # ------------------------------------------------------------------ templates, pools

    def save_template(self, template: Template) -> None:
        m = self.dialect.mark
        self._execute(
            f"INSERT INTO templates (name, data) VALUES ({m}, {m}) ON CONFLICT (name) DO UPDATE SET data = excluded.data",
            (self.dialect.text(template.name, "template name"), template_data(template)),
        )

    def get_template(self, name: str) -> Template | None:
        rows = self._read(f"SELECT data FROM templates WHERE name = {self.dialect.mark}", (name,))
        return Template.model_validate_json(rows[0][0]) if rows else None

    def list_templates(self) -> list[Template]:
        return [Template.model_validate_json(r[0]) for r in self._read("SELECT data FROM templates ORDER BY name")]

    def delete_template(self, name: str) -> bool:
        return self._execute(f"DELETE FROM templates WHERE name = {self.dialect.mark}", (name,)) > 0

    def save_pool(self, pool: PoolConfig) -> None:
        m = self.dialect.mark
        self._execute(
            f"INSERT INTO pools (role, data) VALUES ({m}, {m}) ON CONFLICT (role) DO UPDATE SET data = excluded.data",
            (self.dialect.text(pool.role, "pool role"), pool_data(pool)),
        )

    def list_pools(self) -> list[PoolRecord]:
        return [PoolRecord.model_validate_json(r[0]) for r in self._read("SELECT data FROM pools ORDER BY role")]

    def delete_pool(self, role: str) -> bool:
        return self._execute(f"DELETE FROM pools WHERE role = {self.dialect.mark}", (role,)) > 0

    # ------------------------------------------------------------------ aggregates

    def _sessions_since(self, session_ids: Sequence[str] | None, since: datetime | None, column: str) -> tuple[str, list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if session_ids is not None:
            clause, params = self.dialect.any_of("session_id", session_ids)
            where.append(clause)
        if since is not None:
            where.append(f"{column} >= {self.dialect.mark}")
            params.append(self.dialect.ts(since))
        return (" WHERE " + " AND ".join(where)) if where else "", params

    def totals(self, session_ids: Sequence[str] | None = None, since: datetime | None = None) -> dict[str, Totals]:
        if session_ids is not None and not session_ids:
            return {}
        if since is None:
            return self._kept_totals(session_ids)
        d = self.dialect
        out: dict[str, Totals] = {}
        clause, params = self._sessions_since(session_ids, since, "created_at")
        for sid, kind, count, tokens, cost in self._read(
            f"SELECT session_id, kind, COUNT(*), COALESCE(SUM(tokens), 0), COALESCE(SUM({d.message_cost}), 0.0)"
            f" FROM messages{clause} GROUP BY session_id, kind",
            params,
        ):
            t = out.setdefault(sid, Totals())
            t.messages += count
            t.message_tokens += int(tokens)
            t.cost_usd += float(cost)
            t.by_kind[kind] = int(tokens)
        clause, params = self._sessions_since(session_ids, since, "started_at")
        for sid, count, raw, ctx in self._read(
            f"SELECT session_id, COUNT(*), COALESCE(SUM({d.run_raw}), 0), COALESCE(SUM({d.run_context}), 0)"
            f" FROM runs{clause} GROUP BY session_id",
            params,
        ):
            t = out.setdefault(sid, Totals())
            t.runs, t.raw_tokens, t.context_tokens = count, int(raw), int(ctx)
        return out

    def _kept_totals(self, session_ids: Sequence[str] | None) -> dict[str, Totals]:
        clause, params = self._sessions_since(session_ids, None, "")
        messages = self._read(f"SELECT session_id, kind, copies, {', '.join(kept_totals.MESSAGE_FIGURES)}"
                              f" FROM message_totals{clause}", params)  # fmt: skip
        runs = self._read(f"SELECT session_id, copies, {', '.join(kept_totals.RUN_FIGURES)} FROM run_totals{clause}", params)
        return kept_totals.read(messages, runs)

    def copy_rows(self) -> list[CopyRow]:
        d = self.dialect
        # Both read copies through their partial index: as many rows as there are copies.
        out = [CopyRow(sid, origin, held, Totals(messages=1, message_tokens=tokens, cost_usd=cost,
                                                 history_raw_tokens=raw_h, history_context_tokens=ctx_h))
               for sid, origin, held, *columns in self._read(
                   "SELECT session_id, copy_of, (SELECT o.session_id FROM messages o WHERE o.id = messages.copy_of),"
                   " role, kind, tokens, extra FROM messages WHERE copy_of IS NOT NULL")
               for tokens, cost, raw_h, ctx_h in [kept_totals.message_figures(*columns)]]  # fmt: skip
        out += [CopyRow(sid, origin, held, Totals(runs=1, raw_tokens=int(raw or 0), context_tokens=int(ctx or 0)))
                for sid, origin, held, raw, ctx in self._read(
                    "SELECT session_id, copy_of, (SELECT o.session_id FROM runs o WHERE o.id = runs.copy_of),"
                    f" {d.run_raw}, {d.run_context} FROM runs WHERE copy_of IS NOT NULL")]  # fmt: skip
        return out

    def origin_totals(self, session_ids: Sequence[str], since: datetime | None = None) -> Totals:
        if not session_ids:
            return Totals()
        d = self.dialect
        clause, params = self._sessions_since(session_ids, since, "created_at")
        messages, tokens, cost = self._read(
            "SELECT COUNT(*), COALESCE(SUM(tokens), 0), COALESCE(SUM(cost), 0.0) FROM (SELECT MAX(tokens) AS tokens,"
            f" MAX({d.message_cost}) AS cost FROM messages{clause} GROUP BY COALESCE(copy_of, id)) AS originals",
            params,
        )[0]
        clause, params = self._sessions_since(session_ids, since, "started_at")
        runs, raw, ctx = self._read(
            "SELECT COUNT(*), COALESCE(SUM(raw), 0), COALESCE(SUM(ctx), 0) FROM (SELECT MAX("
            f"{d.run_raw}) AS raw, MAX({d.run_context}) AS ctx FROM runs{clause}"
            " GROUP BY COALESCE(copy_of, id)) AS originals",
            params,
        )[0]
        return Totals(messages=messages, message_tokens=int(tokens), runs=runs, raw_tokens=int(raw),
                      context_tokens=int(ctx), cost_usd=float(cost))  # fmt: skip

    # ------------------------------------------------------------------ quarantine, change log

    def quarantine(self, damage: Damage, replacement: Session | Message | CommandRun) -> int:
        d = self.dialect

        def work(conn: Any) -> int:
            number = quarantine.move(conn.execute, d.mark, d.ts(utcnow()), damage)
            if isinstance(replacement, Session):
                conn.execute(self._update_session_sql, (*session_row(replacement, d.ts)[1:], replacement.id))
            elif isinstance(replacement, Message):
                conn.execute(*self._message_update(replacement))
            else:
                self._put_run(conn, replacement, None)
                if damage.kind == "output":
                    conn.execute(f"UPDATE runs SET raw = NULL, zstd = {d.mark}, checksum = NULL WHERE id = {d.mark}",
                                 (False, replacement.id))  # fmt: skip
            self._refresh_totals(conn, damage.session_id)
            return number

        return self._write(work)

    def restore_quarantined(self, quarantine_id: int) -> Quarantined:
        d = self.dialect

        def work(conn: Any) -> Quarantined:
            found = quarantine.restore(conn.execute, d.mark, quarantine_id, d.parse_ts)
            # The columns a backend derives from the record follow it back.
            derived: dict[str, Any] = {}
            if found.kind == "message":
                if row := conn.execute(f"SELECT {MESSAGE_COLS} FROM messages WHERE id = {d.mark}", (found.ref,)).fetchone():
                    derived = d.message_derived(message_from_row(row, d.parse_ts))
            elif found.kind == "run":
                derived = d.run_derived(CommandRun.model_validate_json(found.row["data"]))
            if derived:
                table = "messages" if found.kind == "message" else "runs"
                columns = ", ".join(f"{c} = {d.mark}" for c in derived)
                conn.execute(f"UPDATE {table} SET {columns} WHERE id = {d.mark}", (*derived.values(), found.ref))
            self._refresh_totals(conn, found.session_id)
            return found

        return self._write(work)

    def list_quarantine(self, session_id: str | None = None) -> list[Quarantined]:
        where, params = (f" WHERE session_id = {self.dialect.mark}", [session_id]) if session_id else ("", [])
        rows = self._read(f"SELECT {quarantine.COLUMNS} FROM quarantine{where} ORDER BY id", params)
        return [quarantine.from_row(r, self.dialect.parse_ts) for r in rows]

    def last_change_id(self) -> int:
        return int(self._read("SELECT COALESCE(MAX(id), 0) FROM changes")[0][0])

    def changes_since(self, change_id: int, limit: int = 1000) -> list[Change]:
        return [self._change(r) for r in self._read(changes_sql(self.dialect.mark), (change_id, limit))]

    def _change(self, r: Sequence[Any]) -> Change:
        return Change(id=r[0], session_id=r[1], kind=r[2], at=self.dialect.parse_ts(r[3]))

    # ------------------------------------------------------------------ maintenance

    def integrity_problems(self) -> list[str]:
        orphans = self._read(f"SELECT COUNT(*) FROM runs WHERE {_ORPHAN}")[0][0]
        return [f"{orphans} command run(s) belong to no session"] if orphans else []

    def remove_orphans(self) -> int:
        return self._execute(f"DELETE FROM runs WHERE {_ORPHAN}")


_ORPHAN = "session_id NOT IN (SELECT id FROM sessions)"


def _count(columns: str) -> int:
    return columns.count(",") + 1


def _executemany(conn: Any, sql: str, rows: Sequence[Sequence[Any]]) -> int:
    cursor = conn.cursor()
    try:
        cursor.executemany(sql, rows)
        return int(cursor.rowcount)
    finally:
        cursor.close()


@contextmanager
def _named(name: str) -> Iterator[None]:
    """A unique-name violation the pre-check could not see (a team store's session not shared
    with this user, or a race) says which name, as the pre-check does."""
    try:
        yield
    except Conflict as exc:
        if "session with that name" in str(exc):
            raise Conflict(f"a session named {name!r} already exists") from None
        raise


def changes_sql(mark: str) -> str:
    return f"SELECT id, session_id, kind, at FROM changes WHERE id > {mark} ORDER BY id LIMIT {mark}"
