"""One command, one figure: the CLI, the library, `context`, `stats` and every language-server
payload report the same raw, context and saving for it (core/accounting.py defines them), and
raw is counted on what an agent's pipe would carry, not on the PTY's coloured stream."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ai_session.core.accounting import output_raw_tokens, saving, saving_text
from ai_session.core.config import Config
from ai_session.core.manager import SessionManager
from ai_session.core.tokens import count_tokens

from tests.conftest import CLI
from tests.lsp.conftest import start_client, wait_note
from tests.lsp.test_exec_terminal import write_project
from tests.lsp.test_sessions import call


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A git worktree with a failing pytest suite (the server attaches its session)."""
    root = tmp_path / "proj"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    write_project(root)
    return root


async def test_one_run_reports_one_figure_in_every_view(home, project):
    workspace = project
    client = await start_client(home, workspace)
    try:
        current = await wait_note(client, "aiSession/currentSessionChanged")
        session = current.summary.session
        command = f"cd {workspace} && PYTHONPATH=. {sys.executable} -m pytest -p no:cacheprovider --color=yes"
        started = await call(client, "aiSession/exec", {"command": command})
        finished = await wait_note(client, "aiSession/runFinished", lambda n: n.run.id == started.runId, timeout=60)
        run = finished.run
        raw, context = run.rawTokens, run.contextTokens
        figure = saving(raw, context)
        assert raw > 0 and figure is not None and run.savings == figure

        # Every language-server payload.
        runs = await call(client, "aiSession/runs/list", {"session": session.id})
        listed = next(r for r in runs.runs if r.id == run.id)
        assert (listed.rawTokens, listed.contextTokens, listed.savings) == (raw, context, figure)
        sessions = await call(client, "aiSession/sessions/list")
        totals = next(s.totals for s in sessions.sessions if s.session.id == session.id)
        assert (totals.rawTokens, totals.contextTokens, totals.savings) == (raw, context, figure)
        status = await wait_note(client, "aiSession/statsChanged", lambda n: n.rawTokens > 0)
        assert (status.rawTokens, status.commandContextTokens, status.savings) == (raw, context, figure)
        ctx = await call(client, "aiSession/context/get", {"session": session.id})
        acct = ctx.accounting
        assert (acct.rawCommands, acct.contextCommands, acct.commandSavings) == (raw, context, rounded(figure))
        stats = await call(client, "aiSession/stats/get", {"groupBy": "session"})
        row = next(r for r in stats.rows if r.key == session.name)
        assert (row.rawTokens, row.contextTokens, row.savings) == (raw, context, rounded(figure))
    finally:
        await client.shutdown_session()
        await client.stop()

    # The library (the façade every adapter uses).
    m = SessionManager(Config.load())
    try:
        stored = m.get_run(run.id)
        assert (stored.raw_tokens, stored.context_tokens, stored.savings) == (raw, context, figure)
        t = m.totals([m.resolve(session.id)])[session.id]
        assert (t.raw_tokens, t.context_tokens, t.savings) == (raw, context, figure)
        acc = m.context(session.id).accounting
        assert (acc.raw_commands, acc.context_commands) == (raw, context)
        library_row = next(r for r in m.stats().rows if r.key == session.name)
        assert (library_row.raw_tokens, library_row.context_tokens, library_row.savings) == (raw, context, figure)
        output = m.sessions.store.run_output(run.id) or ""
    finally:
        m.close()

    # Honest raw: the PTY stream is coloured; raw counts what a pipe would carry.
    assert "\x1b[" in output
    assert raw == output_raw_tokens(output) < count_tokens(output)

    # The CLI, as JSON and as people read it.
    cli = CLI(home)
    shown = cli.json("show", session.id)["totals"]
    assert (shown["rawTokens"], shown["contextTokens"], shown["savings"]) == (raw, context, figure)
    cli_row = next(r for r in cli.json("stats")["rows"] if r["key"] == session.name)
    assert (cli_row["raw_tokens"], cli_row["context_tokens"], cli_row["savings"]) == (raw, context, rounded(figure))
    cli_acct = cli.json("context", session.id)["accounting"]
    assert (cli_acct["rawCommands"], cli_acct["contextCommands"], cli_acct["commandSavings"]) == (raw, context, rounded(figure))
    listing = cli("list").stdout
    assert saving_text(raw, context) in next(line for line in listing.splitlines() if session.name in line)
    history = cli("show", session.id, "--history").stdout
    assert saving_text(raw, context) in next(line for line in history.splitlines() if run.id in line)
