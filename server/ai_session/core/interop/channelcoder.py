"""ChannelCoder session files: its `SessionState` ({sessionChain, currentSessionId, messages,
metadata}) and the simpler {id, messages, metadata} shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ai_session.core.errors import InvalidInput
from ai_session.core.interop import ImportBundle, limits
from ai_session.core.models import Message, Role, Session, utcnow


def to_document(session: Session, messages: list[Message]) -> dict[str, Any]:
    """A session as ChannelCoder's `SessionState` (what its storage adapters save and load)."""
    chain = list(session.provider_sessions)
    return {
        "sessionChain": chain,
        "currentSessionId": chain[-1] if chain else None,
        "messages": [{"role": m.role.value, "content": m.content, "timestamp": m.created_at.isoformat(),
                      **({"sessionId": m.metadata["provider_session"]} if m.metadata.get("provider_session") else {})}
                     for m in messages],
        "metadata": {"name": session.name, "created": session.created_at.isoformat(),
                     "lastActive": session.last_active.isoformat(),
                     **({"provider": session.provider} if session.provider else {}),
                     **({"model": session.model} if session.model else {})},
    }  # fmt: skip


def _provider(value: Any) -> str:
    """ChannelCoder drives Claude Code; a state we wrote may name another provider."""
    from ai_session.core.providers import PROVIDERS

    if value is None:
        return "claude"
    if value not in PROVIDERS:
        raise InvalidInput(f"metadata.provider: {value!r} is not one of {', '.join(PROVIDERS)}")
    return str(value)


def looks_channelcoder(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("messages"), list) and (
        "sessionChain" in doc or "metadata" in doc or "id" in doc
    )


def _time(value: Any, where: str) -> datetime:
    if value is None:
        return utcnow()
    try:
        stamp = datetime.fromisoformat(limits.text(value, where, limit=64).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{where}: {value!r} is not an ISO timestamp") from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=utcnow().tzinfo)


def from_document(doc: Any, default_name: str) -> ImportBundle:
    if not looks_channelcoder(doc):
        raise InvalidInput("not a ChannelCoder session (expected an object with messages[])")
    meta = doc.get("metadata") or {}
    if not isinstance(meta, dict):
        raise InvalidInput("metadata: expected an object")
    chain = doc.get("sessionChain") or ([doc["id"]] if doc.get("id") else [])
    if not isinstance(chain, list):
        raise InvalidInput("sessionChain: expected a list")
    chain = [limits.foreign_id(c, "sessionChain[]") for c in chain]
    name = limits.session_name(meta.get("name") or default_name, "metadata.name", id_like=True)
    session = Session(
        name=name,
        provider=_provider(meta.get("provider")),
        model=limits.text(meta["model"], "metadata.model", limit=256) if meta.get("model") else None,
        provider_sessions=chain,
        created_at=_time(meta.get("created"), "metadata.created"),
        last_active=_time(meta.get("lastActive"), "metadata.lastActive"),
        metadata={"imported_from": "channelcoder"},
    )
    messages = []
    for i, raw in enumerate(limits.count(doc["messages"], "messages")):
        if not isinstance(raw, dict):
            raise InvalidInput(f"messages[{i}]: expected an object")
        role = raw.get("role")
        if role not in {r.value for r in Role}:
            raise InvalidInput(f"messages[{i}].role: {role!r} is not user/assistant/system/tool")
        extra = {}
        if raw.get("sessionId"):
            extra["provider_session"] = limits.foreign_id(raw["sessionId"], f"messages[{i}].sessionId")
        messages.append(
            Message(
                role=Role(role),
                content=limits.text(raw.get("content", ""), f"messages[{i}].content"),
                created_at=_time(raw.get("timestamp"), f"messages[{i}].timestamp"),
                metadata=extra,
            )
        )
    return ImportBundle(session=session, messages=messages, source="channelcoder")
