"""Fixtures for the command lines of the seed documents, run as a user runs them."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from ai_session.core.config import Config
from ai_session.core.manager import SessionManager
from ai_session.core.models import SessionStatus, utcnow
from ptyprocess import PtyProcessUnicode

from tests.conftest import cli_env
from tests.context.conftest import write_config
from tests.providers.conftest import fake_claude  # noqa: F401  (the fake Claude Code CLI)
from tests.providers.fakes import FakeOpenAIServer


class InProcessCLI:
    """`ai-session ARGS` through `main()` in this process: what a subprocess does, without paying
    the interpreter's start each time. Same interface as tests.conftest.CLI."""

    def __init__(self, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.home = home
        self.monkeypatch = monkeypatch

    def __call__(self, *args: str, input: str | None = None, check: bool = True, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        from ai_session.cli import main

        out, err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.StringIO()
        stdin = io.TextIOWrapper(io.BytesIO((input or "").encode()), encoding="utf-8")
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(sys, "stdout", out)
            mp.setattr(sys, "stderr", err)
            mp.setattr(sys, "stdin", stdin)
            for key, value in (env or {}).items():
                mp.setenv(key, value)
            if cwd is not None:
                mp.chdir(cwd)
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse: --help, usage errors
                code = exc.code if isinstance(exc.code, int) else 2
        out.flush()
        stdout = out.buffer.getvalue().decode()  # type: ignore[attr-defined]
        done = subprocess.CompletedProcess(["ai-session", *args], code, stdout, err.getvalue())
        if check and code != 0:
            raise AssertionError(f"ai-session {' '.join(args)} failed ({code}): {done.stderr}")
        return done

    def json(self, *args: str, **kw: object) -> object:
        return json.loads(self(*args, "--format", "json", **kw).stdout)  # type: ignore[arg-type]


@pytest.fixture
def cli(home: Path, monkeypatch: pytest.MonkeyPatch) -> InProcessCLI:
    return InProcessCLI(home, monkeypatch)


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def configured(home: Path, openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAIServer:
    """The `openai` provider is a local server speaking OpenAI's wire format."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    write_config(home.parent / "config.toml", openai_server)
    return openai_server


def backdate(home: Path, name: str, *, days: float, status: SessionStatus | None = None) -> None:
    """Make a session look untouched for `days` (what a week without using it leaves behind)."""
    m = SessionManager(Config.load())
    try:
        s = m.resolve(name)
        update: dict[str, object] = {"last_active": utcnow() - timedelta(days=days)}
        if status is not None:
            update["status"] = status
        m.sessions.store.update_session(s.model_copy(update=update))
    finally:
        m.close()


def in_terminal(home: Path, *args: str, answer: str | None = None, timeout: float = 60) -> tuple[int, str]:
    """Run `ai-session ARGS` on a terminal (a real PTY); type `answer` when it asks."""
    p = PtyProcessUnicode.spawn([sys.executable, "-m", "ai_session", *args], env=cli_env(home), dimensions=(40, 200))
    screen = ""
    deadline = time.monotonic() + timeout
    answered = answer is None
    try:
        while p.isalive() or _readable(p):
            assert time.monotonic() < deadline, screen
            if not _readable(p):
                continue
            try:
                screen += p.read(4096)
            except EOFError:
                break
            if not answered and "[y/N]" in screen:
                p.write(answer + "\r")
                answered = True
        p.wait()
        return p.exitstatus or 0, screen.replace("\r\n", "\n")
    finally:
        if p.isalive():
            p.terminate(force=True)


def _readable(p: PtyProcessUnicode) -> bool:
    import select

    return bool(select.select([p.fd], [], [], 0.1)[0])


def shell(command: str, home: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """A shell pipeline as a user types it, with `ai-session` on PATH."""
    bin_dir = Path(sys.executable).parent
    env = cli_env(home)
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    return subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120, check=False)  # fmt: skip
