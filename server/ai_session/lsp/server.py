"""`ai-session serve`: the JSON-RPC server editors talk to.

One server per editor workspace. It knows the workspace's git worktree and branch, keeps
"the current session" for it, follows the store for changes made by any process, and
exits when its editor does.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import sys
import traceback
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from lsprotocol import types
from pydantic import BaseModel
from pygls.lsp.server import LanguageServer

from ai_session import __version__
from ai_session.core.config import Config
from ai_session.core.manager import SessionManager
from ai_session.core.privacy import private_dir, private_file, write_private
from ai_session.core.redact import redact
from ai_session.core.worktree import Worktree
from ai_session.host.link import HostLink
from ai_session.lsp.transport import StreamWriter, authorized, first_frame, read_frames, refusal
from ai_session.lsp.wire import AiSessionProtocol, StoreCache, converter_factory, dump
from ai_session.protocol.methods import NOTIFICATIONS
from ai_session.protocol.payloads import HostStatus

log = logging.getLogger("ai_session.lsp")
PARENT_CHECK_SECONDS = 2.0
CLOSE_HOOK_SECONDS = 10.0


class AiSessionServer(LanguageServer):
    def __init__(self, manager_factory: Callable[[], SessionManager] = SessionManager) -> None:
        super().__init__(name="ai-session", version=__version__, converter_factory=converter_factory,
                         protocol_cls=AiSessionProtocol)
        self.manager = manager_factory()
        self.cache = StoreCache(self.manager)
        self.root: Path | None = None
        self.worktree: Worktree | None = None
        self.current_session_id: str | None = None
        self.auto_attach = True
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        # Feature modules hook in here instead of each registering the same LSP method.
        self.initialized_hooks: list[Callable[[], None]] = []
        self.close_hooks: list[Callable[[], Awaitable[None]]] = []
        # Shells, runs and terminals live in the session host: this server forwards to it and
        # hands what it sends to the feature that asked (`host_handlers`, by notification).
        self.host = HostLink(self.manager, self._from_host, self._host_status)
        self.host_handlers: dict[str, Callable[[dict[str, Any]], None]] = {}
        self.host_status_hooks: list[Callable[[str], None]] = []
        self.close_hooks.append(self.host.aclose)

    # ------------------------------------------------------------------ helpers for features

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run background work, keep a reference, log (never lose) its failure."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and (exc := t.exception()) is not None:
                log.error("background task %s failed: %s", name, type(exc).__name__, exc_info=exc)

        task.add_done_callback(done)
        return task

    def send(self, method: str, payload: BaseModel) -> None:
        """Send a declared notification."""
        assert method in NOTIFICATIONS, method
        if not self._closed:
            self.protocol.notify(method, dump(payload))

    def _from_host(self, method: str, params: dict[str, Any]) -> None:
        if (handler := self.host_handlers.get(method)) is not None:
            handler(params)

    def _host_status(self, state: str, message: str) -> None:
        log.warning("session host: %s", state)
        self.send("aiSession/hostStatus", HostStatus(state=state, message=message))
        for hook in self.host_status_hooks:
            hook(state)

    def warn_client(self, message: str) -> None:
        if not self._closed:
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=message))

    def supports_progress(self) -> bool:
        caps = self.client_capabilities
        return bool(caps and caps.window and caps.window.work_done_progress)

    # ------------------------------------------------------------------ lifetime

    async def watch_parent(self, pid: int) -> None:
        """Exit when the editor that started us is gone (it may die without saying so)."""
        while True:
            await asyncio.sleep(PARENT_CHECK_SECONDS)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                log.warning("client process %d is gone; exiting", pid)
                await self.aclose()
                os._exit(0)
            except PermissionError:
                pass

    async def aclose(self) -> None:
        """Stop everything this server started: shells (and their process groups), tasks, the store."""
        if self._closed:
            return
        self._closed = True
        for hook in self.close_hooks:
            try:
                await asyncio.wait_for(hook(), CLOSE_HOOK_SECONDS)
            except Exception:
                log.exception("close hook failed")
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        self.manager.close()

    def close(self) -> None:
        """Last resort once the event loop is gone (aclose is the normal way out)."""
        if not self._closed:
            self._closed = True
            self.manager.close()


class OneLine(logging.Filter):
    """The log holds ids and error kinds, never command text, output or a client's params:
    pygls' own records keep only their fixed words, an exception becomes its kind (with the
    frames, not the message, when verbose), and every line is redacted."""

    def __init__(self, verbose: bool) -> None:
        super().__init__()
        self.verbose = verbose

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("pygls"):
            text = re.sub(r"\s*[\"']?%[sdr][\"']?", "", str(record.msg)).strip()
        else:
            text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text += f" [{type(exc).__name__}]"
            if self.verbose:
                text += "\n" + "".join(traceback.format_tb(exc.__traceback__)).rstrip()
        record.msg, record.args, record.exc_info, record.exc_text = redact(text), None, None, None
        return True


def setup_logging(verbose: bool = False) -> Path:
    """Log to stderr and to a 0600 file in the user log dir; pygls at WARNING (it logs bodies at INFO)."""
    log_dir = private_dir(Config.load().log_dir)
    log_file = private_file(log_dir / "server.log")
    fmt = logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for handler in (logging.StreamHandler(sys.stderr), logging.FileHandler(log_file)):
        handler.setFormatter(fmt)
        handler.addFilter(OneLine(verbose))
        root.addHandler(handler)
    logging.getLogger("pygls").setLevel(logging.WARNING)
    return log_file


def create_server(manager_factory: Callable[[], SessionManager] = SessionManager) -> AiSessionServer:
    from ai_session.lsp import features

    server = AiSessionServer(manager_factory)
    features.register_all(server)
    return server


async def _serve_streams(
    server: AiSessionServer, reader: asyncio.StreamReader, writer: StreamWriter, first: bytes | None = None
) -> None:
    server.protocol.set_writer(writer)
    try:
        await read_frames(reader, server, first)
    finally:
        log.info("client stream closed")
        await server.aclose()


def serve_stdio(server: AiSessionServer) -> None:
    # Take private copies of stdin/stdout, then point fds 0 and 1 at /dev/null and stderr:
    # a stray print or a child process can never corrupt the JSON-RPC stream.
    rpc_in = os.fdopen(os.dup(0), "rb", buffering=0)
    rpc_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    async def main() -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 16)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), rpc_in)
        await _serve_streams(server, reader, StreamWriter(rpc_out.write, rpc_out.flush))

    try:
        asyncio.run(main())
    finally:
        server.close()


def token_file() -> Path:
    return Config.load().home / "server-token"


def serve_tcp(server: AiSessionServer, host: str, port: int, announce: Callable[[str], None]) -> None:
    """Serve one client over TCP. A random token, made now, is written 0600 to the data dir
    and passed to `announce` (once); the client presents it in `initialize` as
    initializationOptions.token, or is refused and disconnected."""
    token = secrets.token_urlsafe(32)
    path = token_file()
    write_private(path, token.encode())

    async def main() -> None:
        done = asyncio.Event()
        busy = False

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal busy
            first = await first_frame(reader)
            if busy or first is None or not authorized(first, token):
                why = "the server already has a client" if busy else (
                    f"unauthorized: send initialize with initializationOptions.token (the token in {path})")
                log.warning("refused a TCP client: %s", "busy" if busy else "no valid token")
                writer.write(refusal(first, why))
                await writer.drain()
                writer.close()
                return
            busy = True
            await _serve_streams(server, reader, StreamWriter(writer.write, None, writer.close), first)
            done.set()

        tcp = await asyncio.start_server(connection, host, port, limit=1 << 16)
        log.info("listening on %s:%d", host, port)
        announce(token)
        async with tcp:
            await done.wait()

    try:
        asyncio.run(main())
    finally:
        path.unlink(missing_ok=True)
        server.close()
