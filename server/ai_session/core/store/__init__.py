"""Session stores. `open_store(url)` picks the backend from the URL."""

from __future__ import annotations

from pathlib import Path

from ai_session.core.errors import InvalidInput
from ai_session.core.store.base import SessionFilter, SessionStore, Totals

__all__ = ["SessionFilter", "SessionStore", "Totals", "open_store"]


def open_store(url: str) -> SessionStore:
    """`sqlite:///abs/path.db`, or a plain path, for the embedded store."""
    if url.startswith(("postgresql://", "postgres://")):
        raise InvalidInput("the PostgreSQL team store is not available in this version")
    if url.startswith("sqlite:///"):
        url = url[len("sqlite:///") - 1 :]
    elif "://" in url:
        raise InvalidInput(f"unknown store URL {url!r}: use sqlite:///path or a file path")
    from ai_session.core.store.sqlite import SQLiteStore

    return SQLiteStore(Path(url))
