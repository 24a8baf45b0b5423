"""Shared fixtures: a private store per test, the CLI in a subprocess like a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ai_session.core.config import Config
from ai_session.core.manager import SessionManager

REPO = Path(__file__).resolve().parents[1]
SERVER = REPO / "server"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("AI_SESSION_HOME", str(path))
    monkeypatch.setenv("AI_SESSION_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.delenv("AI_SESSION_STORE", raising=False)
    monkeypatch.delenv("AI_SESSION_MAX_TOKENS", raising=False)
    return path


@pytest.fixture
def manager(home: Path) -> SessionManager:
    m = SessionManager(Config.load())
    yield m
    m.close()


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SERVER), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["AI_SESSION_HOME"] = str(home)
    env["AI_SESSION_CONFIG"] = str(home.parent / "config.toml")
    env.update(extra)
    return env


class CLI:
    def __init__(self, home: Path) -> None:
        self.home = home

    def __call__(self, *args: str, input: str | None = None, check: bool = True, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "ai_session", *args],
            capture_output=True, text=True, input=input, cwd=cwd,
            env={**cli_env(self.home), **(env or {})}, timeout=120,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"ai-session {' '.join(args)} failed ({done.returncode}): {done.stderr}")
        return done

    def json(self, *args: str, **kw) -> object:
        return json.loads(self(*args, "--format", "json", **kw).stdout)


@pytest.fixture
def cli(home: Path) -> CLI:
    return CLI(home)
