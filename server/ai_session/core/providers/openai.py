"""Any OpenAI-compatible Chat Completions endpoint: OpenAI, Ollama, llama.cpp server, vLLM.

`POST {base_url}/chat/completions` with `stream: true`; the answer arrives as SSE
`data: {chunk}` lines ending with `data: [DONE]`. With `stream_options.include_usage`
the last chunk (empty `choices`) carries the usage; servers that send none get our own
count, marked `reported=False`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from typing import Any


from ai_session.core.errors import InvalidInput, ProviderError
from ai_session.core.models import Usage
from ai_session.core.providers.base import (
    ChatRequest,
    Completion,
    Notice,
    StreamEvent,
    TextDelta,
    estimated_usage,
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

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"
SETTINGS = HTTP_SETTINGS | {"include_usage", "max_tokens_param", "temperature"}


class OpenAIProvider(HttpProvider):
    name = "openai"

    def __init__(
        self,
        settings: HttpSettings,
        *,
        prices: PriceTable | None = None,
        include_usage: bool = True,
        max_tokens_param: str = "max_tokens",
        temperature: float | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(settings, prices=prices, sleep=sleep)
        self.include_usage = include_usage
        # Newer OpenAI models take `max_completion_tokens`; local servers take `max_tokens`.
        self.max_tokens_param = max_tokens_param
        self.temperature = temperature

    @classmethod
    def from_config(
        cls, raw: Mapping[str, Any] | None, env: Mapping[str, str], prices: PriceTable | None = None
    ) -> OpenAIProvider:
        opts = Options("openai", raw, SETTINGS)
        param = opts.text("max_tokens_param", "max_tokens")
        if param not in ("max_tokens", "max_completion_tokens"):
            raise InvalidInput(f"providers.openai.max_tokens_param must be max_tokens or max_completion_tokens (got {param!r})")
        temperature = opts.raw.get("temperature")
        return cls(
            http_settings(opts, env, env_prefix="OPENAI", base_url=DEFAULT_BASE_URL, model=DEFAULT_MODEL),
            prices=prices,
            include_usage=opts.flag("include_usage", True),
            max_tokens_param=param or "max_tokens",
            temperature=None if temperature is None else opts.number("temperature", 1.0),
        )

    @property
    def url(self) -> str:
        return f"{self.settings.base_url}/chat/completions"

    def body(self, request: ChatRequest) -> dict[str, Any]:
        messages: list[dict[str, str]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages += [{"role": m.role, "content": m.content} for m in wire_messages(request.messages)]
        body: dict[str, Any] = {
            "model": request.model or self.settings.model,
            "messages": messages,
            "stream": True,
        }
        if self.include_usage:
            body["stream_options"] = {"include_usage": True}
        if request.max_output_tokens:
            body[self.max_tokens_param] = request.max_output_tokens
        if self.temperature is not None:
            body["temperature"] = self.temperature
        return body

    def headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json", "accept": "text/event-stream", **self.settings.headers}
        if self.settings.api_key:  # local servers need none
            headers["authorization"] = f"Bearer {self.settings.api_key}"
        return headers

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        request.validate()
        if self.settings.api_key is None and self.settings.base_url == DEFAULT_BASE_URL:
            raise ProviderError(f"openai: no API key; set {self.settings.key_source} (or point base_url at a local server)")
        body = self.body(request)
        notices: list[str] = []
        parts: list[str] = []
        usage: dict[str, Any] | None = None
        model: str | None = None
        finish: str | None = None
        async with aclosing(stream_events(self.name, self.settings, self.url, self.headers(), body, self._sleep)) as events:
            async for event in events:
                if isinstance(event, Notice):
                    notices.append(event.message)
                    yield event
                    continue
                if event.data.strip() == "[DONE]":
                    break
                chunk = parse_json(self.name, event.data)
                if "error" in chunk:  # vLLM / llama.cpp report mid-stream failures this way
                    raise ProviderError(f"openai: the server failed mid-answer: {error_detail(event.data)}")
                model = chunk.get("model") or model
                if isinstance(chunk.get("usage"), dict):
                    usage = chunk["usage"]
                for choice in chunk.get("choices") or []:
                    delta = choice.get("delta") or {}
                    text = delta.get("content")
                    if text:
                        parts.append(text)
                        yield TextDelta(text)
                    finish = choice.get("finish_reason") or finish
        text = "".join(parts)
        model = model or body["model"]
        yield Completion(
            text=text,
            usage=self.prices.priced(self._usage(usage, request, text), model),
            model=model,
            stop_reason=finish,
            notices=tuple(notices),
        )

    @staticmethod
    def _usage(raw: dict[str, Any] | None, request: ChatRequest, text: str) -> Usage:
        if not raw:
            return estimated_usage(request, text)
        prompt = int(raw.get("prompt_tokens") or 0)
        details = raw.get("prompt_tokens_details") or {}
        cached = int(details.get("cached_tokens") or 0) if isinstance(details, dict) else 0
        return Usage(
            input_tokens=max(prompt - cached, 0),
            cache_read_tokens=cached,
            output_tokens=int(raw.get("completion_tokens") or 0),
            reported=True,
        )
