"""The CLI as a user runs it: a subprocess against a real store."""



def test_issue_walkthrough_create_list_show_pause_resume_export_delete_import(cli, tmp_path):
    created = cli.json("create", "--name", "dev", "--agent", "frontend", "--role", "Frontend")
    assert created["name"] == "dev" and created["status"] == "active"
    cli("add", "dev", "Header overlaps the nav on mobile", "--pin")
    cli("add", "dev", "--role", "assistant", input="Fixed in src/Header.tsx:42\n")
    listing = cli("list").stdout
    assert "dev" in listing and "frontend" in listing and "Frontend" in listing
    shown = cli("show", "dev", "--history").stdout
    assert "Header overlaps the nav" in shown and "src/Header.tsx:42" in shown
    assert cli.json("pause", "dev")["status"] == "paused"
    assert cli.json("list", "--paused")[0]["name"] == "dev"
    assert cli.json("resume", "dev")["status"] == "active"
    original = cli.json("show", "dev", "--history", "--limit", "0")
    export = tmp_path / "dev.json"
    cli("export", "dev", "--output", str(export))
    cli("delete", "dev", "--force")
    assert cli("exists", "dev", check=False).returncode == 1
    cli("trash", "empty", "--force")  # gone for good: its ids are free for the import to keep
    cli("import", "--file", str(export))
    again = cli.json("show", "dev", "--history", "--limit", "0")
    imported = again.pop("metadata")
    assert imported.pop("imported_last_active") == original.pop("lastActive").replace("Z", "+00:00")
    assert imported.pop("imported_format") == "native" and imported.pop("imported_at") and imported == original.pop("metadata")
    again.pop("lastActive")  # importing is activity
    assert again == original  # session, messages, token counts, totals: all of it


def test_errors_are_one_line_on_stderr_with_meaningful_exit_codes(cli):
    missing = cli("show", "nosuch", check=False)
    assert missing.returncode == 3
    assert missing.stderr.count("\n") == 1 and "no session named" in missing.stderr
    cli("create", "a")
    taken = cli("create", "a", check=False)
    assert taken.returncode == 5 and "already exists" in taken.stderr
    bad = cli("clear", "--older-than", "soon", check=False)
    assert bad.returncode == 2 and "bad duration" in bad.stderr
    assert "Traceback" not in missing.stderr + taken.stderr + bad.stderr


def test_stats_export_csv_and_json(cli, tmp_path):
    cli("create", "s1", "--agent", "a")
    cli("add", "s1", "hello world")
    report = cli.json("stats", "--by-agent")
    assert report["rows"][0]["key"] == "a" and report["total"]["messages"] == 1
    out = tmp_path / "metrics.csv"
    cli("stats", "--export", str(out), "--show-savings")
    assert out.read_text().splitlines()[0].startswith("key,sessions,messages")
    assert "saved = 1 - context/raw" in cli("stats", "--show-savings").stdout


def test_clear_templates_pool_validate_optimize_and_worktree(cli, tmp_path):
    cli("create", "base", "--agent", "rev", "--system-prompt", "Be terse.")
    cli("template", "save", "base", "terse")
    assert cli.json("create", "--name", "t1", "--template", "terse")["systemPrompt"] == "Be terse."
    assert [t["name"] for t in cli.json("template", "list")] == ["terse"]
    cli("pool", "set", "QA", "--min-idle", "2", "--idle-timeout", "30m")
    assert cli.json("pool", "list")[0]["idle"] == 2
    got = cli.json("pool", "acquire", "QA", "--name", "qa-task")
    assert got["name"] == "qa-task" and got["status"] == "active"
    assert cli("validate").stdout.strip() == "no problems found"
    assert "re-compressed" in cli("optimize").stdout
    assert cli("clear", "--older-than", "7d").stdout == "nothing to clear\n"
    repo = tmp_path / "repo"
    repo.mkdir()
    import subprocess

    subprocess.run(["git", "init", "-q", "-b", "trunk", str(repo)], check=True)
    first = cli.json("worktree", cwd=repo)
    second = cli.json("worktree", cwd=repo)
    assert first["created"] and not second["created"] and first["id"] == second["id"]
    assert first["branch"] == "trunk"


def test_help_teaches(cli):
    text = cli("--help").stdout
    for word in ("create", "worktree", "import", "AI_SESSION_HOME", "exit codes"):
        assert word in text
    assert "--older-than" in cli("clear", "--help").stdout


def test_output_retrieves_context_raw_lines_and_grep(cli, home):
    from ai_session.core.config import Config
    from ai_session.core.manager import SessionManager
    from ai_session.core.models import CommandRun, RunStatus

    raw = "".join(f"line {i}\n" for i in range(1, 101)) + "tests/test_x.py:7: AssertionError\n"
    m = SessionManager(Config.load())
    s = m.create("o")
    run = CommandRun(session_id=s.id, command="pytest", status=RunStatus.FINISHED, exit_code=1,
                     context="tests/test_x.py:7: AssertionError\n[ai-session] exit 1")
    m.sessions.store.save_run(run, raw)
    m.close()
    assert cli("output", run.id).stdout == run.context + "\n"
    assert cli("output", run.id[:8], "--raw").stdout == raw
    assert cli("output", run.id, "--lines", "2:3").stdout == "2:line 2\n3:line 3\n"
    assert cli("output", run.id, "--grep", "Assertion").stdout == "101:tests/test_x.py:7: AssertionError\n"
    bad = cli("output", run.id, "--grep", "(", check=False)
    assert bad.returncode == 2 and "bad pattern" in bad.stderr
    assert cli("output", "run_nosuch", check=False).returncode == 3


def test_add_takes_its_text_before_or_after_the_flags(cli):
    cli("create", "t")
    cli("add", "t", "before", "--role", "assistant")
    cli("add", "t", "--role", "assistant", "after the flags")
    assert [m["content"] for m in cli.json("show", "t", "--history")["messages"]] == ["before", "after the flags"]
    assert cli("list", "--bogus", check=False).returncode == 2
