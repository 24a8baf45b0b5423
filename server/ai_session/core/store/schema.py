"""Schema migrations for the SQLite store: MIGRATIONS[n] upgrades v(n) to v(n+1).

Append new migrations; never edit a released one. `PRAGMA user_version` records the version.
"""

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL,
            agent TEXT, role TEXT, worktree TEXT, branch TEXT, pool TEXT,
            created_at TEXT NOT NULL,
            last_active TEXT NOT NULL,
            last_seq INTEGER NOT NULL DEFAULT 0,  -- the last message number handed out
            data TEXT NOT NULL
        )""",
        "CREATE INDEX sessions_last_active ON sessions(last_active)",
        "CREATE INDEX sessions_worktree ON sessions(worktree, branch)",
        """CREATE TABLE messages (
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            id TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            kind TEXT NOT NULL,
            created_at TEXT NOT NULL,
            tokens INTEGER,
            pinned INTEGER NOT NULL DEFAULT 0,
            agent TEXT,
            run_id TEXT,
            body BLOB NOT NULL,
            zstd INTEGER NOT NULL DEFAULT 0,
            extra TEXT,
            PRIMARY KEY (session_id, seq)
        ) WITHOUT ROWID""",
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            started_at TEXT NOT NULL,
            status TEXT NOT NULL,
            exit_code INTEGER,
            data TEXT NOT NULL,
            raw BLOB,
            zstd INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX runs_session ON runs(session_id, started_at)",
        "CREATE TABLE templates (name TEXT PRIMARY KEY, data TEXT NOT NULL)",
        "CREATE TABLE pools (role TEXT PRIMARY KEY, data TEXT NOT NULL)",
        # The change log other processes (a language server) follow for live updates. Plain
        # rowid ids (no AUTOINCREMENT bookkeeping): pruning removes the oldest rows only, so
        # an id is never handed out twice.
        """CREATE TABLE changes (
            id INTEGER PRIMARY KEY,
            session_id TEXT,
            kind TEXT NOT NULL,
            at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
        )""",
        "CREATE TRIGGER sessions_ins AFTER INSERT ON sessions BEGIN INSERT INTO changes (session_id, kind) VALUES (NEW.id, 'created'); END",
        "CREATE TRIGGER sessions_upd AFTER UPDATE OF name, status, data ON sessions BEGIN INSERT INTO changes (session_id, kind) VALUES (NEW.id, 'updated'); END",
        "CREATE TRIGGER sessions_del AFTER DELETE ON sessions BEGIN INSERT INTO changes (session_id, kind) VALUES (OLD.id, 'deleted'); END",
        "CREATE TRIGGER runs_ins AFTER INSERT ON runs BEGIN INSERT INTO changes (session_id, kind) VALUES (NEW.session_id, 'run'); END",
        "CREATE TRIGGER runs_upd AFTER UPDATE ON runs BEGIN INSERT INTO changes (session_id, kind) VALUES (NEW.session_id, 'run'); END",
        "CREATE TRIGGER templates_chg AFTER INSERT ON templates BEGIN INSERT INTO changes (session_id, kind) VALUES (NULL, 'template'); END",
        "CREATE TRIGGER pools_chg AFTER INSERT ON pools BEGIN INSERT INTO changes (session_id, kind) VALUES (NULL, 'pool'); END",
    ],
]
