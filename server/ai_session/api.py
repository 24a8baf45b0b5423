"""The Python library API, in ChannelCoder's `session()` shape.

    from ai_session import session

    s = session(name="auth-debug")          # attaches if it exists, else creates it
    s.add("user", "I have a null pointer error in auth.js")
    s.messages()                            # the history, oldest first
    s.save("auth-debug-2")                  # save (under a new name, or the current one)
    session.load("auth-debug"); session.list(); session.exists("x"); session.remove("x")

Auto-save is on by default: every `add` is written to the store at once. With
`auto_save=False` messages stay in memory until `save()`. `storage` is a SessionStore, a
store URL/path, or None for the configured store.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ai_session.core.config import Config
from ai_session.core.errors import NotFound
from ai_session.core.manager import SessionManager
from ai_session.core.models import Message, MessageKind, Role
from ai_session.core.models import Session as SessionRecord
from ai_session.core.store import SessionStore, open_store

Storage = SessionStore | str | Path | None


def _manager(storage: Storage) -> SessionManager:
    if isinstance(storage, SessionStore):
        return SessionManager(store=storage)
    if storage is None:
        return SessionManager()
    return SessionManager(store=open_store(str(storage)))


@dataclass
class SessionInfo:
    id: str
    name: str
    status: str
    messages: int
    last_active: str


class Session:
    """A handle on one stored session (or one not yet saved, with auto_save off)."""

    def __init__(self, manager: SessionManager, record: SessionRecord | None, *, name: str | None, auto_save: bool, **create: object) -> None:
        self._manager = manager
        self._record = record
        self._name = name
        self._create = create
        self._pending: list[Message] = []
        self.auto_save = auto_save
        if record is None and auto_save:
            self._persist(name)

    def _persist(self, name: str | None) -> SessionRecord:
        if self._record is None:
            self._record = self._manager.create(name, **self._create)  # type: ignore[arg-type]
        if self._pending:
            self._manager.add_messages(self._record, self._pending)
            self._pending = []
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

    def add(self, role: Role | str, content: str, *, kind: MessageKind | str = MessageKind.CHAT, pinned: bool = False) -> Message:
        message = Message(role=Role(role), content=content, kind=MessageKind(kind), pinned=pinned)
        if self.auto_save and self._record is not None:
            return self._manager.add_messages(self._record, [message])[0]
        self._pending.append(message)
        return message

    def messages(self) -> list[Message]:
        stored = self._manager.messages(self._record) if self._record else []
        return stored + list(self._pending)

    def save(self, name: str | None = None) -> str:
        """Write everything to the store; with `name`, under that name. Returns the name."""
        record = self._persist(name or self._name)
        if name and record.name != name:
            record = self._manager.rename(record.id, name)
            self._record = record
        return record.name

    def clear(self) -> None:
        """Forget the history (pinned messages are kept)."""
        self._pending = []
        if self._record:
            self._manager.clear_history(self._record.id)

    def close(self) -> None:
        self._manager.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.auto_save and self._pending and exc[0] is None:
            self.save()
        self.close()

    def __repr__(self) -> str:
        return f"<ai_session.Session {self.name or '(unsaved)'} {self.id() or ''}>".replace(" >", ">")


class _SessionFactory:
    """`session(...)` makes or attaches a session; `session.load/list/exists/remove` manage them."""

    def __call__(self, name: str | None = None, *, storage: Storage = None, auto_save: bool = True,
                 agent: str | None = None, role: str | None = None, template: str | None = None,
                 max_tokens: int | None = None) -> Session:
        manager = _manager(storage)
        record = manager.find(name) if name else None
        return Session(manager, record, name=name, auto_save=auto_save,
                       agent=agent, role=role, template=template, max_tokens=max_tokens)

    def load(self, name: str, *, storage: Storage = None, auto_save: bool = True) -> Session:
        manager = _manager(storage)
        try:
            record = manager.resolve(name)
        except NotFound:
            manager.close()
            raise
        return Session(manager, record, name=record.name, auto_save=auto_save)

    def list(self, *, storage: Storage = None) -> list[SessionInfo]:
        manager = _manager(storage)
        try:
            sessions = manager.list()
            totals = manager.totals(sessions)
            return [SessionInfo(s.id, s.name, s.status.value, totals[s.id].messages if s.id in totals else 0,
                                s.last_active.isoformat()) for s in sessions]
        finally:
            manager.close()

    def exists(self, name: str, *, storage: Storage = None) -> bool:
        manager = _manager(storage)
        try:
            return manager.exists(name)
        finally:
            manager.close()

    def remove(self, name: str, *, storage: Storage = None) -> None:
        manager = _manager(storage)
        try:
            manager.delete(name)
        finally:
            manager.close()


session = _SessionFactory()

__all__ = ["Config", "Session", "SessionInfo", "session"]
