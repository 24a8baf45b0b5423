"""ask: stream a provider's answer to the client as answerChunk notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ai_session.core.ask import AskResult as CoreAskResult
from ai_session.core.providers import Notice, TextDelta
from ai_session.lsp.context import session_of
from ai_session.lsp.wire import request
from ai_session.protocol import payloads as p

if TYPE_CHECKING:
    from ai_session.lsp.server import AiSessionServer


def register(server: AiSessionServer) -> None:
    @request(server, "aiSession/ask")
    async def ask(params: p.AskParams) -> p.AskResult:
        session = session_of(server, params)
        result: CoreAskResult | None = None
        notes: list[str] = []
        async for event in server.manager.ask(session, params.prompt, agent=params.agent, provider=params.provider,
                                              model=params.model):
            if isinstance(event, TextDelta):
                server.send("aiSession/answerChunk", p.AnswerChunk(session_id=session.id, ask_id=params.ask_id,
                                                                   text=event.text))
            elif isinstance(event, Notice):
                notes.append(event.message)
            elif isinstance(event, CoreAskResult):
                result = event
        assert result is not None
        note = result.completion.note or ("; ".join(notes) if notes else None)
        return p.AskResult(session_id=session.id, text=result.completion.text, model=result.completion.model,
                           usage=result.assistant.usage, note=note)
