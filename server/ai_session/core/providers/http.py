"""What the HTTP providers share: the request with bounded retries, SSE parsing, errors.

Retries: on 408, 429, 500, 502, 503, 504 and 529 (Anthropic "overloaded"), and on a
connection that could not be made, up to `max_retries` times. A `retry-after`
(seconds or an HTTP date) or `retry-after-ms` header is honoured; without one the wait
doubles from 0.5 s up to 8 s. A server that asks for a longer wait than
`max_retry_wait` fails at once rather than hanging the user's prompt. Nothing is retried
once the answer has started to stream.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ai_session.core.errors import ProviderError
from ai_session.core.providers.options import Options
from ai_session.core.providers.pricing import PriceTable
from ai_session.core.providers.base import Notice, Provider, redact

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class HttpSettings:
    base_url: str
    api_key: str | None
    key_source: str  # where the key is looked for, for messages ("OPENAI_API_KEY or ...")
    model: str | None
    section: str  # "providers.openai", for messages naming the setting to fix
    timeout: float = 120.0  # seconds without a byte from the server
    connect_timeout: float = 10.0
    max_retries: int = 3
    max_retry_wait: float = 60.0
    headers: dict[str, str] = field(default_factory=dict)


# The settings every HTTP provider reads from its `[providers.<name>]` table.
HTTP_SETTINGS = frozenset({"base_url", "api_key", "api_key_env", "model", "timeout", "connect_timeout", "max_retries",
                           "max_retry_wait", "headers"})  # fmt: skip


def http_settings(opts: Options, env: Mapping[str, str], *, env_prefix: str, base_url: str, model: str) -> HttpSettings:
    """An HTTP provider's settings: `<PREFIX>_API_KEY`, `<PREFIX>_BASE_URL` and `<PREFIX>_MODEL`
    from the environment win over the table; `base_url` and `model` are the defaults."""
    key, key_source = opts.secret("api_key", env, f"{env_prefix}_API_KEY")
    return HttpSettings(
        base_url=(env.get(f"{env_prefix}_BASE_URL") or opts.text("base_url") or base_url).rstrip("/"),
        api_key=key,
        key_source=key_source,
        model=env.get(f"{env_prefix}_MODEL") or opts.text("model") or model,
        section=opts.section,
        timeout=opts.number("timeout", 120.0, minimum=0.001),
        connect_timeout=opts.number("connect_timeout", 10.0, minimum=0.001),
        max_retries=opts.integer("max_retries", 3),
        max_retry_wait=opts.number("max_retry_wait", 60.0),
        headers=opts.table("headers"),
    )


class HttpProvider(Provider):
    """What every HTTP API provider holds: its settings, the price list, and the sleep its
    retries wait with (a test passes one that does not wait)."""

    def __init__(self, settings: HttpSettings, *, prices: PriceTable | None = None, sleep: Sleep = asyncio.sleep) -> None:
        self.settings = settings
        self.prices = prices or PriceTable()
        self._sleep = sleep

    @property
    def default_model(self) -> str | None:
        return self.settings.model


def retry_delay(headers: Mapping[str, str], attempt: int, now: float | None = None) -> float:
    """Seconds to wait before retry number `attempt` (0-based)."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = parsedate_to_datetime(value).timestamp()
                return max(0.0, when - (time.time() if now is None else now))
            except (TypeError, ValueError, IndexError, OverflowError):
                pass
    return min(0.5 * 2.0**attempt, 8.0)


def error_detail(body: bytes | str) -> str:
    """The provider's own error message from an OpenAI-, Anthropic- or Ollama-style body."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data: Any = json.loads(text)
    except ValueError:
        return one_line(text) or "(empty body)"
    if isinstance(data, Mapping):
        err = data.get("error", data)
        if isinstance(err, str):
            return one_line(err)
        if isinstance(err, Mapping):
            message = err.get("message") or err.get("detail") or ""
            kind = err.get("type") or err.get("code")
            if message and kind and str(kind) not in str(message):
                return one_line(f"{message} ({kind})")
            if message:
                return one_line(str(message))
    return one_line(text)


def one_line(text: str, limit: int = 300) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def status_hint(status: int, settings: HttpSettings) -> str:
    if status in (401, 403):
        return f"check the API key ({settings.key_source})"
    if status == 404:
        return f"check {settings.section}.base_url and the model name"
    if status in (429, 529):
        return f"still rate limited after {settings.max_retries} retries ({settings.section}.max_retries)"
    if status == 413 or status == 400:
        return "the request was rejected; check the model name and the context budget (--max-tokens)"
    if status >= 500:
        return "the server failed; try again later"
    return f"check {settings.section}"


def http_error(name: str, url: str, status: int, body: bytes, settings: HttpSettings) -> ProviderError:
    detail = redact(error_detail(body), settings.api_key)
    return ProviderError(f"{name}: HTTP {status} from {url}: {detail}; {status_hint(status, settings)}")


def transport_error(name: str, url: str, exc: Exception, settings: HttpSettings) -> ProviderError:
    if isinstance(exc, httpx.ConnectTimeout):
        what = f"could not connect to {url} within {settings.connect_timeout:g}s"
        fix = f"check {settings.section}.base_url or raise {settings.section}.connect_timeout"
    elif isinstance(exc, httpx.TimeoutException):
        what = f"no data from {url} for {settings.timeout:g}s"
        fix = f"raise {settings.section}.timeout for slow models"
    elif isinstance(exc, httpx.ConnectError):
        what = f"cannot connect to {url} ({one_line(str(exc)) or type(exc).__name__})"
        fix = f"is the server running? check {settings.section}.base_url"
    else:
        what = f"connection to {url} failed ({type(exc).__name__}: {one_line(str(exc))})"
        fix = "try again"
    return ProviderError(redact(f"{name}: {what}; {fix}", settings.api_key))


def client_for(settings: HttpSettings) -> httpx.AsyncClient:
    timeout = httpx.Timeout(settings.timeout, connect=settings.connect_timeout)
    # trust_env=False: proxies and netrc from the environment must not see a local server's traffic.
    return httpx.AsyncClient(timeout=timeout, trust_env=False, follow_redirects=False)


async def open_stream(
    name: str,
    client: httpx.AsyncClient,
    url: str,
    headers: Mapping[str, str],
    body: Mapping[str, Any],
    settings: HttpSettings,
    sleep: Sleep,
) -> AsyncIterator[Notice | httpx.Response]:
    """POST with retries. Yields a Notice before each wait, then the open 200 response.

    The caller owns the response and must close it.
    """
    attempt = 0
    while True:
        request = client.build_request("POST", url, headers=dict(headers), json=body)
        try:
            response = await client.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            if attempt >= settings.max_retries:
                raise transport_error(name, url, exc, settings) from None
            delay = retry_delay({}, attempt)
            yield Notice(f"{name}: cannot connect to {url}; retrying in {delay:g}s")
        except httpx.HTTPError as exc:
            raise transport_error(name, url, exc, settings) from None
        else:
            if response.status_code == 200:
                yield response
                return
            try:
                data = await response.aread()
            except httpx.HTTPError:
                data = b""
            finally:
                await response.aclose()
            if response.status_code not in RETRY_STATUSES or attempt >= settings.max_retries:
                raise http_error(name, url, response.status_code, data, settings)
            delay = retry_delay(response.headers, attempt)
            if delay > settings.max_retry_wait:
                raise ProviderError(
                    f"{name}: HTTP {response.status_code} from {url}: "
                    f"{redact(error_detail(data), settings.api_key)}; the server asks to wait {delay:g}s, "
                    f"more than {settings.section}.max_retry_wait ({settings.max_retry_wait:g}s)"
                )
            yield Notice(f"{name}: HTTP {response.status_code} (rate limited or busy); retrying in {delay:g}s")
        await sleep(delay)
        attempt += 1


@dataclass(frozen=True)
class SseEvent:
    event: str  # "message" when the server named none
    data: str


async def sse_events(lines: AsyncIterator[str]) -> AsyncIterator[SseEvent]:
    """Server-sent events from a line stream (the WHATWG rules we need: event, data, comments)."""
    event = ""
    data: list[str] = []
    async for line in lines:
        if line == "":
            if data:
                yield SseEvent(event or "message", "\n".join(data))
            event, data = "", []
            continue
        if line.startswith(":"):
            continue  # comment / keep-alive
        key, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if key == "event":
            event = value
        elif key == "data":
            data.append(value)
    if data:
        yield SseEvent(event or "message", "\n".join(data))


async def stream_events(
    name: str, settings: HttpSettings, url: str, headers: Mapping[str, str], body: Mapping[str, Any], sleep: Sleep
) -> AsyncGenerator[Notice | SseEvent]:
    """POST `body` (with retries) and read the answer's server-sent events: a Notice before each
    wait, then the events. A transport failure is a ProviderError; the response is closed when
    the caller stops reading (iterate it under `aclosing`)."""
    async with client_for(settings) as client:
        response: httpx.Response | None = None
        async for item in open_stream(name, client, url, headers, body, settings, sleep):
            if isinstance(item, Notice):
                yield item
            else:
                response = item
        assert response is not None
        try:
            async for event in sse_events(response.aiter_lines()):
                yield event
        except httpx.HTTPError as exc:
            raise transport_error(name, url, exc, settings) from None
        finally:
            await response.aclose()


def parse_json(name: str, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise ProviderError(f"{name}: the server sent a stream line that is not JSON: {one_line(text, 120)}") from None
    if not isinstance(value, dict):
        raise ProviderError(f"{name}: unexpected stream data: {one_line(text, 120)}")
    return value
