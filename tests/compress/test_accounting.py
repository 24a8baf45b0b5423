"""The one definition of raw, context and saving (core/accounting.py), and what follows from it:
raw counted on what an agent's pipe carries, tiny outputs costing nothing."""

from __future__ import annotations

import json
import sqlite3

import pytest
from ai_session.core.accounting import output_raw_tokens, raw_tokens, saving, saving_text
from ai_session.core.compress import clean_lines, compress
from ai_session.core.models import CommandRun, RunStatus, Session
from ai_session.core.store import SessionStore, open_store
from ai_session.core.store.pg_schema import MIGRATIONS as PG_MIGRATIONS
from ai_session.core.store.postgres import PostgresStore
from ai_session.core.store.sqlite import SQLiteStore
from ai_session.core.tokens import count_tokens


def test_saving_is_one_minus_context_over_raw_and_undefined_without_raw():
    assert saving(200, 50) == 0.75
    assert saving(100, 130) == pytest.approx(-0.3)  # more tokens than raw: a negative saving
    assert saving(0, 12) is None and saving(0, 0) is None
    assert (saving_text(200, 50), saving_text(100, 130), saving_text(0, 5)) == ("75%", "-30%", "-")
    run = CommandRun(command="x", raw_tokens=400, context_tokens=100)
    assert run.savings == 0.75 and CommandRun(command="x").savings is None
    assert CommandRun.model_validate_json(run.model_dump_json()).savings == 0.75  # derived, never read back


def test_raw_is_what_a_pipe_carries_not_the_coloured_pty_stream():
    plain = "".join(f"tests/test_m.py::test_{k} PASSED\n" for k in range(40)) + "1 failed, 40 passed in 0.5s\n"
    coloured = "".join(
        f"\x1b[1mtests/test_m.py::test_{k}\x1b[0m \x1b[32mPASSED\x1b[0m\r\n" for k in range(40)
    ) + "collecting ... 10%\rcollecting ... 100%\r\n\x1b[31m1 failed\x1b[0m, \x1b[32m40 passed\x1b[0m in 0.5s\r\n"
    honest = output_raw_tokens(coloured)
    assert honest < count_tokens(coloured)
    assert honest == raw_tokens(clean_lines(coloured)) == count_tokens("\n".join(clean_lines(coloured)) + "\n")
    assert honest <= count_tokens(plain) + count_tokens("collecting ... 100%\n")


def test_raw_is_capped_at_the_agents_truncation_limit():
    big = "".join(f"line {k}: some log text that goes on for a while\n" for k in range(5000))
    assert output_raw_tokens(big) == count_tokens(big[:30_000])
    assert output_raw_tokens(big, 10_000) == count_tokens(big[:10_000])


@pytest.mark.parametrize("output", ["", "ok\n", "/tmp\n", "hello\nworld\n"])
def test_tiny_outputs_cost_nothing(manager, output):
    run = CommandRun(session_id="s", command="cd /tmp && export FOO=bar", exit_code=0, status=RunStatus.FINISHED)
    done = manager.describe_output(run, output)
    assert done.context == (output or "") + "[ai-session] exit 0\n"  # nothing left out: nothing to retrieve
    assert "full output" not in done.context
    assert done.context_tokens <= done.raw_tokens + 8
    assert done.raw_tokens == count_tokens(output)


def test_a_context_that_left_something_out_says_how_to_get_it():
    raw = "".join(f"step {k} done\n" for k in range(400)) + "error: step 400 failed\n"
    text = compress(raw, "./build.sh", 1, run_id="run_1").text
    assert text.endswith("[ai-session] exit 1\n[ai-session] full output: ai-session output run_1 [--raw|--lines A:B|--grep PATTERN]\n")
    assert "error: step 400 failed" in text


COLOURED = "".join(f"\x1b[1mtests/test_m.py::test_{k}\x1b[0m \x1b[32mPASSED\x1b[0m\r\n" for k in range(300)) + (
    "\x1b[31m1 failed\x1b[0m, \x1b[32m300 passed\x1b[0m in 0.5s\r\n"
)


# What the versions after the re-count added (kept totals), undone to go back before it.
LATER = ("DROP TABLE message_totals", "DROP TABLE run_totals", "DROP INDEX messages_copies", "DROP INDEX runs_copies")


def _as_an_older_version_wrote_it(store_url: str, request: pytest.FixtureRequest, rows: dict[str, dict]) -> SessionStore:
    """Rewrite run rows as the version before the re-count stored them, set the store back
    to that schema version (the re-count is SQLite's v4 and the team store's v3; what later
    versions added goes too), and upgrade it."""
    if store_url.startswith("sqlite:///"):
        path = store_url.removeprefix("sqlite:///")
        db = sqlite3.connect(path)
        for run_id, data in rows.items():
            db.execute("UPDATE runs SET data = ? WHERE id = ?", (json.dumps(data), run_id))
        for statement in LATER:
            db.execute(statement)
        db.execute("PRAGMA user_version = 3")
        db.commit()
        db.close()
        return SQLiteStore(path)
    pg_db = request.getfixturevalue("pg_db")
    with pg_db.admin() as admin:
        for run_id, data in rows.items():
            admin.execute("UPDATE ai_session.runs SET data = %s, raw_tokens = %s WHERE id = %s",
                          (json.dumps(data), data["raw_tokens"], run_id))  # fmt: skip
        admin.execute("SET search_path = ai_session")
        for statement in LATER:
            admin.execute(statement)
        admin.execute("UPDATE ai_session.schema_version SET version = 2")
    assert PostgresStore.migrate(pg_db.cluster.url(dbname=pg_db.name)) == (2, len(PG_MIGRATIONS))
    return open_store(store_url)


def test_stored_runs_are_recounted_on_upgrade(store, store_url, request):
    s = store.create_session(Session(name="old"))
    with_output = CommandRun(session_id=s.id, command="pytest", status=RunStatus.FINISHED, context="ctx", context_tokens=2)
    without = CommandRun(session_id=s.id, command="make", status=RunStatus.FINISHED, context="ctx", context_tokens=2)
    store.save_run(with_output, COLOURED)
    store.save_run(without)
    old = {  # before: raw counted on the coloured stream; the capped figure in metadata
        with_output.id: {**with_output.model_dump(mode="json", exclude={"savings"}), "raw_tokens": count_tokens(COLOURED),
                         "metadata": {"raw_tokens_capped": count_tokens(COLOURED)}},
        without.id: {**without.model_dump(mode="json", exclude={"savings"}), "raw_tokens": 900,
                     "metadata": {"raw_tokens_capped": 300}},
    }  # fmt: skip
    upgraded = _as_an_older_version_wrote_it(store_url, request, old)
    try:
        recounted = upgraded.get_run(with_output.id)
        assert recounted is not None and recounted.raw_tokens == output_raw_tokens(COLOURED) < count_tokens(COLOURED)
        kept = upgraded.get_run(without.id)  # no output to count: the capped figure it recorded
        assert kept is not None and kept.raw_tokens == 300 and "raw_tokens_capped" not in kept.metadata
        totals = upgraded.totals([s.id])[s.id]
        assert (totals.raw_tokens, totals.context_tokens) == (recounted.raw_tokens + 300, 4)
    finally:
        upgraded.close()
