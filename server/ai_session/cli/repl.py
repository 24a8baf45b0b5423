"""`ai-session interactive`: a REPL in one session.

Lines are prompts for the session's provider; a few words are commands (`help` lists
them). The prompt shows the session and the tokens of the context the next prompt would
be sent with. Line editing and history come from readline when the platform has it; the
history file lives in the data dir, readable by the owner only.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ai_session.cli.render import Result, render
from ai_session.cli.views import session_fields
from ai_session.core.context import render_text
from ai_session.core.errors import AiSessionError, InvalidInput
from ai_session.core.manager import SessionManager
from ai_session.core.models import CommandRun
from ai_session.core.privacy import private_dir

if TYPE_CHECKING:
    from ai_session.host.client import CommandResult

HELP = """commands:
  save [NAME]            sessions are stored as you go; with NAME, keep a checkpoint (a copy at this point)
  context                what the next prompt will be sent with (parts and token counts)
  clear [--keep-last N]  forget the history except the last N messages (pinned ones stay)
  compact                summarize older turns into a stored summary (originals kept)
  info                   the session's details and totals
  export [FILE]          write the session as JSON
  exec CMD               run CMD in the session's shell
  help                   this list
  exit                   leave (also: quit, Ctrl-D)
anything else is a prompt for the model."""

HISTORY_FILE = "repl_history"


class Repl:
    def __init__(
        self,
        manager: SessionManager,
        ref: str | None,
        *,
        agent: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        out: TextIO | None = None,
    ) -> None:
        self.manager = manager
        self.agent = agent
        self.provider = provider
        self.model = model
        self.out = out or sys.stdout
        if ref:
            self.session = manager.resolve(ref)
        else:
            self.session = manager.create(agent=agent, provider=provider, model=model)
        self.history_path = Path(manager.config.home) / HISTORY_FILE

    # ------------------------------------------------------------------ plumbing

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def show(self, result: Result) -> None:
        render(result, out=self.out)

    def prompt(self) -> str:
        try:
            ctx = self.manager.context(self.session)
            tokens = f"{ctx.tokens}/{ctx.budget}"
        except AiSessionError:
            tokens = f"?/{self.session.max_tokens}"
        return f"{self.session.name} [{tokens} tokens]> "

    def _readline(self) -> object | None:
        try:
            import readline
        except ImportError:  # not every platform ships it; the REPL works without history
            return None
        private_dir(self.history_path.parent)
        if not self.history_path.exists():
            self.history_path.touch(mode=0o600)
        os.chmod(self.history_path, 0o600)
        with contextlib.suppress(OSError):
            readline.read_history_file(self.history_path)
        readline.set_history_length(2000)
        return readline

    def _save_history(self, readline: object | None) -> None:
        if readline is None:
            return
        try:
            readline.write_history_file(self.history_path)  # type: ignore[attr-defined]
            os.chmod(self.history_path, 0o600)
        except OSError:
            pass

    # ------------------------------------------------------------------ loop

    def run(self) -> int:
        readline = self._readline()
        self.say(f"session {self.session.name} ({self.session.id}); `help` for commands, `exit` to leave")
        try:
            while True:
                try:
                    line = input(self.prompt())
                except EOFError:
                    self.say("")
                    break
                except KeyboardInterrupt:
                    self.say("")
                    continue
                line = line.strip()
                if not line:
                    continue
                try:
                    if not self.handle(line):
                        break
                except AiSessionError as exc:
                    self.say(f"error: {exc}")
                except KeyboardInterrupt:
                    self.say("\n[ai-session] interrupted")
        finally:
            self._save_history(readline)
        return 0

    def handle(self, line: str) -> bool:
        """Run one line; False to leave."""
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        if word in ("exit", "quit"):
            return False
        handler = getattr(self, f"cmd_{word}", None)
        if handler is not None and word in ("save", "context", "clear", "compact", "info", "export", "exec", "help"):
            handler(rest)
        else:
            self.ask(line)
        self.session = self.manager.resolve(self.session.id)
        return True

    # ------------------------------------------------------------------ commands

    def ask(self, prompt: str) -> None:
        from ai_session.cli.conversation import stream_answer

        result = stream_answer(self.manager, self.session, prompt, out=self.out, agent=self.agent,
                               provider=self.provider, model=self.model)  # fmt: skip
        if result is not None:
            usage = result.assistant.usage
            cost = f", ${usage.cost_usd:.4f}" if usage and usage.cost_usd else ""
            self.say(f"[ai-session] #{result.assistant.seq} · {result.context.tokens} context tokens sent{cost}")
            if result.compaction is not None:
                c = result.compaction
                self.say(f"[ai-session] compacted messages {c.covers[0]}–{c.covers[1]} into summary #{c.summary.seq}")

    def cmd_help(self, rest: str) -> None:
        self.say(HELP)

    def cmd_save(self, rest: str) -> None:
        if not rest:
            self.say(f"saved: {self.session.name} is stored as you go ({self.session.id})")
            return
        copy, replaced = self.manager.checkpoint(self.session, rest)
        self.say(f"{'updated' if replaced else 'saved'} checkpoint {copy.name} ({copy.id}) at this point; "
                 f"you go on in {self.session.name}")

    def cmd_context(self, rest: str) -> None:
        self.say(render_text(self.manager.context(self.session), lines=40))

    def cmd_clear(self, rest: str) -> None:
        args = shlex.split(rest)
        keep = 0
        if args:
            if len(args) != 2 or args[0] != "--keep-last" or not args[1].isdigit():
                raise InvalidInput("usage: clear [--keep-last N]")
            keep = int(args[1])
        removed = self.manager.clear_history(self.session.id, keep_last=keep)
        self.say(f"cleared {removed} message(s); pinned messages and the last {keep} were kept")

    def cmd_compact(self, rest: str) -> None:
        import asyncio

        result = asyncio.run(self.manager.acompact(self.session))
        if result is None:
            self.say("nothing to compact: the recent turns already fit")
        else:
            self.say(f"summary #{result.summary.seq} covers messages {result.covers[0]}–{result.covers[1]} "
                     f"({result.summary_tokens} tokens); originals kept")  # fmt: skip

    def cmd_info(self, rest: str) -> None:
        view = self.manager.show(self.session.id)
        self.show(Result(view=session_fields(view.session, view.totals)))

    def cmd_export(self, rest: str) -> None:
        path = self.manager.export(self.session.id, Path(rest).expanduser() if rest else None)
        self.say(f"exported to {path}")

    def cmd_exec(self, rest: str) -> None:
        """In the session's shell in the session host (the one `ai-session exec` and editors use);
        without a host, in a shell of this process that saves its cwd and env as it closes."""
        if not rest:
            raise InvalidInput("usage: exec CMD")
        from ai_session.host.client import HostUnavailable, run_command

        def show(text: str) -> None:
            self.out.write(text)
            self.out.flush()

        try:
            result = run_command(self.session.id, rest, on_output=show)
        except HostUnavailable as exc:
            self.say(f"no session host ({exc}); the shell runs in this process")
            result = self._exec_here(rest, show)
        self.say(f"[ai-session] exit {result.exit_code} ({result.status}), run {result.run_id}")

    def _exec_here(self, command: str, show: Callable[[str], None]) -> CommandResult:
        import asyncio

        from ai_session.host.client import CommandResult

        async def go() -> CommandRun:
            try:
                return await self.manager.exec(self.session.id, command,
                                               on_output=lambda chunk: show(chunk.decode("utf-8", "replace")))
            finally:
                await self.manager.shells.close()  # cwd and env are kept for the next exec

        run = asyncio.run(go())
        return CommandResult(run.exit_code, run.status.value, run.context or "", run.id, {})
