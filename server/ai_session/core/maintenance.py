"""validate / repair / optimize: find what is broken in stored sessions and fix what can be.

Problems are data, so the CLI can print them and the language server can send them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ai_session.core.models import Message, RunStatus, Session, SessionStatus
from ai_session.core.tokens import count_tokens

if TYPE_CHECKING:
    from ai_session.core.manager import SessionManager


@dataclass
class Problem:
    session_id: str | None
    what: str
    fixable: bool = True
    fixed: bool = False


def _session_problems(manager: SessionManager, session: Session, *, fix: bool) -> list[Problem]:
    store = manager.store
    problems: list[Problem] = []
    messages = store.list_messages(session.id)
    runs = {r.id: r for r in store.list_runs(session.id)}
    rewritten: dict[str, Message] = {}  # message fixes, written once at the end
    bad_tokens = [m for m in messages if m.tokens != count_tokens(m.content, session.model)]
    if bad_tokens:
        problems.append(Problem(session.id, f"{len(bad_tokens)} message(s) with a wrong token count"))
        for m in bad_tokens:
            rewritten[m.id] = m.model_copy(update={"tokens": count_tokens(m.content, session.model)})
    dangling = [m for m in messages if m.run_id and m.run_id not in runs and store.get_run(m.run_id) is None]
    if dangling:
        problems.append(Problem(session.id, f"{len(dangling)} message(s) point at a missing command run"))
        for m in dangling:
            rewritten[m.id] = rewritten.get(m.id, m).model_copy(update={"run_id": None})
    if fix and rewritten:
        store.update_messages(rewritten.values())
        for p in problems:
            p.fixed = True
    stuck = [r for r in runs.values() if r.status is RunStatus.RUNNING and not manager.is_running(r.id)]
    if stuck:
        problems.append(Problem(session.id, f"{len(stuck)} command run(s) marked running with no process behind them"))
        if fix:
            for r in stuck:
                store.save_run(r.model_copy(update={"status": RunStatus.LOST}))
            problems[-1].fixed = True
    if session.last_active < session.created_at:
        problems.append(Problem(session.id, "last activity is before creation"))
        if fix:
            store.update_session(session.model_copy(update={"last_active": session.created_at}))
            problems[-1].fixed = True
    if session.status is SessionStatus.POOL and not session.pool:
        problems.append(Problem(session.id, "pooled session without a pool role"))
        if fix:
            store.update_session(session.model_copy(update={"status": SessionStatus.IDLE}))
            problems[-1].fixed = True
    if session.max_tokens <= 0:
        problems.append(Problem(session.id, f"invalid token budget {session.max_tokens}"))
        if fix:
            store.update_session(session.model_copy(update={"max_tokens": manager.config.max_tokens}))
            problems[-1].fixed = True
    return problems


def check(manager: SessionManager, ref: str | None = None, *, fix: bool = False) -> list[Problem]:
    problems: list[Problem] = []
    if ref is None:
        for what in manager.store.integrity_problems():
            orphan = "belong to no session" in what
            problems.append(Problem(None, what, fixable=orphan))
        if fix and any(p.fixable and p.session_id is None for p in problems):
            manager.store.remove_orphans()
            for p in problems:
                if p.fixable and p.session_id is None:
                    p.fixed = True
        sessions = manager.store.list_sessions()
    else:
        sessions = [manager.resolve(ref)]
    for session in sessions:
        problems += _session_problems(manager, session, fix=fix)
    return problems
