"""What a rewritten command runs (`python -m ai_session.hooks run`): raw counted as Claude Code's
Bash tool would have passed it on, and the command never lost when ai-session cannot run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ai_session.core.accounting import pipe_text
from ai_session.core.config import Config
from ai_session.core.manager import SessionManager
from ai_session.core.tokens import count_tokens
from tests.conftest import cli_env

# 300 distinct lines, about 11,000 characters: under Claude Code's 30,000, over a 2,000 cap.
PRINT = "python3 -c 'for n in range(300): print(f\"line {n:03d} of the build log, step {n * 7}\")'"
LINES = [f"line {n:03d} of the build log, step {n * 7}" for n in range(300)]


def hook_run(repo: Path, home: Path, command: str, **env: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "ai_session.hooks", "run", "--agent", "claude-code", "--cwd", str(repo), "--", command]
    return subprocess.run(argv, cwd=repo, env=cli_env(home, **env), capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip


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
