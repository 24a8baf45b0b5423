"""Schema migrations for the PostgreSQL team store: MIGRATIONS[n] upgrades v(n) to v(n+1).

Append new migrations; never edit a released one. `ai_session.schema_version` records the
version. Everything lives in the `ai_session` schema; the role that runs the migrations owns
the tables (an admin role, not a person's: the owner is not subject to row-level security).

Access: a session row names its `owner` and `members`; row-level security policies keyed on
`current_user` (the database role) decide which sessions, messages, runs and change-log rows
a role sees or touches. People's roles get their table privileges through the group role
`ai_session_users`.

v1 shipped in two shapes (the first without `sessions.last_seq`); v2 upgrades both.

Change log: rows are written by deferred (commit-time) triggers under one transaction-level
advisory lock, so change ids are handed out in commit order — a watcher that has read up to
id N can never later find a committed change with a smaller id. The same triggers `pg_notify`
the channel in the same transaction, so listeners hear about it exactly when it is visible.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ai_session.core.accounting import recount_runs
from ai_session.core.store.codec import checksum_bodies

SCHEMA = "ai_session"
USERS_ROLE = "ai_session_users"
NOTIFY_CHANNEL = "ai_session_changes"
CHANGE_LOCK = 0x61695F6368616E  # advisory-lock key serialising change-log ids ("ai_chan")

# A list of statements, or a function (given the migrating connection) for what SQL cannot do.
Migration = list[str] | Callable[[Any], None]


_V2 = [
    "ALTER TABLE sessions ADD COLUMN trashed_at timestamptz",
    "ALTER TABLE messages ADD COLUMN checksum bigint, ADD COLUMN copy_of text",
    "ALTER TABLE runs ADD COLUMN checksum bigint, ADD COLUMN copy_of text",
    """CREATE TABLE quarantine (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_id text COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        kind text NOT NULL,
        ref text NOT NULL,
        seq integer,
        damage text NOT NULL,
        at timestamptz NOT NULL,
        row text NOT NULL,
        body bytea
    )""",
    "CREATE INDEX quarantine_session ON quarantine (session_id)",
    f"""CREATE FUNCTION session_rows_changed() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = {SCHEMA}, pg_temp AS $$
        DECLARE who name[];
        BEGIN
            SELECT owner || members INTO who FROM sessions WHERE id = NEW.session_id;
            PERFORM log_change(NEW.session_id, TG_ARGV[0], COALESCE(who, '{{}}'));
            RETURN NULL;
        END $$""",
    (
        "CREATE CONSTRAINT TRIGGER quarantine_chg AFTER INSERT ON quarantine DEFERRABLE INITIALLY DEFERRED"
        " FOR EACH ROW EXECUTE FUNCTION session_rows_changed('updated')"
    ),
    "ALTER TABLE quarantine ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY quarantine_access ON quarantine USING (EXISTS (SELECT 1 FROM sessions s WHERE s.id = quarantine.session_id))",
    f"GRANT UPDATE (trashed_at) ON sessions TO {USERS_ROLE}",
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON quarantine TO {USERS_ROLE}",
]


def _v2(conn: Any) -> None:
    """Per-row checksums, the quarantine, the trash and copy provenance."""
    has_counter = conn.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = %s AND table_name = 'sessions'"
        " AND column_name = 'last_seq'",
        (SCHEMA,),
    ).fetchone()
    if not has_counter:  # the first v1 numbered messages by max(seq)
        conn.execute("ALTER TABLE sessions ADD COLUMN last_seq integer NOT NULL DEFAULT 0")
        conn.execute("UPDATE sessions SET last_seq = COALESCE((SELECT max(seq) FROM messages m WHERE m.session_id = sessions.id), 0)")
        conn.execute(f"GRANT UPDATE (last_seq) ON sessions TO {USERS_ROLE}")
    for statement in _V2:
        conn.execute(statement)
    checksum_bodies(conn.execute, "%s")


def _v3(conn: Any) -> None:
    """Raw tokens as an agent's pipe would carry each output (colours and redraws removed)."""
    recount_runs(conn.execute, "%s", raw_tokens_column=True)


def _v4(conn: Any) -> None:
    """Per-session totals kept as the store is written (core/store/kept_totals.py), filled
    from the history already stored; copies found by an index of their own. They follow
    their session for access, as its messages and runs do."""
    from ai_session.core.store import kept_totals

    # An index cannot be built on a table with deferred trigger events pending (an earlier
    # step's updates in this transaction): let them fire now.
    conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for statement in (
        """CREATE TABLE message_totals (
            session_id text COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            kind text NOT NULL,
            copies boolean NOT NULL,  -- the figures of rows that copy another (copy_of)
            messages bigint NOT NULL, tokens bigint NOT NULL, cost_usd double precision NOT NULL,
            history_raw bigint NOT NULL, history_context bigint NOT NULL,
            PRIMARY KEY (session_id, kind, copies)
        )""",
        """CREATE TABLE run_totals (
            session_id text COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            copies boolean NOT NULL,
            runs bigint NOT NULL, raw_tokens bigint NOT NULL, context_tokens bigint NOT NULL,
            PRIMARY KEY (session_id, copies)
        )""",
        "CREATE INDEX messages_copies ON messages (copy_of) WHERE copy_of IS NOT NULL",
        "CREATE INDEX runs_copies ON runs (copy_of) WHERE copy_of IS NOT NULL",
        # The listing's order, ties broken by id (pages), with the columns its filter reads:
        # a page and its count read this index, not every session's record.
        "DROP INDEX sessions_last_active",
        "CREATE INDEX sessions_last_active ON sessions (last_active, id, status, trashed_at)",
        "ALTER TABLE message_totals ENABLE ROW LEVEL SECURITY",
        "CREATE POLICY message_totals_access ON message_totals"
        " USING (EXISTS (SELECT 1 FROM sessions s WHERE s.id = message_totals.session_id))",
        "ALTER TABLE run_totals ENABLE ROW LEVEL SECURITY",
        "CREATE POLICY run_totals_access ON run_totals"
        " USING (EXISTS (SELECT 1 FROM sessions s WHERE s.id = run_totals.session_id))",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON message_totals, run_totals TO {USERS_ROLE}",
        "SET CONSTRAINTS ALL DEFERRED",
    ):
        conn.execute(statement)
    kept_totals.refresh_all(conn.execute, "%s", "raw_tokens", "context_tokens")


# v5: an edit, a delete or a prune of messages is logged as `edited`, no longer as an append
# (`message`): a follower that keeps what it read of a session extends it after an append and
# reads it again after anything else. Edits bump a counter of their own, as appends do theirs.
# It runs again on a store set back to an earlier version (which keeps what v5 added).
_V5 = [
    "ALTER TABLE sessions ADD COLUMN IF NOT EXISTS edits bigint NOT NULL DEFAULT 0",
    "DROP TRIGGER IF EXISTS sessions_edit ON sessions",
    "CREATE CONSTRAINT TRIGGER sessions_edit AFTER UPDATE OF edits ON sessions"
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sessions_changed('edited')",
    f"GRANT UPDATE (edits) ON sessions TO {USERS_ROLE}",
]


MIGRATIONS: list[Migration] = [
    [
        """CREATE TABLE sessions (
            id text COLLATE "C" PRIMARY KEY,
            name text COLLATE "C" NOT NULL UNIQUE,
            status text NOT NULL,
            agent text, role text, worktree text, branch text, pool text,
            created_at timestamptz NOT NULL,
            last_active timestamptz NOT NULL,
            data text NOT NULL,
            owner name NOT NULL DEFAULT current_user,
            members name[] NOT NULL DEFAULT '{}',
            appends bigint NOT NULL DEFAULT 0,
            last_seq integer NOT NULL DEFAULT 0  -- the last message number handed out
        )""",
        "CREATE INDEX sessions_last_active ON sessions (last_active)",
        "CREATE INDEX sessions_worktree ON sessions (worktree, branch)",
        "CREATE INDEX sessions_owner ON sessions (owner)",
        """CREATE TABLE messages (
            session_id text COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            seq integer NOT NULL,
            id text COLLATE "C" NOT NULL UNIQUE,
            role text NOT NULL,
            kind text NOT NULL,
            created_at timestamptz NOT NULL,
            tokens integer,
            pinned boolean NOT NULL DEFAULT false,
            agent text,
            run_id text,
            body bytea NOT NULL,
            zstd boolean NOT NULL DEFAULT false,
            extra text,
            cost_usd double precision NOT NULL DEFAULT 0,
            PRIMARY KEY (session_id, seq)
        )""",
        """CREATE TABLE runs (
            n bigint GENERATED ALWAYS AS IDENTITY,
            id text COLLATE "C" PRIMARY KEY,
            session_id text COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            started_at timestamptz NOT NULL,
            status text NOT NULL,
            exit_code integer,
            raw_tokens bigint NOT NULL DEFAULT 0,
            context_tokens bigint NOT NULL DEFAULT 0,
            data text NOT NULL,
            raw bytea,
            zstd boolean NOT NULL DEFAULT false
        )""",
        "CREATE INDEX runs_session ON runs (session_id, started_at)",
        'CREATE TABLE templates (name text COLLATE "C" PRIMARY KEY, data text NOT NULL)',
        'CREATE TABLE pools (role text COLLATE "C" PRIMARY KEY, data text NOT NULL)',
        """CREATE TABLE changes (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            session_id text,
            kind text NOT NULL,
            at timestamptz NOT NULL DEFAULT clock_timestamp(),
            audience name[] NOT NULL DEFAULT '{}'
        )""",
        # --- change log: only these SECURITY DEFINER functions write it; nobody can forge ids.
        f"""CREATE FUNCTION log_change(sid text, what text, audience name[]) RETURNS void
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = {SCHEMA}, pg_temp AS $$
            BEGIN
                PERFORM pg_advisory_xact_lock({CHANGE_LOCK});
                INSERT INTO changes (session_id, kind, audience) VALUES (sid, what, audience);
                PERFORM pg_notify('{NOTIFY_CHANNEL}', '');
            END $$""",
        "REVOKE ALL ON FUNCTION log_change(text, text, name[]) FROM PUBLIC",
        f"""CREATE FUNCTION sessions_changed() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = {SCHEMA}, pg_temp AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    PERFORM log_change(NEW.id, 'created', NEW.owner || NEW.members);
                ELSIF TG_OP = 'DELETE' THEN
                    PERFORM log_change(OLD.id, 'deleted', OLD.owner || OLD.members);
                ELSE
                    -- old members hear it too: being removed from a session is a change for them
                    PERFORM log_change(NEW.id, TG_ARGV[0], NEW.owner || NEW.members || OLD.members);
                END IF;
                RETURN NULL;
            END $$""",
        f"""CREATE FUNCTION runs_changed() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = {SCHEMA}, pg_temp AS $$
            DECLARE who name[];
            BEGIN
                SELECT owner || members INTO who FROM sessions WHERE id = NEW.session_id;
                PERFORM log_change(NEW.session_id, 'run', COALESCE(who, '{{}}'));
                RETURN NULL;
            END $$""",
        f"""CREATE FUNCTION shared_changed() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = {SCHEMA}, pg_temp AS $$
            BEGIN
                PERFORM log_change(NULL, TG_ARGV[0], '{{}}');
                RETURN NULL;
            END $$""",
        # Deferred: fire at COMMIT, so the advisory lock is held only for the commit itself.
        "CREATE CONSTRAINT TRIGGER sessions_ins AFTER INSERT ON sessions DEFERRABLE INITIALLY DEFERRED"
        " FOR EACH ROW EXECUTE FUNCTION sessions_changed()",
        "CREATE CONSTRAINT TRIGGER sessions_upd AFTER UPDATE OF name, status, data, owner, members ON sessions"
        " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sessions_changed('updated')",
        # An append bumps `appends` (and takes the row lock that orders seq numbers): one entry per append.
        "CREATE CONSTRAINT TRIGGER sessions_msg AFTER UPDATE OF appends ON sessions"
        " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sessions_changed('message')",
        "CREATE CONSTRAINT TRIGGER sessions_del AFTER DELETE ON sessions DEFERRABLE INITIALLY DEFERRED"
        " FOR EACH ROW EXECUTE FUNCTION sessions_changed()",
        "CREATE CONSTRAINT TRIGGER runs_chg AFTER INSERT OR UPDATE ON runs DEFERRABLE INITIALLY DEFERRED"
        " FOR EACH ROW EXECUTE FUNCTION runs_changed()",
        "CREATE CONSTRAINT TRIGGER templates_chg AFTER INSERT OR UPDATE ON templates DEFERRABLE INITIALLY DEFERRED"
        " FOR EACH ROW EXECUTE FUNCTION shared_changed('template')",
        "CREATE CONSTRAINT TRIGGER pools_chg AFTER INSERT OR UPDATE ON pools DEFERRABLE INITIALLY DEFERRED"
        " FOR EACH ROW EXECUTE FUNCTION shared_changed('pool')",
        f"""CREATE FUNCTION prune_changes(keep bigint) RETURNS bigint
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = {SCHEMA}, pg_temp AS $$
            DECLARE gone bigint;
            BEGIN
                DELETE FROM changes WHERE id <= (SELECT max(id) FROM changes) - keep;
                GET DIAGNOSTICS gone = ROW_COUNT;
                RETURN gone;
            END $$""",
        # --- access: only the owner changes who shares a session (runs as the caller).
        """CREATE FUNCTION guard_sharing() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF OLD.owner <> current_user THEN
                    RAISE EXCEPTION 'only the owner (%) can change who shares session %', OLD.owner, OLD.id
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
                RETURN NEW;
            END $$""",
        "CREATE TRIGGER sessions_guard BEFORE UPDATE OF owner, members ON sessions"
        " FOR EACH ROW WHEN (NEW.owner IS DISTINCT FROM OLD.owner OR NEW.members IS DISTINCT FROM OLD.members)"
        " EXECUTE FUNCTION guard_sharing()",
        "ALTER TABLE sessions ENABLE ROW LEVEL SECURITY",
        "CREATE POLICY sessions_read ON sessions FOR SELECT USING (owner = current_user OR current_user = ANY (members))",
        "CREATE POLICY sessions_add ON sessions FOR INSERT WITH CHECK (owner = current_user)",
        "CREATE POLICY sessions_change ON sessions FOR UPDATE"
        " USING (owner = current_user OR current_user = ANY (members))",
        "CREATE POLICY sessions_remove ON sessions FOR DELETE USING (owner = current_user)",
        # Messages and runs follow their session: the subquery is itself filtered by the policy above.
        "ALTER TABLE messages ENABLE ROW LEVEL SECURITY",
        "CREATE POLICY messages_access ON messages"
        " USING (EXISTS (SELECT 1 FROM sessions s WHERE s.id = messages.session_id))",
        "ALTER TABLE runs ENABLE ROW LEVEL SECURITY",
        "CREATE POLICY runs_access ON runs USING (EXISTS (SELECT 1 FROM sessions s WHERE s.id = runs.session_id))",
        "ALTER TABLE changes ENABLE ROW LEVEL SECURITY",
        "CREATE POLICY changes_read ON changes FOR SELECT"
        " USING (session_id IS NULL OR current_user = ANY (audience))",
        f"GRANT USAGE ON SCHEMA {SCHEMA} TO {USERS_ROLE}",
        f"GRANT SELECT, INSERT, DELETE ON sessions TO {USERS_ROLE}",
        f"GRANT UPDATE (name, status, agent, role, worktree, branch, pool, created_at, last_active, data,"
        f" owner, members, appends, last_seq) ON sessions TO {USERS_ROLE}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON messages, runs, templates, pools TO {USERS_ROLE}",
        f"GRANT SELECT ON changes, schema_version TO {USERS_ROLE}",
        f"GRANT EXECUTE ON FUNCTION prune_changes(bigint) TO {USERS_ROLE}",
    ],
    _v2,
    _v3,
    _v4,
    _V5,
]
