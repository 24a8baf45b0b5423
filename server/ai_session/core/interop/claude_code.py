"""Claude Code transcripts (`~/.claude/projects/<dir>/<uuid>.jsonl`), one JSON event a line.

User and assistant turns become messages, tool uses and tool results too (role tool for
results). Claude Code writes one line per content block of an assistant message, each
repeating that message's usage, so usage is counted once per message id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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


@dataclass
class TranscriptReader:
    """Turns transcript lines into messages, a batch at a time: a whole file (an import) or
    the lines a live transcript gained since the last read (an agent's hooks).

    `seen_messages` holds the assistant message ids whose usage is already counted (usage
    is counted once per message id, whichever batch its lines come in); `seen_uuids` the
    events already imported, which are skipped. With `strict` False a bad line is skipped
    and counted instead of failing the whole batch (a live transcript keeps growing)."""

    strict: bool = True
    seen_messages: set[str] = field(default_factory=set)
    seen_uuids: set[str] = field(default_factory=set)
    session_ids: list[str] = field(default_factory=list)
    cwd: str | None = None
    branch: str | None = None
    model: str | None = None
    skipped: int = 0
    _usages: dict[str, Usage | None] = field(default_factory=dict)

    def feed(self, lines: list[str], first_number: int = 1) -> list[Message]:
        messages: list[Message] = []
        for number, line in enumerate(limits.count(lines, "lines"), start=first_number):
            if not line.strip():
                continue
            try:
                messages += self._event(line, f"line {number}", number)
            except InvalidInput:
                if self.strict:
                    raise
                self.skipped += 1
        # Usage of a message seen only as thinking blocks: it still cost tokens.
        for message_id, usage in self._usages.items():
            if message_id not in self.seen_messages and usage is not None:
                self.seen_messages.add(message_id)
                messages.append(Message(role=Role.ASSISTANT, content="", usage=usage, metadata={"message_id": message_id}))
        self._usages.clear()
        return messages

    def _event(self, line: str, where: str, number: int) -> list[Message]:
        event = limits.parse_json(line, where)
        if not isinstance(event, dict):
            raise InvalidInput(f"{where}: expected a JSON object")
        if sid := event.get("sessionId"):
            sid = limits.foreign_id(sid, f"{where}.sessionId")
            if sid not in self.session_ids:
                self.session_ids.append(sid)
        self.cwd = event.get("cwd") if isinstance(event.get("cwd"), str) else self.cwd
        self.branch = event.get("gitBranch") if isinstance(event.get("gitBranch"), str) else self.branch
        kind = event.get("type")
        uuid = event.get("uuid") if isinstance(event.get("uuid"), str) else None
        if uuid is not None and uuid in self.seen_uuids:
            return []
        at = _time(event, where)
        if kind == "summary":
            return [Message(role=Role.SYSTEM, kind=MessageKind.SUMMARY, created_at=at,
                            content=limits.text(event.get("summary", ""), f"{where}.summary"))]  # fmt: skip
        if kind not in ("user", "assistant") or event.get("isMeta"):
            self.skipped += 1
            return []
        body = event.get("message")
        if not isinstance(body, dict):
            raise InvalidInput(f"{where}: {kind} event without a message object")
        origin = {"uuid": uuid} if uuid else {}
        if uuid:
            self.seen_uuids.add(uuid)
        content = body.get("content")
        messages: list[Message] = []
        if kind == "user":
            if isinstance(content, str):
                return [Message(role=Role.USER, content=limits.text(content, where), created_at=at, metadata=origin)]
            for block in content if isinstance(content, list) else []:
                if not isinstance(block, dict):
                    continue
                if block.get("type") == "tool_result":
                    messages.append(Message(
                        role=Role.TOOL, content=_result_text(block.get("content"), f"{where}.tool_result"),
                        created_at=at,
                        metadata={**origin, "tool_use_id": block.get("tool_use_id"), "is_error": bool(block.get("is_error"))},
                    ))  # fmt: skip
                elif block.get("type") == "text":
                    messages.append(Message(role=Role.USER, content=limits.text(block.get("text", ""), where),
                                            created_at=at, metadata=origin))  # fmt: skip
            return messages
        # assistant: usage goes on the first message made from this message id, whichever line
        model, given_id = body.get("model"), body.get("id")
        self.model = model if isinstance(model, str) else self.model
        message_id = given_id if isinstance(given_id, str) else f"line-{number}"
        self._usages.setdefault(message_id, _usage(body.get("usage")))
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
            usage = self._usages[message_id] if message_id not in self.seen_messages else None
            self.seen_messages.add(message_id)
            messages.append(Message(role=Role.ASSISTANT, content=text, created_at=at, usage=usage,
                                    metadata={**meta, "message_id": message_id}))  # fmt: skip
        return messages


def from_lines(lines: list[str], default_name: str) -> ImportBundle:
    reader = TranscriptReader()
    messages = reader.feed(lines)
    if not messages:
        raise InvalidInput("no user or assistant messages found in the transcript")
    ids = reader.session_ids
    name = limits.session_name(f"claude-{ids[0][:8]}" if ids else default_name, "session name")
    session = Session(
        name=name,
        provider="claude",
        provider_sessions=ids,
        worktree=limits.path(reader.cwd, "cwd"),
        branch=limits.text(reader.branch, "gitBranch", limit=256) if reader.branch else None,
        model=reader.model,
        created_at=messages[0].created_at,
        last_active=messages[-1].created_at,
        metadata={"imported_from": "claude-code", "skipped_events": reader.skipped},
    )
    return ImportBundle(session=session, messages=messages, source="claude-code")
