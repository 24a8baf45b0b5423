"""`ai-session host`: the one process per user and store that owns the live shells.

As a tmux server owns its terminals: every client -- each editor window's language server,
the CLI's exec/attach/output, the library API, agents -- connects to this process's Unix
socket in the 0700 data dir, and all of them see the same live shell of a session. It
records every run (through the manager's shells), saves each shell's cwd and env after every
command, and exits when it has had no client and nothing running for a while.

Started by clients (`host.client.connect`), never by hand. The wire is JSON-RPC 2.0, one
JSON object per line; methods and payloads are the protocol package's (exec, run/cancel,
run/output, terminal/*; runOutput, runFinished, terminalOutput, terminalClosed), plus
`aiSession/host/hello` and `aiSession/host/stop`. Every message out passes the one redaction (`redact_json`, on its JSON text).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import fcntl
import json
import logging
import os
import signal
import socket
import struct
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any

from ai_session import __version__
from ai_session.core.errors import AiSessionError, InvalidInput, NotFound
from ai_session.core.manager import SessionManager
from ai_session.core.models import CommandRun
from ai_session.core.privacy import private_dir
from ai_session.core.redact import redact_json
from ai_session.host.batch import OutputBatcher
from ai_session.core.shell.process import ShellProcess
from ai_session.host.client import HostPaths
from ai_session.protocol import payloads as p
from ai_session.protocol.errors import error_object
from pydantic import BaseModel, Field, ValidationError

log = logging.getLogger("ai_session.host")
IDLE_SECONDS = 600.0  # no client, nothing running: then the host saves every shell and exits
REDRAW_PROMPT = b"\x0c"  # Ctrl-L: readline clears the screen and prints the prompt again
Message = dict[str, Any]


class HostExec(p.ExecParams):
    agent: str | None = None  # who asked (an agent's hook or tool), kept on the run
    # Instead of a session: the session of this directory's git worktree, made if missing (an
    # agent's hook names where it runs; resolving that here keeps its client light).
    worktree: str | None = None


class HostHello(p.Model):
    version: str = ""
    watch: bool = False  # every run's output and end, not only its own (editors' language servers)


class HostStop(p.Model):
    if_idle: bool = False


class HostAttach(p.TerminalAttachParams):
    redraw: bool = True  # Ctrl-L: the shell clears the screen and shows its prompt again


class RunReportParams(p.RunRef):
    output: bool = False  # with the stored raw output


class HostListSessions(p.Model):
    statuses: list[p.SessionStatus] = Field(default_factory=list)
    agent: str | None = None
    role: str | None = None
    include_pool: bool = False


@dataclass(eq=False)
class Client:
    """A connected client: `deliver` takes each message for it (a line on its socket, or a
    call, for a language server that runs the host in its own process)."""

    deliver: Callable[[str], None]  # one message as redacted JSON text
    watch: bool = False
    runs: set[str] = field(default_factory=set)  # its own runs: it hears of them even unwatched
    terminals: set[str] = field(default_factory=set)

    def send(self, message: Message) -> None:
        # The one way out: whatever a handler put in a message, no secret leaves the host. The
        # JSON text is redacted as a whole (a 1,000-row listing: 1 ms instead of 14 string by string).
        self.deliver(redact_json(message, by_key=False, ensure_ascii=True))


def _line_writer(writer: asyncio.StreamWriter) -> Callable[[str], None]:
    def deliver(text: str) -> None:
        if not writer.is_closing():
            writer.write(text.encode() + b"\n")

    return deliver


@dataclass
class Terminal:
    client: Client
    shell: ShellProcess
    unsubscribe: Callable[[], None]
    watcher: asyncio.Task[None] | None = None


class Host:
    def __init__(self, manager: SessionManager, *, idle: float = IDLE_SECONDS) -> None:
        self.m = manager
        self.idle = idle
        self.m.shells.save_each_command = True
        self.clients: set[Client] = set()
        self.running: dict[str, tuple[str, asyncio.Task[CommandRun]]] = {}  # run id: (session id, task)
        self.terminals: dict[str, Terminal] = {}
        self.stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._last_active = time.monotonic()
        self.handlers: dict[str, tuple[type[BaseModel], Callable[[Client, Any], Any]]] = {
            "aiSession/host/hello": (HostHello, self.hello),
            "aiSession/host/stop": (HostStop, self.stop),
            "aiSession/exec": (HostExec, self.exec),
            "aiSession/run/cancel": (p.RunRef, self.cancel),
            "aiSession/run/report": (RunReportParams, self.report),
            "aiSession/run/output": (p.RunOutputParams, self.output),
            "aiSession/host/listSessions": (HostListSessions, self.list_sessions),
            "aiSession/terminal/attach": (HostAttach, self.attach),
            "aiSession/terminal/input": (p.TerminalInputParams, self.input),
            "aiSession/terminal/resize": (p.TerminalResizeParams, self.resize),
            "aiSession/terminal/detach": (p.TerminalRef, self.detach),
        }

    # -- connections -------------------------------------------------------------------
    async def serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not _same_user(writer):
            writer.close()
            return
        client = self.connect(_line_writer(writer))
        try:
            while line := await reader.readline():
                try:
                    msg = json.loads(line)
                except ValueError:
                    client.send({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
                    continue
                self._spawn(self._answer(client, msg))
        except (ConnectionError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            self.disconnect(client)
            writer.close()

    def connect(self, deliver: Callable[[str], None]) -> Client:
        client = Client(deliver)
        self.clients.add(client)
        return client

    def disconnect(self, client: Client) -> None:
        self.clients.discard(client)
        for terminal_id in list(client.terminals):
            self._drop_terminal(terminal_id, "the client went away")
        self._last_active = time.monotonic()

    async def _answer(self, client: Client, msg: Message) -> None:
        reply = await self.handle(client, msg)
        if msg.get("id") is not None:
            client.send(reply)

    async def handle(self, client: Client, msg: Message) -> Message:
        """One request or notification from `client`; the reply (a notification's is dropped)."""
        ident, method = msg.get("id"), msg.get("method")
        entry = self.handlers.get(str(method))
        try:
            if entry is None:
                raise _RpcError(-32601, f"unknown method {method!r}")
            model, fn = entry
            try:
                params = model.model_validate(msg.get("params") or {})
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'params'}: {e['msg']}" for e in exc.errors()[:5])
                raise _RpcError(-32602, f"invalid params: {problems}") from None
            result = fn(client, params)
            if asyncio.iscoroutine(result):
                result = await result
            if isinstance(result, BaseModel):
                result = result.model_dump(mode="json", by_alias=True)
            reply: Message = {"jsonrpc": "2.0", "id": ident, "result": result}
        except AiSessionError as exc:
            reply = {"jsonrpc": "2.0", "id": ident, "error": error_object(exc)}
        except _RpcError as exc:
            reply = {"jsonrpc": "2.0", "id": ident, "error": {"code": exc.code, "message": str(exc)}}
        except Exception as exc:  # one client's bad request never takes the host down
            log.exception("%s failed", method)
            reply = {"jsonrpc": "2.0", "id": ident, "error": {"code": -32603, "message": f"internal error ({type(exc).__name__})"}}
        return reply

    def notify(self, method: str, payload: BaseModel, *, to: Client | None = None, run_id: str | None = None) -> None:
        """A notification to one client, or to every client that watches runs or owns this one."""
        msg = {"jsonrpc": "2.0", "method": method, "params": payload.model_dump(mode="json", by_alias=True)}
        targets = [to] if to is not None else [c for c in self.clients if c.watch or (run_id and run_id in c.runs)]
        for c in targets:
            c.send(msg)

    # -- methods -----------------------------------------------------------------------
    def hello(self, client: Client, params: HostHello) -> Message:
        client.watch = params.watch
        return {"version": __version__, "pid": os.getpid(), "busy": self.busy()}

    def stop(self, client: Client, params: HostStop) -> Message:
        if params.if_idle and self.busy():
            return {"stopping": False}
        self.stopping.set()
        return {"stopping": True}

    async def exec(self, client: Client, params: HostExec) -> p.ExecResult:
        if params.worktree and not params.session:
            session = self.m.worktree_session(params.worktree, agent=params.agent)[0]
        else:
            session = self.m.resolve(params.session) if params.session else _no_session()
        started: asyncio.Future[CommandRun] = asyncio.get_running_loop().create_future()
        decoder = codecs.getincrementaldecoder("utf-8")("replace")  # a character may span two reads
        behind: list[str] = []

        def on_start(run: CommandRun) -> None:
            # The newest run still going in the session's shell: this one starts when it ends.
            behind.extend(rid for rid, (sid, t) in self.running.items() if sid == session.id and not t.done())
            self.running[run.id] = (session.id, task)
            client.runs.add(run.id)
            started.set_result(run)

        def send_output(text: str) -> None:
            run_id = started.result().id
            self.notify("aiSession/runOutput", p.RunOutput(run_id=run_id, session_id=session.id, data=text), run_id=run_id)

        batch = OutputBatcher(send_output)  # a flood is a notification per 50 ms, not per read

        def on_output(chunk: bytes) -> None:
            if (text := decoder.decode(chunk)) and started.done():
                batch.add(text)

        async def run() -> CommandRun:
            try:
                done = await self.m.exec(session, params.command, timeout=params.timeout, cwd=params.cwd,
                                         on_output=on_output, on_start=on_start, agent=params.agent,
                                         output_cap=params.output_cap)  # fmt: skip
            except BaseException as exc:
                if not started.done():
                    started.set_exception(exc)
                    raise
                done = self.m.get_run(started.result().id)  # as recorded: cancelled, or lost
                batch.flush()
                self._finished(done)
                if isinstance(exc, asyncio.CancelledError):
                    return done
                raise
            batch.flush()
            self._finished(done)
            return done

        task = self._spawn(run())
        first = await started
        ahead = self.m.get_run(behind[-1]) if behind else None
        if not params.wait:
            return p.ExecResult(run_id=first.id, session_id=session.id, run=None, queued_behind=ahead)
        done = await asyncio.shield(task)
        return p.ExecResult(run_id=done.id, session_id=session.id, run=done, queued_behind=ahead)

    def _finished(self, run: CommandRun) -> None:
        self.running.pop(run.id, None)
        self._last_active = time.monotonic()
        self.notify("aiSession/runFinished", p.RunFinished(run=run, diagnostics_count=0), run_id=run.id)
        for c in self.clients:
            c.runs.discard(run.id)

    async def cancel(self, client: Client, params: p.RunRef) -> Message:
        """Stop a run; the answer carries the run as recorded (every client also gets runFinished)."""
        run = self.m.get_run(params.run_id)
        _, task = self.running.get(run.id, ("", None))
        if task is None or task.done():
            return {"cancelled": False, "run": _wire(run)}
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), timeout=5)
        return {"cancelled": True, "run": _wire(self.m.get_run(run.id))}

    def report(self, client: Client, params: RunReportParams) -> Message:
        """What the CLI prints after a run: the run, the tokens it added, and its output if asked."""
        run = self.m.get_run(params.run_id)
        added, total = self.m.run_tokens(run)
        output = self.m.raw_output(run.id) if params.output else None
        return {"run": _wire(run), "tokensAdded": added, "sessionTokens": total, "output": output}

    def list_sessions(self, client: Client, params: HostListSessions) -> Message:
        """The rows of `ai-session list`'s table: the CLI asks a running host, whose store is open
        and models built, instead of importing them for one listing."""
        from ai_session.cli.listing import rows

        return {"rows": rows(self.m, params.model_dump(mode="json", by_alias=True))}

    def output(self, client: Client, params: p.RunOutputParams) -> p.RunOutputResult:
        run, text = self.m.run_output(params.run_id, mode=params.mode, lines=params.lines, pattern=params.pattern,
                                      context=params.context_lines, plain=params.plain)  # fmt: skip
        return p.RunOutputResult(run=run, text=text)

    async def attach(self, client: Client, params: HostAttach) -> p.TerminalAttachResult:
        session = self.m.resolve(params.session) if params.session else _no_session()
        shell = await self.m.shells.shell(session, rows=params.rows, cols=params.cols)
        shell.resize(params.rows, params.cols)
        terminal_id = f"term_{uuid.uuid4().hex[:12]}"
        decoder = codecs.getincrementaldecoder("utf-8")("replace")

        def on_output(data: bytes) -> None:
            if text := decoder.decode(data):
                self.notify("aiSession/terminalOutput", p.TerminalOutput(terminal_id=terminal_id, data=text), to=client)

        async def watch() -> None:
            await shell.wait_closed()
            self._drop_terminal(terminal_id, "the shell exited")

        self.terminals[terminal_id] = Terminal(client, shell, shell.subscribe(on_output))
        self.terminals[terminal_id].watcher = self._spawn(watch())
        client.terminals.add(terminal_id)
        if params.redraw and not shell.busy:
            shell.write(REDRAW_PROMPT)
        return p.TerminalAttachResult(terminal_id=terminal_id, session_id=session.id)

    def _terminal(self, terminal_id: str) -> Terminal:
        if (term := self.terminals.get(terminal_id)) is None:
            raise NotFound(f"no attached terminal {terminal_id} (it was detached or its shell exited)")
        return term

    def input(self, client: Client, params: p.TerminalInputParams) -> p.Ok:
        self._terminal(params.terminal_id).shell.type(params.data.encode("utf-8"))
        return p.Ok()

    def resize(self, client: Client, params: p.TerminalResizeParams) -> p.Ok:
        self._terminal(params.terminal_id).shell.resize(params.rows, params.cols)
        return p.Ok()

    async def detach(self, client: Client, params: p.TerminalRef) -> p.Ok:
        """Detach; answered once what was typed there is recorded (whoever reads the runs next sees it)."""
        self._terminal(params.terminal_id)
        self._drop_terminal(params.terminal_id, "detached")
        await self.m.shells.settled()
        return p.Ok()

    def _drop_terminal(self, terminal_id: str, reason: str) -> None:
        if (term := self.terminals.pop(terminal_id, None)) is None:
            return
        term.unsubscribe()
        term.client.terminals.discard(terminal_id)
        if term.watcher and term.watcher is not asyncio.current_task():
            term.watcher.cancel()
        self.notify("aiSession/terminalClosed", p.TerminalClosed(terminal_id=terminal_id, reason=reason), to=term.client)

    # -- lifecycle ---------------------------------------------------------------------
    def busy(self) -> bool:
        return any(not t.done() for _, t in self.running.values()) or self.m.shells.running()

    async def watch_idle(self) -> None:
        while not self.stopping.is_set():
            await asyncio.sleep(min(1.0, self.idle / 4))
            if self.clients or self.busy():
                self._last_active = time.monotonic()
            elif time.monotonic() - self._last_active >= self.idle:
                log.info("idle for %.0f s with no client: exiting", self.idle)
                self.stopping.set()

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        tasks = [task for _, task in self.running.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.m.shells.close()  # saves every shell's cwd and env


class _RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _no_session() -> Any:
    raise InvalidInput("name a session: the session host has no current session")


def _wire(run: CommandRun) -> Message:
    return run.model_dump(mode="json", by_alias=True)


def _same_user(writer: asyncio.StreamWriter) -> bool:
    """The socket is 0600 in a 0700 dir; where the kernel tells the peer's uid, check it too."""
    sock = writer.get_extra_info("socket")
    if sock is None or not hasattr(socket, "SO_PEERCRED"):
        return True
    with contextlib.suppress(OSError):
        _, uid, _ = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
        return uid == os.getuid()
    return False


async def serve(idle: float | None = None) -> int:
    """Run the host until it is idle (or asked to stop). 0 when it ran; 1 when another host
    already holds the lock (that one serves)."""
    paths = HostPaths.find()
    private_dir(Path(paths.home))
    lock_fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("ai-session host: another host serves this store", file=sys.stderr)
        return 1
    os.ftruncate(lock_fd, 0)
    os.pwrite(lock_fd, f"{os.getpid()}\n".encode(), 0)  # who holds it, for people and tests
    m = SessionManager()
    try:
        recovered = await asyncio.to_thread(m.record_interrupted)
        if recovered:
            log.warning("%d run(s) left running by a stopped host recorded as interrupted", recovered)
        host = Host(m, idle=_idle_seconds() if idle is None else idle)
        # A socket file is only a leftover once the lock is ours: replace it.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(paths.socket)
        old_umask = os.umask(0o177)
        try:
            server = await asyncio.start_unix_server(host.serve_client, path=paths.socket, limit=1 << 24)
        finally:
            os.umask(old_umask)
        os.chmod(paths.socket, 0o600)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, host.stopping.set)
        watcher = asyncio.ensure_future(host.watch_idle())
        await host.stopping.wait()
        watcher.cancel()
        server.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(paths.socket)
        await host.close()
        return 0
    finally:
        m.close()
        os.close(lock_fd)


def _idle_seconds() -> float:
    value = os.environ.get("AI_SESSION_HOST_IDLE")
    try:
        return float(value) if value else IDLE_SECONDS
    except ValueError:
        return IDLE_SECONDS


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pygls").setLevel(logging.WARNING)
    return asyncio.run(serve())
