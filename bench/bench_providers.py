"""Provider streaming overhead and the extractive summarizer, against local wire-format fakes.

Streaming: one answer of 2,000 SSE chunks from a local server (the network is out of the
picture), median wall time and chunks per second: our parsing and event cost per token.
Summarizer: compacting 1,000 messages into an 800-token summary, and re-compacting it.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "server"), str(ROOT)]

from ai_session.core.models import Message, MessageKind, Role
from ai_session.core.providers import ChatMessage, ChatRequest, get_provider
from ai_session.core.summarize import summarize_extractive
from tests.providers.fakes import (
    FakeAnthropicServer,
    FakeOpenAIServer,
    anthropic_stream,
    openai_stream,
)

CHUNKS = 2000
RUNS = 15


def _stream_bench(name: str, server, reply, settings: dict, env: dict) -> None:
    provider = get_provider(name, settings, env=env)
    request = ChatRequest(messages=[ChatMessage("user", "go")])
    samples = []
    for _ in range(RUNS):
        server.queue(reply)
        t = time.perf_counter()
        final = asyncio.run(provider.complete(request))
        samples.append(time.perf_counter() - t)
    med = statistics.median(samples)
    print(f"{name:9} {CHUNKS} chunks ({len(final.text)} chars): median {med * 1000:.1f} ms, {CHUNKS / med:,.0f} chunks/s")


def _summary_bench() -> None:
    messages = []
    for i in range(1, 1001):
        if i % 10 == 0:
            messages.append(Message(seq=i, role=Role.TOOL, kind=MessageKind.COMMAND,
                                    content=f"$ pytest -q\nFAILED tests/test_m{i}.py::test_x - AssertionError\n[ai-session] exit 1"))
        elif i % 7 == 0:
            messages.append(Message(seq=i, role=Role.USER, content=f"No, don't touch src/mod_{i}.py; use helper_{i} instead."))
        else:
            role = Role.USER if i % 2 else Role.ASSISTANT
            messages.append(Message(seq=i, role=role, content=f"Step {i}: edit src/pkg/file_{i}.py:{i} and rerun the tests."))
    samples, again = [], []
    for _ in range(5):
        t = time.perf_counter()
        s = summarize_extractive(messages, max_tokens=800)
        samples.append(time.perf_counter() - t)
        summary = Message(seq=1000, role=Role.SYSTEM, kind=MessageKind.SUMMARY, content=s.text, covers=s.covers)
        t = time.perf_counter()
        s2 = summarize_extractive([summary, *messages[-50:]], max_tokens=800)
        again.append(time.perf_counter() - t)
    print(f"summary   1,000 messages -> {s.tokens} tokens ({s.omitted} items left out): "
          f"median {statistics.median(samples) * 1000:.0f} ms; re-compaction -> {s2.tokens} tokens: "
          f"median {statistics.median(again) * 1000:.0f} ms")


def main() -> None:
    text = "tok " * CHUNKS
    with FakeOpenAIServer() as server:
        _stream_bench("openai", server, openai_stream(text, piece=4), {"base_url": server.base_url}, {})
    with FakeAnthropicServer() as server:
        _stream_bench("anthropic", server, anthropic_stream(text, piece=4), {"base_url": server.url},
                      {"ANTHROPIC_API_KEY": server.api_key})
    _summary_bench()


if __name__ == "__main__":
    main()
