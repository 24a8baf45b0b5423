"""Session pools: pre-created idle sessions per role, so a task starts without set-up.

A pooled session has status `pool`; acquiring one is a compare-and-set on that status, so
two processes never take the same session. Each pool counts what it did (created, taken,
retired) for `stats --pool`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ai_session.core.errors import InvalidInput, NotFound
from ai_session.core.models import PoolConfig, PoolRecord, Session, SessionStatus, utcnow
from ai_session.core.store import SessionFilter

if TYPE_CHECKING:
    from ai_session.core.sessions import Sessions


@dataclass
class PoolState:
    config: PoolRecord
    idle: int

    @property
    def reuse_rate(self) -> float | None:
        """Taken / created: how much of what the pool made went to a task (undefined before it made any)."""
        return self.config.taken / self.config.created if self.config.created else None


@dataclass
class FillReport:
    role: str
    created: list[Session]
    pool: PoolRecord
    waiting: int  # idle sessions in the pool now
    max_idle_raised_from: int | None = None  # max_idle was below what now waits, and was raised


def _pooled(service: Sessions, role: str, template: str | None = None) -> list[Session]:
    sessions = service.store.list_sessions(SessionFilter(statuses={SessionStatus.POOL}, pool=role))
    return sorted((s for s in sessions if template is None or s.template == template), key=lambda s: s.created_at)


def find(service: Sessions, role: str) -> PoolRecord | None:
    return next((p for p in service.store.list_pools() if p.role == role), None)


def _record(service: Sessions, role: str) -> PoolRecord:
    found = find(service, role)
    if found is None:
        raise NotFound(f"no pool for role {role!r} (create one with `ai-session pool set {role}`)")
    return found


def _count(service: Sessions, role: str, **increments: int) -> None:
    if any(increments.values()) and (record := find(service, role)) is not None:
        service.store.save_pool(record.model_copy(update={k: getattr(record, k) + n for k, n in increments.items()}))


def settings(service: Sessions, role: str, changes: Mapping[str, Any]) -> PoolConfig:
    """A role's pool settings with `changes` applied: to the stored pool, or else to the
    `[session_management.pool_config]` defaults. Settings not changed are kept as they are."""
    current = find(service, role)
    if current is None:
        defaults = service.config.session_management
        base = PoolConfig(role=role, min_idle=defaults.pool_min_idle, max_idle=defaults.pool_max_idle,
                          idle_timeout=defaults.pool_idle_timeout)  # fmt: skip
    else:
        base = current.config
    return base.model_copy(update={k: v for k, v in changes.items() if v is not None})


def configure(service: Sessions, config: PoolConfig) -> PoolConfig:
    if config.min_idle < 0 or config.max_idle < config.min_idle or config.idle_timeout <= 0:
        raise InvalidInput("pool needs 0 <= min_idle <= max_idle and a positive idle_timeout")
    if config.template:
        service.template(config.template)
    counts = find(service, config.role)
    service.store.save_pool(PoolRecord(**config.model_dump(), created=counts.created if counts else 0,
                                       taken=counts.taken if counts else 0,
                                       retired=counts.retired if counts else 0))  # fmt: skip
    replenish(service, config.role)
    return config


def remove(service: Sessions, role: str) -> int:
    """Delete a pool and its waiting sessions."""
    _record(service, role)
    waiting = _pooled(service, role)
    for s in waiting:
        service.store.delete_session(s.id)
    service.store.delete_pool(role)
    return len(waiting)


def status(service: Sessions) -> list[PoolState]:
    return [PoolState(config=c, idle=len(_pooled(service, c.role))) for c in service.store.list_pools()]


def _new_pooled(service: Sessions, role: str, **options: Any) -> Session:
    return service.create(f"pool-{role}-{secrets.token_hex(3)}", role=role, into_pool=True, **options)


def replenish(service: Sessions, role: str | None = None) -> dict[str, tuple[int, int]]:
    """Retire expired and surplus pooled sessions, then top up to min_idle. role -> (created, retired)."""
    report = {}
    for config in service.store.list_pools():
        if role and config.role != role:
            continue
        waiting = _pooled(service, config.role)
        expiry = utcnow() - timedelta(seconds=config.idle_timeout)
        retire = [s for s in waiting if s.last_active < expiry]
        keep = [s for s in waiting if s not in retire]
        retire += keep[config.max_idle :]
        for s in retire:
            service.store.delete_session(s.id)
        alive = len(waiting) - len(retire)
        created = max(0, config.min_idle - alive)
        for _ in range(created):
            _new_pooled(service, config.role, agent=config.agent, template=config.template)
        _count(service, config.role, created=created, retired=len(retire))
        report[config.role] = (created, len(retire))
    return report


def fill(service: Sessions, role: str, count: int, **options: Any) -> FillReport:
    """Add `count` idle sessions made with `options` (agent, template, max_tokens...) to the
    role's pool. A new pool (the configured defaults, the given agent and template) keeps
    `count` ready; refills are made with its agent and template. When more would wait than
    max_idle allows, max_idle is raised so none is retired at once."""
    if count <= 0:
        raise InvalidInput(f"--count must be positive (got {count})")
    new = find(service, role) is None
    if new:
        configure(service, settings(service, role, {"min_idle": 0, "agent": options.get("agent"),
                                                    "template": options.get("template")}))  # fmt: skip
    created = [_new_pooled(service, role, **options) for _ in range(count)]
    record = _record(service, role)
    waiting = len(_pooled(service, role))
    raised = None
    if waiting > record.max_idle:
        raised = None if new else record.max_idle
        record = record.model_copy(update={"max_idle": waiting})
    record = record.model_copy(update={"created": record.created + count, "min_idle": count if new else record.min_idle})
    service.store.save_pool(record)
    return FillReport(role, created, record, waiting, raised)


def acquire(service: Sessions, role: str, *, name: str | None = None, template: str | None = None,
            changes: Mapping[str, Any] | None = None) -> Session | None:  # fmt: skip
    """Take the oldest idle pooled session of `role` (made from `template`, when given) for a
    task, with `changes` (agent, max_tokens...) applied; None when the pool has none."""
    for candidate in _pooled(service, role, template):
        taken = candidate.model_copy(
            update={
                **(changes or {}),
                "status": SessionStatus.ACTIVE,
                "name": name or service.unique_name(f"{role}-{secrets.token_hex(2)}"),
                "last_active": utcnow(),
                "metadata": {**candidate.metadata, "acquired_from_pool": role},
            }
        )
        if service.store.update_session(taken, expected_status=SessionStatus.POOL):
            _count(service, role, taken=1)
            replenish(service, role)
            return taken
    return None
