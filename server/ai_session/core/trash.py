"""The trash: a deleted session is kept for a while before it is gone for good.

`delete` and `clear` move sessions here with everything they hold (history, runs,
quarantined rows); `trash restore` brings one back and `trash empty` removes them for good.
A session is removed on its own once it has been in the trash longer than
`[trash] keep_days` (30 by default; 0 deletes at once). A trashed session gives its name
up, so a new session may take it meanwhile; restoring it then needs another name.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from ai_session.core.config import Config
from ai_session.core.errors import Ambiguous, Conflict, InvalidInput, NotFound
from ai_session.core.interop import limits
from ai_session.core.models import Session, utcnow
from ai_session.core.store import SessionFilter

if TYPE_CHECKING:
    from ai_session.core.sessions import Sessions

DEFAULT_KEEP_DAYS = 30


def keep(config: Config) -> timedelta:
    """How long the trash keeps a session (`[trash] keep_days`)."""
    days = (config.sections.get("trash") or {}).get("keep_days", DEFAULT_KEEP_DAYS)
    if isinstance(days, bool) or not isinstance(days, int | float) or days < 0:
        raise InvalidInput(f"trash.keep_days must be a number of days, 0 or more (got {days!r})")
    return timedelta(days=days)


def discard(service: Sessions, sessions: Iterable[Session]) -> list[Session]:
    """Move sessions to the trash (delete them at once when it keeps nothing); then remove
    what has been there longer than it keeps."""
    keep_for = keep(service.config)
    now = utcnow()
    out = []
    for session in sessions:
        if keep_for:
            session = service.store.update_session_fields(session.id, {"trashed_at": now})
        else:
            service.store.delete_session(session.id)
        out.append(session)
    expire(service)
    return out


def expire(service: Sessions) -> list[Session]:
    """Remove for good the sessions that have been in the trash longer than it keeps them."""
    cutoff = utcnow() - keep(service.config)
    gone = service.store.list_sessions(SessionFilter(trashed=True, trashed_before=cutoff))
    for session in gone:
        service.store.delete_session(session.id)
    return gone


def listing(service: Sessions) -> list[Session]:
    """The trash, most recently trashed first."""
    expire(service)
    found = service.store.list_sessions(SessionFilter(trashed=True))
    return sorted(found, key=lambda s: s.trashed_at or s.last_active, reverse=True)


def find(service: Sessions, ref: str) -> Session:
    """A trashed session by exact id, name (several trashed sessions may share one), or id prefix."""
    if not ref:
        raise InvalidInput("no session given")
    trashed = listing(service)
    for matches in ([s for s in trashed if s.id == ref], [s for s in trashed if s.name == ref],
                    [s for s in trashed if s.id.startswith(ref if ref.startswith("sess_") else f"sess_{ref}")]):  # fmt: skip
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            which = ", ".join(f"{s.id} (trashed {s.trashed_at:%Y-%m-%d %H:%M})" for s in matches[:5])
            raise Ambiguous(f"{ref!r} matches {len(matches)} sessions in the trash: {which}; give the id")
    raise NotFound(f"no session {ref!r} in the trash (see `ai-session trash list`)")


def restore(service: Sessions, ref: str, name: str | None = None) -> Session:
    """Bring a session back from the trash, under its name or `name`."""
    session = find(service, ref)
    new_name = limits.session_name(name, "--name") if name else session.name
    if service.store.get_session_by_name(new_name):
        raise Conflict(
            f"a session named {new_name!r} exists now; restore this one under another name "
            f"(`ai-session trash restore {session.id} --name NEW`)"
        )
    return service.store.update_session_fields(session.id, {"trashed_at": None, "name": new_name})


def empty(service: Sessions, *, older_than: timedelta | None = None, ref: str | None = None,
          dry_run: bool = False) -> list[Session]:  # fmt: skip
    """Remove trashed sessions for good: one, those trashed longer ago than `older_than`, or all
    (with `dry_run`, only say which)."""
    if ref is not None:
        doomed = [find(service, ref)]
    else:
        cutoff = utcnow() - older_than if older_than is not None else None
        doomed = service.store.list_sessions(SessionFilter(trashed=True, trashed_before=cutoff))
    for session in [] if dry_run else doomed:
        service.store.delete_session(session.id)
    return doomed
