"""The Claude Code CLI, headless: `claude -p --output-format stream-json --verbose`.

Claude Code keeps the conversation itself. The first turn of a session names it with
`--session-id <uuid>`; every later turn resumes exactly that one with `--resume <uuid>`
(`--continue` would pick whatever conversation ran last in the directory, which may be
another session's). Claude Code files conversations under the directory they ran in, so
the cwd is stored with the id and a resume runs there. When a resume fails (the
conversation was deleted, the directory is gone, the CLI was reinstalled), a new
conversation starts with our assembled context as its prompt, and the result says so.

stream-json lines: `system/init` (session_id, model), `assistant` (a message with content
blocks and usage), `stream_event` (raw API deltas, with --include-partial-messages),
`user` (tool results) and a final `result` (text, usage, `total_cost_usd`, or an error).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Mapping
from contextlib import aclosing, suppress
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ai_session.core.errors import InvalidInput, ProviderError
from ai_session.core.models import Usage
from ai_session.core.providers.base import (
    ChatRequest,
    Completion,
    Conversation,
    Notice,
    Provider,
    StreamEvent,
    TextDelta,
    wire_messages,
)
from ai_session.core.providers.http import one_line
from ai_session.core.providers.options import Options
from ai_session.core.providers.pricing import PriceTable

BIN_ENV = "AI_SESSION_CLAUDE_BIN"
SETTINGS = {"executable", "model", "extra_args", "timeout", "partial_messages"}
# Longer prompts go through stdin: one argv string is limited to 128 KiB on Linux.
ARGV_PROMPT_LIMIT = 100_000
_LINE_LIMIT = 64 * 1024 * 1024  # a stream-json line carries whole tool results
_STDERR_KEEP = 8192
T = TypeVar("T")


@dataclass
class _Run:
    """What one CLI invocation produced."""

    returncode: int | None = None
    stderr: str = ""
    session_id: str | None = None
    model: str | None = None
    result: dict[str, Any] | None = None
    texts: list[str] = field(default_factory=list)  # text of each assistant message
    streamed: bool = False  # any text reached the caller

    @property
    def failed(self) -> bool:
        return self.returncode != 0 or self.result is None or bool(self.result.get("is_error"))

    def reason(self) -> str:
        if self.result is not None and self.result.get("is_error"):
            errors = self.result.get("errors")
            detail = self.result.get("result") or ("; ".join(map(str, errors)) if isinstance(errors, list) else "")
            return one_line(f"{self.result.get('subtype', 'error')}: {detail}".rstrip(": "))
        tail = [line for line in self.stderr.splitlines() if line.strip()]
        detail = one_line(tail[-1]) if tail else "no result"
        return f"exit status {self.returncode}: {detail}"


class ClaudeCodeProvider(Provider):
    name = "claude"
    keeps_conversation = True

    @property
    def default_model(self) -> str | None:
        return self.model

    def __init__(
        self,
        executable: str = "claude",
        *,
        model: str | None = None,
        extra_args: list[str] | None = None,
        timeout: float = 1800.0,
        partial_messages: bool = False,
        prices: PriceTable | None = None,
    ) -> None:
        self.executable = executable
        self.model = model
        self.extra_args = list(extra_args or [])
        self.timeout = timeout
        # --include-partial-messages streams token deltas; older CLIs lack the flag.
        self.partial_messages = partial_messages
        self.prices = prices or PriceTable()

    @classmethod
    def from_config(
        cls, raw: Mapping[str, Any] | None, env: Mapping[str, str], prices: PriceTable | None = None
    ) -> ClaudeCodeProvider:
        opts = Options("claude", raw, SETTINGS)
        extra = opts.strings("extra_args")
        for flag in ("--continue", "-c", "--resume", "-r", "--session-id"):
            if flag in extra:
                raise InvalidInput(
                    f"providers.claude.extra_args must not contain {flag}: ai-session manages the conversation"
                )
        return cls(
            env.get(BIN_ENV) or opts.text("executable") or "claude",
            model=opts.text("model"),
            extra_args=extra,
            timeout=opts.number("timeout", 1800.0, minimum=0.001),
            partial_messages=opts.flag("partial_messages", False),
            prices=prices,
        )

    def resolve_executable(self) -> str:
        found = shutil.which(self.executable)
        if found is None:
            raise ProviderError(
                f"claude: the Claude Code CLI {self.executable!r} was not found"
                f"{'' if os.sep in self.executable else ' on PATH'}; install it or set {BIN_ENV} "
                "or providers.claude.executable"
            )
        return found

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        request.validate()
        exe = self.resolve_executable()
        note: str | None = None
        conversation = request.conversation
        if conversation is not None:
            cwd = conversation.cwd or _cwd(request)
            if not os.path.isdir(cwd):
                note = (
                    f"could not resume Claude Code conversation {conversation.id}: its directory {cwd} is gone; "
                    "started a new conversation with the session's context"
                )
            else:
                run = _Run()
                args = self._args(exe, ["--resume", conversation.id], request)
                async with aclosing(self._run(args, request.turn_text(), cwd, run)) as events:
                    async for event in events:
                        yield event
                if not run.failed:
                    yield self._completion(run, conversation.id, cwd, None)
                    return
                if run.streamed:  # an answer had begun: this is a failure of the turn, not of the resume
                    raise ProviderError(f"claude: {run.reason()}")
                note = (
                    f"could not resume Claude Code conversation {conversation.id} ({run.reason()}); "
                    "started a new conversation with the session's context"
                )
            yield Notice(note)
        cwd = _cwd(request)
        if not os.path.isdir(cwd):
            raise ProviderError(f"claude: the session's directory {cwd} does not exist")
        new_id = str(uuid.uuid4())
        run = _Run()
        args = self._args(exe, ["--session-id", new_id], request)
        async with aclosing(self._run(args, transcript_prompt(request), cwd, run)) as events:
            async for event in events:
                yield event
        if run.failed:
            prefix = "resume failed and a new conversation failed too: " if note else ""
            raise ProviderError(f"claude: {prefix}{run.reason()}")
        yield self._completion(run, new_id, cwd, note)

    def _args(self, exe: str, conversation_args: list[str], request: ChatRequest) -> list[str]:
        args = [exe, "-p", "--output-format", "stream-json", "--verbose", *conversation_args]
        if self.partial_messages:
            args.append("--include-partial-messages")
        model = request.model or self.model
        if model:
            args += ["--model", model]
        if request.system:
            args += ["--append-system-prompt", request.system]
        return args + self.extra_args

    async def _run(self, args: list[str], prompt: str, cwd: str, run: _Run) -> AsyncGenerator[TextDelta]:
        via_stdin = len(prompt.encode("utf-8")) > ARGV_PROMPT_LIMIT
        if not via_stdin:
            args = [*args, "--", prompt]  # "--": a prompt starting with "-" is not an option
        try:
            proc = await asyncio.create_subprocess_exec(
                *args,
                cwd=cwd,
                stdin=asyncio.subprocess.PIPE if via_stdin else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=_LINE_LIMIT,
                start_new_session=True,  # its tool subprocesses go with it when we stop it
            )
        except OSError as exc:
            raise ProviderError(f"claude: cannot start {args[0]}: {exc.strerror or exc}") from None
        assert proc.stdout is not None and proc.stderr is not None
        stderr_task = asyncio.create_task(_tail(proc.stderr))
        # A deadline per await, not an asyncio.timeout() block: this generator yields, and a
        # cancel scope must not stay armed while the caller's code runs between our yields.
        deadline = asyncio.get_running_loop().time() + self.timeout
        try:
            if via_stdin:
                assert proc.stdin is not None
                try:
                    proc.stdin.write(prompt.encode("utf-8"))
                    await self._before(deadline, proc.stdin.drain())
                    proc.stdin.close()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # it exited without reading; its exit status says why
            partial = False
            while raw := await self._before(deadline, proc.stdout.readline()):
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("{"):
                    continue  # the CLI may print a warning line; stream-json lines are objects
                try:
                    data = json.loads(line)
                except ValueError:
                    continue
                for text in _texts(data, run, partial):
                    run.streamed = True
                    yield TextDelta(text)
                partial = partial or _is_text_delta(data)
            run.returncode = await self._before(deadline, proc.wait())
            run.stderr = await self._before(deadline, stderr_task)
        finally:
            if proc.returncode is None:
                _stop(proc)
                await proc.wait()
            if not stderr_task.done():
                stderr_task.cancel()

    async def _before(self, deadline: float, awaitable: Awaitable[T]) -> T:
        remaining = deadline - asyncio.get_running_loop().time()
        try:
            return await asyncio.wait_for(awaitable, max(remaining, 0))
        except TimeoutError:
            raise ProviderError(f"claude: no answer within {self.timeout:g}s; raise providers.claude.timeout") from None

    def _completion(self, run: _Run, requested_id: str, cwd: str, note: str | None) -> Completion:
        result = run.result or {}
        raw: dict[str, Any] = result["usage"] if isinstance(result.get("usage"), dict) else {}
        usage = Usage(
            input_tokens=_int(raw.get("input_tokens")),
            output_tokens=_int(raw.get("output_tokens")),
            cache_read_tokens=_int(raw.get("cache_read_input_tokens")),
            cache_write_tokens=_int(raw.get("cache_creation_input_tokens")),
            reported=bool(raw),
        )
        cost = result.get("total_cost_usd", result.get("cost_usd"))
        reported_cost = float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else None
        text = result.get("result")
        if not isinstance(text, str):
            text = "\n\n".join(run.texts)
        # Store the id the CLI reports: some versions give a resumed conversation a new id.
        conversation_id = result.get("session_id") or run.session_id or requested_id
        return Completion(
            text=text,
            usage=self.prices.priced(usage, run.model, reported_cost),
            model=run.model,
            conversation=Conversation(id=str(conversation_id), cwd=cwd),
            note=note,
            stop_reason=result.get("stop_reason") or result.get("subtype"),
            notices=(note,) if note else (),
        )


def transcript_prompt(request: ChatRequest) -> str:
    """The assembled context as one prompt, for a conversation that starts fresh."""
    messages = wire_messages(request.messages)
    if len(messages) <= 1:
        return request.turn_text() if not messages else messages[0].content
    earlier = "\n\n".join(f"### {m.role}\n{m.content}" for m in messages[:-1])
    return (
        "[ai-session] This conversation continues an earlier session. Its context so far:\n\n"
        f"{earlier}\n\n[ai-session] The new request:\n\n{messages[-1].content}"
    )


def _cwd(request: ChatRequest) -> str:
    return os.path.abspath(request.cwd or os.getcwd())


def _is_text_delta(data: dict[str, Any]) -> bool:
    event = data.get("event") if data.get("type") == "stream_event" else None
    return isinstance(event, dict) and (event.get("delta") or {}).get("type") == "text_delta"


def _texts(data: dict[str, Any], run: _Run, partial: bool) -> list[str]:
    """Record what a stream-json line says; return the answer text it adds, if any."""
    kind = data.get("type")
    if kind == "system" and data.get("subtype") == "init":
        run.session_id = data.get("session_id") or run.session_id
        run.model = data.get("model") or run.model
    elif kind == "stream_event" and _is_text_delta(data):
        return [data["event"]["delta"].get("text") or ""]
    elif kind == "assistant":
        message = data.get("message") or {}
        run.model = message.get("model") or run.model
        blocks = message.get("content") or []
        text = "".join(b.get("text", "") for b in blocks if isinstance(b, dict) and b.get("type") == "text")
        if text:
            run.texts.append(text)
            if not partial:  # with partial messages the text already came as deltas
                sep = "\n\n" if len(run.texts) > 1 else ""
                return [sep + text]
    elif kind == "result":
        run.result = data
        run.session_id = data.get("session_id") or run.session_id
    return []


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


async def _tail(stream: asyncio.StreamReader) -> str:
    """Read all of stderr (so the child never blocks on it) and keep the end."""
    kept = b""
    while chunk := await stream.read(65536):
        kept = (kept + chunk)[-_STDERR_KEEP:]
    return kept.decode("utf-8", "replace")


def _stop(proc: asyncio.subprocess.Process) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
