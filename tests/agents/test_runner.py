"""What a rewritten command runs (`python -m ai_session.hooks run`): the command in the session
host's live shell (the one the CLI and editors share), raw counted as Claude Code's Bash tool
would have passed it on, and the command never lost, nor run twice, whatever goes wrong."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ai_session.core.accounting import pipe_text
from ai_session.core.config import Config
from ai_session.core.manager import SessionManager
from ai_session.core.tokens import count_tokens
from ai_session.host.client import Connection, connect

from tests.conftest import CLI, cli_env
from tests.host.test_host import _read_terminal, _wait_dead

# 300 distinct lines, about 11,000 characters: under Claude Code's 30,000, over a 2,000 cap.
PRINT = "python3 -c 'for n in range(300): print(f\"line {n:03d} of the build log, step {n * 7}\")'"
LINES = [f"line {n:03d} of the build log, step {n * 7}" for n in range(300)]


def hook_argv(repo: Path, command: str, *options: str) -> list[str]:
    return [sys.executable, "-m", "ai_session.hooks", "run", "--agent", "claude-code", "--cwd", str(repo), *options,
            "--", command]  # fmt: skip


def hook_run(repo: Path, home: Path, command: str, *options: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(hook_argv(repo, command, *options), cwd=repo, env=cli_env(home, **env), capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip


def session_name(repo: Path) -> str:
    m = SessionManager(Config.load())
    try:
        session, created = m.worktree_session(repo)
        assert not created  # the host made it for the agent's first command
        return session.name
    finally:
        m.close()


def test_the_agent_and_a_person_share_one_live_shell(repo: Path, home: Path, cli: CLI):
    first = hook_run(repo, home, "echo shell $$")
    assert first.returncode == 0 and "no session host" not in first.stderr, first.stderr
    name = session_name(repo)
    # What a person types in the attached terminal (a shell variable, not exported, not saved
    # anywhere) is there for the agent's next command: the same live shell, not a restored copy.
    with connect() as person:
        terminal = person.request("aiSession/terminal/attach", {"session": name, "rows": 24, "cols": 80})["terminalId"]
        person.notify("aiSession/terminal/input", {"terminalId": terminal, "data": "TYPED=by-hand; echo typed-done\n"})
        _read_terminal(person, terminal, "typed-done")
        person.request("aiSession/terminal/detach", {"terminalId": terminal})
    seen = hook_run(repo, home, "echo shell $$ $TYPED")
    assert seen.returncode == 0, seen.stderr
    assert seen.stdout.startswith(first.stdout.split("\n")[0] + " by-hand\n")
    # And the other way round: what the agent set, the CLI (and every editor) sees.
    assert hook_run(repo, home, "export FROM_AGENT=2; AGENT_LOCAL=3").returncode == 0
    shown = cli("exec", name, "echo $FROM_AGENT $AGENT_LOCAL $$")
    assert shown.stdout == f"2 3 {first.stdout.split()[1]}\n"


def _started(watcher: Connection, marker: str) -> str:
    """The id of the run whose output shows `marker` (the watcher hears every run)."""
    deadline = time.monotonic() + 30
    while True:
        msg = watcher.receive(timeout=max(0.1, deadline - time.monotonic()))
        params = msg.get("params") or {}
        if msg.get("method") == "aiSession/runOutput" and marker in params.get("data", ""):
            return params["runId"]


def test_the_agent_giving_up_stops_the_command_in_the_host(repo: Path, home: Path):
    shell = hook_run(repo, home, "echo $$").stdout.split()[0]
    with connect(watch=True) as watcher:
        agent = subprocess.Popen(hook_argv(repo, "echo started; sleep 1000"), cwd=repo, env=cli_env(home),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        run_id = _started(watcher, "started")
        agent.send_signal(signal.SIGTERM)
        out, err = agent.communicate(timeout=30)
    assert agent.returncode == 130, err
    assert "cancelled" in out and run_id in out
    m = SessionManager(Config.load())
    assert m.get_run(run_id).status.value == "cancelled"
    m.close()
    assert hook_run(repo, home, "echo $$").stdout.split()[0] == shell  # the shell itself lives on


def test_a_host_killed_mid_command_is_said_and_the_next_command_starts_a_new_one(repo: Path, home: Path):
    assert hook_run(repo, home, "export KEPT=yes").returncode == 0
    with connect(watch=True) as watcher:
        old = int(watcher.host["pid"])
        agent = subprocess.Popen(hook_argv(repo, "echo started; sleep 1000"), cwd=repo, env=cli_env(home),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        run_id = _started(watcher, "started")
        os.kill(old, signal.SIGKILL)
        _wait_dead(old)
    out, err = agent.communicate(timeout=30)
    assert agent.returncode == 1 and out == ""
    assert f"while the command ran (run {run_id}); it is recorded as interrupted" in err
    after = hook_run(repo, home, "echo $KEPT")  # a new host, the env back, the command run once
    assert after.returncode == 0 and after.stdout.startswith("yes\n"), after.stderr
    with connect() as conn:
        assert int(conn.host["pid"]) != old
    m = SessionManager(Config.load())
    assert m.get_run(run_id).status.value == "lost"
    m.close()


def test_the_runner_needs_neither_pydantic_nor_the_store(repo: Path, home: Path):
    """The agent's every command pays this process's start: it stays the standard library and
    the host's socket client; the host resolves the worktree's session."""
    hook_run(repo, home, "true")  # a host is up
    probe = ("import sys; from ai_session.hooks.runner import main; code = main(['--cwd', sys.argv[1], 'echo probe']); "
             "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'sqlite3', 'zstandard', 'tiktoken') "
             "or m.startswith(('ai_session.core.store', 'ai_session.core.manager'))); print(__import__('json').dumps([code, heavy]))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", probe, str(repo)], cwd=repo, env=cli_env(home), capture_output=True,
                          text=True, timeout=60, check=True)  # fmt: skip
    assert done.stdout.startswith("probe\n"), done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [0, []]


def test_raw_is_what_the_bash_tool_would_have_passed_on(repo: Path, home: Path):
    whole = hook_run(repo, home, PRINT)
    capped = hook_run(repo, home, PRINT, BASH_MAX_OUTPUT_LENGTH="2000")
    assert whole.returncode == capped.returncode == 0, whole.stderr + capped.stderr
    m = SessionManager(Config.load())
    session, _ = m.worktree_session(repo)
    first, second = m.runs(session)
    assert first.raw_tokens == count_tokens("\n".join(LINES) + "\n")  # under 30,000 characters: all of it
    assert second.raw_tokens == count_tokens(pipe_text(LINES, 2000)) < first.raw_tokens / 4
    assert m.raw_output(second.id).count("of the build log") == 300  # the store keeps every line
    m.close()


def test_when_ai_session_cannot_run_it_the_command_runs_directly(repo: Path, tmp_path: Path):
    not_a_store = tmp_path / "a-file"
    not_a_store.write_text("")
    done = hook_run(repo, not_a_store, "echo direct; pwd; exit 3")
    assert done.returncode == 3
    assert done.stdout == f"direct\n{repo}\n"  # untouched: no context form, in Claude Code's directory
    assert "ran it directly" in done.stderr


def test_a_timeout_stops_the_command_in_the_host_and_exits_124(repo: Path, home: Path):
    done = hook_run(repo, home, "echo before; sleep 1000", "--timeout", "1")
    assert done.returncode == 124, done.stderr
    assert done.stdout.startswith("before\n") and "timed out after 1s" in done.stdout
    assert hook_run(repo, home, "echo after").stdout.startswith("after\n")  # the shell lives on


def test_what_the_host_refuses_runs_directly_once(home: Path, tmp_path: Path):
    plain = tmp_path / "not-a-repository"
    plain.mkdir()
    done = hook_run(plain, home, "echo direct; pwd; exit 3")
    assert done.returncode == 3
    assert done.stdout == f"direct\n{plain}\n"  # untouched, in Claude Code's directory
    assert "ran it directly" in done.stderr and "git" in done.stderr


def test_without_a_host_the_command_runs_in_this_process_and_says_why(repo: Path, home: Path):
    through_host = hook_run(repo, home, "echo $$").stdout.split()[0]
    done = hook_run(repo, home, "echo $$; exit 4", AI_SESSION_HOST="off")
    assert done.returncode == 4
    assert done.stderr.count("\n") == 1 and "no session host (AI_SESSION_HOST=off)" in done.stderr
    assert done.stdout.split()[0] != through_host and "[ai-session] exit 4" in done.stdout
