"""Claude Code transcripts (`~/.claude/projects/<dir>/<uuid>.jsonl`), one JSON event a line.

User and assistant turns become messages, tool uses and tool results too (role tool for
results). Claude Code writes one line per content block of an assistant message, each
repeating that message's usage, so usage is counted once per message id.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ai_session.core.errors import InvalidInput
from ai_session.core.interop import ImportBundle, limits
from ai_session.core.models import Message, MessageKind, Role, Session, Usage, utcnow


def looks_claude_code(first_line: Any) -> bool:
    return isinstance(first_line, dict) and "type" in first_line and (
        "sessionId" in first_line or "message" in first_line or first_line.get("type") == "summary"
    )


def _time(event: dict[str, Any], where: str) -> datetime:
    value = event.get("timestamp")
    if not value:
        return utcnow()
    try:
        return datetime.fromisoformat(limits.text(value, where, limit=64).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{where}: bad timestamp {value!r}") from None


def _result_text(content: Any, where: str) -> str:
    if isinstance(content, str):
        return limits.text(content, where)
    if isinstance(content, list):
        parts = [b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text"]
        return limits.text("\n".join(p for p in parts if isinstance(p, str)), where)
    return ""


def _usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None

    def n(key: str) -> int:
        value = raw.get(key, 0)
        return value if isinstance(value, int) and value >= 0 else 0

    return Usage(
        input_tokens=n("input_tokens"),
        output_tokens=n("output_tokens"),
        cache_read_tokens=n("cache_read_input_tokens"),
        cache_write_tokens=n("cache_creation_input_tokens"),
        reported=True,
    )


def from_lines(lines: list[str], default_name: str) -> ImportBundle:
    messages: list[Message] = []
    usages: dict[str, Usage | None] = {}
    emitted: set[str] = set()
    session_ids: list[str] = []
    cwd = branch = model = None
    skipped = 0
    for number, line in enumerate(limits.count(lines, "lines"), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        event = limits.parse_json(line, where)
        if not isinstance(event, dict):
            raise InvalidInput(f"{where}: expected a JSON object")
        if sid := event.get("sessionId"):
            sid = limits.foreign_id(sid, f"{where}.sessionId")
            if sid not in session_ids:
                session_ids.append(sid)
        cwd = event.get("cwd") if isinstance(event.get("cwd"), str) else cwd
        branch = event.get("gitBranch") if isinstance(event.get("gitBranch"), str) else branch
        kind = event.get("type")
        at = _time(event, where)
        if kind == "summary":
            messages.append(
                Message(role=Role.SYSTEM, kind=MessageKind.SUMMARY, created_at=at,
                        content=limits.text(event.get("summary", ""), f"{where}.summary"))
            )
            continue
        if kind not in ("user", "assistant") or event.get("isMeta"):
            skipped += 1
            continue
        body = event.get("message")
        if not isinstance(body, dict):
            raise InvalidInput(f"{where}: {kind} event without a message object")
        origin = {"uuid": event.get("uuid")} if isinstance(event.get("uuid"), str) else {}
        content = body.get("content")
        if kind == "user":
            if isinstance(content, str):
                messages.append(Message(role=Role.USER, content=limits.text(content, where), created_at=at, metadata=origin))
                continue
            for block in content if isinstance(content, list) else []:
                if not isinstance(block, dict):
                    continue
                if block.get("type") == "tool_result":
                    messages.append(
                        Message(
                            role=Role.TOOL,
                            content=_result_text(block.get("content"), f"{where}.tool_result"),
                            created_at=at,
                            metadata={**origin, "tool_use_id": block.get("tool_use_id"), "is_error": bool(block.get("is_error"))},
                        )
                    )
                elif block.get("type") == "text":
                    messages.append(Message(role=Role.USER, content=limits.text(block.get("text", ""), where), created_at=at, metadata=origin))
            continue
        # assistant: usage goes on the first message made from this message id, whichever line
        model = body.get("model") if isinstance(body.get("model"), str) else model
        message_id: str = body["id"] if isinstance(body.get("id"), str) else f"line-{number}"
        usages.setdefault(message_id, _usage(body.get("usage")))
        for block in content if isinstance(content, list) else [{"type": "text", "text": content or ""}]:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text":
                text = limits.text(block.get("text", ""), where)
                meta = dict(origin)
            elif block.get("type") == "tool_use":
                name = block.get("name", "tool")
                text = limits.text(f"[tool_use {name}] {json.dumps(block.get('input', {}), ensure_ascii=False)}", where)
                meta = {**origin, "tool_use_id": block.get("id"), "tool": name}
            else:
                continue  # thinking blocks are the model's scratchpad, not conversation
            usage = usages[message_id] if message_id not in emitted else None
            emitted.add(message_id)
            messages.append(Message(role=Role.ASSISTANT, content=text, created_at=at, usage=usage, metadata=meta))
    for message_id, usage in usages.items():
        if message_id not in emitted and usage is not None:  # only thinking, but it still cost tokens
            messages.append(Message(role=Role.ASSISTANT, content="", usage=usage, metadata={"message_id": message_id}))
    if not messages:
        raise InvalidInput("no user or assistant messages found in the transcript")
    name = limits.session_name(f"claude-{session_ids[0][:8]}" if session_ids else default_name, "session name")
    session = Session(
        name=name,
        provider="claude",
        provider_sessions=session_ids,
        worktree=limits.path(cwd, "cwd"),
        branch=limits.text(branch, "gitBranch", limit=256) if branch else None,
        model=model,
        created_at=messages[0].created_at,
        last_active=messages[-1].created_at,
        metadata={"imported_from": "claude-code", "skipped_events": skipped},
    )
    return ImportBundle(session=session, messages=messages, source="claude-code")
