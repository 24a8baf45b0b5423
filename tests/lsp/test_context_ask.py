import asyncio

from tests.lsp.conftest import start_client, wait_note
from tests.lsp.test_sessions import call
from tests.providers.fakes import FakeOpenAIServer


async def test_context_matches_the_library_and_stats_follow_the_current_session(client, home):
    stats = await wait_note(client, "aiSession/statsChanged")
    assert stats.budget == 4096 and stats.sessionName == "proj-main"
    seen = len(client.notes["aiSession/statsChanged"])
    await call(client, "aiSession/sessions/addMessage", {"session": "proj-main", "content": "Use ruff, not flake8.", "pinned": True})
    # The follower may still announce the session's creation (figures from before the add) first:
    # what must come is a note that counts the pinned message.
    changed = await wait_note(client, "aiSession/statsChanged", lambda n: n.contextTokens > stats.contextTokens, after=seen)
    ctx = await call(client, "aiSession/context/get", {})
    assert ctx.sessionId == changed.sessionId and ctx.tokens == changed.contextTokens
    pinned = next(part for part in ctx.parts if part.name == "pinned")
    assert pinned.tokens > 0 and any("ruff" in item.content for item in ctx.items)

    from ai_session.core.config import Config
    from ai_session.core.manager import SessionManager

    m = SessionManager(Config.load())
    try:
        local = m.context("proj-main").as_dict()
    finally:
        m.close()
    assert local["tokens"] == ctx.tokens and [p["tokens"] for p in local["parts"]] == [p.tokens for p in ctx.parts]


async def test_ask_streams_chunks_and_records_the_answer(home, workspace):
    with FakeOpenAIServer(answer=lambda turn, body: "Run pytest -x first, then fix the fixture.") as api:
        home.parent.joinpath("config.toml").write_text(
            f'[providers.openai]\nbase_url = "{api.base_url}"\nmodel = "gpt-4o-mini"\n'
        )
        client = await start_client(home, workspace)
        try:
            await call(client, "aiSession/sessions/create", {"name": "asker", "provider": "openai"})
            result = await asyncio.wait_for(
                call(client, "aiSession/ask", {"session": "asker", "prompt": "What now?", "askId": "q1"}), 30)
            first = await wait_note(client, "aiSession/answerChunk")
            detail = await call(client, "aiSession/sessions/get", {"session": "asker", "history": True})
        finally:
            await client.shutdown_session()
            await client.stop()
    assert first.askId == "q1" and first.text
    assert result.text == "Run pytest -x first, then fix the fixture."
    assert [m.role for m in detail.messages] == ["user", "assistant"]
    assert detail.messages[1].content == result.text
    assert detail.messages[1].usage.reported
