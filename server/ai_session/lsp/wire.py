"""pygls plumbing: pydantic models on the wire (camelCase), validated params, domain errors,
and the one way out: every message the server sends is redacted on the way.

pygls turns unknown methods' params into namedtuples and serialises plain objects through
`__dict__`; here our methods keep their params as plain JSON, validated by the protocol's
pydantic models, and any pydantic result is dumped by alias.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from pygls.exceptions import JsonRpcException, JsonRpcInternalError, JsonRpcInvalidParams, JsonRpcRequestCancelled
from pygls.protocol import (
    LanguageServerProtocol,
    JsonRPCNotification,
    JsonRPCRequestMessage,
    _params_field_structure_hook,
    default_converter,
)

from ai_session.core.errors import AiSessionError
from ai_session.core.redact import redact_json
from ai_session.protocol.errors import ERROR_CODES as ERROR_CODES, error_object
from ai_session.protocol.methods import REQUESTS

if TYPE_CHECKING:
    from ai_session.core.manager import SessionManager
    from ai_session.lsp.server import AiSessionServer

PREFIX = "aiSession/"
P = TypeVar("P", bound=BaseModel)
T = TypeVar("T")
log = logging.getLogger(__name__)


class Dumped(dict):
    """A payload already in wire form; cattrs passes it through instead of walking it again
    (walking a 1,000-session listing cost more than building it). Its JSON text is kept
    once made, so a cached answer is not encoded twice."""

    _json: str | None = None

    def json(self) -> str:
        """Its JSON text, redacted (made once: a cached answer is neither encoded nor redacted twice)."""
        if self._json is None:
            self._json = redact_json(self, by_key=False, ensure_ascii=True)
        return self._json

    @classmethod
    def listing(cls, head: Dumped, key: str, items: list[Dumped]) -> Dumped:
        """`head` with `items` under `key` (its first field), whose JSON is made of the items'
        own texts: a listing of kept rows is neither encoded nor redacted again, row by row."""
        result = cls({**head, key: items})
        empty = head.json()
        assert next(iter(head)) == key and empty.startswith(f'{{"{key}": []'), "key must be head's first field, empty"
        result._json = f'{{"{key}": [' + ", ".join(item.json() for item in items) + "]" + empty[len(key) + 7 :]
        return result


class AiSessionProtocol(LanguageServerProtocol):
    """Every message out -- responses, errors, notifications, server requests -- is written
    by `_write`, after redaction (`redact_json`): the client (and an editor's trace log) never gets a
    secret, whatever a handler put in it."""

    def _send_data(self, data: Any) -> None:
        if not data or self.writer is None:
            return super()._send_data(data)
        plain = json.loads(json.dumps(data, default=self._serialize_message))
        self._write(redact_json(plain, by_key=False, ensure_ascii=True))

    def _send_response(self, msg_id: Any, result: Any = None, error: Any = None) -> None:
        if error is not None:  # written here: JSON-RPC wants "id": null when it is unknown
            self._send_data({"jsonrpc": "2.0", "id": msg_id, "error": error})
        elif isinstance(result, Dumped) and self.writer is not None:
            self._write(f'{{"jsonrpc": "2.0", "id": {json.dumps(msg_id)}, "result": {result.json()}}}')
        else:
            super()._send_response(msg_id, result, error)

    def _send_handler_result(self, future: Any, *, msg_id: Any) -> None:
        """A request's outcome, with one log line for a failure (pygls logs a traceback)."""
        self._request_futures.pop(msg_id, None)
        if future.cancelled():
            error: JsonRpcException = JsonRpcRequestCancelled(f"request {msg_id} was cancelled")
        elif (exc := future.exception()) is None:
            return self._send_response(msg_id, result=future.result())
        elif isinstance(exc, JsonRpcException):
            log.info("request %s: error %s", msg_id, exc.code)
            error = exc
        else:
            log.error("request %s failed: %s", msg_id, type(exc).__name__, exc_info=exc)
            error = JsonRpcInternalError(message=f"internal error ({type(exc).__name__}); the server log has details")
        self._send_response(msg_id, error=error.to_response_error())

    def _write(self, body: str) -> None:
        data = body.encode("utf-8")
        if self.writer is not None:
            self.writer.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)


class StoreCache:
    """Answers that depend only on what is stored, each kept until a write touches what it
    depends on: the entries of one session (its context, its row in a listing) go when that
    session is written, listings when any is. The store's change log says which sessions a
    write touched, and how, whichever process wrote; a write it cannot attribute empties the
    cache. An entry put with `grows=True` (what was read of a session's history, which its
    owner brings up to date) stays through appends to its session and goes on any other write."""

    CHANGES_READ = 1000  # more changes than this since the last look: start afresh
    MAX_ENTRIES = 20_000  # about one per session of a large store, and a few listings
    # Change kinds that only add to a session: messages appended, a run recorded. (A run is
    # final before the command message naming it is appended: see core/runs.py.)
    GROWTH = frozenset({"message", "run"})

    def __init__(self, manager: SessionManager) -> None:
        self._manager = manager
        self._version = manager.store_version()  # first: a write after it empties the cache, is never missed
        self._last_change = manager.last_change_id()
        # key -> (session it depends on, kept through appends to it, answer)
        self._entries: dict[str, tuple[str | None, bool, Any]] = {}

    def get(self, key: str, build: Callable[[], T], session: str | None = None) -> T:
        """The answer under `key`, built when missing. `session`: the one session it depends
        on; None for an answer that any write may change (a listing)."""
        found = self.lookup(key)
        if found is None:
            found = self.put(key, build(), session)
        return found

    def lookup(self, key: str) -> Any:
        self._follow_store()
        entry = self._entries.get(key)
        return None if entry is None else entry[2]

    def put(self, key: str, answer: T, session: str | None = None, *, grows: bool = False) -> T:
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (session, grows and session is not None, answer)
        return answer

    def _follow_store(self) -> None:
        version = self._manager.store_version()  # read first: a write after it makes entries stale, not lost
        if version == self._version:
            return
        self._version = version
        changes = self._manager.changes_since(self._last_change, limit=self.CHANGES_READ)
        if changes and len(changes) < self.CHANGES_READ and all(c.session_id for c in changes):
            self._last_change = changes[-1].id
            touched = {c.session_id for c in changes}
            edited = {c.session_id for c in changes if c.kind not in self.GROWTH}
            self._entries = {k: e for k, e in self._entries.items()
                             if e[0] is not None and e[0] not in edited and (e[1] or e[0] not in touched)}  # fmt: skip
        else:  # a write the log does not attribute to a session, or too many to go through
            self._entries.clear()
            self._last_change = self._manager.last_change_id()


def dump(model: BaseModel, **options: Any) -> Dumped:
    return Dumped(model.model_dump(mode="json", by_alias=True, **options))


def converter_factory():
    converter = default_converter()
    converter.register_unstructure_hook(Dumped, lambda payload: payload)
    converter.register_unstructure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, BaseModel), lambda model: dump(model)
    )

    def keep_raw_params(obj: dict[str, Any], cls: type) -> Any:
        if str(obj.get("method", "")).startswith(PREFIX):
            return cls(**obj)
        return _params_field_structure_hook(obj, cls)

    converter.register_structure_hook(JsonRPCRequestMessage, keep_raw_params)
    converter.register_structure_hook(JsonRPCNotification, keep_raw_params)
    return converter


def parse(model: type[P], raw: Any) -> P:
    try:
        return model.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in e['loc']) or 'params'}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise JsonRpcInvalidParams(message=f"invalid params: {problems}") from None


def domain_error(exc: AiSessionError) -> JsonRpcException:
    error = error_object(exc)
    return JsonRpcException(message=error["message"], code=error["code"], data=error["data"])


def request(server: AiSessionServer, method: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `fn(params) -> result` (sync or async) for a declared request method."""
    spec = REQUESTS[method]

    def register(fn: Callable[[Any], Any | Awaitable[Any]]) -> Callable[..., Any]:
        async def handler(raw: Any) -> Any:
            params = parse(spec.params, raw)
            try:
                result = fn(params)
                if inspect.isawaitable(result):
                    result = await result
            except AiSessionError as exc:
                raise domain_error(exc) from None
            return dump(result) if isinstance(result, BaseModel) else result

        server.feature(method)(handler)
        return fn

    return register
