"""`:AiSession ask` streams the answer into a markdown buffer (provider: a local server speaking
the OpenAI wire format, since no real provider can run here)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.nvim.conftest import Editor
from tests.providers.fakes import FakeOpenAIServer

ANSWER = "Run pytest -x first.\nThen fix calc.add: it subtracts."


@pytest.fixture
def fake_openai(home: Path) -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(answer=lambda turn, body: ANSWER) as api:
        # Written before the editor starts: the server reads its config once.
        home.parent.joinpath("config.toml").write_text(
            f'[providers.openai]\nbase_url = "{api.base_url}"\nmodel = "gpt-4o-mini"\n')
        yield api


def test_ask_streams_into_a_markdown_buffer(fake_openai: FakeOpenAIServer, editor: Editor, cli) -> None:
    editor.lua("""
      local ask = require('ai_session.ui.ask')
      local orig = ask.on_chunk
      _G.chunks = 0
      ask.on_chunk = function(p) _G.chunks = _G.chunks + 1; return orig(p) end
    """)
    editor.cmd("AiSession create asker --provider=openai")
    editor.wait("return vim.fn.execute('messages'):find('created session asker', 1, true)", "the session")
    editor.cmd("AiSession ask --session=asker What should I do first?")
    buf = editor.wait("return vim.fn.bufnr('ai-session://ask/1') ~= -1 and vim.fn.bufnr('ai-session://ask/1')",
                      "the ask buffer")
    editor.wait("return vim.b[...].ai_session_ask_status == 'done'", "the answer", buf)
    lines = editor.lua("return vim.api.nvim_buf_get_lines(..., 0, -1, false)", buf)
    text = "\n".join(lines)
    assert editor.lua("return vim.bo[...].filetype", buf) == "markdown"
    assert "What should I do first?" in text and ANSWER in text, text
    assert "gpt-4o-mini" in lines[-1] and "tokens" in lines[-1], lines[-1]
    assert editor.lua("return _G.chunks") >= 1
    # The server recorded the turn; the plugin only showed it.
    history = cli.json("show", "asker", "--history")
    assert [m["content"] for m in history["messages"]] == ["What should I do first?", ANSWER]
