"""`ai-session resume` in a terminal continues the session's Claude Code conversation: the real
`claude --resume ID` starts, in the worktree, in place of the CLI."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from ai_session.core.config import Config
from ai_session.core.manager import SessionManager
from ptyprocess import PtyProcess

from tests.agents.conftest import Claude
from tests.conftest import CLI
from tests.providers.fakes import FakeAgentModel


def _until(check, seconds: float = 60):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if value := check():
            return value
        time.sleep(0.2)
    return None


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def test_resume_in_a_terminal_starts_claude_resume_in_the_worktree(claude: Claude, cli: CLI, repo: Path, tmp_path: Path):
    cli("integrate", "claude", cwd=repo)
    with FakeAgentModel([], final="Hi.") as model:
        conversation = claude.run(repo, model, "hello").session_id
        m = SessionManager(Config.load())
        session, _ = m.worktree_session(repo)
        m.close()
        cli("pause", session.name)
        env = claude.env(model)
        env["PATH"] = os.pathsep.join([str(claude.exe.parent), env["PATH"]])
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        proc = PtyProcess.spawn([sys.executable, "-m", "ai_session", "resume", session.name], cwd=str(elsewhere),
                                env=env, dimensions=(40, 120))  # fmt: skip
        try:
            # The CLI becomes Claude Code (same process): its command line and directory say so.
            became = _until(lambda: "--resume" in _cmdline(proc.pid) and _cmdline(proc.pid))
            assert became, _cmdline(proc.pid)
            assert became[became.index("--resume") + 1] == conversation
            assert Path(became[0]).name.startswith("claude")
            assert os.path.realpath(f"/proc/{proc.pid}/cwd") == str(repo.resolve())
        finally:
            proc.terminate(force=True)
    m = SessionManager(Config.load())
    assert m.resolve(session.id).status.value == "active"  # and it was resumed first
    m.close()


def test_resume_no_agent_only_marks_it_active(claude: Claude, cli: CLI, repo: Path):
    cli("integrate", "claude", cwd=repo)
    with FakeAgentModel([], final="Hi.") as model:
        claude.run(repo, model, "hello")
    m = SessionManager(Config.load())
    session, _ = m.worktree_session(repo)
    m.close()
    cli("pause", session.name)
    proc = PtyProcess.spawn([sys.executable, "-m", "ai_session", "resume", "--no-agent", session.name], cwd=str(repo),
                            env=claude.env(FakeAgentModel([])))  # fmt: skip
    out = b""
    try:
        while True:
            out += proc.read(4096)
    except EOFError:
        pass
    proc.wait()
    assert proc.exitstatus == 0, out
    assert f"resumed session {session.name}".encode() in out and b"continuing Claude Code" not in out
