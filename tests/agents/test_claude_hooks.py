"""The real Claude Code with ai-session's hooks, against a scripted model on this machine.

The model asks for Bash commands; Claude Code runs the real PreToolUse hook, the rewritten
command runs in the worktree session's shell, and what Claude Code posts back to the model
(the `tool_result`) is checked: the context form, with every fact, fewer tokens than raw.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from ai_session.core.config import Config
from ai_session.core.manager import SessionManager
from ai_session.core.providers.base import Conversation
from ai_session.core.tokens import count_tokens

from tests.agents.conftest import Claude, allow
from tests.conftest import CLI
from tests.lsp.conftest import start_client, wait_note
from tests.providers.fakes import FakeAgentModel


def worktree_session(repo: Path):
    m = SessionManager(Config.load())
    session, created = m.worktree_session(repo)
    return m, session, created


async def test_a_failing_pytest_reaches_claude_code_in_context_form(claude: Claude, cli: CLI, repo: Path, home: Path):
    cli("integrate", "claude", cwd=repo)
    allow(claude.home, "Bash(python -m pytest:*)")
    editor = await start_client(home, repo)  # a language-server client on the same worktree
    try:
        with FakeAgentModel(["python -m pytest -q"]) as model:
            done = await asyncio.to_thread(claude.run, repo, model)
        [seen] = model.tool_results
        m, session, created = worktree_session(repo)
        assert not created  # the editor attached it; the hook used the same one
        [run] = m.runs(session)
        assert run.command == "python -m pytest -q" and run.metadata.get("agent") == "claude-code"
        assert run.exit_code == 1
        # The context form: the failing test's id and file:line, the exit code, the run and its raw output.
        assert "FAILED test_math.py::test_multiplies" in seen
        assert "test_math.py:6" in seen
        assert "Exit code 1" in seen and "[ai-session] exit 1" in seen
        assert f"ai-session output {run.id}" in seen
        raw = m.raw_output(run.id)
        assert "test_adds" in raw or "1 passed" in raw
        assert count_tokens(seen) < run.raw_tokens
        # Announced to the editor as a run of its session.
        await wait_note(editor, "aiSession/sessionsChanged",
                        lambda n: any(c.sessionId == session.id and c.kind == "run" for c in n.changes))
        # Claude Code's session is bound, and its conversation is in the session.
        assert done.session_id in [Conversation.decode(c).id for c in session.provider_sessions]
        texts = [msg.content for msg in m.messages(session)]
        assert "run the tests" in texts and "Done." in texts
        assert sum(f"ai-session output {run.id}" in t for t in texts) == 1  # the run's output is stored once
        m.close()
    finally:
        await editor.shutdown_session()
        await editor.stop()


def test_claude_codes_commands_run_in_the_live_shell_a_person_uses(claude: Claude, cli: CLI, repo: Path):
    cli("integrate", "claude", cwd=repo)
    allow(claude.home, "Bash(echo:*)")
    m, session, _ = worktree_session(repo)
    m.close()
    # A person's shell variable (not exported, so in no saved state: only the live shell has it).
    shell = cli("exec", session.name, "LIVE_MARK=typed-by-a-person; echo $$").stdout.strip()
    with FakeAgentModel(["echo shell=$$ mark=$LIVE_MARK"]) as model:
        claude.run(repo, model)
    [seen] = model.tool_results
    assert f"shell={shell} mark=typed-by-a-person" in seen
    assert "[ai-session] exit 0" in seen


def test_a_transcript_claude_code_deletes_stays_and_resumes_grow_it(claude: Claude, cli: CLI, repo: Path):
    cli("integrate", "claude", cwd=repo)
    with FakeAgentModel([], final="First answer.") as model:
        first = claude.run(repo, model, "hello")
    transcripts = list((claude.home / ".claude" / "projects").rglob(f"{first.session_id}.jsonl"))
    assert transcripts
    for path in transcripts:
        path.unlink()  # Claude Code's own cleanup removes old transcripts
    m, session, _ = worktree_session(repo)
    texts = [msg.content for msg in m.messages(session)]
    assert "hello" in texts and "First answer." in texts
    usage = [msg.usage for msg in m.messages(session) if msg.usage is not None]
    assert usage and all(u.reported for u in usage)
    m.close()


def test_ten_steps_with_and_without_the_hook(claude: Claude, cli: CLI, tmp_path: Path, home: Path):
    """The same scripted session twice; the model's input tokens are reported each way."""
    from tests.agents.conftest import make_repo

    steps = [
        "python -m pytest -v", "git log --stat", "ls -la", "python -m pytest -q", "cat test_many.py",
        "grep -n assert test_many.py", "git status", "python -m pytest -q -k multiplies", "python -m pip list",
        "python -m pytest -v -k 'not multiplies'",
    ]
    figures = {}
    for hooked in (False, True):
        repo = make_repo(tmp_path / ("hooked" if hooked else "plain"), cases=80)
        (claude.home / ".claude" / "settings.json").unlink(missing_ok=True)
        if hooked:
            cli("integrate", "claude", cwd=repo)
        allow(claude.home, "Bash")
        with FakeAgentModel(steps) as model:
            claude.run(repo, model, "look around and run the tests")
        assert len(model.tool_results) == len(steps)
        figures["with" if hooked else "without"] = {
            "requests": len(model.input_tokens), "last_request_input_tokens": model.input_tokens[-1],
            "all_requests_input_tokens": sum(model.input_tokens),
            "tool_result_tokens": sum(map(count_tokens, model.tool_results)),
        }
        if hooked:
            m, session, _ = worktree_session(repo)
            assert len(m.runs(session)) == len(steps)
            m.close()
    report = Path(__file__).resolve().parents[1] / "artifacts" / "claude-code-ten-steps.json"
    report.parent.mkdir(exist_ok=True)
    report.write_text(json.dumps(figures, indent=2) + "\n")
    print("\nten scripted steps, input tokens the model received:", json.dumps(figures))
    assert figures["with"]["tool_result_tokens"] < figures["without"]["tool_result_tokens"]
    assert figures["with"]["all_requests_input_tokens"] < figures["without"]["all_requests_input_tokens"]
