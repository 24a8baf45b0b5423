"""`ai-session mcp`: the sessions, served to any MCP client over stdio (the official SDK).

A thin adapter like the CLI: every tool goes through SessionManager, commands through the
one agent path (hooks/runner.py) into the session host's live shell, text through the CLI's
renderer. The session a tool works in, unless it names one, is the session of the client's
worktree: its first root when the client offers roots, else the directory the client started
the server in. The server keeps one connection to the host and makes a new one (starting a
new host) when the host was stopped or killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from ai_session import __version__
from ai_session.cli.render import Fields, Table, view_text
from ai_session.cli.views import ago, human_tokens, percent, run_line, session_fields
from ai_session.core.errors import AiSessionError
from ai_session.core.manager import SessionManager
from ai_session.core.models import Session
from ai_session.core.store import Totals
from ai_session.hooks.runner import agent_text, cancel, run_for_agent, run_in_process
from ai_session.host.client import CommandResult, Connection, HostLost, HostUnavailable, connect

AGENT = "mcp"
PING_SECONDS = 5.0  # a host that cannot answer its hello in this long is given up for a new one
INSTRUCTIONS = (
    "ai-session keeps a persistent shell per git worktree (cwd and env persist between commands) and gives "
    "command output in a compact form that keeps every failing test, error, file:line and the exit code. "
    "Run commands with `exec`; to see more of a run, call `output` with its run id (a line range or a grep) "
    "instead of running the command again."
)


class Sessions:
    """The server's state: one SessionManager, the directory of the client's worktree, and the
    connection to the session host."""

    def __init__(self, directory: str | None = None) -> None:
        self.m = SessionManager()
        self.directory = directory
        self.lock = asyncio.Lock()  # one command at a time: the session's shell runs them in turn
        self.conn: Connection | None = None
        self.no_host: str | None = None  # why commands run in this process, once no host could run

    async def run(self, command: str, timeout: float | None, ctx: Context | None) -> CommandResult:
        cwd = await self.worktree(ctx)
        async with self.lock:
            if self.no_host is None:
                started: list[str] = []
                through_host = asyncio.ensure_future(asyncio.to_thread(self._via_host, cwd, command, timeout, started.append))
                try:
                    return await asyncio.shield(through_host)
                except HostUnavailable as exc:
                    self.no_host = str(exc)
                    print(f"ai-session mcp: no session host ({exc}); commands run in this process", file=sys.stderr)
                except asyncio.CancelledError:  # the client gave up: stop the command in the host too
                    if started:
                        await asyncio.to_thread(cancel, started[0])
                    with contextlib.suppress(Exception):
                        await through_host  # the connection is free again once its run has ended
                    raise
            return await run_in_process(self.m, cwd, command, agent=AGENT, timeout=timeout)

    def _via_host(self, cwd: str, command: str, timeout: float | None, on_start: Callable[[str], None]) -> CommandResult:
        if self.conn is not None and not _answers(self.conn):
            self.close()  # the host exited (idle, replaced or killed) since the last command
        if self.conn is None:
            self.conn = connect()
        try:
            return run_for_agent(cwd, command, agent=AGENT, timeout=timeout, conn=self.conn, on_start=on_start)
        except HostLost:
            self.close()  # the next command connects again, starting a new host
            raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    async def worktree(self, ctx: Context | None) -> str:
        if self.directory is None:
            self.directory = await _client_root(ctx) or os.getcwd()
        return self.directory

    async def session(self, ref: str | None, ctx: Context | None) -> Session:
        if ref:
            return self.m.resolve(ref)
        return self.m.worktree_session(await self.worktree(ctx), agent=AGENT)[0]


def _answers(conn: Connection) -> bool:
    """Whether the host of this connection is still there: asked before a command, so that a
    host gone since the last one is never mistaken for one lost while the command ran."""
    try:
        conn.send({"jsonrpc": "2.0", "id": "alive", "method": "aiSession/host/hello", "params": {"version": __version__}})
        while conn.receive(timeout=PING_SECONDS).get("id") != "alive":
            pass  # what an earlier run left unread
    except (HostLost, TimeoutError):
        return False
    return True


async def _client_root(ctx: Context | None) -> str | None:
    """The first `file://` root the client offers (roots are optional, and deprecated in newer MCP)."""
    if ctx is None or not getattr(ctx.client_capabilities, "roots", None):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            roots = await asyncio.wait_for(ctx.session.list_roots(), timeout=5)
    except Exception:  # a client that cannot answer: fall back to the cwd
        return None
    for root in roots.roots:
        uri = urlparse(str(root.uri))
        if uri.scheme == "file" and Path(unquote(uri.path)).is_dir():
            return unquote(uri.path)
    return None


def build(directory: str | None = None) -> tuple[MCPServer, Sessions]:
    state = Sessions(directory)

    @asynccontextmanager
    async def lifespan(_: object) -> AsyncIterator[None]:
        try:
            yield
        finally:  # the shells live on this loop: close them here, saving their cwd and env
            state.close()
            await state.m.shells.close()

    server = MCPServer("ai-session", version=__version__, instructions=INSTRUCTIONS, lifespan=lifespan)

    def fail(exc: AiSessionError) -> ToolError:
        return ToolError(str(exc))

    @server.tool(name="exec")
    async def exec_(command: str, ctx: Context, timeout: float | None = None) -> str:
        """Run a shell command in the worktree session's persistent shell (cwd and env persist).
        Returns the compact context form: every failing test, error and file:line, the exit code
        (`[ai-session] exit N`) and the run id. To see more of a run, call `output` with the run id
        rather than running the command again."""
        try:
            run = await state.run(command, timeout, ctx)
        except AiSessionError as exc:
            raise fail(exc) from None
        return agent_text(run, timeout)

    @server.tool()
    def output(run: str, lines: str | None = None, grep: str | None = None, context: int = 0) -> str:
        """A run's raw output, as the command printed it: all of it (default), a line range
        (`lines` "A:B", numbered) or the lines matching a regular expression (`grep`, with
        `context` lines around each hit). Prefer this to re-running a command: it is the
        same output, already stored, and a range or grep costs only what it shows."""
        if lines and grep:
            raise ToolError("give lines or grep, not both")
        mode = "lines" if lines else "grep" if grep else "raw"
        try:
            return state.m.run_output(run, mode=mode, lines=lines, pattern=grep, context=context, plain=True)[1]
        except AiSessionError as exc:
            raise fail(exc) from None

    @server.tool(name="context")
    async def context_(ctx: Context, session: str | None = None, max_tokens: int | None = None) -> str:
        """The exact context the model would get next from the session (default: the worktree's),
        under a token budget (`max_tokens`, default the session's): its parts, token counts, and
        raw against context tokens."""
        from ai_session.core.context import render_text

        try:
            found = await state.session(session, ctx)
            return render_text(state.m.context(found, max_tokens=max_tokens))
        except AiSessionError as exc:
            raise fail(exc) from None

    @server.tool()
    def sessions() -> str:
        """Every session (not pooled ones), newest activity first: name, status, agent, worktree
        and branch, messages, tokens and saving."""
        found = state.m.list()
        totals = state.m.totals(found)
        rows = []
        for s in found:
            t = totals.get(s.id, Totals())
            rows.append([s.name, s.status.value, s.agent or "-", s.branch or "-", s.worktree or "-", t.messages,
                         human_tokens(t.message_tokens), percent(t.raw_tokens, t.context_tokens), ago(s.last_active)])
        headers = ["NAME", "STATUS", "AGENT", "BRANCH", "WORKTREE", "MSGS", "TOKENS", "SAVED", "LAST ACTIVE"]
        return view_text(Table(headers, rows, empty="no sessions yet"))

    @server.tool()
    async def session(ctx: Context, name: str | None = None, runs: int = 10) -> str:
        """One session (default: the worktree's): its state, totals and its last `runs` command runs
        with their run ids and exit codes."""
        try:
            found = await state.session(name, ctx)
            view = state.m.show(found.id)
            recent = state.m.runs(found, last=runs) if runs > 0 else []
        except AiSessionError as exc:
            raise fail(exc) from None
        parts: list[Fields | str] = [session_fields(view.session, view.totals)]
        if recent:
            parts += ["", "command runs:", *(run_line(r) for r in recent)]
        return view_text(parts)

    @server.tool()
    async def pin(message: int, ctx: Context, session: str | None = None, unpin: bool = False) -> str:
        """Pin a message of the session (by its number) so context assembly always keeps it;
        `unpin` to undo."""
        try:
            found = await state.session(session, ctx)
            pinned = state.m.pin(found.id, message, not unpin)
        except AiSessionError as exc:
            raise fail(exc) from None
        return f"message #{pinned.seq} of {found.name} {'pinned' if pinned.pinned else 'unpinned'}"

    return server, state


def serve(directory: str | None = None) -> None:
    server, state = build(directory)
    try:
        server.run("stdio")
    finally:
        state.m.close()
