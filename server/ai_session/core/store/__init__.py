"""Session stores. `open_store(url)` picks the backend from the URL."""

from __future__ import annotations

from pathlib import Path

from ai_session.core.errors import InvalidInput
from ai_session.core.store.base import (
    Damage,
    Quarantined,
    SessionAccess,
    SessionFilter,
    SessionStore,
    StorageStats,
    Totals,
)

__all__ = ["Damage", "Quarantined", "SessionAccess", "SessionFilter", "SessionStore", "StorageStats", "Totals",
           "is_postgres_url", "open_store"]  # fmt: skip


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def open_store(url: str, *, user: str | None = None) -> SessionStore:
    """`sqlite:///abs/path.db`, or a plain path, for the embedded store;
    `postgresql://...` for the team store, connecting as `user` when the URL names no role."""
    if is_postgres_url(url):
        from ai_session.core.store.postgres import PostgresStore

        return PostgresStore(url, user=user)
    if url.startswith("sqlite:///"):
        url = url[len("sqlite:///") - 1 :]
    elif "://" in url:
        raise InvalidInput(f"unknown store URL {url!r}: use sqlite:///path or a file path")
    from ai_session.core.store.sqlite import SQLiteStore

    return SQLiteStore(Path(url))
