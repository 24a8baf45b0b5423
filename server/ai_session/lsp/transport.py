"""Reading JSON-RPC frames defensively (stdio or TCP) and handing them to pygls.

pygls' own loop trusts Content-Length (a frame claiming 10^12 bytes would be read into
memory) and drops a request it cannot parse without answering. Here an oversized frame is
skipped with a resync to the next header, and a bad frame still gets an error response
when its id can be read.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcException, JsonRpcInternalError, JsonRpcInvalidRequest, JsonRpcParseError

if TYPE_CHECKING:
    from ai_session.lsp.server import AiSessionServer

log = logging.getLogger(__name__)

MAX_FRAME = 64 * 1024 * 1024
MAX_HEADER_LINE = 8 * 1024
# Searched, not matched: while resyncing, a header may follow junk on the same line.
_CONTENT_LENGTH = re.compile(rb"content-length:\s*(\d+)\s*$", re.IGNORECASE)


class StreamWriter:
    """pygls' writer interface over a binary file or an asyncio transport."""

    def __init__(self, write, flush=None, close=None) -> None:
        self._write, self._flush, self._close = write, flush, close

    def write(self, data: bytes) -> None:
        self._write(data)
        if self._flush:
            self._flush()

    def close(self) -> None:
        if self._close:
            self._close()


async def _readline(reader: asyncio.StreamReader) -> bytes | None:
    """One header line, or None at EOF; an overlong line is discarded (it is not a header)."""
    try:
        return await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as exc:
        return exc.partial or None
    except asyncio.LimitOverrunError as exc:
        await reader.readexactly(exc.consumed)
        return b""


async def read_frames(reader: asyncio.StreamReader, server: AiSessionServer) -> None:
    """Dispatch frames until EOF."""
    length: int | None = None
    skipping = False
    while True:
        line = await _readline(reader)
        if line is None:
            return
        match = _CONTENT_LENGTH.search(line.strip()) if len(line) < MAX_HEADER_LINE else None
        if match:
            length = int(match.group(1))
            skipping = False
            continue
        if line.strip() or skipping:
            continue  # other headers (Content-Type), or junk while resyncing
        if length is None:
            continue  # a blank line with no frame announced
        if length > MAX_FRAME:
            log.error("dropped a frame announcing %d bytes (limit %d); resyncing at the next header", length, MAX_FRAME)
            server.warn_client(f"ai-session: ignored a message of {length} bytes (limit {MAX_FRAME})")
            length, skipping = None, True
            continue
        try:
            body = await reader.readexactly(length)
        except asyncio.IncompleteReadError:
            return
        length = None
        dispatch(body, server)


def dispatch(body: bytes, server: AiSessionServer) -> None:
    protocol = server.protocol
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        log.warning("unparseable frame: %s", exc)
        _reply_error(server, None, JsonRpcParseError(message=f"parse error: {exc}"))
        return
    if not isinstance(data, dict) or data.get("jsonrpc") != "2.0":
        _reply_error(server, data.get("id") if isinstance(data, dict) else None,
                     JsonRpcInvalidRequest(message="not a JSON-RPC 2.0 message"))
        return
    try:
        message = protocol.structure_message(data)
    except JsonRpcException as exc:
        if "method" in data and "id" in data:
            _reply_error(server, data["id"], exc)
        else:
            log.warning("dropped a malformed message: %s", exc)
        return
    try:
        protocol.handle_message(message)
    except Exception as exc:  # a handler bug must not take the server down
        log.exception("failed to handle %s", data.get("method"))
        if "id" in data and "method" in data:
            _reply_error(server, data["id"], JsonRpcInternalError(message=str(exc)))


def _reply_error(server: AiSessionServer, msg_id: Any, error: JsonRpcException) -> None:
    if isinstance(msg_id, (int, str)) or msg_id is None:
        server.protocol._send_response(msg_id, None, error.to_response_error())
