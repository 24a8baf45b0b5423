"""`ai-session mcp` through the MCP SDK's own client over stdio, and through the real Claude Code."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from ai_session.core.config import Config
from ai_session.core.manager import SessionManager
from ai_session.core.tokens import count_tokens
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from ai_session.host.client import connect

from tests.agents.conftest import Claude
from tests.conftest import CLI, cli_env
from tests.host.test_host import _wait_dead
from tests.providers.fakes import FakeAgentModel


def text_of(result) -> str:
    return "".join(block.text for block in result.content if getattr(block, "type", "") == "text")


async def test_the_sdk_client_runs_reads_and_pins_through_the_server(repo: Path, home: Path):
    params = StdioServerParameters(command=sys.executable, args=["-m", "ai_session", "mcp"], cwd=str(repo),
                                   env=cli_env(home))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
        await client.initialize()
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == {"exec", "output", "context", "sessions", "session", "pin"}
        # The descriptions tell the model when to look at a stored output instead of running again.
        assert "`output`" in tools["exec"].description and "Prefer this to re-running" in tools["output"].description

        ran = await client.call_tool("exec", {"command": "cd sub 2>/dev/null; export GREETING=hi; python -m pytest -q"})
        assert not ran.is_error
        text = text_of(ran)
        assert "FAILED test_math.py::test_multiplies" in text and "test_math.py:6" in text and "[ai-session] exit 1" in text
        m = SessionManager(Config.load())
        session, created = m.worktree_session(repo)
        assert not created
        [run] = m.runs(session)
        assert run.id in text and run.metadata.get("agent") == "mcp"
        assert count_tokens(text) < run.raw_tokens

        # The shell persists between calls: the variable set by the first command is still there.
        again = text_of(await client.call_tool("exec", {"command": "echo $GREETING"}))
        assert again.startswith("hi\n")

        grep = text_of(await client.call_tool("output", {"run": run.id, "grep": "passed|failed"}))
        assert "1 failed, 1 passed" in grep
        lines = text_of(await client.call_tool("output", {"run": run.id, "lines": "1:2"}))
        assert lines.splitlines()[0].lstrip().startswith("1")
        missing = await client.call_tool("output", {"run": "run_000000000000"})
        assert missing.is_error and "no command run" in text_of(missing)

        listing = text_of(await client.call_tool("sessions", {}))
        assert session.name in listing
        shown = text_of(await client.call_tool("session", {}))
        assert session.name in shown and run.id in shown
        context = text_of(await client.call_tool("context", {"max_tokens": 2000}))
        assert "python -m pytest -q" in context

        first = m.messages(session)[0]
        pinned = text_of(await client.call_tool("pin", {"message": first.seq}))
        assert f"#{first.seq}" in pinned and "pinned" in pinned
        assert m.messages(session)[0].pinned
        m.close()


def _host_pid() -> int:
    with connect() as conn:
        return int(conn.host["pid"])


async def test_the_exec_tool_runs_in_the_hosts_live_shell_and_outlives_the_host(repo: Path, home: Path, cli: CLI):
    params = StdioServerParameters(command=sys.executable, args=["-m", "ai_session", "mcp"], cwd=str(repo),
                                   env=cli_env(home))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
        await client.initialize()
        shell = text_of(await client.call_tool("exec", {"command": "MCP_LOCAL=from-mcp; echo $$"})).split()[0]
        m = SessionManager(Config.load())
        session, _ = m.worktree_session(repo)
        m.close()
        # The CLI's exec reaches the same live shell: its pid, and a variable never exported nor saved.
        assert cli("exec", session.name, "echo $$ $MCP_LOCAL").stdout == f"{shell} from-mcp\n"
        cli("exec", session.name, "export FROM_CLI=1")
        # The host killed between two calls: the next call starts a new one, env back from its save.
        old = _host_pid()
        os.kill(old, signal.SIGKILL)
        _wait_dead(old)
        after = await client.call_tool("exec", {"command": "echo cli=$FROM_CLI"})
        assert not after.is_error and text_of(after).startswith("cli=1\n")
        assert _host_pid() != old
        # Killed mid-command: a clear error, and the next call again starts a new host.
        old = _host_pid()
        sleeping = asyncio.ensure_future(client.call_tool("exec", {"command": "echo started; sleep 1000"}))
        m = SessionManager(Config.load())
        for _ in range(300):
            runs = m.runs(session, last=1)
            if runs and runs[0].command.endswith("sleep 1000"):
                break
            await asyncio.sleep(0.05)
        m.close()
        os.kill(old, signal.SIGKILL)
        lost = await asyncio.wait_for(sleeping, timeout=30)
        assert lost.is_error and "session host" in text_of(lost)
        again = await client.call_tool("exec", {"command": "echo back"})
        assert not again.is_error and text_of(again).startswith("back\n")


async def test_without_a_host_the_exec_tool_runs_in_the_servers_process(repo: Path, home: Path):
    params = StdioServerParameters(command=sys.executable, args=["-m", "ai_session", "mcp"], cwd=str(repo),
                                   env=cli_env(home, AI_SESSION_HOST="off"))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
        await client.initialize()
        first = await client.call_tool("exec", {"command": "LOCAL=kept; echo $$"})
        second = await client.call_tool("exec", {"command": "echo $$ $LOCAL"})
    assert not first.is_error and not second.is_error
    assert text_of(second).startswith(f"{text_of(first).split()[0]} kept\n")  # one shell, in the server


def test_real_claude_code_calls_the_exec_tool(claude: Claude, repo: Path, home: Path):
    env = claude.env(FakeAgentModel([]))
    subprocess.run([str(claude.exe), "mcp", "add", "ai-session", "--", sys.executable, "-m", "ai_session", "mcp"],
                   cwd=repo, env=env, check=True, capture_output=True, text=True, timeout=60)
    steps = [("mcp__ai-session__exec", {"command": "python -m pytest -q"})]
    with FakeAgentModel(steps) as model:
        # `claude -p` connects MCP servers in the background and may ask the model before ours is up
        # (the SDK takes about a second to import); this setting makes it wait, as a script would.
        claude.run(repo, model, "run the tests", "--allowedTools", "mcp__ai-session__exec", MCP_CONNECTION_NONBLOCKING="0")
    [seen] = model.tool_results
    assert "FAILED test_math.py::test_multiplies" in seen and "test_math.py:6" in seen and "[ai-session] exit 1" in seen
    m = SessionManager(Config.load())
    session, _ = m.worktree_session(repo)
    [run] = m.runs(session)
    assert run.id in seen and count_tokens(seen) < run.raw_tokens
    m.close()
