"""The real Claude Code (the npm package's `claude`), talking to a scripted model on this machine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, cli_env
from tests.providers.fakes import FakeAgentModel

CLAUDE = REPO / "node_modules" / ".bin" / "claude"
MODEL = "claude-sonnet-4-5"

FAILING_TEST = '''\
def test_adds():
    assert 1 + 1 == 2


def test_multiplies():
    assert 2 * 3 == 7
'''


def claude_binary() -> Path:
    """The real `claude`; CI installs it (`npm ci`), so there a missing one fails the test."""
    if CLAUDE.exists():
        return CLAUDE
    why = f"the real Claude Code is not installed ({CLAUDE}): run `npm ci` at the repository root"
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one passing and one failing test."""
    return make_repo(tmp_path / "proj")


def make_repo(root: Path, cases: int = 0) -> Path:
    """`test_math.py` (one test fails) and, with `cases`, `test_many.py` with that many passing tests."""
    root.mkdir(parents=True)
    (root / "test_math.py").write_text(FAILING_TEST)
    if cases:
        (root / "test_many.py").write_text("".join(
            f"def test_case_{n:03d}():\n    assert {n} + {n} == {2 * n}\n\n\n" for n in range(cases)))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run([*git, "-C", str(root), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(root), "commit", "-qm", "tests"], check=True)
    return root


def allow(claude_home: Path, *rules: str) -> None:
    """Permission rules in the user's own Claude Code settings, as a user who allowed these commands has."""
    path = claude_home / ".claude" / "settings.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data.setdefault("permissions", {}).setdefault("allow", []).extend(rules)
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


@dataclass
class ClaudeRun:
    result: dict[str, Any]
    stderr: str

    @property
    def session_id(self) -> str:
        return self.result["session_id"]


@dataclass
class Claude:
    exe: Path
    home: Path  # Claude Code's own HOME (~/.claude lives there)
    store: Path  # AI_SESSION_HOME

    def env(self, model: FakeAgentModel, **extra: str) -> dict[str, str]:
        env = cli_env(self.store, HOME=str(self.home), ANTHROPIC_BASE_URL=model.url, ANTHROPIC_API_KEY="sk-ant-test",
                      DISABLE_TELEMETRY="1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_AUTOUPDATER="1")
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        env.pop("CLAUDECODE", None)
        env.update(extra)
        return env

    def run(self, repo: Path, model: FakeAgentModel, prompt: str = "run the tests", *args: str, **env: str) -> ClaudeRun:
        done = subprocess.run([str(self.exe), "-p", prompt, "--output-format", "json", "--model", MODEL, *args],
                              cwd=repo, env=self.env(model, **env), capture_output=True, text=True, timeout=180, check=False)
        assert done.returncode == 0, f"claude failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}"
        return ClaudeRun(json.loads(done.stdout), done.stderr)


@pytest.fixture
def claude(tmp_path: Path, home: Path) -> Iterator[Claude]:
    exe = claude_binary()
    claude_home = tmp_path / "claude-home"
    claude_home.mkdir()
    yield Claude(exe, claude_home, home)
    shutil.rmtree(claude_home, ignore_errors=True)
