"""The CLI as a user runs it: context, compact, summary, ask, interactive, stats --show-savings."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ai_session.core.config import Config
from ai_session.core.manager import SessionManager
from ai_session.core.models import MessageKind, Role
from ai_session.core.providers import PriceTable
from ai_session.core.tokens import count_tokens
from tests.context.conftest import make_pytest_output, record_run, write_config


@pytest.fixture
def configured(home, openai_server, monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    write_config(home.parent / "config.toml", openai_server)
    return openai_server


def _dev_session(home):
    m = SessionManager(Config.load())
    s = m.create("dev", system_prompt="You are terse.", provider="openai", model="gpt-4o-mini")
    m.add_message(s, "user", "Keep src/api/v1.py compatible.", pinned=True)
    for i in range(60):
        m.add_message(s, "user", f"Step {i}: refactor module_{i}")
        m.add_message(s, "assistant", f"Done step {i}. " + "details " * 25)
    raw, context = make_pytest_output(900, [("tests/test_api.py::test_v1_shape", "KeyError: 'id'")])
    record_run(m, s, "pytest -v", raw, context, 1)
    return m, s


def test_context_text_and_json_show_the_same_parts_and_counts_as_the_library(cli, home):
    m, _ = _dev_session(home)
    try:
        api = m.context("dev")
        data = cli.json("context", "dev")
        assert data == json.loads(json.dumps(api.as_dict()))
        text = cli("context", "dev", "--lines", "50").stdout
        for part in api.parts:
            row = next(line for line in text.splitlines() if line.startswith(f"{part.name} "))
            assert row.split()[1:3] == [str(part.tokens), str(part.raw_tokens)]
        assert f"{api.tokens} of {api.budget} tokens" in text
        body = text.split("--- ", 1)[1]
        assert len(body.splitlines()) == 51 and "more line(s)" in body.splitlines()[-1]
        small = cli.json("context", "dev", "--max-tokens", "500", "--strategy", "sliding")
        assert small == json.loads(json.dumps(m.context("dev", max_tokens=500, strategy="sliding").as_dict()))
        assert small["tokens"] <= 500 and small["parts"][2]["items"] == []
    finally:
        m.close()


def test_compact_and_summary_commands_show_what_a_summary_covers(cli, home):
    m, _ = _dev_session(home)
    m.close()
    out = cli("compact", "dev").stdout
    assert out.startswith("summary #") and "Originals are kept" in out
    listing = cli.json("summary", "dev")
    assert len(listing) == 1 and listing[0]["kind"] == "summary"
    seq, covers = listing[0]["seq"], listing[0]["covers"]
    shown = cli("summary", "dev", str(seq)).stdout
    assert "[ai-session] Summary of messages" in shown and f"covers {covers[1] - covers[0] + 1} stored message(s)" in shown
    assert "Step 0: refactor module_0" in shown  # the originals, still there
    history = cli("show", "dev", "--history", "--limit", "0").stdout
    assert f"[covers {covers[0]}–{covers[1]}]" in history and "Step 0: refactor module_0" in history
    assert "nothing to compact" in cli("compact", "dev").stdout
    assert cli("summary", "dev", "2", check=False).returncode == 2


def test_ask_from_argument_stdin_get_id_and_json(cli, configured):
    created = cli("ask", "--get-id", "--provider", "openai").stdout.strip()
    assert created.startswith("sess_") and "\n" not in created
    answer = cli("ask", "--session", created, "Why", "is", "the", "build", "red?").stdout
    assert answer.startswith("Answer 1:") and "Why is the build red?" in answer
    piped = cli("ask", "--session", created, input="Explain the failing test\n").stdout
    assert piped.startswith("Answer 2:") and "Explain the failing test" in piped
    assert configured.requests[1].body["messages"][-1]["content"] == "Explain the failing test\n"
    quiet = cli("ask", "--get-id", "--provider", "openai", "Start the analysis").stdout.strip()
    assert quiet.startswith("sess_") and quiet != created  # only the id, the answer is stored
    data = cli.json("ask", "--session", quiet, "And now?")
    assert data["sessionId"] == quiet and data["answer"].startswith("Answer 4:") and data["usage"]["reported"]
    shown = cli.json("show", created, "--history")
    assert [msg["role"] for msg in shown["messages"]] == ["user", "assistant", "user", "assistant"]
    missing = cli("ask", "--session", created, check=False, input="")
    assert missing.returncode == 2 and "no prompt" in missing.stderr


def test_shared_ask_tags_agents(cli, configured):
    cli("create", "team", "--provider", "openai")
    cli("ask", "--session", "team", "--shared", "--agent", "frontend", "CSS is broken")
    cli("ask", "--session", "team", "--shared", "--agent", "backend", "API returns 500")
    agents = [msg["agent"] for msg in cli.json("show", "team", "--history")["messages"]]
    assert agents == ["frontend", "frontend", "backend", "backend"]
    assert cli("ask", "--session", "team", "--shared", "x", check=False).returncode == 2


def test_interactive_repl_commands_and_private_history(cli, home, configured):
    cli("create", "repl", "--provider", "openai")
    script = "\n".join(["info", "hello there", "context", "save repl2", "export",
                        "clear --keep-last 1", "clear --bogus", "exec echo from-repl-exec", "exit"]) + "\n"  # fmt: skip
    out = cli("interactive", "--session", "repl", "--agent", "me", input=script).stdout
    assert "session repl (" in out and "repl [" in out and "tokens]>" in out
    assert "Answer 1:" in out and "context tokens sent" in out
    assert "PART" in out and "recent" in out  # the context view
    assert "saved checkpoint repl2 (" in out and "you go on in repl" in out and "exported to" in out
    assert "from-repl-exec\n[ai-session] exit 0 (finished), run run_" in out
    assert "cleared 1 message(s)" in out and "usage: clear [--keep-last N]" in out
    checkpoint = cli.json("show", "repl2", "--history")["messages"]  # the conversation as it was at `save`
    assert [(x["role"], x["content"][:9]) for x in checkpoint] == [("user", "hello the"), ("assistant", "Answer 1:")]
    msgs = cli.json("show", "repl", "--history")["messages"]
    assert len(msgs) == 2 and msgs[0]["role"] == "assistant" and msgs[0]["agent"] == "me"
    assert msgs[1]["kind"] == "command" and msgs[1]["content"].startswith("$ echo from-repl-exec\nfrom-repl-exec\n")
    history = home / "repl_history"
    assert history.is_file() and stat.S_IMODE(os.stat(history).st_mode) == 0o600


def test_stats_show_savings_is_reproducible_from_stored_messages_and_runs(cli, home, configured):
    m, s = _dev_session(home)
    try:
        raw, context = make_pytest_output(30, [("tests/test_small.py::test_one", "assert 0")])
        record_run(m, s, "pytest tests/test_small.py", raw, context, 1)
    finally:
        m.close()
    for i in range(3):
        cli("ask", "--session", "dev", f"question {i}")
    report = cli.json("stats", "--show-savings")
    row = next(r for r in report["rows"] if r["key"] == "dev")

    m = SessionManager(Config.load())
    try:
        runs = m.sessions.store.list_runs(s.id)
        raw_cmd = sum(r.raw_tokens for r in runs)
        whole = sum(count_tokens(m.sessions.store.run_output(r.id) or "") for r in runs)
        ctx_cmd = sum(r.context_tokens for r in runs)
        answers = [x for x in m.messages(s) if x.role is Role.ASSISTANT and x.kind is MessageKind.CHAT and "context" in x.metadata]
        assert len(answers) == 3
        raw_hist = sum(x.metadata["context"]["rawHistory"] for x in answers)
        ctx_hist = sum(x.metadata["context"]["contextHistory"] for x in answers)
        price = PriceTable().lookup("gpt-4o-mini")
    finally:
        m.close()
    assert (row["raw_tokens"], row["context_tokens"]) == (raw_cmd, ctx_cmd)
    assert raw_cmd < whole  # the big output is capped at the agent's limit, not counted in full
    assert (row["history_raw_tokens"], row["history_context_tokens"]) == (raw_hist, ctx_hist)
    assert row["savings"] == round(1 - ctx_cmd / raw_cmd, 4)
    assert row["history_savings"] == round(1 - ctx_hist / raw_hist, 4)
    expected = (raw_cmd - ctx_cmd + raw_hist - ctx_hist) * price.input / 1_000_000
    assert row["cost_avoided_usd"] == pytest.approx(expected, abs=1e-6)
    table = cli("stats", "--show-savings").stdout
    assert "HIST SAVED" in table and "CMD SAVED" in table and "never in stored bytes" in table
    assert "truncation limit" in table
