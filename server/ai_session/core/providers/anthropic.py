"""The Anthropic Messages API with streaming (`POST /v1/messages`, `stream: true`).

Events: `message_start` (model, input usage including cache creation/read),
`content_block_start/delta/stop` (text arrives as `text_delta`), `message_delta`
(stop reason, cumulative output usage), `message_stop`, `ping`, and `error`, which can
arrive mid-stream with a 200 status (e.g. `overloaded_error`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from typing import Any


from ai_session.core.errors import ProviderError
from ai_session.core.models import Usage
from ai_session.core.providers.base import (
    ChatMessage,
    ChatRequest,
    Completion,
    Notice,
    StreamEvent,
    TextDelta,
    wire_messages,
)
from ai_session.core.providers.http import (
    HTTP_SETTINGS,
    HttpProvider,
    HttpSettings,
    Sleep,
    error_detail,
    stream_events,
    http_settings,
    parse_json,
)
from ai_session.core.providers.options import Options
from ai_session.core.providers.pricing import PriceTable

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_MODEL = "claude-sonnet-4-5"
API_VERSION = "2023-06-01"
DEFAULT_MAX_OUTPUT = 4096  # the API requires max_tokens on every request
SETTINGS = HTTP_SETTINGS | {"max_output_tokens", "prompt_caching"}


class AnthropicProvider(HttpProvider):
    name = "anthropic"

    def __init__(
        self,
        settings: HttpSettings,
        *,
        prices: PriceTable | None = None,
        max_output_tokens: int = DEFAULT_MAX_OUTPUT,
        prompt_caching: bool = True,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(settings, prices=prices, sleep=sleep)
        self.max_output_tokens = max_output_tokens
        self.prompt_caching = prompt_caching

    @classmethod
    def from_config(
        cls, raw: Mapping[str, Any] | None, env: Mapping[str, str], prices: PriceTable | None = None
    ) -> AnthropicProvider:
        opts = Options("anthropic", raw, SETTINGS)
        return cls(
            http_settings(opts, env, env_prefix="ANTHROPIC", base_url=DEFAULT_BASE_URL, model=DEFAULT_MODEL),
            prices=prices,
            max_output_tokens=opts.integer("max_output_tokens", DEFAULT_MAX_OUTPUT, minimum=1),
            prompt_caching=opts.flag("prompt_caching", True),
        )

    @property
    def url(self) -> str:
        return f"{self.settings.base_url}/v1/messages"

    def body(self, request: ChatRequest) -> dict[str, Any]:
        system_parts = [request.system] if request.system else []
        turns: list[ChatMessage] = []
        for message in wire_messages(request.messages):
            if message.role == "system":  # the API has no system turns: they join the system prompt
                system_parts.append(message.content)
            elif turns and turns[-1].role == message.role:  # roles must alternate
                turns[-1] = ChatMessage(message.role, f"{turns[-1].content}\n\n{message.content}")
            else:
                turns.append(message)
        if turns and turns[0].role != "user":  # and the first turn must be the user's
            turns.insert(0, ChatMessage("user", "[ai-session] The conversation so far:"))
        body: dict[str, Any] = {
            "model": request.model or self.settings.model,
            "max_tokens": request.max_output_tokens or self.max_output_tokens,
            "messages": [{"role": m.role, "content": m.content} for m in turns],
            "stream": True,
        }
        if system_parts:
            block: dict[str, Any] = {"type": "text", "text": "\n\n".join(system_parts)}
            if self.prompt_caching:  # a stable prefix; below the API's minimum size it is simply not cached
                block["cache_control"] = {"type": "ephemeral"}
            body["system"] = [block]
        return body

    def headers(self) -> dict[str, str]:
        return {
            "content-type": "application/json",
            "accept": "text/event-stream",
            "anthropic-version": API_VERSION,
            "x-api-key": self.settings.api_key or "",
            **self.settings.headers,
        }

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        request.validate()
        if not self.settings.api_key:
            raise ProviderError(f"anthropic: no API key; set {self.settings.key_source}")
        body = self.body(request)
        notices: list[str] = []
        parts: list[str] = []
        usage: dict[str, int] = {}
        model: str | None = None
        stop: str | None = None
        finished = False
        async with aclosing(stream_events(self.name, self.settings, self.url, self.headers(), body, self._sleep)) as events:
            async for event in events:
                if isinstance(event, Notice):
                    notices.append(event.message)
                    yield event
                    continue
                data = parse_json(self.name, event.data)
                kind = data.get("type") or event.event
                if kind == "message_start":
                    message = data.get("message") or {}
                    model = message.get("model") or model
                    usage.update(_ints(message.get("usage")))
                elif kind == "content_block_delta":
                    delta = data.get("delta") or {}
                    if delta.get("type") == "text_delta" and delta.get("text"):
                        parts.append(delta["text"])
                        yield TextDelta(delta["text"])
                elif kind == "message_delta":
                    stop = (data.get("delta") or {}).get("stop_reason") or stop
                    usage.update(_ints(data.get("usage")))  # cumulative counts
                elif kind == "message_stop":
                    finished = True
                    break
                elif kind == "error":
                    raise ProviderError(f"anthropic: the API failed mid-answer: {error_detail(event.data)}")
                # ping, content_block_start/stop and unknown new event types: nothing to do
        if not finished:
            raise ProviderError(f"anthropic: the stream from {self.url} ended before message_stop")
        text = "".join(parts)
        model = model or body["model"]
        reported = Usage(
            input_tokens=usage.get("input_tokens", 0),
            output_tokens=usage.get("output_tokens", 0),
            cache_read_tokens=usage.get("cache_read_input_tokens", 0),
            cache_write_tokens=usage.get("cache_creation_input_tokens", 0),
            reported=True,
        )
        yield Completion(
            text=text,
            usage=self.prices.priced(reported, model),
            model=model,
            stop_reason=stop,
            notices=tuple(notices),
        )


def _ints(raw: Any) -> dict[str, int]:
    """The integer counters of a usage block (it also holds nested objects and strings)."""
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in raw.items() if isinstance(v, int) and not isinstance(v, bool)}
