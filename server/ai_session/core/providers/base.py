"""The one interface every AI provider implements: a request in, a stream of events out.

A provider gets the context already assembled (the session layer decides what the model
sees under the token budget) and streams the answer back as `TextDelta`s, optional
`Notice`s (a rate-limit retry, a conversation that could not be resumed), and exactly one
final `Completion` carrying the full text, the usage and the provider-side conversation
to store with the session.

Usage convention (the Anthropic one, used for every provider so costs add up):
`input_tokens` excludes cached input; the whole prompt is
`input_tokens + cache_read_tokens + cache_write_tokens`.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from ai_session.core.errors import ProviderError
from ai_session.core.models import Usage
from ai_session.core.tokens import count_tokens

ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class ChatMessage:
    role: str  # system | user | assistant ("tool" is accepted and sent as user text)
    content: str


@dataclass(frozen=True)
class Conversation:
    """A provider-side conversation (Claude Code session) and the cwd it belongs to.

    Claude Code files conversations under the project directory they ran in, so a
    resume must run in that same directory: the cwd is part of the identity.
    """

    id: str
    cwd: str | None = None

    def encode(self) -> str:
        """One string for `Session.provider_sessions`."""
        return json.dumps({"id": self.id, "cwd": self.cwd}, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str) -> Conversation:
        """Inverse of `encode`; a bare id (older rows, imports) has no cwd."""
        text = text.strip()
        if text.startswith("{"):
            try:
                data = json.loads(text)
                return cls(id=str(data["id"]), cwd=data.get("cwd"))
            except (ValueError, KeyError, TypeError):
                pass
        return cls(id=text)


@dataclass
class ChatRequest:
    # The assembled context, oldest first. The last message is the new user turn.
    messages: list[ChatMessage]
    system: str | None = None
    model: str | None = None  # None: the provider's configured default
    max_output_tokens: int | None = None
    # The provider conversation stored with the session (claude); None starts one.
    conversation: Conversation | None = None
    cwd: str | None = None  # the session's working directory
    # What to send to a provider that keeps its own history when it resumes: the new
    # turn plus anything that happened since the last one (command runs). Default: the
    # content of the last message.
    new_turn: str | None = None

    def turn_text(self) -> str:
        if self.new_turn is not None:
            return self.new_turn
        return self.messages[-1].content if self.messages else ""

    def validate(self) -> None:
        if not self.messages:
            raise ProviderError("nothing to send: the request has no messages")
        for message in self.messages:
            if message.role not in (*ROLES, "tool"):
                raise ProviderError(f"unknown message role {message.role!r} (use system, user or assistant)")


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Notice:
    """Something the user should see while waiting (a retry), not part of the answer."""

    message: str


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage
    model: str | None = None
    conversation: Conversation | None = None  # store this with the session
    # Set when a stored conversation could not be resumed and a fresh one was started.
    note: str | None = None
    stop_reason: str | None = None
    notices: tuple[str, ...] = field(default=())


StreamEvent = TextDelta | Notice | Completion


class Provider(ABC):
    name: str = ""
    # True when the provider keeps the conversation itself (claude): on resume it only
    # needs `ChatRequest.turn_text()`, not the whole assembled context.
    keeps_conversation: bool = False

    @property
    def default_model(self) -> str | None:
        """The model a request that names none gets (None when only the provider's service knows)."""
        return None

    @abstractmethod
    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Text deltas and notices, then exactly one `Completion`. Raises ProviderError."""

    async def complete(self, request: ChatRequest) -> Completion:
        """The whole answer, for callers that do not stream (the summarizer)."""
        final: Completion | None = None
        async for event in self.stream(request):
            if isinstance(event, Completion):
                final = event
        if final is None:  # a provider bug, not a user error; say so plainly
            raise ProviderError(f"{self.name}: the answer ended without a final event")
        return final


def wire_messages(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """Messages as chat APIs accept them: tool output becomes user text, empty ones go."""
    out: list[ChatMessage] = []
    for message in messages:
        role = "user" if message.role == "tool" else message.role
        if message.content == "":
            continue
        out.append(ChatMessage(role, message.content))
    return out


def estimated_usage(request: ChatRequest, answer: str) -> Usage:
    """Our own cl100k count, for servers that report no usage (reported=False)."""
    prompt = sum(count_tokens(m.content, request.model) for m in request.messages)
    prompt += count_tokens(request.system or "", request.model)
    return Usage(input_tokens=prompt, output_tokens=count_tokens(answer, request.model), reported=False)


def redact(text: str, *secrets: str | None) -> str:
    """Remove secrets from text that may be shown or logged (servers echo keys back)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
