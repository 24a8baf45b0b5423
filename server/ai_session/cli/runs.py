"""Commands in a session's shell: exec, attach, output; migrating a tmux session; the compress filter."""

from __future__ import annotations

import contextlib
import os
import signal
import sys

from ai_session.cli.render import Result
from ai_session.cli.spec import arg, command, one_of
from ai_session.host.client import HostLost, wait_for_run

TYPE_CHECKING = False  # exec, attach and output through the host import no `typing` (nor pydantic, the store)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterator, Sequence
    from typing import Any

    from ai_session.core.manager import SessionManager
    from ai_session.core.models import CommandRun, Session
    from ai_session.host.client import Connection


@command(
    "exec",
    arg("cmd", metavar="COMMAND", help="shell command line (quote it)"),
    arg("--timeout", type=float, help="stop it (and every process it started) after S seconds"),
    arg("--cwd", help="run it in DIR (the session shell's own cwd is unchanged)"),
    arg("--capture", action="store_true", help="do not stream; print the stored (redacted) output at the end"),
    target="session",
    needs="nothing",
)
def exec_(_: None, a: argparse.Namespace) -> Result:
    """Run a command in the session's persistent shell (cwd and env persist); its exit code is
    returned. Then, on stderr: the run's id (for `ai-session output RUN`) and the context tokens it
    added to the session, with the session's new total.

    The shell is the session's one live shell, owned by the session host (started on demand)
    and shared with every editor and terminal attached to the session."""
    live = a.format == "table" and not a.capture
    conn, fallback = _host()
    if conn is None:
        return _in_process(fallback, lambda m: _exec_here(m, a, live))
    with conn:
        run_id = conn.request("aiSession/exec", _params(session=a.session, command=a.cmd, timeout=a.timeout,
                                                          cwd=a.cwd))["runId"]  # fmt: skip
        show = _writer(sys.stdout.buffer) if live else None
        try:
            with _interrupts():
                run = wait_for_run(conn, run_id, show)
        except KeyboardInterrupt:
            run = conn.request("aiSession/run/cancel", {"runId": run_id})["run"]
        report = conn.request("aiSession/run/report", {"runId": run_id, "output": not live})
        return _exec_result(a, run, report["output"] or "", report["tokensAdded"], report["sessionTokens"], conn.notes)


def _exec_here(m: SessionManager, a: argparse.Namespace, live: bool) -> Result:
    """exec without a host: a shell of this process, its cwd and env saved when it closes."""
    import asyncio

    from ai_session.cli.views import model_json

    run = asyncio.run(_exec(m, m.resolve(a.session), a.cmd, a.timeout, a.cwd, live))
    if run is None:
        return Result(status=130)
    added, total = m.run_tokens(run)
    return _exec_result(a, model_json(run), "" if live else m.raw_output(run.id), added, total)


def _exec_result(a: argparse.Namespace, run: dict[str, Any], output: str, added: int, total: int,
                 notes: Sequence[str] = ()) -> Result:  # fmt: skip
    """What exec shows and returns, wherever the run ran: the run's exit code (124 timed out,
    130 cancelled), the footer with its id and tokens."""
    footer = f"[ai-session] run {run['id']} · Tokens used: +{added:,} ({total:,} total)"
    result = Result(data={**run, "output": output, "tokensAdded": added, "sessionTokens": total},
                    view=output if a.capture else None,
                    notes=[*notes, footer] if a.format == "table" else list(notes))  # fmt: skip
    if run["status"] == "timeout":
        result.notes = [*result.notes, f"ai-session: timed out after {a.timeout:g}s; stopped the command and its processes"]
        result.status = 124
    elif run["status"] == "cancelled":
        result.status = 130
    else:
        result.status = run["exitCode"] if run.get("exitCode") is not None else 1
    return result


async def _exec(m: SessionManager, session: Session, cmd: str, timeout: float | None, cwd: str | None,
                live: bool) -> CommandRun | None:  # fmt: skip
    import asyncio

    started: list[CommandRun] = []
    task = asyncio.ensure_future(m.exec(session, cmd, timeout=timeout, cwd=cwd,
                                        on_output=_writer(sys.stdout.buffer, raw=True) if live else None,
                                        on_start=started.append))  # fmt: skip
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, task.cancel)
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        return m.get_run(started[0].id) if started else None
    finally:
        await m.shells.close()


def _host() -> tuple[Connection | None, str]:
    """A connection to the session host, or None and why there is none (then the command runs
    its shell in this process, as before hosts)."""
    from ai_session.host.client import HostUnavailable, connect

    try:
        return connect(), ""
    except HostUnavailable as exc:
        return None, str(exc)


def _in_process(reason: str, handler: Callable[[SessionManager], Result]) -> Result:
    from ai_session.core.manager import SessionManager

    print(f"ai-session: no session host ({reason}); the shell runs in this process", file=sys.stderr)
    m = SessionManager()
    try:
        return handler(m)
    finally:
        m.close()


def _params(**params: Any) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def _writer(out: Any, *, raw: bool = False) -> Callable[[Any], None]:
    def show(chunk: Any) -> None:
        out.write(chunk if raw else chunk.encode("utf-8", "surrogateescape"))
        out.flush()

    return show


@contextlib.contextmanager
def _interrupts() -> Iterator[None]:
    """SIGTERM stops the command as Ctrl-C does (both raise KeyboardInterrupt here)."""
    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@command(
    "attach",
    arg("--no-terminal", action="store_true", help="only mark active and show the state"),
    target="session",
    needs="nothing",
)
def attach(_: None, a: argparse.Namespace) -> Result:
    """Attach your terminal to the session's shell (Ctrl-] detaches); without a terminal,
    mark the session active and show its state. The shell is the one the session host keeps for
    the session: editors and other terminals attached to it see the same screen."""
    terminal = not a.no_terminal and a.format == "table" and sys.stdin.isatty() and sys.stdout.isatty()
    if terminal:
        conn, fallback = _host()
        if conn is not None:
            with conn:
                return Result(status=_attach_via_host(conn, a.session))
    else:
        fallback = ""
    return _in_process(fallback, lambda m: _attach_here(m, a, terminal)) if fallback else _with_manager(
        lambda m: _attach_here(m, a, terminal))


def _with_manager(handler: Callable[[SessionManager], Result]) -> Result:
    from ai_session.core.manager import SessionManager

    m = SessionManager()
    try:
        return handler(m)
    finally:
        m.close()


def _attach_here(m: SessionManager, a: argparse.Namespace, terminal: bool) -> Result:
    import asyncio

    from ai_session.cli.views import session_fields, session_json

    view = m.show(a.session)
    session = m.touch(view.session)
    if terminal:
        return Result(status=asyncio.run(_attach_terminal(m, session)))
    return Result(data=session_json(session, view.totals), view=session_fields(session, view.totals))


DETACH_KEY = b"\x1d"  # Ctrl-]


class _RawTerminal:
    """The user's terminal in raw mode for the time of an attach; its size as it changes."""

    def __init__(self) -> None:
        import termios
        import tty

        self.fd_in, self.fd_out = sys.stdin.fileno(), sys.stdout.fileno()
        self.size = os.get_terminal_size(self.fd_out)
        self._termios = termios
        self._saved = termios.tcgetattr(self.fd_in)
        tty.setraw(self.fd_in)

    def show(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd_out, view):]

    def resized(self) -> os.terminal_size | None:
        new = os.get_terminal_size(self.fd_out)
        if new == self.size:
            return None
        self.size = new
        return new

    def keys(self) -> tuple[bytes, bool]:
        """What was typed, and whether it asks to detach (what follows Ctrl-] is dropped)."""
        data = os.read(self.fd_in, 4096)
        cut = data.find(DETACH_KEY)
        return (data[: max(cut, 0)], True) if not data or cut >= 0 else (data, False)

    def restore(self) -> None:
        self._termios.tcsetattr(self.fd_in, self._termios.TCSAFLUSH, self._saved)


def _attach_via_host(conn: Connection, ref: str) -> int:
    """Raw-mode terminal on the session's shell in the host: the same screen every other
    client attached to it sees; every typed command is recorded as a run."""
    import selectors

    size = os.get_terminal_size(sys.stdout.fileno())
    attached = conn.request("aiSession/terminal/attach", {"session": ref, "rows": size.lines, "cols": size.columns})
    terminal_id = attached["terminalId"]
    for note in conn.notes:
        print(note, file=sys.stderr)
    term = _RawTerminal()
    term.show(f"[ai-session] attached to {ref}; Ctrl-] detaches\r\n".encode())
    sel = selectors.DefaultSelector()
    sel.register(term.fd_in, selectors.EVENT_READ, "keys")
    sel.register(conn.sock, selectors.EVENT_READ, "host")
    reason = f"detached from {ref}"

    def resize() -> None:
        if (new := term.resized()) is not None:
            conn.notify("aiSession/terminal/resize", {"terminalId": terminal_id, "rows": new.lines, "cols": new.columns})

    try:
        conn.notify("aiSession/terminal/input", {"terminalId": terminal_id, "data": "\n"})  # a fresh prompt
        read = False
        while True:
            for msg in conn.take(read=read):
                params = msg.get("params") or {}
                if params.get("terminalId") != terminal_id:
                    continue
                if msg.get("method") == "aiSession/terminalOutput":
                    term.show(params["data"].encode("utf-8", "surrogateescape"))
                elif msg.get("method") == "aiSession/terminalClosed":
                    reason = params.get("reason", "closed")
                    raise _Detached
            resize()
            read = False
            for key, _ in sel.select(timeout=0.25):
                if key.data == "host":
                    read = True
                    continue
                resize()  # a resize just before the keys reaches the shell first (`stty size` typed after it)
                data, detach = term.keys()
                if data:
                    conn.notify("aiSession/terminal/input", {"terminalId": terminal_id,
                                                             "data": data.decode("utf-8", "replace")})  # fmt: skip
                if detach:
                    conn.request("aiSession/terminal/detach", {"terminalId": terminal_id})
                    raise _Detached
    except _Detached:
        pass
    except HostLost as exc:
        reason = str(exc)
    finally:
        sel.close()
        term.restore()
    print(f"\n[ai-session] {reason}; the shell keeps running in the session host (cwd and env saved)")
    return 0


class _Detached(Exception):
    pass


async def _attach_terminal(m: SessionManager, session: Session) -> int:
    """Raw-mode terminal on a shell of this process (no host); every typed command is recorded as a run."""
    import asyncio

    term = _RawTerminal()
    sh = await m.shells.shell(session, rows=term.size.lines, cols=term.size.columns)
    loop = asyncio.get_running_loop()
    detached = asyncio.Event()

    def on_keys() -> None:
        on_resize()  # a resize just before the keys reaches the shell first, whatever SIGWINCH's timing
        data, detach = term.keys()
        sh.type(data)
        if detach:
            detached.set()

    def on_resize() -> None:
        if (new := term.resized()) is not None:
            sh.resize(new.lines, new.columns)

    term.show(f"[ai-session] attached to {session.name}; Ctrl-] detaches\r\n".encode())
    unsubscribe = sh.subscribe(term.show)
    loop.add_reader(term.fd_in, on_keys)
    loop.add_signal_handler(signal.SIGWINCH, on_resize)
    try:
        sh.write(b"\n")  # a fresh prompt (an empty line is not a command)
        ended = asyncio.ensure_future(sh.wait_closed())
        await asyncio.wait({ended, asyncio.ensure_future(detached.wait())}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        loop.remove_reader(term.fd_in)
        loop.remove_signal_handler(signal.SIGWINCH)
        unsubscribe()
        term.restore()
        await m.shells.close()
    print(f"\n[ai-session] detached from {session.name}; cwd and env saved")
    return 0


@command(
    "output",
    arg("run", metavar="RUN", help="run id (or a unique prefix)"),
    one_of(
        arg("--raw", action="store_true", help="the full raw output as captured"),
        arg("--lines", metavar="A:B", help="raw lines A to B, numbered (1-based, inclusive)"),
        arg("--grep", metavar="PATTERN", help="raw lines matching a regular expression (RE2 syntax: linear time whatever the pattern), numbered"),
    ),
    arg("--context", "-C", type=int, default=0, help="lines of context around --grep hits"),
    needs="nothing",
)
def output(_: None, a: argparse.Namespace) -> Result:
    """A command run's output: the context form the agent got (default), or the full raw output."""
    mode = "raw" if a.raw else "lines" if a.lines else "grep" if a.grep else "context"
    conn, fallback = _host()
    if conn is None:
        def here(m: SessionManager) -> Result:
            from ai_session.cli.views import model_json

            run, text = m.run_output(a.run, mode=mode, lines=a.lines, pattern=a.grep, context=a.context)
            return Result(data={"run": model_json(run, exclude={"context"}), "mode": mode, "text": text}, view=text)

        return _in_process(fallback, here)
    with conn:
        got = conn.request("aiSession/run/output", _params(runId=a.run, mode=mode, lines=a.lines, pattern=a.grep,
                                                            contextLines=a.context or None))  # fmt: skip
    run = {k: v for k, v in got["run"].items() if k != "context"}
    return Result(data={"run": run, "mode": mode, "text": got["text"]}, view=got["text"], notes=conn.notes)


@command(
    "migrate",
    arg("--session", dest="tmux_session", required=True, metavar="TMUX_SESSION", help="the tmux session"),
    arg("--name", help="name of the new session (default: tmux-<name>)"),
    arg("--replace", action="store_true", help="kill the tmux session once the new session is stored"),
    arg("--ai-features", action="store_true", help="accepted for the ai-session crate's CLI: a migrated session "
        "has every AI feature (context, compression, token accounting) anyway"),
    arg("--socket-name", "-L", help="tmux server socket name (tmux -L)"),
    arg("--socket-path", "-S", help="tmux server socket path (tmux -S)"),
)
def migrate(m: SessionManager, a: argparse.Namespace) -> Result:
    """Create a session from a tmux session: cwd, windows, scrollback and the commands in it."""
    from ai_session.cli.views import session_json

    s = m.migrate_tmux(a.tmux_session, name=a.name, replace=a.replace, socket_name=a.socket_name,
                       socket_path=a.socket_path)  # fmt: skip
    info = s.metadata.get("migrated_from", {})
    text = (f"migrated tmux session {a.tmux_session} to {s.name} ({s.id}): cwd {s.shell_cwd}, "
            f"{len(info.get('windows', []))} window(s), {len(info.get('commands', []))} command(s) recovered"
            + ("; tmux session killed" if a.replace else ""))  # fmt: skip
    return Result(data=session_json(s), view=text)
