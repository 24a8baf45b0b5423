"""A persistent interactive shell in a real PTY, driven from asyncio.

One `ShellProcess` per session. Commands run in the same shell one after another, so `cd`,
`export`, functions and aliases persist. Boundaries and exit codes come from OSC 133 marks
that the shell's integration rc prints with a per-shell nonce (see `marks.py`); the command
text reaches the shell through a private file, never by typing it, so nothing depends on
echoed text. Reading is non-blocking on the event loop (one read batch per wake-up, so many
shells share one loop), with back-pressure towards a slow consumer and a bounded capture.

Front ends (CLI attach, editors) use `write`, `resize` and `subscribe`; commands a user types
there are reported as runs too (`add_run_listener`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import re
import secrets
import shlex
import shutil
import signal
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from ptyprocess import PtyProcess

from ai_session.core.errors import AiSessionError, InvalidInput
from ai_session.core.models import RunStatus
from ai_session.core.redact import StreamRedactor, remember, secret_assignments
from ai_session.core.shell import procs
from ai_session.core.shell.capture import DEFAULT_CAP, CrlfNormalizer, OutputCapture
from ai_session.core.shell.dialect import (
    DIALECTS,
    Handover,
    ShellKind,
    has_integration,
    write_private,
)
from ai_session.core.shell.marks import Mark, MarkScanner

Origin = Literal["exec", "typed", "internal"]
_HALF_TYPED_MAX = 4096
Stdin = bytes | Literal["null", "tty"]

READ_SIZE = 65536
READS_PER_WAKEUP = 8  # then yield to the loop so other shells are served
STREAM_HIGH_WATER = 1024 * 1024  # unconsumed streamed bytes before the reader pauses
STREAM_LOW_WATER = 256 * 1024
READY_TIMEOUT = 15.0
PARTIAL_LINE_WAIT = 0.03  # an unfinished output line is shown after this long without more output
MAX_SOURCED_BYTES = 1024 * 1024  # a file a command sources is read for secrets up to this size
# `. FILE` / `source FILE` in a command line: the file's secret assignments are learnt first.
_SOURCED = re.compile(r"(?:^|[;&|(\n]|\bthen\b|\bdo\b)\s*(?:\.|source)\s+(\"[^\"]+\"|'[^']+'|[^\s;&|)]+)")


class ShellError(AiSessionError):
    """The shell could not be started or stopped responding."""


class ShellExited(ShellError):
    """The shell process is gone; start a new one from `final_state()`."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class ShellState:
    """What a later shell of the same session restores."""

    cwd: str | None
    env: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ExecResult:
    command: str
    status: RunStatus
    exit_code: int | None
    started_at: datetime
    ended_at: datetime
    cwd: str | None  # where it ran
    final_cwd: str | None  # the shell's cwd afterwards
    output: bytes  # CRLF-normalised, secrets redacted, head+tail with a note when over the cap
    output_bytes: int  # everything the command printed, before the cap
    truncated: bool
    cap: int
    origin: Origin = "exec"

    @property
    def duration(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", "replace")


def choose_shell(preferred: str | None = None) -> tuple[str, ShellKind]:
    """`preferred`, else the user's $SHELL when it is bash or zsh, else bash, else sh."""
    candidates = [preferred] if preferred else []
    user = os.environ.get("SHELL", "")
    if Path(user).name in ("bash", "zsh"):
        candidates.append(user)
    candidates += ["bash", "sh"]
    for cand in candidates:
        path = cand if os.path.isabs(cand) else shutil.which(cand)
        if path and os.access(path, os.X_OK):
            name = Path(path).name
            kind: ShellKind = "bash" if name == "bash" else "zsh" if name == "zsh" else "sh"
            if kind == "zsh" and not has_integration("integration_zsh.zsh"):
                continue
            return path, kind
    raise ShellError("no usable shell found (tried: " + ", ".join(c for c in candidates if c) + ")")


class ShellRun:
    """One command. `async for chunk in run` streams its output; `await run` gives the result.

    Between a run and its ShellProcess there is a small public interface and no shared
    private state: the shell feeds it (`feed`, `drain`, `finish`, `fail`, `hold`/`release`,
    `ended`), the run asks the shell to `drive` it and to pause or resume reading.

    Iterate to the end or await the result: a consumer that stops iterating half-way leaves
    the shell paused (back-pressure). Cancelling the task that iterates or awaits stops the
    command and every process it started.
    """

    def __init__(
        self,
        shell: ShellProcess,
        command: str | None,
        origin: Origin,
        *,
        timeout: float | None = None,
        cwd: str | None = None,
        stdin: Stdin = "null",
    ) -> None:
        self.shell = shell
        self.command = command
        self.origin = origin
        self.timeout = timeout
        self.cwd = cwd
        self.stdin = stdin
        self.started_at: datetime | None = None
        self.since: procs.Mark = procs.Mark(0, 0)
        self.sent = False  # the line went to the shell
        self.in_output = False  # between the C and D marks
        self.stop_status: RunStatus | None = None
        self._iterating = False
        self._queue: deque[bytes] = deque()
        self._queued = 0
        self._wake = asyncio.Event()
        self._done: asyncio.Future[ExecResult] = asyncio.get_running_loop().create_future()
        # Set at the D mark. While a stop is under way the result is held back until every
        # process of the command is gone, so a consumer never sees "cancelled" too early.
        self.ended = asyncio.Event()
        self._hold = False
        self._held: ExecResult | None = None
        self._task: asyncio.Task[None] | None = None
        self._crlf = CrlfNormalizer()
        # What the command prints is redacted before anything sees it: the stream to a live
        # consumer and the capture alike. The store redacts the whole output again, so a
        # secret split across a pause in the output is still caught there.
        self._redact = StreamRedactor()
        self._capture = OutputCapture(shell.cap)

    # -- consumer side ------------------------------------------------------------------
    def __aiter__(self) -> AsyncIterator[bytes]:
        self._iterating = True
        self._ensure_started()
        return self

    async def __anext__(self) -> bytes:
        try:
            while not self._queue:
                if self._done.done():
                    raise StopAsyncIteration
                self._wake.clear()
                await self._wake.wait()
        except asyncio.CancelledError:
            self.cancel()
            raise
        chunk = self._queue.popleft()
        self._queued -= len(chunk)
        if self._queued <= STREAM_LOW_WATER:
            self.shell.resume_reading()
        return chunk

    def __await__(self):  # type: ignore[no-untyped-def]
        return self.result().__await__()

    async def result(self) -> ExecResult:
        """Wait for the end (draining anything not yet streamed) and return the result."""
        self.stop_streaming()
        self._ensure_started()
        try:
            return await asyncio.shield(self._done)
        except asyncio.CancelledError:
            self.cancel()
            raise

    def cancel(self) -> None:
        """Stop the command: interrupt, then kill every process it started."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    @property
    def done(self) -> bool:
        return self._done.done()

    def _ensure_started(self) -> None:
        if self._task is None and self.origin != "typed":
            self._task = asyncio.get_running_loop().create_task(self.shell.drive(self))

    def stop_streaming(self) -> None:
        self._iterating = False
        self._queue.clear()
        self._queued = 0
        self.shell.resume_reading()

    # -- shell side: what the ShellProcess reading the PTY calls ---------------------------
    def hold(self) -> None:
        """A stop is under way: keep the result back until `release` (every process gone)."""
        self._hold = True

    def feed(self, data: bytes) -> None:
        data = self._crlf.feed(data)
        if data:
            self._out(self._redact.feed(data))

    def drain(self, *, whole: bool = False) -> bool:
        """The shell has paused: hand out what the redactor holds, but for an unfinished last
        line unless `whole` (its end may be a token's end). True when something stays held."""
        self._out(self._redact.drain(lines_only=not whole))
        return self._redact.holding

    def _out(self, data: bytes) -> None:
        if not data:
            return
        self._capture.feed(data)
        if self._iterating:
            self._queue.append(data)
            self._queued += len(data)
            self._wake.set()
            if self._queued > STREAM_HIGH_WATER:
                self.shell.pause_reading()

    def finish(
        self, status: RunStatus, exit_code: int | None, final_cwd: str | None, command: str | None = None
    ) -> ExecResult | None:
        if self._done.done() or self.ended.is_set():
            return None
        self._out(self._redact.feed(self._crlf.flush()) + self._redact.flush())
        if command is not None:
            self.command = command
        start = self.started_at or _utcnow()
        result = ExecResult(
            command=self.command or "",
            status=status,
            exit_code=exit_code,
            started_at=start,
            ended_at=_utcnow(),
            cwd=self.cwd,
            final_cwd=final_cwd,
            output=self._capture.getvalue(),
            output_bytes=self._capture.total,
            truncated=self._capture.truncated,
            cap=self._capture.cap,
            origin=self.origin,
        )
        self.ended.set()
        if self._hold:
            self._held = result
        else:
            self._done.set_result(result)
            self._wake.set()
        return result

    def release(self) -> None:
        self._hold = False
        if self._held is not None and not self._done.done():
            self._done.set_result(self._held)
            self._wake.set()

    def fail(self, exc: BaseException) -> None:
        self.ended.set()
        if not self._done.done():
            self._done.set_exception(exc)
            self._wake.set()


class ShellProcess:
    """A persistent shell in a PTY. Create with `await ShellProcess.start(...)`."""

    def __init__(
        self,
        proc: PtyProcess,
        kind: ShellKind,
        nonce: str,
        workdir: Path,
        cwd: str,
        env: dict[str, str],
        cap: int,
    ) -> None:
        self._proc = proc
        self.pid: int = proc.pid
        self.kind = kind
        self.dialect = DIALECTS[kind]
        self._fd: int = proc.fd
        self._nonce = nonce
        self._dir = workdir
        self.cwd: str | None = cwd  # last cwd the shell reported
        self._start_env = env
        self.cap = cap
        remember(env)  # its secret values are redacted wherever they show up
        self._screen = StreamRedactor()  # what subscribers (attached terminals) see
        self._partial_timer: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()
        self._scanner = MarkScanner(nonce)
        self._run: ShellRun | None = None
        self._lock = asyncio.Lock()
        self._idle = asyncio.Event()  # a prompt is up and nothing runs
        self._subscribers: list[Callable[[bytes], None]] = []
        self._run_listeners: list[Callable[[ExecResult], None]] = []
        self._paused = False
        self._out = bytearray()  # keystrokes not yet accepted by the PTY
        # What a person has typed at the prompt and not yet entered; an exec sent meanwhile
        # clears the line for its own and types this back once the prompt returns.
        self._half_typed = b""
        self._give_back = b""
        self._eof = False
        self._exited = False
        self._dead = False
        self.returncode: int | None = None
        self._closed = asyncio.Event()
        self._final_state: ShellState | None = None
        self._last_env: dict[str, str] | None = None
        os.set_blocking(self._fd, False)
        os.set_inheritable(self._fd, False)
        self._pidfd = os.pidfd_open(self.pid)
        self._loop.add_reader(self._fd, self._on_readable)
        self._loop.add_reader(self._pidfd, self._on_exit)
        self._exit_task: asyncio.Task[None] | None = None

    # -- lifecycle ----------------------------------------------------------------------
    @classmethod
    async def start(
        cls,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        *,
        shell: str | None = None,
        user_rc: bool = False,
        rows: int = 24,
        cols: int = 80,
        cap: int = DEFAULT_CAP,
        ready_timeout: float = READY_TIMEOUT,
        workroot: Path | None = None,
        save_each_command: bool = False,
    ) -> ShellProcess:
        """Start a shell in `cwd` with exactly `env` (default: this process's environment).

        `user_rc` also loads the user's own rc file (aliases, prompt); off by default so the
        shell is deterministic. Pagers are set to `cat` unless `env` sets them, since nothing
        can page an agent's command. `workroot` is the private directory that holds the
        shell's own files (its rc, the command being handed over); default: the system's.
        `save_each_command`: a command line that can set variables leaves the exported env
        behind as it ends (bash; `saved_env()` reads it), not only the shell's exit.
        """
        cwd = os.fspath(cwd) if cwd is not None else os.getcwd()
        if not os.path.isdir(cwd):
            raise InvalidInput(f"shell directory does not exist: {cwd}")
        path, kind = choose_shell(shell)
        nonce = secrets.token_hex(8)
        workdir = Path(tempfile.mkdtemp(prefix=f"sh-{os.getpid()}-", dir=workroot))
        full_env = dict(os.environ if env is None else env)
        if full_env.get("TERM", "dumb") == "dumb":
            full_env["TERM"] = "xterm-256color"
        full_env.setdefault("PAGER", "cat")
        full_env.setdefault("GIT_PAGER", "cat")
        clean_env = dict(full_env)
        full_env.update(__AIS_NONCE=nonce, __AIS_DIR=str(workdir), __AIS_USER_RC="1" if user_rc else "0",
                        __AIS_SAVE_EACH="1" if save_each_command else "0")
        argv = DIALECTS[kind].prepare(path, workdir, full_env, user_rc)
        try:
            proc = PtyProcess.spawn(argv, cwd=cwd, env=full_env, dimensions=(rows, cols))
        except Exception as exc:
            shutil.rmtree(workdir, ignore_errors=True)
            raise ShellError(f"cannot start {path}: {exc}") from exc
        self = cls(proc, kind, nonce, workdir, cwd, clean_env, cap)
        try:
            await asyncio.wait_for(self._idle.wait(), ready_timeout)
        except TimeoutError:
            await self.close(grace=0.2)
            raise ShellError(f"{path} did not show its prompt within {ready_timeout:g} s") from None
        if self._dead:
            raise ShellExited(f"{path} exited during start-up (status {self.returncode})")
        return self

    @property
    def alive(self) -> bool:
        return not self._dead

    @property
    def busy(self) -> bool:
        return self._run is not None

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def close(self, grace: float = 1.0) -> ShellState:
        """End the shell and every process it started (SIGHUP, then SIGKILL for whatever
        ignores it, background jobs included) and return its final state."""
        if not self._dead and self._run is None and self._idle.is_set():
            # Ask the idle shell directly: its EXIT trap is only a fallback, since a hangup
            # can cut it short.
            with contextlib.suppress(Exception):
                state = await asyncio.wait_for(self.state(), 5.0)
                self._final_state = state
        if not self._dead:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGHUP)
                os.kill(self.pid, signal.SIGCONT)
            try:
                await asyncio.wait_for(self._closed.wait(), grace)
            except TimeoutError:
                procs.kill_all(procs.session_procs(self.pid))
                try:
                    await asyncio.wait_for(self._closed.wait(), 2.0)
                except TimeoutError:
                    self._finalize()
        # Jobs that ignored SIGHUP and no longer hold the terminal keep the shell's session id.
        for _ in range(50):
            left = [p for p in procs.session_procs(self.pid) if p.pid != self.pid]
            if not left:
                break
            procs.kill_all(left)
            await asyncio.sleep(0.02)
        return self.final_state()

    def final_state(self) -> ShellState:
        """After exit: the cwd and exported env the shell left (its EXIT trap wrote them)."""
        if self._final_state is not None:
            return self._final_state
        return ShellState(self.cwd, dict(self._last_env or self._start_env))

    async def state(self) -> ShellState:
        """The live shell's cwd and exported environment (waits for a running command)."""
        snap = self._dir / "env.snap"
        run = ShellRun(self, f"env -0 > {shlex.quote(str(snap))}", "internal")
        result = await run
        if result.exit_code != 0:
            raise ShellError(f"could not read the shell's environment: {result.text.strip()}")
        env = _parse_env0(snap.read_bytes())
        snap.unlink(missing_ok=True)
        self._last_env = env
        return ShellState(result.final_cwd, env)

    # -- commands ---------------------------------------------------------------------
    def exec(
        self,
        command: str,
        *,
        timeout: float | None = None,
        cwd: str | os.PathLike[str] | None = None,
        stdin: Stdin = "null",
    ) -> ShellRun:
        """Run `command` in the shell once it is idle.

        stdin: "null" (default: a command that reads stdin gets EOF at once instead of
        hanging), bytes (fed as its stdin, then EOF), or "tty" (the terminal, for a front end
        that types into it). `cwd` runs this one command there; the shell's own directory is
        unchanged afterwards. `timeout` (seconds) stops it like `cancel()`.
        """
        if "\0" in command:
            raise InvalidInput("a command cannot contain NUL bytes")
        if not command.strip():
            raise InvalidInput("empty command")
        if timeout is not None and timeout <= 0:
            raise InvalidInput("timeout must be positive")
        if stdin not in ("null", "tty") and not isinstance(stdin, bytes):
            raise InvalidInput("stdin must be bytes, 'null' or 'tty'")
        where = os.fspath(cwd) if cwd is not None else None
        if where is not None and not os.path.isdir(where):
            raise InvalidInput(f"no such directory: {where}")
        learn_secrets(command, where or self.cwd)
        return ShellRun(self, command, "exec", timeout=timeout, cwd=where, stdin=stdin)

    async def run(self, command: str, **kwargs: object) -> ExecResult:
        """`exec` without streaming."""
        result: ExecResult = await self.exec(command, **kwargs)  # type: ignore[arg-type]
        return result

    def interrupt(self) -> None:
        """Ctrl-C, as a terminal would send it."""
        self.write(b"\x03")

    # -- terminal front ends -------------------------------------------------------------
    def write(self, data: bytes) -> None:
        """Keystrokes (or any input) to the PTY, in order, without blocking."""
        if self._dead or not data:
            return
        pending = bool(self._out)
        self._out += data
        if not pending:
            self._flush_out()

    def type(self, keys: bytes) -> None:
        """A person's keystrokes from an attached terminal: as `write`, and what they type at
        the prompt is kept until they enter it, so a command run in between (an agent's)
        does not swallow it."""
        if self._run is None and self._idle.is_set():
            line = self._half_typed + keys
            # Enter, Ctrl-C and Ctrl-U end or clear the line; a line is bounded as readline's.
            cut = max(line.rfind(b"\r"), line.rfind(b"\n"), line.rfind(b"\x03"), line.rfind(b"\x15"))
            self._half_typed = line[cut + 1 :][-_HALF_TYPED_MAX:]
        else:
            self._half_typed = b""  # keys for a running command, not for the prompt
        self.write(keys)

    def resize(self, rows: int, cols: int) -> None:
        """New terminal size; the kernel sends SIGWINCH to the foreground job."""
        if not self._dead and rows > 0 and cols > 0:
            self._proc.setwinsize(rows, cols)

    def subscribe(self, callback: Callable[[bytes], None]) -> Callable[[], None]:
        """Every byte the terminal shows (prompts, echo, output; not the integration marks).

        The callback runs on the loop and must not block. Returns an unsubscribe function.
        """
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def add_run_listener(self, callback: Callable[[ExecResult], None]) -> Callable[[], None]:
        """Called with the result of every finished command, `origin` "exec" or "typed"."""
        self._run_listeners.append(callback)
        return lambda: self._run_listeners.remove(callback) if callback in self._run_listeners else None

    # -- what a ShellRun calls: drive it, and back-pressure for its consumer ---------------
    async def drive(self, run: ShellRun) -> None:
        """Send the run once the shell is idle and wait for its end (or stop it on timeout)."""
        try:
            async with self._lock:
                # Wait for the prompt (a typed command may be running; _finalize sets _idle too).
                while not self._dead and not (self._idle.is_set() and self._run is None):
                    await self._idle.wait()
                if self._dead:
                    run.fail(ShellExited(f"the shell has exited (status {self.returncode})"))
                    return
                self._send(run)
                try:
                    if run.timeout is None:
                        await run.ended.wait()
                    else:
                        await asyncio.wait_for(run.ended.wait(), run.timeout)
                except TimeoutError:
                    await self._stop(run, RunStatus.TIMEOUT)
        except asyncio.CancelledError:
            if run.sent and not run.done:
                await self._stop(run, RunStatus.CANCELLED)
            elif not run.done:
                run.fail(asyncio.CancelledError())
            raise
        except BaseException as exc:  # never leave a consumer waiting forever
            run.fail(exc)
            raise

    def _send(self, run: ShellRun) -> None:
        stdin = run.stdin
        if isinstance(stdin, bytes):
            path = self._dir / "stdin"
            write_private(path, stdin)
            stdin_path = str(path)
        else:
            stdin_path = "/dev/null" if stdin == "null" else "/dev/tty"
        self.dialect.hand_over(self._dir, Handover(run.command or "", run.cwd or "", stdin_path, run.origin != "internal"))
        run.since = procs.now_mark()
        run.started_at = _utcnow()
        run.sent = True
        self._run = run
        self._idle.clear()
        # ^U first: clear what a person has half typed at the prompt (typed back at the next one).
        self._give_back, self._half_typed = self._half_typed, b""
        self.write(b"\x15__ais_x\n")

    async def _stop(self, run: ShellRun, status: RunStatus) -> None:
        """Interrupt, then SIGKILL every process the command started; the shell survives."""
        run.stop_status = status
        run.hold()
        try:
            with contextlib.suppress(OSError):
                pgrp = os.tcgetpgrp(self._fd)
                if pgrp > 0:
                    os.killpg(pgrp, signal.SIGINT)  # also breaks a loop running inside the shell
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(run.ended.wait(), 0.3)
            deadline = time.monotonic() + 1.2
            while True:
                left = procs.command_procs(self.pid, run.since)
                if not left:
                    break
                procs.kill_all(left, signal.SIGKILL)
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.02)
            try:
                await asyncio.wait_for(run.ended.wait(), 0.5)
            except TimeoutError:
                # The shell itself does not come back (e.g. `trap '' INT` around a builtin loop).
                procs.kill_all(procs.session_procs(self.pid))
                try:
                    await asyncio.wait_for(run.ended.wait(), 2.0)
                except TimeoutError:
                    self._finalize()
        finally:
            run.release()

    # -- reading -------------------------------------------------------------------------
    def pause_reading(self) -> None:
        """A consumer is behind: stop reading the PTY (the shell blocks on its writes)."""
        if not self._paused and not self._eof:
            self._paused = True
            self._loop.remove_reader(self._fd)

    def resume_reading(self) -> None:
        """The consumer caught up."""
        if self._paused and not self._eof:
            self._paused = False
            self._loop.add_reader(self._fd, self._on_readable)

    def _on_readable(self) -> None:
        for _ in range(READS_PER_WAKEUP):
            try:
                data = os.read(self._fd, READ_SIZE)
            except BlockingIOError:
                self._paused_output()
                return
            except OSError as exc:  # Linux: EIO once the slave side is closed and drained
                if exc.errno not in (errno.EIO, errno.EBADF):
                    raise
                data = b""
            if not data:
                self._on_eof()
                return
            self._handle(self._scanner.feed(data))
            if self._paused:
                return

    def _paused_output(self) -> None:
        """Nothing more to read for now: what the redactors hold back goes out (a command's
        unfinished last line a moment later, unless more output completes it)."""
        run = self._run
        if run is not None and run.in_output and run.drain() and self._partial_timer is None:
            self._partial_timer = self._loop.call_later(PARTIAL_LINE_WAIT, self._flush_partial_line)
        self._show(self._screen.drain())

    def _flush_partial_line(self) -> None:
        self._partial_timer = None
        run = self._run
        if run is not None and run.in_output:
            run.drain(whole=True)

    def _show(self, data: bytes) -> None:
        if data:
            for cb in list(self._subscribers):
                cb(data)

    def _handle(self, items: list[bytes | Mark]) -> None:
        for item in items:
            if isinstance(item, bytes):
                if self._subscribers:
                    self._show(self._screen.feed(item))
                run = self._run
                if run is not None and run.in_output:
                    run.feed(item)
            else:
                self._on_mark(item)

    def _on_mark(self, mark: Mark) -> None:
        run = self._run
        if mark.kind == "C":
            if run is None:  # typed at the prompt by an attached user
                run = ShellRun(self, None, "typed")
                run.started_at = _utcnow()
                run.since = procs.now_mark()
                run.sent = True
                self._run = run
                self._idle.clear()
            run.in_output = True
            if run.started_at is None:
                run.started_at = _utcnow()
        elif mark.kind == "D":
            cwd = mark.decoded("cwd")
            if cwd:
                self.cwd = cwd
            self._learn_reported_secrets(mark)
            (self._dir / "stdin").unlink(missing_ok=True)
            if run is not None and run.sent:
                if run.in_output:
                    status = run.stop_status or RunStatus.FINISHED
                    self._complete(run, status, mark.exit_code, mark.decoded("cmd"))
                else:  # the shell went back to its prompt without running the line
                    self._complete(run, RunStatus.LOST, None)
            self._idle.set()
            if self._give_back and self._run is None:
                self.type(self._give_back)  # the person's half-typed line, at the new prompt
                self._give_back = b""
        elif mark.kind in ("A", "B") and run is None:
            self._idle.set()

    def _learn_reported_secrets(self, mark: Mark) -> None:
        """Secret-looking variables the command set (the integration reports them after each
        command) and values assigned to secret names in a typed line: redacted from now on,
        before the command's output is stored."""
        found: dict[str, str] = {}
        if mark.params.get("sec"):
            path = self._dir / "secrets"
            with contextlib.suppress(OSError):
                raw = path.read_bytes()
                path.unlink()
                for record in raw.split(b"\0"):
                    name, sep, value = record.partition(b"=")
                    if sep:
                        found[name.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        typed = mark.decoded("cmd")
        if typed:
            found.update(secret_assignments(typed))
        if found:
            remember(found)

    def _complete(self, run: ShellRun, status: RunStatus, code: int | None, command: str | None = None) -> None:
        self._run = None
        result = run.finish(status, code, self.cwd, command)
        if result is not None and run.origin != "internal":
            for cb in list(self._run_listeners):
                cb(result)

    def _on_eof(self) -> None:
        self._paused_output()
        self._eof = True
        self._loop.remove_reader(self._fd)
        if self._exited:
            self._finalize()

    def _on_exit(self) -> None:
        self._loop.remove_reader(self._pidfd)
        try:
            _, status = os.waitpid(self.pid, os.WNOHANG)
            self.returncode = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            pass
        self._proc.terminated = True
        self._exited = True
        if self._eof:
            self._finalize()
        else:
            self._exit_task = self._loop.create_task(self._drain_after_exit())

    async def _drain_after_exit(self) -> None:
        """The shell is gone; read its last output until EIO. Leftover processes holding the
        terminal open (background jobs) get SIGHUP, then SIGKILL."""
        for wait, sig in ((0.2, signal.SIGHUP), (1.0, signal.SIGKILL), (1.0, None)):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), wait)
                return
            if self._paused:  # nobody will consume any more: drop the back-pressure
                if self._run is not None:
                    self._run.stop_streaming()
                self.resume_reading()
            if sig is not None:
                procs.kill_all(procs.session_procs(self.pid), sig)
        self._finalize()

    def _finalize(self) -> None:
        if self._dead:
            return
        self._dead = True
        with contextlib.suppress(Exception):
            self._loop.remove_reader(self._fd)
        with contextlib.suppress(Exception):
            self._loop.remove_reader(self._pidfd)
        with contextlib.suppress(Exception):
            self._loop.remove_writer(self._fd)
        rest = self._scanner.flush()
        if rest:
            self._handle([rest])
        self._show(self._screen.flush())
        if not self._exited:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                _, status = os.waitpid(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)
            self._exited = True
        code = self.returncode
        if code is not None and code < 0:
            code = 128 - code  # killed by a signal: report it the way a shell does
        run = self._run
        if run is not None:
            if run.in_output and run.command is None:  # typed, and the shell died before saying what
                self._complete(run, run.stop_status or RunStatus.LOST, code)
            elif run.in_output:
                self._complete(run, run.stop_status or RunStatus.FINISHED, code)
            else:
                self._complete(run, run.stop_status or RunStatus.LOST, None)
        if self._final_state is None:
            self._final_state = self._read_saved_state()
        with contextlib.suppress(OSError):
            self._proc.fileobj.close()
        self._proc.closed = True
        with contextlib.suppress(OSError):
            os.close(self._pidfd)
        shutil.rmtree(self._dir, ignore_errors=True)
        self._idle.set()
        self._closed.set()

    def saved_env(self) -> dict[str, str]:
        """The exported env the shell last left behind (see `save_each_command`), else its start env."""
        with contextlib.suppress(OSError):
            raw = (self._dir / "state.env").read_bytes()
            if raw:
                return _parse_env0(raw)
        return dict(self._last_env or self._start_env)

    def _read_saved_state(self) -> ShellState:
        cwd = self.cwd
        with contextlib.suppress(OSError, UnicodeDecodeError):
            saved = (self._dir / "state.cwd").read_bytes().rstrip(b"\0").decode("utf-8", "surrogateescape")
            if saved:
                cwd = saved
        return ShellState(cwd, self.saved_env())

    def _flush_out(self) -> None:
        while self._out and not self._dead:
            try:
                n = os.write(self._fd, self._out)
            except BlockingIOError:
                self._loop.add_writer(self._fd, self._on_writable)
                return
            except OSError:
                self._out.clear()
                return
            del self._out[:n]

    def _on_writable(self) -> None:
        self._loop.remove_writer(self._fd)
        self._flush_out()


def learn_secrets(command: str, cwd: str | None) -> None:
    """Remember the values a command line assigns to secret-looking names (`export X_TOKEN=…`,
    `DB_PASSWORD=… cmd`, `declare -x …`) and those in files it sources (`set -a; . .env`), so
    its own output is redacted as it streams."""
    found = secret_assignments(command)
    for match in _SOURCED.finditer(command):
        path = Path(os.path.expanduser(match.group(1).strip("'\"")))
        if not path.is_absolute():
            path = Path(cwd or ".") / path
        with contextlib.suppress(OSError):
            if path.is_file() and path.stat().st_size <= MAX_SOURCED_BYTES:
                found.update(secret_assignments(path.read_text("utf-8", "replace")))
    if found:
        remember(found)


def _parse_env0(raw: bytes) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in raw.split(b"\0"):
        name, sep, value = item.partition(b"=")
        if sep and name:
            env[name.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
    return env
