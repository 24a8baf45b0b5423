"""Talking to a model: ask, the context it gets, compaction and summaries, the interactive REPL."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from ai_session.cli.render import Result, Table
from ai_session.cli.spec import Arg, arg, command
from ai_session.cli.views import human_tokens, message_line, model_json
from ai_session.core.context import STRATEGIES
from ai_session.core.providers import PROVIDERS

if TYPE_CHECKING:
    from ai_session.core.ask import AskResult
    from ai_session.core.manager import SessionManager
    from ai_session.core.models import Session

BUDGET_OPTIONS: tuple[Arg, ...] = (
    arg("--max-tokens", type=int, help="token budget (default: the session's, 4096)"),
    arg("--strategy", choices=STRATEGIES, help="default preserve_important (see docs/context.md)"),
    arg("--context-window", type=int, metavar="N", help="only the last N message pairs verbatim"),
)


def stream_answer(m: SessionManager, session: Session | str, prompt: str, *, quiet: bool = False,
                  out: Any = None, **options: Any) -> AskResult | None:  # fmt: skip
    """Run one ask: deltas to `out` (stdout) as they arrive unless quiet, notices to stderr."""
    import asyncio

    from ai_session.core.providers import Notice, TextDelta

    out = out or sys.stdout

    async def run() -> AskResult | None:
        result = None
        async for event in m.ask(session, prompt, **options):
            if isinstance(event, TextDelta):
                if not quiet:
                    out.write(event.text)
                    out.flush()
            elif isinstance(event, Notice):
                print(f"[ai-session] {event.message}", file=sys.stderr)
            else:
                result = event
        return result

    result = asyncio.run(run())
    if not quiet and result is not None and not result.completion.text.endswith("\n"):
        out.write("\n")
    return result


def answer_notes(result: AskResult) -> list[str]:
    notes = []
    if result.compaction is not None:
        c = result.compaction
        notes.append(f"[ai-session] compacted messages {c.covers[0]}–{c.covers[1]} into summary #{c.summary.seq}")
    if result.completion.note:
        notes.append(f"[ai-session] {result.completion.note}")
    return notes


def _prompt_text(a: argparse.Namespace) -> str | None:
    """The prompt from the arguments, else from stdin when it is piped."""
    if a.prompt:
        return " ".join(a.prompt)
    if not sys.stdin.isatty():
        text = sys.stdin.read()
        return text if text.strip() else None
    return None


@command(
    "ask",
    arg("prompt", nargs="*", help="the prompt (default: stdin when piped)"),
    arg("--session", "-s", help="session name or id"),
    arg("--session-id", metavar="NAME", help="continue session NAME, or create it with that name"),
    arg("--get-id", action="store_true", help="create a session (unless --session) and print only its id"),
    arg("--template", help="start the session ask creates from this template"),
    arg("--agent", help="agent writing this turn (tags the messages)"),
    arg("--shared", action="store_true", help="several agents write this session: each turn is sent to the model "
        "as `[agent] text`; needs --agent"),
    arg("--provider", choices=PROVIDERS, help="provider for this ask (default: the session's)"),
    arg("--model", help="model for this ask"),
    arg("--max-tokens", type=int, help="token budget (default: the session's, 4096)"),
    arg("--strategy", choices=STRATEGIES, help="default preserve_important (see docs/context.md)"),
    arg("--context-window", type=int, metavar="N", help="only the last N message pairs verbatim; 0 = unlimited: "
        "the whole history, as far as the model's own context window goes"),
)
def ask(m: SessionManager, a: argparse.Namespace) -> Result:
    """Send a prompt in a session (argument or stdin) with its assembled context; the answer streams."""
    from ai_session.core.errors import InvalidInput

    if a.shared and not a.agent:
        raise InvalidInput("--shared needs --agent NAME")
    if a.session and a.session_id:
        raise InvalidInput("give --session or --session-id, not both")
    prompt = _prompt_text(a)
    options = {"agent": a.agent, "provider": a.provider, "model": a.model, "max_tokens": a.max_tokens,
               "template": a.template}  # fmt: skip
    existing = m.resolve(a.session) if a.session else m.find(a.session_id) if a.session_id else None
    if existing is not None:
        if a.template:
            raise InvalidInput(f"--template starts a new session, and {existing.name} exists")
        session = existing
    elif a.session_id or a.get_id or a.template:
        session = m.create(a.session_id, **options)
    else:
        raise InvalidInput("ask needs --session NAME, --session-id NAME, or --get-id (or --template) to create one")
    if prompt is None:
        if a.get_id:
            return Result(data={"sessionId": session.id}, view=session.id)
        raise InvalidInput("no prompt: give it as an argument or pipe it on stdin")
    result = stream_answer(
        m, session, prompt, quiet=a.get_id or a.format == "json", agent=a.agent, shared=a.shared,
        provider=a.provider, model=a.model, context_window=a.context_window, max_tokens=a.max_tokens,
        strategy=a.strategy, new_session=existing is None,  # a failed ask removes the session made for it
    )  # fmt: skip
    assert result is not None  # ask ends with its result or raises
    notes = answer_notes(result)
    if existing is None and not a.get_id:
        notes.insert(0, f"[ai-session] created session {session.name} ({session.id})")
    return Result(data=result.as_dict(), view=session.id if a.get_id else None, notes=notes)


@command(
    "context",
    *BUDGET_OPTIONS,
    arg("--lines", type=int, metavar="N", help="print at most N lines of the context (0 = all)"),
    target="session",
)
def context(m: SessionManager, a: argparse.Namespace) -> Result:
    """The exact context the model gets next: parts, token counts, raw vs context."""
    from ai_session.core.context import render_text

    ctx = m.context(a.session, max_tokens=a.max_tokens, strategy=a.strategy, window=a.context_window)
    return Result(data=ctx.as_dict(), view=render_text(ctx, lines=a.lines or None))


@command(
    "compact",
    arg("--max-tokens", type=int, help="the budget the kept tail is sized for (default: the session's)"),
    arg("--keep-last", type=int, metavar="N", help="turns to keep verbatim (default: what fits half the budget)"),
    arg("--summary-tokens", type=int, metavar="N", help="summary size limit (default: min(800, budget/4))"),
    arg("--model-summary", action="store_true", help="have the session's provider write the summary"),
    arg("--provider", choices=PROVIDERS, help="provider for --model-summary"),
    target="session",
)
def compact(m: SessionManager, a: argparse.Namespace) -> Result:
    """Summarize older turns into a stored summary message (the originals are kept)."""
    result = m.compact(a.session, budget=a.max_tokens, keep_last=a.keep_last, max_summary_tokens=a.summary_tokens,
                       method="model" if a.model_summary else "extractive", provider=a.provider)  # fmt: skip
    if result is None:
        return Result(data=None, view="nothing to compact: the recent turns already fit (see `ai-session context`)")
    return Result(data=result.as_dict(), view=(
        f"summary #{result.summary.seq} ({result.method}, {result.summary_tokens} tokens) covers messages "
        f"{result.covers[0]}–{result.covers[1]}: {result.covered_messages} new message(s), "
        f"{human_tokens(result.covered_tokens)} tokens; {result.kept} recent kept verbatim. "
        f"Originals are kept: `ai-session summary {a.session} {result.summary.seq}`"))  # fmt: skip


@command("summary", arg("seq", type=int, nargs="?", metavar="SEQ", help="the summary's message number"),
         target="session")  # fmt: skip
def summary(m: SessionManager, a: argparse.Namespace) -> Result:
    """List a session's summaries, or show one beside the stored messages it covers."""
    if a.seq is None:
        found = m.summaries(a.session)
        rows = [[x.seq, f"{x.covers[0]}–{x.covers[1]}" if x.covers else "-", x.metadata.get("method", "-"), x.tokens,
                 x.metadata.get("omitted", 0), f"{x.created_at:%Y-%m-%d %H:%M}"] for x in found]  # fmt: skip
        return Result(data=model_json(found), view=Table(["SEQ", "COVERS", "METHOD", "TOKENS", "OMITTED", "CREATED"],
                      rows, empty="no summaries (make one with `ai-session compact SESSION`)"))  # fmt: skip
    found_summary, originals = m.covered(a.session, a.seq)
    return Result(data={"summary": model_json(found_summary), "covered": model_json(originals)},
                  view=[found_summary.content, f"\ncovers {len(originals)} stored message(s):",
                        *(message_line(x) for x in originals)])  # fmt: skip


@command(
    "interactive",
    arg("--session", "-s", help="session (default: a new one)"),
    arg("--agent", help="agent writing the turns"),
    arg("--provider", choices=PROVIDERS, help="provider (default: the session's)"),
    arg("--model", help="model (default: the session's)"),
    formats=(),
)
def interactive(m: SessionManager, a: argparse.Namespace) -> Result:
    """A REPL in a session (a new one without --session). Lines are prompts; commands: `save [NAME]`
    (NAME keeps a checkpoint: a copy at this point), `context`, `clear [--keep-last N]`, `compact`,
    `info`, `export [FILE]`, `exec CMD`, `help`, `exit`. Line history is kept in
    $AI_SESSION_HOME/repl_history (mode 0600)."""
    from ai_session.cli.repl import Repl

    return Result(status=Repl(m, a.session, agent=a.agent, provider=a.provider, model=a.model).run())
