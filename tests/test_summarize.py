from __future__ import annotations

from ai_session.core.models import CommandRun, Message, MessageKind, Role
from ai_session.core.providers import get_provider
from ai_session.core.summarize import summarize_extractive, summarize_with_model
from ai_session.core.tokens import count_tokens
from tests.providers.fakes import FakeOpenAIServer


def msg(seq: int, role: str, content: str, **kw) -> Message:
    return Message(seq=seq, role=Role(role), content=content, **kw)


def conversation() -> tuple[list[Message], dict[str, CommandRun]]:
    run = CommandRun(id="run_1", command="pytest -q tests/test_parse.py", exit_code=1)
    ok = CommandRun(id="run_2", command="git status --short", exit_code=0)
    messages = [
        msg(1, "user", "Please make the parser accept empty input.\nIt lives in src/parser/core.py."),
        msg(2, "assistant", "I'll change parse() in src/parser/core.py:41 to return [] early."),
        msg(3, "tool", "$ pytest -q tests/test_parse.py\nFAILED tests/test_parse.py::test_empty - AssertionError: "
                       "assert None == []\n1 failed, 12 passed in 0.31s", kind=MessageKind.COMMAND, run_id="run_1"),
        msg(4, "user", "No, don't return None anywhere; raise ParseError instead."),
        msg(5, "assistant", "Tried a sentinel object but it doesn't work with the type checker. Decided: raise ParseError."),
        msg(6, "tool", "$ git status --short\n M src/parser/core.py", kind=MessageKind.COMMAND, run_id="run_2"),
        msg(7, "user", "Thanks. Also look at https://example.com/docs.html later."),
    ]  # fmt: skip
    return messages, {"run_1": run, "run_2": ok}


def test_extractive_keeps_every_kind_of_must_keep_fact():
    messages, runs = conversation()
    s = summarize_extractive(messages, runs=runs)
    assert s.covers == (1, 7) and s.method == "extractive" and s.omitted == 0
    text = s.text
    assert text.startswith("[ai-session] Summary of messages 1–7 (extractive).")
    assert "Please make the parser accept empty input." in text  # the ask
    assert "No, don't return None anywhere; raise ParseError instead." in text  # the correction
    assert "Decided: raise ParseError." in text
    assert "Tried a sentinel object but it doesn't work with the type checker." in text  # rejected approach
    assert "`pytest -q tests/test_parse.py` → exit 1" in text and "`git status --short` → exit 0" in text
    assert "FAILED tests/test_parse.py::test_empty - AssertionError: assert None == []" in text
    assert "src/parser/core.py:41" in text and "tests/test_parse.py" in text
    assert "example.com" not in text.split("Files:")[1]  # a URL is not a file
    assert s.tokens == count_tokens(text)


def test_command_and_exit_code_without_the_run_records():
    m = msg(1, "tool", "$ make -j4\nsrc/cJSON.c:120:5: error: unused variable 'x' [-Werror]\n[ai-session] exit 2",
            kind=MessageKind.COMMAND, run_id="run_gone")  # fmt: skip
    text = summarize_extractive([m]).text
    assert "`make -j4` → exit 2" in text
    assert "src/cJSON.c:120:5: error: unused variable 'x' [-Werror]" in text
    assert "src/cJSON.c:120:5" in text.split("Files:")[1]


def test_budget_drops_plain_asks_before_corrections_and_failures():
    messages = [msg(i, "user", f"please look at item number {i} and tell me what you think of it") for i in range(1, 80)]
    messages.append(msg(80, "user", "Never touch the generated files in build/."))
    messages.append(msg(81, "tool", "FAILED tests/test_gen.py::test_keep - KeyError: 'id'"))
    s = summarize_extractive(messages, max_tokens=200)
    assert s.tokens <= 200 and s.omitted > 0
    assert "Never touch the generated files in build/." in s.text
    assert "FAILED tests/test_gen.py::test_keep - KeyError: 'id'" in s.text
    assert "item number 79" in s.text and "item number 1 " not in s.text  # oldest asks went first
    assert f"{s.omitted} older item(s) left out" in s.text


def test_repeated_compaction_stays_bounded_and_keeps_old_facts():
    budget = 300
    summary: Message | None = None
    seq = 0
    for round_ in range(12):
        batch = []
        for k in range(10):
            seq += 1
            batch.append(msg(seq, "user", f"round {round_} step {k}: please continue with the refactor"))
        seq += 1
        batch.append(msg(seq, "user", f"Don't rename function_{round_}; keep its name."))
        batch = ([summary] if summary else []) + batch
        s = summarize_extractive(batch, max_tokens=budget)
        assert s.tokens <= budget
        summary = msg(seq, "system", s.text, kind=MessageKind.SUMMARY, covers=s.covers)
    assert summary is not None and summary.covers == (1, seq)
    # Corrections outrank asks: the budget holds the recent ones in full, and the first ones survive 12 compactions.
    assert "Don't rename function_11; keep its name." in summary.content
    assert "Don't rename function_0; keep its name." in summary.content


def test_summary_of_a_summary_does_not_duplicate_items():
    messages, runs = conversation()
    first = summarize_extractive(messages, runs=runs)
    again = summarize_extractive([msg(7, "system", first.text, kind=MessageKind.SUMMARY, covers=first.covers)])
    assert again.text.replace("(extractive)", "") == first.text.replace("(extractive)", "")


async def test_model_summary_is_completed_with_facts_the_model_left_out():
    messages, runs = conversation()
    lazy = "User asks:\n- make the parser accept empty input\nDecisions:\n- raise ParseError"
    with FakeOpenAIServer(answer=lambda turn, body: lazy) as server:
        provider = get_provider("openai", {"base_url": server.base_url}, env={})
        s = await summarize_with_model(messages, provider, runs=runs, max_tokens=600)
        body = server.requests[0].body
    prompt = body["messages"][0]["content"]
    assert "every failing test id" in prompt and "every correction" in prompt
    assert "ran `pytest -q tests/test_parse.py` (exit 1)" in body["messages"][1]["content"]
    assert s.method == "model" and s.usage is not None and s.usage.reported
    assert s.text.startswith("[ai-session] Summary of messages 1–7 (model).\nUser asks:")
    assert "Kept from the originals" in s.text
    assert "No, don't return None anywhere; raise ParseError instead." in s.text
    assert "FAILED tests/test_parse.py::test_empty" in s.text
    assert "`pytest -q tests/test_parse.py` → exit 1" in s.text


async def test_model_summary_that_is_too_long_falls_back_to_the_bounded_one():
    messages, runs = conversation()
    with FakeOpenAIServer(answer=lambda turn, body: "blah " * 2000) as server:
        provider = get_provider("openai", {"base_url": server.base_url}, env={})
        s = await summarize_with_model(messages, provider, runs=runs, max_tokens=400)
    assert s.method == "extractive" and s.tokens <= 400 and s.usage is not None
    assert "raise ParseError instead" in s.text
