"""The store's own choke point: whatever a caller hands a backend, every row is redacted on
the way in; rows an older version stored in plaintext are redacted again, and gone from disk."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from ai_session.core.config import Config
from ai_session.core.manager import SessionManager
from ai_session.core.models import CommandRun, Diagnostic, Message, PoolConfig, RunStatus, Session, Template
from ai_session.core.versions import REDACTION_RULES
from ai_session.core.store.schema import META_TABLE, MIGRATIONS
from tests.security.fakes import found, plant
from tests.security.probe import _zstd_bodies


def _write_everything(store, texts: list[str], values: list[str]) -> Session:
    session = store.create_session(Session(
        name="raw", system_prompt=texts[0], tags=[texts[1]], metadata={"password": values[2], "note": texts[3]},
        shell_env={"GH_TOKEN": values[4], "NOTE": texts[5]}))
    store.append_messages(session.id, [Message(role="user", content=texts[6], metadata={"command": texts[7]}),
                                       Message(role="tool", content=(texts[8] + "\n") * 50)])  # big: zstd-packed
    run = CommandRun(session_id=session.id, command=texts[9], context=texts[10], status=RunStatus.FINISHED,
                     diagnostics=[Diagnostic(file="a.py", line=1, message=texts[11])], metadata={"secret": values[12]})
    store.save_run(run, "\n".join(texts[13:]) * 20)
    store.save_template(Template(name="tpl", system_prompt=texts[14], preload=[Message(role="system", content=texts[15])]))
    store.save_pool(PoolConfig(role="r", agent=texts[16][:0] or None))
    return session


def _read_everything(store, session_id: str) -> str:
    parts = [store.get_session(session_id).model_dump_json()]
    parts += [m.model_dump_json() for m in store.list_messages(session_id)]
    for run in store.list_runs(session_id):
        parts += [run.model_dump_json(), store.run_output(run.id) or ""]
    parts += [t.model_dump_json() for t in store.list_templates()]
    return "\n".join(parts)


def test_every_row_a_backend_writes_is_redacted(store) -> None:
    fakes = plant()
    session = _write_everything(store, [f.text for f in fakes], [f.value for f in fakes])
    assert session.system_prompt != fakes[0].text  # what a write returns is what was stored
    assert found(_read_everything(store, session.id), fakes) == []
    path = getattr(store, "path", None)
    if path is not None:  # the embedded store: the file, its -wal and every compressed body too
        raw = b"".join(Path(f"{path}{s}").read_bytes() for s in ("", "-wal") if Path(f"{path}{s}").exists())
        assert found(raw + b"".join(_zstd_bodies(path)), fakes) == []
        assert store._read("PRAGMA secure_delete")[0][0] == 1


def _plaintext_store(home: Path, fakes) -> Path:
    """A store as an older ai-session left it: secrets in every table."""
    db = home / "sessions.db"
    m = SessionManager(Config.load())
    s = m.create("old")
    m.close()
    conn = sqlite3.connect(db)
    with conn:
        data = json.loads(conn.execute("SELECT data FROM sessions WHERE id = ?", (s.id,)).fetchone()[0])
        data.update(system_prompt=fakes[0].text, metadata={"password": fakes[1].value})
        conn.execute("UPDATE sessions SET data = ? WHERE id = ?", (json.dumps(data), s.id))
        conn.execute("UPDATE sessions SET last_seq = 1 WHERE id = ?", (s.id,))
        conn.execute("INSERT INTO messages (session_id, seq, id, role, kind, created_at, tokens, body, extra) VALUES"
                     " (?, 1, 'msg_old000000001', 'user', 'chat', '2026-01-01T00:00:00+00:00', 3, ?, ?)",
                     (s.id, fakes[2].text.encode(), json.dumps({"metadata": {"command": fakes[3].text}})))
        run = CommandRun(id="run_old000000001", session_id=s.id, command=fakes[4].text, context=fakes[5].text)
        conn.execute("INSERT INTO runs (id, session_id, started_at, status, data, raw) VALUES (?, ?, ?, 'finished', ?, ?)",
                     (run.id, s.id, "2026-01-01T00:00:00+00:00", run.model_dump_json(), fakes[6].text.encode()))
        conn.execute("INSERT INTO templates (name, data) VALUES ('t', ?)",
                     (Template(name="t", system_prompt=fakes[7].text).model_dump_json(),))
    return db


def _disk(db: Path) -> bytes:
    return b"".join(Path(f"{db}{s}").read_bytes() for s in ("", "-wal", "-shm") if Path(f"{db}{s}").exists())


def test_opening_a_store_kept_under_older_rules_redacts_it_and_vacuums(home: Path) -> None:
    fakes = plant(["github-pat-classic", "env-password", "openai-key", "jwt", "aws-access-key", "env-token",
                   "pem", "slack-token"])
    db = _plaintext_store(home, fakes)
    conn = sqlite3.connect(db)
    with conn:  # back to the schema before the redaction level was kept
        conn.execute("DROP TABLE meta")
        conn.execute(f"PRAGMA user_version = {MIGRATIONS.index(META_TABLE)}")
    conn.close()
    assert len(found(_disk(db), fakes)) == 8

    m = SessionManager(Config.load())  # the upgrade step runs on open
    try:
        assert m.sessions.store.redaction_level() == REDACTION_RULES
        assert m.sessions.store._read("PRAGMA user_version")[0][0] == len(MIGRATIONS)
        view = m.show("old", history=True, limit=0)
        assert "[REDACTED" in view.messages[0].content
        assert found(_read_everything(m.sessions.store, view.session.id), fakes) == []
    finally:
        m.close()
    assert found(_disk(db), fakes) == []


def test_repair_redact_rewrites_what_was_stored_behind_the_stores_back(cli, home: Path) -> None:
    fakes = plant(["github-pat-classic", "env-password", "openai-key", "jwt", "aws-access-key", "env-token",
                   "pem", "slack-token"])
    db = _plaintext_store(home, fakes)
    assert found(_disk(db), fakes)
    report = cli.json("repair", "--redact")
    assert report["rows"] == 4  # the session, its message, its run and the template: nothing else was secret
    assert found(_disk(db), fakes) == []
    shown = cli("show", "old", "--history", "--limit", "0", "--format", "json").stdout
    assert found(shown, fakes) == [] and "[REDACTED" in shown
    assert cli.json("repair", "--redact")["rows"] == 0  # idempotent


def test_the_store_redacts_every_field_that_can_hold_text_and_only_those_are_scanned(store) -> None:
    # The codec scans only fields that can hold text; every str field of a message is one.
    from ai_session.core.store.codec import text_fields

    assert text_fields(Message) >= {"id", "session_id", "content", "agent", "run_id", "metadata", "copy_of"}
    assert not text_fields(Message) & {"seq", "role", "kind", "created_at", "tokens", "pinned", "covers", "usage"}
    fakes = plant()
    session = store.create_session(Session(name="fields"))
    store.append_messages(session.id, [Message(role="user", content="x", agent=fakes[0].text, run_id=fakes[1].text,
                                               copy_of=fakes[2].text, metadata={fakes[3].text: fakes[4].text})])
    assert found(_read_everything(store, session.id), fakes) == []
