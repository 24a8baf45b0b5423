"""Session pools: pre-created idle sessions per role, so a task starts without set-up.

A pooled session has status `pool`; acquiring one is a compare-and-set on that status, so
two processes never take the same session.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from ai_session.core.errors import NotFound
from ai_session.core.models import PoolConfig, Session, SessionStatus, utcnow
from ai_session.core.store import SessionFilter

if TYPE_CHECKING:
    from ai_session.core.manager import SessionManager


@dataclass
class PoolState:
    config: PoolConfig
    idle: int


def _pooled(manager: SessionManager, role: str) -> list[Session]:
    sessions = manager.store.list_sessions(SessionFilter(statuses={SessionStatus.POOL}, pool=role))
    return sorted(sessions, key=lambda s: s.created_at)


def _config(manager: SessionManager, role: str) -> PoolConfig:
    for config in manager.store.list_pools():
        if config.role == role:
            return config
    raise NotFound(f"no pool for role {role!r} (create one with `ai-session pool set {role}`)")


def configure(manager: SessionManager, config: PoolConfig) -> PoolConfig:
    if config.min_idle < 0 or config.max_idle < config.min_idle or config.idle_timeout <= 0:
        from ai_session.core.errors import InvalidInput

        raise InvalidInput("pool needs 0 <= min_idle <= max_idle and a positive idle_timeout")
    if config.template:
        manager.get_template(config.template)
    manager.store.save_pool(config)
    replenish(manager, config.role)
    return config


def remove(manager: SessionManager, role: str) -> int:
    """Delete a pool and its waiting sessions."""
    _config(manager, role)
    waiting = _pooled(manager, role)
    for s in waiting:
        manager.store.delete_session(s.id)
    manager.store.delete_pool(role)
    return len(waiting)


def status(manager: SessionManager) -> list[PoolState]:
    return [PoolState(config=c, idle=len(_pooled(manager, c.role))) for c in manager.store.list_pools()]


def replenish(manager: SessionManager, role: str | None = None) -> dict[str, tuple[int, int]]:
    """Retire expired and surplus pooled sessions, then top up to min_idle. role -> (created, retired)."""
    report = {}
    for config in manager.store.list_pools():
        if role and config.role != role:
            continue
        waiting = _pooled(manager, config.role)
        expiry = utcnow() - timedelta(seconds=config.idle_timeout)
        retire = [s for s in waiting if s.last_active < expiry]
        keep = [s for s in waiting if s not in retire]
        retire += keep[config.max_idle :]
        for s in retire:
            manager.store.delete_session(s.id)
        alive = len(waiting) - len(retire)
        created = 0
        for _ in range(max(0, config.min_idle - alive)):
            session = manager.create(
                f"pool-{config.role}-{secrets.token_hex(3)}",
                agent=config.agent,
                role=config.role,
                template=config.template,
            )
            manager.store.update_session(session.model_copy(update={"status": SessionStatus.POOL, "pool": config.role}))
            created += 1
        report[config.role] = (created, len(retire))
    return report


def acquire(manager: SessionManager, role: str, *, name: str | None = None) -> Session | None:
    """Take the oldest idle pooled session of `role` for a task, or None when the pool is empty."""
    for candidate in _pooled(manager, role):
        taken = candidate.model_copy(
            update={
                "status": SessionStatus.ACTIVE,
                "name": name or manager.unique_name(f"{role}-{secrets.token_hex(2)}"),
                "last_active": utcnow(),
                "metadata": {**candidate.metadata, "acquired_from_pool": role},
            }
        )
        if manager.store.update_session(taken, expected_status=SessionStatus.POOL):
            replenish(manager, role)
            return taken
    return None
