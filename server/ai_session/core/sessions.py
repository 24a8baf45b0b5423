"""The sessions service: what the core's flows need of sessions, and nothing else.

ask, pool, stats, maintenance and the trash find sessions, change them and record messages
through this, with the store behind it; `SessionManager` is the façade adapters use over it
and the flows. Nothing outside core/ holds the store.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence

from ai_session.core.config import Config
from ai_session.core.errors import Ambiguous, Conflict, InvalidInput, NotFound
from ai_session.core.ids import new_id
from ai_session.core.interop import limits
from ai_session.core.models import Message, Session, SessionStatus, Template, utcnow
from ai_session.core.redact import redact
from ai_session.core.store import SessionFilter, SessionStore
from ai_session.core.store.codec import scrubbed
from ai_session.core.tokens import count_tokens
from ai_session.core.worktree import Worktree


class Sessions:
    def __init__(self, config: Config, store: SessionStore) -> None:
        self.config = config
        self.store = store

    # ------------------------------------------------------------------ lookup

    def resolve(self, ref: str) -> Session:
        """A live session by exact id, else exact name, else unique id prefix. A reference that
        is one session's id and another's name (a name from before names could not look like
        ids) is an error naming both: a command never acts on a session the user did not mean."""
        if not ref:
            raise InvalidInput("no session given")
        by_id = self.store.get_session(ref)
        if by_id is not None and by_id.trashed_at is not None:
            by_id = None
        by_name = self.store.get_session_by_name(ref)
        if by_id is not None and by_name is not None and by_id.id != by_name.id:
            raise Ambiguous(
                f"{ref!r} is the id of session {by_id.name} and the name of session {by_name.id}; "
                "give the id of the one you mean"
            )
        if found := by_id or by_name:
            return found
        ids = self.store.find_session_ids(ref) if ref.startswith("sess_") or len(ref) >= 4 else []
        if not ids and not ref.startswith("sess_"):
            ids = self.store.find_session_ids("sess_" + ref)
        live = [s for s in map(self.store.get_session, ids) if s is not None and s.trashed_at is None]
        if len(live) == 1:
            return live[0]
        if len(live) > 1:
            raise Ambiguous(f"{ref!r} matches {len(live)} sessions ({', '.join(s.id for s in live[:5])}); give more of the id")
        if any(s.name == ref or s.id == ref for s in self.store.list_sessions(SessionFilter(trashed=True))):
            raise NotFound(f"session {ref!r} is in the trash; `ai-session trash restore {ref}` brings it back")
        raise NotFound(f"no session named or with id {ref!r} (see `ai-session list`)")

    def find(self, ref: str) -> Session | None:
        """A live session by exact id or exact name; None when there is none (no prefixes, no
        errors; a trashed session is not found)."""
        for found in (self.store.get_session(ref), self.store.get_session_by_name(ref)):
            if found is not None and found.trashed_at is None:
                return found
        return None

    def unique_name(self, base: str) -> str:
        if not limits.SESSION_NAME.match(base) or limits.looks_like_id(base) or redact(base) != base:
            base = "session"
        name = base
        while self.store.get_session_by_name(name):
            name = f"{base}-{secrets.token_hex(2)}"
        return name

    def template(self, name: str) -> Template:
        template = self.store.get_template(name)
        if template is None:
            raise NotFound(f"no template {name!r} (see `ai-session template list`)")
        return template

    # ------------------------------------------------------------------ changes

    def check_new(self, name: str | None, *, max_tokens: int | None = None, pooled: bool = False,
                  role: str | None = None) -> None:  # fmt: skip
        """Refuse what a new session cannot be: a bad or taken name, a non-positive budget, a
        pooled session without a role."""
        if name is not None:
            limits.session_name(name, "name")
            if self.store.get_session_by_name(name):
                raise Conflict(f"a session named {name!r} already exists")
        if max_tokens is not None and max_tokens <= 0:
            raise InvalidInput("--max-tokens must be positive")
        if pooled and not role:
            raise InvalidInput("--pool needs --role: pools hold sessions per role")

    def create(
        self,
        name: str | None = None,
        *,
        agent: str | None = None,
        role: str | None = None,
        template: str | None = None,
        max_tokens: int | None = None,
        tree: Worktree | None = None,
        provider: str | None = None,
        model: str | None = None,
        system_prompt: str | None = None,
        tags: Sequence[str] = (),
        compression: bool | None = None,
        into_pool: bool = False,
    ) -> Session:
        """A new session from these options and `template` (its defaults and preloaded messages),
        bound to `tree`; `into_pool` makes a waiting pooled session of `role`."""
        self.check_new(name, max_tokens=max_tokens, pooled=into_pool, role=role)
        preload: list[Message] = []
        tpl = None
        if template:
            tpl = self.template(template)
            preload = [m.model_copy(update={"id": new_id("msg")}) for m in tpl.preload]
        session = Session(
            name=name or self.unique_name(agent or role or (tpl.name if tpl else "session")),
            agent=agent or (tpl.agent if tpl else None),
            role=role or (tpl.role if tpl else None),
            template=tpl.name if tpl else None,
            max_tokens=max_tokens or (tpl.max_tokens if tpl else self.config.max_tokens),
            worktree=tree.root if tree else None,
            branch=tree.label if tree else None,
            provider=provider or (tpl.provider if tpl else None),
            model=model or (tpl.model if tpl else None),
            system_prompt=system_prompt if system_prompt is not None else (tpl.system_prompt if tpl else None),
            tags=list(tags) or (list(tpl.tags) if tpl else []),
            status=SessionStatus.POOL if into_pool else SessionStatus.ACTIVE,
            pool=role if into_pool else None,
            metadata={} if compression is None else {"compression": compression},
        )
        return self.store.create_session(session, self.prepare(preload, session))

    def update(self, session: Session, **changes: object) -> Session:
        """Change these fields; the others stay as stored now, whatever `session` (maybe an
        older copy) holds: another window's or the session host's change is never undone."""
        return self.store.update_session_fields(session.id, changes)

    def touch(self, session: Session) -> Session:
        """Mark activity: an idle or pooled session a user works in is active again."""
        if session.status in (SessionStatus.IDLE, SessionStatus.POOL):
            return self.update(session, status=SessionStatus.ACTIVE, last_active=utcnow())
        return session

    # ------------------------------------------------------------------ messages

    def prepare(self, messages: Iterable[Message], session: Session) -> list[Message]:
        """Redact secrets and cache token counts before anything is stored. Redacted as the store
        will (`scrubbed`), with the session it will have: the store finds the record clean again
        in the redaction's memo instead of searching it twice."""
        out = []
        for m in messages:
            clean = scrubbed(m.replaced(session_id=session.id))
            content = clean.content
            tokens = m.tokens if m.tokens is not None and content == m.content else count_tokens(content, session.model)
            out.append(clean.replaced(tokens=tokens))
        return out

    def record(self, ref: str | Session, messages: Sequence[Message]) -> list[Message]:
        """Append messages to a session that has not ended (redacted, counted); it is active again."""
        session = ref if isinstance(ref, Session) else self.resolve(ref)
        if session.status is SessionStatus.ENDED:
            raise Conflict(f"session {session.name} has ended; resume is not possible, fork it instead")
        stored = self.store.append_messages(session.id, self.prepare(messages, session))
        self.touch(session)
        return stored
