"""Reading JSON-RPC frames defensively (stdio or TCP) and handing them to pygls.

pygls' own loop trusts Content-Length (a frame claiming 10^12 bytes would be read into
memory) and drops a request it cannot parse without answering. Here an oversized frame is
skipped with a resync to the next header, and a bad frame gets the error JSON-RPC 2.0
prescribes (with "id": null when its id cannot be known), logged in one line.

Over TCP the first message must be `initialize` carrying the server's token in its
initializationOptions; anything else is answered with an error and the connection closed.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcException, JsonRpcInternalError, JsonRpcInvalidRequest, JsonRpcParseError

from ai_session.protocol.errors import ERROR_CODES

if TYPE_CHECKING:
    from ai_session.lsp.server import AiSessionServer

log = logging.getLogger(__name__)

MAX_FRAME = 64 * 1024 * 1024
MAX_HEADER_LINE = 8 * 1024
AUTH_TIMEOUT = 10.0  # seconds a TCP client has to send its initialize
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


async def frames(reader: asyncio.StreamReader, on_oversized: Callable[[int], None]) -> AsyncIterator[bytes]:
    """Frame bodies until EOF; an oversized one is skipped (reported through `on_oversized`)."""
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
            on_oversized(length)
            length, skipping = None, True
            continue
        try:
            body = await reader.readexactly(length)
        except asyncio.IncompleteReadError:
            return
        length = None
        yield body


async def read_frames(reader: asyncio.StreamReader, server: AiSessionServer, first: bytes | None = None) -> None:
    """Dispatch frames until EOF (`first`: one already read, e.g. by the TCP authentication)."""
    if first is not None:
        dispatch(first, server)

    def oversized(length: int) -> None:
        server.warn_client(f"ai-session: ignored a message of {length} bytes (limit {MAX_FRAME})")

    async for body in frames(reader, oversized):
        dispatch(body, server)


def _valid_id(msg_id: Any) -> bool:
    return msg_id is None or isinstance(msg_id, str) or (isinstance(msg_id, int) and not isinstance(msg_id, bool))


def dispatch(body: bytes, server: AiSessionServer) -> None:
    protocol = server.protocol
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        log.warning("unparseable frame (%s)", type(exc).__name__)
        _reply_error(server, None, JsonRpcParseError(message="parse error: not valid JSON"))
        return
    msg_id = data.get("id") if isinstance(data, dict) else None
    problem = _invalid(data)
    if problem:
        log.warning("invalid message: %s", problem)
        _reply_error(server, msg_id if _valid_id(msg_id) else None, JsonRpcInvalidRequest(message=f"invalid request: {problem}"))
        return
    try:
        message = protocol.structure_message(data)
    except JsonRpcException as exc:
        if "method" in data and "id" in data:
            _reply_error(server, msg_id, exc)
        else:
            log.warning("dropped a malformed message (%s)", type(exc).__name__)
        return
    try:
        protocol.handle_message(message)
    except Exception as exc:  # a handler bug must not take the server down
        log.error("failed to handle %.64s: %s", data.get("method"), type(exc).__name__, exc_info=exc)
        if "id" in data and "method" in data:
            _reply_error(server, msg_id, JsonRpcInternalError(message=f"internal error ({type(exc).__name__})"))


def _invalid(data: Any) -> str | None:
    """Why a parsed frame is no JSON-RPC 2.0 message, or None."""
    if not isinstance(data, dict):
        return "a message is a JSON object"
    if data.get("jsonrpc") != "2.0":
        return 'not a JSON-RPC 2.0 message ("jsonrpc": "2.0" missing)'
    if "id" in data and not _valid_id(data["id"]):
        return "an id is a string, an integer or null"
    if "method" in data and not isinstance(data["method"], str):
        return "a method name is a string"
    if "method" not in data and "id" not in data:
        return "neither a method nor an id"
    return None


def _reply_error(server: AiSessionServer, msg_id: Any, error: JsonRpcException) -> None:
    server.protocol._send_response(msg_id, None, error.to_response_error())


def authorized(body: bytes, token: str) -> bool:
    """Whether a TCP client's first frame is `initialize` with the server's token."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return False
    if not isinstance(data, dict) or data.get("method") != "initialize" or not isinstance(data.get("params"), dict):
        return False
    options = data["params"].get("initializationOptions")
    given = options.get("token") if isinstance(options, dict) else None
    return isinstance(given, str) and hmac.compare_digest(given.encode(), token.encode())


def refusal(body: bytes | None, message: str) -> bytes:
    """The error frame a refused TCP client gets before the connection closes."""
    try:
        msg_id = json.loads(body).get("id") if body else None
    except (ValueError, AttributeError, RecursionError):
        msg_id = None
    error = {"code": ERROR_CODES["AccessDenied"], "message": message, "data": {"kind": "AccessDenied"}}
    text = json.dumps({"jsonrpc": "2.0", "id": msg_id if _valid_id(msg_id) else None, "error": error}).encode()
    return b"Content-Length: %d\r\n\r\n" % len(text) + text


async def first_frame(reader: asyncio.StreamReader) -> bytes | None:
    """The first frame of a connection, or None (EOF, or nothing in AUTH_TIMEOUT seconds)."""
    try:
        async with asyncio.timeout(AUTH_TIMEOUT):
            async for body in frames(reader, lambda _: None):
                return body
    except TimeoutError:
        pass
    return None
