"""Fixtures over the wire-format fakes in `fakes.py`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.providers.fakes import FakeAnthropicServer, FakeClaude, FakeOpenAIServer, install_fake_claude


class RecordingSleep:
    """Stands in for asyncio.sleep in retry tests: records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeper() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(api_key="sk-test-0123456789abcdef") as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def anthropic_server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def fake_claude(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeClaude:
    claude = install_fake_claude(tmp_path / "fake-claude")
    for name, value in claude.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PATH", f"{claude.bin_dir}:{os.environ['PATH']}")
    monkeypatch.delenv("AI_SESSION_CLAUDE_BIN", raising=False)
    return claude
