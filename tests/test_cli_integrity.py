"""The mishaps of the integrity issue, tried as a user would with the CLI on a real store file:
what each command prints and exits with, and that the data is intact afterwards."""

from __future__ import annotations

import json
import sqlite3

from tests.context.conftest import openai_server, write_config  # noqa: F401  (the local OpenAI-compatible server)
from tests.providers.fakes import openai_error

BIG = "FAILED tests/test_api.py::test_login - AssertionError: expected 200\n" * 60


def _damaged_store(cli, home) -> str:
    cli("create", "dev")
    cli("add", "dev", "the login test fails")
    cli("add", "dev", "--role", "assistant", BIG)
    cli("add", "dev", "--role", "assistant", BIG.replace("200", "201"))
    cli("add", "dev", "thanks")
    db = sqlite3.connect(home / "sessions.db")
    sid = db.execute("SELECT id FROM sessions WHERE name = 'dev'").fetchone()[0]
    db.execute("UPDATE messages SET body = x'deadbeefdeadbeef', zstd = 1 WHERE session_id = ? AND seq = 2", (sid,))
    db.execute("UPDATE messages SET body = x'28b52ffd0000', zstd = 1 WHERE session_id = ? AND seq = 3", (sid,))
    db.commit()
    db.close()
    return sid


def test_a_corrupt_body_no_longer_takes_the_session_down(cli, home, tmp_path):
    sid = _damaged_store(cli, home)
    shown = cli("show", "dev", "--history")
    assert "the login test fails" in shown.stdout and "thanks" in shown.stdout
    assert "[damaged body: corrupt compressed body" in shown.stdout
    assert "[damaged body: truncated compressed body" in shown.stdout  # never an empty message
    assert "2 damaged row(s)" in shown.stderr
    context = cli.json("context", "dev")
    assert context["unreadable"] == [2, 3]
    refused = cli("export", "dev", check=False)
    assert refused.returncode == 6 and "message #2" in refused.stderr and "--skip-corrupted" in refused.stderr
    partial = cli("export", "dev", "--skip-corrupted", "--output", str(tmp_path / "dev.json"))
    assert "skipped message #2" in partial.stderr and "skipped message #3" in partial.stderr
    assert [m["seq"] for m in json.loads((tmp_path / "dev.json").read_text())["messages"]] == [1, 4]

    validate = cli("validate", check=False)
    assert validate.returncode == 1
    lines = validate.stdout.splitlines()
    assert [line.split(": ")[1] for line in lines] == ["message #2", "message #3"]
    assert all(line.startswith(f"dev ({sid})") for line in lines)
    assert cli.json("validate", check=False) == cli.json("validate", "dev", check=False)

    repaired = cli("repair")
    assert repaired.stdout.count("(moved to quarantine)") == 2
    assert cli("validate").stdout.strip() == "no problems found"
    rows = cli.json("quarantine", "list")
    assert [(r["seq"], r["bytes"]) for r in rows] == [(2, 8), (3, 6)]
    history = cli.json("show", "dev", "--history")["messages"]
    assert [m["seq"] for m in history] == [1, 2, 3, 4] and "could not be read back" in history[2]["content"]
    cli("export", "dev")  # whole again: the placeholders are ordinary rows
    dump = json.loads(cli("quarantine", "export").stdout)
    assert [r["body"] for r in dump["rows"]] == ["3q2+796tvu8=", "KLUv/QAA"]  # the original bytes, base64
    refused = cli("quarantine", "restore", str(rows[0]["id"]), check=False)
    assert refused.returncode == 6 and "still does not read back" in refused.stderr


def test_a_name_that_is_another_sessions_id_is_refused(cli):
    target = cli.json("create", "target")["id"]
    taken = cli("create", "--name", target, check=False)
    assert taken.returncode == 2 and "looks like a session id" in taken.stderr
    assert cli("exists", target).returncode == 0


def test_delete_and_clear_go_to_the_trash_and_come_back(cli):
    cli("create", "dev")
    cli("add", "dev", "keep me")
    out = cli("delete", "dev", "--force").stdout
    assert "moved session dev" in out and "kept 30 days" in out
    assert cli("exists", "dev", check=False).returncode == 1
    missing = cli("show", "dev", check=False)
    assert missing.returncode == 3 and "trash restore dev" in missing.stderr
    listing = cli("trash", "list").stdout
    assert "dev" in listing and "30d" in listing
    assert "restored session dev" in cli("trash", "restore", "dev").stdout
    assert cli.json("show", "dev", "--history")["messages"][0]["content"] == "keep me"
    cli("end", "dev")
    assert "moved 1 session(s) to the trash" in cli("clear", "--force").stdout  # no terminal to ask on
    no_terminal = cli("trash", "empty", check=False)
    assert no_terminal.returncode == 2 and "--force" in no_terminal.stderr
    assert [s["name"] for s in cli.json("trash", "list")] == ["dev"]  # nothing removed without asking
    assert "removed 1 session(s) for good: dev" in cli("trash", "empty", "--force").stdout
    assert cli.json("trash") == []


def test_clearing_right_after_restoring_a_backup_keeps_it(cli, home, tmp_path):
    cli("create", "dev")
    cli("add", "dev", "years of history")
    db = sqlite3.connect(home / "sessions.db")
    db.execute("UPDATE sessions SET last_active = '2025-01-01T00:00:00+00:00', status = 'ended'")
    db.commit()
    db.close()
    cli("export", "dev", "--output", str(tmp_path / "dev.json"))
    cli("delete", "dev", "--force")
    cli("trash", "empty", "--force")
    cli("import", "--file", str(tmp_path / "dev.json"))
    assert cli("clear", "--older-than", "7d").stdout == "nothing to clear\n"
    assert cli.json("show", "dev")["metadata"]["imported_last_active"].startswith("2025-01-01")


def test_failed_ask_get_id_leaves_no_orphan_session(cli, home, openai_server, monkeypatch):  # noqa: F811
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    write_config(home.parent / "config.toml", openai_server)
    for attempt in range(4):
        openai_server.queue(openai_error(500, f"upstream down {attempt}", "server_error"))
        failed = cli("ask", "--get-id", "--provider", "openai", "Start", check=False)
        assert failed.returncode == 7 and "upstream down" in failed.stderr
    assert cli.json("list") == [] and cli.json("trash") == []


def test_stats_count_a_merged_and_imported_run_once(cli, home, tmp_path):
    for name in ("a", "b"):
        cli("create", name)
        cli("exec", name, f"echo built {name}")
    one = cli.json("stats")["total"]
    cli("merge", "a", "b", "--output", "ab")
    cli("export", "a", "--output", str(tmp_path / "a.json"))
    cli("import", "--file", str(tmp_path / "a.json"))
    report = cli.json("stats")
    assert report["total"]["commands"] == one["commands"] == 2
    assert report["total"]["messages"] == one["messages"] == 2  # each exec is a run and its message
    assert report["copies"] == 4 + 2  # the merge copied both runs and messages, the import a's
    assert sum(r["commands"] for r in report["rows"]) == 5
    assert "counted in their own sessions' rows only" in cli("stats").stdout


def test_backup_and_restore_from_the_command_line(cli, home, tmp_path):
    cli("create", "dev")
    cli("add", "dev", "before the backup")
    out = cli("backup", "--output", str(tmp_path / "b.db")).stdout
    assert "backed up" in out and (tmp_path / "b.db").exists()
    cli("create", "later")
    asked = cli("restore", str(tmp_path / "b.db"), check=False)
    assert asked.returncode == 2 and "--force" in asked.stderr
    restored = cli.json("restore", str(tmp_path / "b.db"), "--force")
    assert [s["name"] for s in cli.json("list")] == ["dev"]
    cli("restore", restored["previous"], "--force")  # and back: the replaced store was kept
    assert sorted(s["name"] for s in cli.json("list")) == ["dev", "later"]
