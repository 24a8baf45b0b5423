"""Fixtures for context, compaction and ask: a store, an OpenAI-compatible local server, runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ai_session.core.accounting import agent_output_cap, output_raw_tokens
from ai_session.core.config import Config
from ai_session.core.context import command_message
from ai_session.core.manager import SessionManager
from ai_session.core.models import CommandRun, Message, RunStatus, Session, utcnow
from ai_session.core.tokens import count_tokens
from tests.providers.conftest import fake_claude  # noqa: F401  (the fake Claude Code CLI, for ask tests)
from tests.providers.fakes import FakeOpenAIServer


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server  # type: ignore[misc]


def write_config(path: Path, server: FakeOpenAIServer | None, extra: str = "") -> None:
    text = ""
    if server is not None:
        text += f'[providers.openai]\nbase_url = "{server.base_url}"\nmodel = "gpt-4o-mini"\nmax_retries = 0\n'
    path.write_text(text + extra)


@pytest.fixture
def ask_manager(home: Path, openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[SessionManager]:
    """A manager whose `openai` provider is the local server."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    write_config(home.parent / "config.toml", openai_server)
    m = SessionManager(Config.load())
    yield m
    m.close()


def record_run(
    manager: SessionManager, session: Session, command: str, raw: str, context: str, exit_code: int
) -> tuple[CommandRun, Message]:
    """A finished command run as the shell records it: the raw output stored, its context form in history."""
    run = CommandRun(
        session_id=session.id,
        command=command,
        exit_code=exit_code,
        status=RunStatus.FINISHED,
        ended_at=utcnow(),
        context=context,
        raw_bytes=len(raw.encode()),
        raw_tokens=output_raw_tokens(raw, agent_output_cap(manager.config.sections)),
        context_tokens=count_tokens(context),
    )
    manager.sessions.store.save_run(run, raw)
    message = manager.add_messages(session, [command_message(run)])[0]
    return run, message


def make_pytest_output(n_pass: int, failing: list[tuple[str, str]]) -> tuple[str, str]:
    """A realistic `pytest -v` output and the compressed context form an agent sees of it."""
    lines = ["============================= test session starts ==============================",
             "platform linux -- Python 3.11.9, pytest-8.3.3, pluggy-1.5.0", "rootdir: /repo", "collected "
             f"{n_pass + len(failing)} items", ""]  # fmt: skip
    lines += [f"tests/test_core.py::test_case_{i} PASSED{' ' * 20}[{i * 100 // (n_pass + 1):>3}%]" for i in range(n_pass)]
    for test, _error in failing:
        lines.append(f"{test} FAILED")
    lines.append("")
    lines.append("=================================== FAILURES ===================================")
    for test, error in failing:
        name = test.split("::")[-1]
        lines += [f"_________________________________ {name} _________________________________", "",
                  "    def test():", ">       assert result == expected", f"E       {error}", "",
                  f"{test.split('::')[0]}:42: AssertionError"]  # fmt: skip
    lines.append("=========================== short test summary info ============================")
    lines += [f"FAILED {test} - {error}" for test, error in failing]
    lines.append(f"========================= {len(failing)} failed, {n_pass} passed in 1.23s =========================")
    raw = "\n".join(lines) + "\n"
    context = "\n".join([f"FAILED {test} - {error}" for test, error in failing]
                        + [f"{t.split('::')[0]}:42: AssertionError" for t, _ in failing]
                        + [f"[ai-session] pytest: {len(failing)} failed, {n_pass} passed"])  # fmt: skip
    return raw, context
