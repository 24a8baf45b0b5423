"""ccswarm's `session` command lines, as its users type them."""

from __future__ import annotations

import csv
import io
import json

from ai_session.core.models import SessionStatus

from tests.cli.conftest import backdate, in_terminal, shell


def test_create_pool_count_fills_the_pool_with_the_options_given(cli):
    out = cli("create", "--role", "QA", "--pool", "--count", "3", "--agent", "qa-bot", "--max-tokens", "9000").stdout
    assert out.startswith("pool QA: created 3 idle session(s); 3 waiting (min 3, max 4)")
    pooled = cli.json("list", "--pool")
    assert len(pooled) == 3 and {(s["status"], s["agent"], s["maxTokens"], s["role"]) for s in pooled} == {
        ("pool", "qa-bot", 9000, "QA")}
    assert cli.json("stats", "--pool")[0] == {"role": "QA", "idle": 3, "taken": 0, "created": 3, "retired": 0,
                                              "reuse_rate": 0.0}  # fmt: skip
    more = cli("create", "--role", "QA", "--pool", "--count", "2").stdout
    assert "5 waiting (min 3, max 5)" in more and "max idle raised from 4 to 5" in more
    bad = cli("create", "--role", "QA", "--count", "2", check=False)
    assert bad.returncode == 2 and "--count N fills a pool" in bad.stderr


def test_create_from_pool_applies_the_options_given(cli):
    cli("pool", "set", "Backend", "--min-idle", "1")
    taken = cli.json("create", "--role", "Backend", "--pool", "--agent", "backend-api2", "--max-tokens", "9000")
    assert taken["metadata"]["acquired_from_pool"] == "Backend"
    assert (taken["agent"], taken["maxTokens"], taken["status"]) == ("backend-api2", 9000, "active")
    stats = cli.json("stats", "--pool")[0]
    assert (stats["taken"], stats["created"], stats["idle"], stats["reuse_rate"]) == (1, 2, 1, 0.5)
    table = cli("stats", "--pool").stdout
    assert "ROLE     IDLE  TAKEN  CREATED  RETIRED  REUSE" in table and "Backend  1     1      2        0        50%" in table


def test_pool_set_changes_only_what_it_is_given(cli):
    cli("pool", "set", "QA", "--min-idle", "2", "--idle-timeout", "30m", "--agent", "qa")
    cli("pool", "set", "QA", "--min-idle", "0", "--max-idle", "0")
    pool = cli.json("pool", "list")[0]
    assert (pool["minIdle"], pool["maxIdle"], pool["idleTimeout"], pool["agent"]) == (0, 0, 1800, "qa")
    assert pool["idle"] == 0  # max 0: the waiting sessions were retired
    assert cli.json("stats", "--pool")[0]["retired"] == 2


def test_list_all_pool_idle_and_the_jq_xargs_pipeline(cli, home):
    for name in ("a", "b", "c", "gone"):
        cli("create", name)
    cli("end", "gone")
    cli("pool", "set", "QA", "--min-idle", "1")
    backdate(home, "a", days=2)
    backdate(home, "b", days=3)
    assert {s["name"] for s in cli.json("list")} == {"a", "b", "c", "gone"}  # not the pooled one
    every = cli.json("list", "--all")
    assert len(every) == 5 and {s["status"] for s in every} == {"idle", "active", "ended", "pool"}
    assert [s["status"] for s in cli.json("list", "--pool")] == ["pool"]
    done = shell("ai-session list --idle --format json | jq -r '.[] | .id' | xargs -I {} ai-session pause {}", home)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("paused session") == 2
    assert sorted(s["name"] for s in cli.json("list", "--paused")) == ["a", "b"]


def test_resume_and_pause_a_role_all_at_once(cli):
    for name, role in (("f1", "Frontend"), ("f2", "Frontend"), ("b1", "Backend")):
        cli("create", name, "--role", role)
    paused = cli("pause", "--role", "Frontend", "--all").stdout
    assert "paused 2 session(s)" in paused
    assert {s["name"]: s["status"] for s in cli.json("list")} == {"f1": "paused", "f2": "paused", "b1": "active"}
    resumed = cli.json("resume", "--role", "Frontend", "--all")
    assert sorted(s["name"] for s in resumed) == ["f1", "f2"] and {s["status"] for s in resumed} == {"active"}
    both = cli("pause", "f1", "--all", check=False)
    assert both.returncode == 2 and "not both" in both.stderr
    assert cli("pause", "--role", "Frontend", check=False).returncode == 2


def _old_sessions(cli, home):
    for name in ("old-active", "old-idle", "old-paused", "old-ended", "fresh"):
        cli("create", name)
    backdate(home, "old-active", days=10)
    backdate(home, "old-idle", days=10, status=SessionStatus.IDLE)
    backdate(home, "old-paused", days=10, status=SessionStatus.PAUSED)
    backdate(home, "old-ended", days=10, status=SessionStatus.ENDED)


def test_clear_without_a_terminal_deletes_nothing_and_asks_for_force(cli, home):
    _old_sessions(cli, home)
    refused = cli("clear", "--older-than", "7d", check=False)
    assert refused.returncode == 1
    assert "run again with --force" in refused.stderr and "nothing done" in refused.stderr
    assert refused.stdout.count("would move old-") == 4  # active and paused ones too, as the seed's clear
    assert len(cli.json("list")) == 5
    dry = cli("clear", "--older-than", "7d", "--dry-run")
    assert dry.returncode == 0 and "would move 4 session(s) to the trash" in dry.stdout and len(cli.json("list")) == 5
    assert "would move old-idle" in cli("clear", "--idle-only", "--dry-run").stdout
    assert "old-paused" not in cli("clear", "--idle-only", "--dry-run").stdout
    forced = cli("clear", "--older-than", "7d", "--force").stdout
    assert "moved 4 session(s) to the trash" in forced
    assert [s["name"] for s in cli.json("list")] == ["fresh"]
    assert len(cli.json("trash", "list")) == 4  # nothing is gone for good


def test_clear_in_a_terminal_lists_asks_and_keeps_everything_on_no(cli, home):
    _old_sessions(cli, home)
    code, screen = in_terminal(home, "clear", "--older-than", "7d", answer="n")
    assert code == 1 and "would move old-active" in screen and "move 4 session(s) to the trash? [y/N]" in screen
    assert "nothing done" in screen and len(cli.json("list")) == 5
    code, screen = in_terminal(home, "cleanup", "--older-than", "7d", answer="y")  # the crate's name for it
    assert code == 0 and "moved 4 session(s) to the trash" in screen
    assert [s["name"] for s in cli.json("list")] == ["fresh"]


def test_clear_older_than_a_bare_number_means_days(cli, home):
    cli("create", "month-old")
    cli("create", "week-old")
    backdate(home, "month-old", days=31)
    backdate(home, "week-old", days=8)
    out = cli("clear", "--older-than", "30", "--force").stdout
    assert "moved month-old to the trash" in out and "week-old" not in out


def test_stats_period_by_agent_savings_and_csv_export(cli, home, tmp_path):
    cli("create", "s1", "--agent", "backend-api")
    cli("add", "s1", "hello world")
    cli("create", "s2", "--agent", "frontend")
    cli("add", "s2", "more words here")
    text = cli("stats", "--period", "30d", "--by-agent", "--show-savings").stdout
    assert text.splitlines()[0].split()[:3] == ["AGENT", "SESSIONS", "MSGS"] and "CMD SAVED" in text
    assert "saved = 1 - context/raw" in text
    report = cli.json("stats", "--period", "30d", "--by-agent")
    assert report["periodDays"] == 30 and {r["key"] for r in report["rows"]} == {"backend-api", "frontend"}
    out = tmp_path / "metrics.csv"
    cli("stats", "--export", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert rows[-1]["key"] == "total" and rows[-1]["messages"] == "2"
    assert rows[0]["savings"] == "" and rows[0]["history_savings"] == ""  # nothing raw: undefined, not 0.0


def test_stats_for_one_agent_with_efficiency(cli, home):
    from ai_session.core.config import Config
    from ai_session.core.manager import SessionManager

    cli("create", "api", "--agent", "backend-api")
    cli("create", "ui", "--agent", "frontend")
    for i in range(6):
        cli("add", "api", f"message {i} " + "word " * 20)
    cli("exec", "api", "seq 1 400")
    m = SessionManager(Config.load())
    try:
        assert m.compact("api", keep_last=2) is not None
    finally:
        m.close()
    report = cli.json("stats", "--agent", "backend-api", "--show-efficiency")
    assert [r["key"] for r in report["rows"]] == ["api"] and report["compactions"] == {"api": 1, "total": 1}
    row = report["rows"][0]
    text = cli("stats", "--agent", "backend-api", "--show-efficiency").stdout
    line = next(x for x in text.splitlines() if x.startswith("api "))
    assert f"{row['message_tokens'] / row['messages']:,.1f}" in line
    assert f"{row['context_tokens'] / row['commands']:,.1f}" in line
    assert "TOK/MSG" in text and "COMPACTIONS" in text and "cost per session" in text


def test_import_assigns_the_agent(cli, tmp_path):
    cli("create", "src")
    cli("add", "src", "hello")
    path = tmp_path / "src.json"
    cli("export", "src", "--output", str(path))
    imported = cli.json("import", "--file", str(path), "--agent", "frontend-specialist")
    assert imported["agent"] == "frontend-specialist" and imported["totals"]["messages"] == 1


def test_templates_from_a_preload_and_sessions_from_the_template(cli):
    made = cli("create", "--template", "react-expert", "--preload", "You are a React specialist.", "--role",
               "Frontend").stdout  # fmt: skip
    assert made.startswith("created template react-expert")
    assert cli.json("list") == []  # a template, no session
    template = cli.json("template", "show", "react-expert")
    assert (template["systemPrompt"], template["role"]) == ("You are a React specialist.", "Frontend")
    s = cli.json("create", "--from-template", "react-expert", "--agent", "ui-dev")
    assert (s["systemPrompt"], s["agent"], s["role"], s["template"]) == (
        "You are a React specialist.", "ui-dev", "Frontend", "react-expert")
    assert "already exists" in cli("create", "--template", "react-expert", "--preload", "x", check=False).stderr


def test_merge_takes_spaces_or_commas(cli):
    for name in ("a", "b", "c"):
        cli("create", name)
        cli("add", name, f"from {name}")
    spaced = cli.json("merge", "a", "b", "--output", "m1")
    commas = cli.json("merge", "a,b,c", "--output", "m2")
    assert [x["name"] for x in spaced["metadata"]["merged_from"]] == ["a", "b"]
    assert [x["name"] for x in commas["metadata"]["merged_from"]] == ["a", "b", "c"]
    assert len(cli.json("show", "m2", "--history")["messages"]) == 3


def test_validate_repair_optimize_one_session_or_the_store(cli, home):
    from ai_session.core.config import Config
    from ai_session.core.manager import SessionManager

    cli("create", "good")
    cli("create", "bad")
    cli("add", "bad", "hello there")
    m = SessionManager(Config.load())
    try:
        msg = m.messages("bad")[0]
        m.sessions.store.update_messages([msg.model_copy(update={"tokens": 999})])
    finally:
        m.close()
    assert cli("validate", "good").stdout == "no problems found\n"
    broken = cli("validate", "bad", check=False)
    assert broken.returncode == 1 and "1 message(s) with a wrong token count" in broken.stdout
    assert "(fixed)" in cli("repair", "bad").stdout
    assert cli("validate").stdout == "no problems found\n"
    for i in range(40):
        cli("add", "good", f"turn {i} " + "text " * 60)
    one = cli("optimize", "good").stdout
    assert "retention: none configured" in one and "summary #41 covers messages 1–" in one
    assert "re-compressed" in cli("optimize").stdout


def test_session_management_config_is_enforced(cli, home):
    (home.parent / "config.toml").write_text(
        "[session_management]\nmax_sessions_per_role = 2\n"
        "[session_management.pool_config]\nmin_idle = 2\nmax_idle = 3\nidle_timeout = \"45m\"\n"
        "[session_management.message_retention]\nmax_messages = 5\nmax_age = \"30d\"\ncompression = true\n"
        "[session_management.context_window]\nsize = 8192\nstrategy = \"sliding\"\npreserve_important = false\n"
    )
    assert cli.json("create", "w1", "--role", "Worker")["maxTokens"] == 8192  # context_window.size
    cli("create", "w2", "--role", "Worker")
    third = cli("create", "w3", "--role", "Worker", check=False)
    assert third.returncode == 5 and "max_sessions_per_role = 2" in third.stderr
    cli("pool", "set", "QA")
    pool = cli.json("pool", "list")[0]
    assert (pool["minIdle"], pool["maxIdle"], pool["idleTimeout"], pool["idle"]) == (2, 3, 2700, 2)
    assert cli.json("context", "w1")["strategy"] == "sliding"
    for i in range(8):
        cli("add", "w1", f"note {i}")
    cli("add", "w1", "keep me", "--pin")
    report = cli("optimize", "w1").stdout
    assert "retention: w1: removed 3 message(s) beyond the newest 5; summary #10 keeps their facts" in report
    left = cli.json("show", "w1", "--history", "--limit", "0")["messages"]
    assert [x["content"] for x in left if x["kind"] == "chat"] == [f"note {i}" for i in range(3, 8)] + ["keep me"]
    assert any(x["kind"] == "summary" for x in left)
    bad = home.parent / "config.toml"
    bad.write_text("[session_management.pool_config]\nmin_idle = 3\nmax_idle = 1\n")
    refused = cli("list", check=False)
    assert refused.returncode == 2 and "max_idle (1) is below min_idle (3)" in refused.stderr
    bad.write_text("[session_management.message_retention]\nmax_mesages = 5\n")
    assert "unknown key(s) max_mesages" in cli("list", check=False).stderr


def test_clear_applies_retention_to_the_sessions_it_keeps(cli, home):
    (home.parent / "config.toml").write_text("[session_management.message_retention]\nmax_messages = 2\n"
                                             "compression = false\n")  # fmt: skip
    cli("create", "kept")
    for i in range(4):
        cli("add", "kept", f"m{i}")
    dry = cli("clear", "--dry-run").stdout
    assert "retention: kept: would remove 2 message(s) beyond the newest 2" in dry
    assert len(cli.json("show", "kept", "--history")["messages"]) == 4
    done = cli("clear", "--force").stdout
    assert "retention: kept: removed 2 message(s)" in done
    assert [x["content"] for x in cli.json("show", "kept", "--history")["messages"]] == ["m2", "m3"]
    assert json.loads(cli("clear", "--force", "--format", "json").stdout)["retention"] == []
