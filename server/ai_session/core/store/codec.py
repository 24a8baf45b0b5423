"""Row encoding both backends share: text checks and a message's `extra` JSON column."""

from __future__ import annotations

import json
from typing import Any

from ai_session.core.errors import InvalidInput
from ai_session.core.models import Message, Usage
from ai_session.core.store.base import SessionFilter


def utf8_text(text: str, what: str) -> str:
    """Text a store can hold: valid Unicode (no lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{what} is not valid Unicode (lone surrogate)") from None
    return text


def extra_json(m: Message) -> str | None:
    """A message's optional fields as one JSON text (None when it has none)."""
    extra: dict[str, Any] = {}
    if m.covers is not None:
        extra["covers"] = list(m.covers)
    if m.usage is not None:
        extra["usage"] = m.usage.model_dump()
    if m.metadata:
        extra["metadata"] = m.metadata
    return json.dumps(extra) if extra else None


def extra_fields(text: str | None) -> dict[str, Any]:
    """The keyword arguments `extra_json` stored, ready for `Message.model_construct`."""
    extra = json.loads(text) if text else {}
    return {
        "covers": tuple(extra["covers"]) if "covers" in extra else None,
        "usage": Usage(**extra["usage"]) if "usage" in extra else None,
        "metadata": extra.get("metadata", {}),
    }


def session_filter_sql(f: SessionFilter, mark: str, ts: Any) -> tuple[str, list[Any]]:
    """The WHERE clause (or "") for a SessionFilter; `mark` is the driver's placeholder
    (? or %s) and `ts` how the backend writes timestamps."""
    where: list[str] = []
    params: list[Any] = []
    if f.statuses:
        where.append(f"status IN ({', '.join([mark] * len(f.statuses))})")
        params += sorted(s.value for s in f.statuses)
    for column in ("agent", "role", "worktree", "branch", "pool"):
        if (value := getattr(f, column)) is not None:
            where.append(f"{column} = {mark}")
            params.append(value)
    if f.inactive_before is not None:
        where.append(f"last_active < {mark}")
        params.append(ts(f.inactive_before))
    return (" WHERE " + " AND ".join(where)) if where else "", params
