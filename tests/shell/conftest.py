from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ai_session.core.shell import ShellProcess
from tests.shell.shell_helpers import base_env


@pytest.fixture
async def shell(tmp_path: Path) -> AsyncIterator[ShellProcess]:
    sh = await ShellProcess.start(tmp_path, base_env(tmp_path))
    yield sh
    await sh.close()


