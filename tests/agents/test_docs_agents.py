"""docs/agents.md runs as written: its shell blocks in a fresh repository, its config snippets parse
and start the server they name."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.cli.test_docs import _runnable_blocks
from tests.conftest import REPO, cli_env

DOC = (REPO / "docs" / "agents.md").read_text()


def test_the_shell_blocks_install_and_remove_the_hooks(tmp_path: Path, home: Path):
    repo = tmp_path / "checkout"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    blocks = _runnable_blocks(DOC)
    assert len(blocks) == 2
    env = cli_env(home, HOME=str(tmp_path / "user"))
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    settings = repo / ".claude" / "settings.json"
    install, uninstall = blocks
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", install], cwd=repo, env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"changed": false' in done.stdout  # the second call found them in place
    hooks = json.loads(settings.read_text())["hooks"]
    assert set(hooks) == {"PreToolUse", "SessionStart", "Stop", "SessionEnd"}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", uninstall], cwd=repo, env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not settings.exists()  # it held nothing else


def _server_commands() -> list[list[str]]:
    """Every MCP server entry the JSON and TOML snippets configure, as a command line."""
    entries: list[dict[str, object]] = []
    for block in re.findall(r"```json\n(.*?)```", DOC, re.DOTALL):
        data = json.loads(block)
        entries += (data.get("servers") or data.get("mcpServers")).values()
    for block in re.findall(r"```toml\n(.*?)```", DOC, re.DOTALL):
        entries += tomllib.loads(block)["mcp_servers"].values()
    return [[str(e["command"]), *map(str, e["args"])] for e in entries]  # type: ignore[call-overload]


def test_every_config_snippet_starts_the_mcp_server(home: Path):
    commands = _server_commands()
    assert len(commands) == 4  # VS Code, Cursor, mcphub.nvim, Codex
    assert all(command == ["ai-session", "mcp"] for command in commands)
    exe = shutil.which("ai-session", path=str(Path(sys.executable).parent))
    assert exe is not None
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "docs", "version": "0"}}}
    done = subprocess.run([exe, "mcp"], input=json.dumps(initialize) + "\n", env=cli_env(home), capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    reply = json.loads(done.stdout.splitlines()[0])
    assert reply["result"]["serverInfo"]["name"] == "ai-session", done.stderr
