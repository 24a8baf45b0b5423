"""The Python library API, in ChannelCoder's `session()` shape.

    from ai_session import session

    s = session(name="auth-debug", provider="openai")   # attaches if it exists, else creates it
    s.add("user", "I have a null pointer error in auth.js")
    answer = s.ask("Where does it come from?")           # the answer text (stored with the prompt)
    for chunk in s.stream("And the fix?"): print(chunk, end="")
    s.messages(); s.id(); s.save("auth-debug-v1")        # a named copy at this point
    session.load("auth-debug"); session.list(); session.exists("x"); session.remove("x")

Auto-save is on by default: every `add` is written at once. With `auto_save=False` messages
stay in memory until `save()` (or until `ask`, which needs the stored history).

`storage` is where sessions live: None (the configured store), a SessionStore, a store URL or
path, or any object with ChannelCoder's three storage methods, `save(state, name) -> str`,
`load(name) -> state` and `list() -> [info]`, with `state` in ChannelCoder's JSON shape
(`{sessionChain, currentSessionId, messages, metadata}`): its Redis, S3 or database adapters
plug in unchanged. With such an object, the session works in a private scratch store and
`save()` (and every `add`, with auto-save) writes its state through the object.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncGenerator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, Self, cast, runtime_checkable

from ai_session.core.config import Config
from ai_session.core.errors import InvalidInput, NotFound
from ai_session.core.manager import SessionManager
from ai_session.core.models import Message, MessageKind, Role
from ai_session.core.models import Session as SessionRecord
from ai_session.core.store import SessionStore, open_store


@runtime_checkable
class StateStorage(Protocol):
    """ChannelCoder's storage adapter: sessions kept as JSON state, by name."""

    def save(self, state: dict[str, Any], name: str) -> str: ...

    def load(self, name: str) -> dict[str, Any]: ...

    def list(self) -> list[Any]: ...


Storage = SessionStore | StateStorage | str | Path | None


@dataclass
class SessionInfo:
    name: str
    path: str  # the store's URL, or where a storage adapter saved it
    created: datetime | None
    last_active: datetime | None
    message_count: int
    id: str | None = None
    status: str | None = None

    @property
    def messages(self) -> int:
        return self.message_count


class _Backend:
    """Where a handle's sessions live: a store (with its manager), or a state adapter over a scratch store."""

    def __init__(self, storage: Storage) -> None:
        self.adapter: StateStorage | None = None
        self._scratch: str | None = None
        if isinstance(storage, SessionStore):
            self.manager = SessionManager(store=storage)
        elif storage is None:
            self.manager = SessionManager()
        elif isinstance(storage, (str, Path)):
            self.manager = SessionManager(store=open_store(str(storage)))
        elif isinstance(storage, StateStorage):
            self.adapter = storage
            self._scratch = tempfile.mkdtemp(prefix="ai-session-")
            self.manager = SessionManager(Config.load(), store=open_store(str(Path(self._scratch) / "scratch.db")))
        else:
            raise InvalidInput("storage must be a SessionStore, a store URL or path, or an object with "
                               "save(state, name), load(name) and list()")  # fmt: skip

    def write_state(self, record: SessionRecord, name: str) -> str:
        from ai_session.core.interop import channelcoder

        assert self.adapter is not None
        state = channelcoder.to_document(record.model_copy(update={"name": name}), self.manager.messages(record))
        return str(self.adapter.save(state, name))

    def read_state(self, name: str) -> SessionRecord:
        assert self.adapter is not None
        state = self.adapter.load(name)
        if state is None:
            raise NotFound(f"no session {name!r} in {type(self.adapter).__name__}")
        data = self.manager.import_data(_json_bytes(state), "channelcoder", where=f"state of {name!r}", file_name=name)
        return data[0]

    def close(self) -> None:
        self.manager.close()
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)


def _json_bytes(state: Any) -> bytes:
    """An adapter's state as import bytes: adapters may hand back the JSON text or the parsed object."""
    import json

    if isinstance(state, bytes):
        return state
    return (state if isinstance(state, str) else json.dumps(state)).encode()


class Session:
    """A handle on one stored session (or one not yet saved, with auto_save off)."""

    def __init__(self, backend: _Backend, record: SessionRecord | None, *, name: str | None, auto_save: bool,
                 **create: Any) -> None:  # fmt: skip
        self._backend = backend
        self._manager = backend.manager
        self._record = record
        self._name = name
        self._create = create
        self._pending: list[Message] = []
        self._saved_at: str | None = None
        self.auto_save = auto_save
        if record is None and auto_save:
            self._persist()

    # ------------------------------------------------------------------ the stored session

    def _persist(self) -> SessionRecord:
        if self._record is None:
            if self._name and self._backend.adapter is None and (old := self._manager.find(self._name)):
                self._manager.delete(old.id)  # saving under a name updates what is stored under it
            self._record = self._manager.create(self._name, **self._create)
        if self._pending:
            self._manager.add_messages(self._record, self._pending)
            self._pending = []
        if self._backend.adapter is not None:
            self._saved_at = self._backend.write_state(self._manager.resolve(self._record.id), self._record.name)
        return self._record

    def id(self) -> str | None:
        return self._record.id if self._record else None

    @property
    def name(self) -> str | None:
        return self._record.name if self._record else self._name

    @property
    def record(self) -> SessionRecord | None:
        """The stored session (fresh from the store)."""
        return self._manager.resolve(self._record.id) if self._record else None

    def add(self, role: Role | str, content: str, *, kind: MessageKind | str = MessageKind.CHAT,
            pinned: bool = False) -> Message:  # fmt: skip
        message = Message(role=Role(role), content=content, kind=MessageKind(kind), pinned=pinned)
        self._pending.append(message)
        if self.auto_save:
            return self._manager.messages(self._persist(), last=1)[0]
        return message

    def messages(self) -> list[Message]:
        stored = self._manager.messages(self._record) if self._record else []
        return stored + list(self._pending)

    def save(self, name: str | None = None) -> str:
        """Store everything; returns the name. With another `name`, the session stored under that
        name becomes a copy of this one as it is now (saved again, it is updated), and this handle
        goes on in its own session, as a file saved under a new name."""
        if self._record is None and name:
            self._name = name
        record = self._persist()
        if not name or name == record.name:
            return record.name
        if self._backend.adapter is not None:
            self._saved_at = self._backend.write_state(self._manager.resolve(record.id), name)
            return name
        self._manager.checkpoint(record, name, replace=True)
        return name

    def clear(self) -> None:
        """Forget the history (pinned messages are kept)."""
        self._pending = []
        if self._record:
            self._manager.clear_history(self._record.id)
            if self._backend.adapter is not None and self.auto_save:
                self._persist()

    # ------------------------------------------------------------------ talking to the model

    def stream(self, prompt: str, **options: Any) -> Iterator[str]:
        """The answer's text as it arrives; the prompt and the answer are stored when it ends."""
        import asyncio

        from ai_session.core.providers import TextDelta

        record = self._persist()
        events = cast(AsyncGenerator[Any, None], self._manager.ask(record, prompt, **options))
        loop = asyncio.new_event_loop()
        try:
            while True:
                try:
                    event = loop.run_until_complete(events.__anext__())
                except StopAsyncIteration:
                    break
                if isinstance(event, TextDelta):
                    yield event.text
        finally:
            loop.run_until_complete(events.aclose())
            loop.close()
        if self._backend.adapter is not None and self.auto_save:
            self._persist()

    def ask(self, prompt: str, **options: Any) -> str:
        """Send `prompt` with the session's context; the answer text (both are stored)."""
        return "".join(self.stream(prompt, **options))

    def __getattr__(self, attribute: str) -> Callable[..., str]:
        # ChannelCoder calls its model `s.claude(prompt)`: the same as `ask` on a claude session.
        if attribute == "claude" and (self._create.get("provider") or (self.record and self.record.provider)) == "claude":
            return self.ask
        raise AttributeError(attribute)

    def interactive(self) -> int:
        """The interactive REPL (`ai-session interactive`) on this session."""
        from ai_session.cli.repl import Repl

        return Repl(self._manager, self._persist().id).run()

    # ------------------------------------------------------------------ lifetime

    def info(self) -> SessionInfo:
        record = self._persist() if self._record is None else self.record
        assert record is not None
        count = len(self._manager.messages(record))
        return SessionInfo(record.name, self._saved_at or self._manager.store_url, record.created_at,
                           record.last_active, count, record.id, record.status.value)  # fmt: skip

    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.auto_save and self._pending and exc[0] is None:
            self.save()
        self.close()

    def __repr__(self) -> str:
        return f"<ai_session.Session {self.name or '(unsaved)'} {self.id() or ''}>".replace(" >", ">")


def _info(item: Any, where: str) -> SessionInfo:
    """An adapter's list() entry as a SessionInfo (it may give names, dicts or info objects)."""
    if isinstance(item, SessionInfo):
        return item
    if isinstance(item, str):
        return SessionInfo(item, where, None, None, 0)
    get = item.get if isinstance(item, dict) else lambda key, default=None: getattr(item, key, default)

    def when(value: Any) -> datetime | None:
        return datetime.fromisoformat(value) if isinstance(value, str) else value

    return SessionInfo(str(get("name")), str(get("path") or where), when(get("created")),
                       when(get("last_active", get("lastActive"))),
                       int(get("message_count", get("messageCount", get("messages", 0))) or 0))  # fmt: skip


class _SessionFactory:
    """`session(...)` makes or attaches a session; `session.load/list/exists/remove` manage them."""

    def __call__(self, name: str | None = None, *, provider: str | None = None, worktree: str | Path | None = None,
                 auto_save: bool = True, storage: Storage = None, agent: str | None = None, role: str | None = None,
                 template: str | None = None, model: str | None = None, max_tokens: int | None = None) -> Session:
        backend = _Backend(storage)
        record = None
        if name:
            if backend.adapter is not None:
                record = backend.read_state(name) if name in {i.name for i in self._adapter_list(backend)} else None
            else:
                record = backend.manager.find(name)
        return Session(backend, record, name=name, auto_save=auto_save, provider=provider,
                       worktree=str(worktree) if worktree else None, agent=agent, role=role, template=template,
                       model=model, max_tokens=max_tokens)  # fmt: skip

    @staticmethod
    def _adapter_list(backend: _Backend) -> list[SessionInfo]:
        assert backend.adapter is not None
        return [_info(item, type(backend.adapter).__name__) for item in backend.adapter.list()]

    def load(self, name: str, *, storage: Storage = None, auto_save: bool = True) -> Session:
        backend = _Backend(storage)
        try:
            record = backend.read_state(name) if backend.adapter is not None else backend.manager.resolve(name)
        except BaseException:
            backend.close()
            raise
        return Session(backend, record, name=name if backend.adapter is not None else record.name, auto_save=auto_save)

    def list(self, *, storage: Storage = None) -> list[SessionInfo]:
        backend = _Backend(storage)
        try:
            if backend.adapter is not None:
                return self._adapter_list(backend)
            m = backend.manager
            sessions = m.list()
            totals = m.totals(sessions)
            return [SessionInfo(s.name, m.store_url, s.created_at, s.last_active,
                                totals[s.id].messages if s.id in totals else 0, s.id, s.status.value)
                    for s in sessions]  # fmt: skip
        finally:
            backend.close()

    def exists(self, name: str, *, storage: Storage = None) -> bool:
        backend = _Backend(storage)
        try:
            if backend.adapter is not None:
                return name in {i.name for i in self._adapter_list(backend)}
            return backend.manager.exists(name)
        finally:
            backend.close()

    def remove(self, name: str, *, storage: Storage = None) -> None:
        backend = _Backend(storage)
        try:
            if backend.adapter is None:
                backend.manager.delete(name)
                return
            remove = getattr(backend.adapter, "delete", None) or getattr(backend.adapter, "remove", None)
            if remove is None:
                raise InvalidInput(f"{type(backend.adapter).__name__} has no delete(name) or remove(name): "
                                   "it cannot remove sessions")  # fmt: skip
            remove(name)
        finally:
            backend.close()


session = _SessionFactory()

__all__ = ["Config", "Session", "SessionInfo", "StateStorage", "session"]
