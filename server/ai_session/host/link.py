"""A long-lived client's link to the session host (an editor window's language server).

Requests go to the host over its socket; its notifications (run output and ends, terminal
output) come back to `on_notification`. When the host goes away (killed, or replaced), the
link starts a new one at once and says so through `on_status` ("reconnecting", then
"reconnected"), so the editor can tell its user; what the old host was running is recorded
as interrupted by the new one. When no host can run here, the link runs one in this process
(the same `Host`, without a socket) and says why once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ai_session.host.client import HostLost, HostUnavailable, _result, connect

if TYPE_CHECKING:
    from ai_session.core.manager import SessionManager
    from ai_session.host.client import Message
    from ai_session.host.server import Client, Host

log = logging.getLogger("ai_session.host.link")
RECONNECT_TRIES = 5


class HostLink:
    def __init__(self, manager: SessionManager, on_notification: Callable[[str, Message], None],
                 on_status: Callable[[str, str], None]) -> None:  # fmt: skip
        self._manager = manager
        self._on_notification = on_notification
        self._on_status = on_status
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._next = 0
        self._connecting: asyncio.Lock | None = None
        self._local: tuple[Host, Client] | None = None  # the in-process fallback
        self._closed = False
        self.fallback_reason: str | None = None

    async def request(self, method: str, params: Message) -> Any:
        await self._ensure()
        if self._local is not None:
            host, client = self._local
            return await _local_request(host, client, method, params)
        self._next += 1
        ident = self._next
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        assert self._writer is not None
        self._writer.write(json.dumps({"jsonrpc": "2.0", "id": ident, "method": method, "params": params}).encode() + b"\n")
        try:
            return await future
        finally:
            self._pending.pop(ident, None)

    async def _ensure(self) -> None:
        if self._writer is not None or self._local is not None:
            return
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._writer is None and self._local is None:
                await self._connect()

    async def _connect(self) -> None:
        try:
            conn = await asyncio.to_thread(connect, watch=True)
        except HostUnavailable as exc:
            self._start_local(str(exc))
            return
        for note in conn.notes:
            self._on_status("replaced", note)
        conn.sock.setblocking(False)
        reader, self._writer = await asyncio.open_unix_connection(sock=conn.sock, limit=1 << 24)
        self._reader_task = asyncio.ensure_future(self._read(reader))

    def _start_local(self, reason: str) -> None:
        from ai_session.host.server import Host

        self.fallback_reason = reason
        log.warning("no session host (%s); shells run in this process", reason)
        self._on_status("local", f"no session host ({reason}); the shells run in this editor's server")
        host = Host(self._manager)
        self._local = (host, host.connect(self._deliver_local))

    def _deliver_local(self, text: str) -> None:
        if "method" in (msg := json.loads(text)):
            self._on_notification(msg["method"], msg.get("params") or {})

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while line := await reader.readline():
                msg = json.loads(line)
                if "method" in msg:
                    self._on_notification(msg["method"], msg.get("params") or {})
                elif (future := self._pending.get(msg.get("id", -1))) is not None and not future.done():
                    try:
                        future.set_result(_result(msg))
                    except Exception as exc:  # the host's error, for the caller
                        future.set_exception(exc)
        except (ConnectionError, ValueError):
            pass
        if not self._closed:
            await self._lost()

    async def _lost(self) -> None:
        """The host went away: fail what waited on it, start a new one, and say so."""
        self._writer = None
        for future in self._pending.values():
            if not future.done():
                future.set_exception(HostLost("the session host stopped before it answered"))
        self._pending.clear()
        self._on_status("reconnecting", "the session host stopped; starting a new one")
        for attempt in range(RECONNECT_TRIES):
            try:
                await self._ensure()
            except Exception as exc:  # tried again, then said
                log.warning("reconnecting to the session host failed: %s", type(exc).__name__)
                await asyncio.sleep(0.2 * (attempt + 1))
                continue
            self._on_status("reconnected", "reconnected to a new session host; shells are back where they were")
            return
        self._on_status("lost", "the session host could not be restarted; see the log")

    async def aclose(self) -> None:
        self._closed = True
        if self._local is not None:
            host, client = self._local
            host.disconnect(client)
            await host.close()
        if self._writer is not None:
            self._writer.close()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader_task


async def _local_request(host: Host, client: Client, method: str, params: Message) -> Any:
    from ai_session.core.redact import redact_data

    reply = await host.handle(client, {"jsonrpc": "2.0", "id": 0, "method": method, "params": params})
    return _result(redact_data(reply, by_key=False))
