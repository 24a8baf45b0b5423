"""Commands in a session's shell: exec, attach, output; migrating a tmux session; the compress filter."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from typing import TYPE_CHECKING

from ai_session.cli.render import Result
from ai_session.cli.spec import arg, command, one_of
from ai_session.cli.views import model_json, session_fields, session_json

if TYPE_CHECKING:
    from ai_session.core.manager import SessionManager
    from ai_session.core.models import CommandRun, Session


@command(
    "exec",
    arg("cmd", metavar="COMMAND", help="shell command line (quote it)"),
    arg("--timeout", type=float, help="stop it (and every process it started) after S seconds"),
    arg("--cwd", help="run it in DIR (the session shell's own cwd is unchanged)"),
    arg("--capture", action="store_true", help="do not stream; print the stored (redacted) output at the end"),
    target="session",
)
def exec_(m: SessionManager, a: argparse.Namespace) -> Result:
    """Run a command in the session's persistent shell (cwd and env persist); its exit code is
    returned. Then, on stderr: the run's id (for `ai-session output RUN`) and the context tokens it
    added to the session, with the session's new total."""
    live = a.format == "table" and not a.capture
    run = asyncio.run(_exec(m, m.resolve(a.session), a.cmd, a.timeout, a.cwd, live))
    if run is None:
        return Result(status=130)
    output = "" if live else m.raw_output(run.id)
    added, total = m.run_tokens(run)
    footer = f"[ai-session] run {run.id} · Tokens used: +{added:,} ({total:,} total)"
    result = Result(data={**model_json(run), "output": output, "tokensAdded": added, "sessionTokens": total},
                    view=output if a.capture else None, notes=[footer] if a.format == "table" else [])  # fmt: skip
    if run.status.value == "timeout":
        result.notes = [*result.notes, f"ai-session: timed out after {a.timeout:g}s; stopped the command and its processes"]
        result.status = 124
    elif run.status.value == "cancelled":
        result.status = 130
    else:
        result.status = run.exit_code if run.exit_code is not None else 1
    return result


async def _exec(m: SessionManager, session: Session, cmd: str, timeout: float | None, cwd: str | None,
                live: bool) -> CommandRun | None:  # fmt: skip
    out = sys.stdout.buffer
    started: list[CommandRun] = []

    def show(chunk: bytes) -> None:
        out.write(chunk)
        out.flush()

    task = asyncio.ensure_future(m.exec(session, cmd, timeout=timeout, cwd=cwd, on_output=show if live else None,
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


@command(
    "attach",
    arg("--no-terminal", action="store_true", help="only mark active and show the state"),
    target="session",
)
def attach(m: SessionManager, a: argparse.Namespace) -> Result:
    """Attach your terminal to the session's shell (Ctrl-] detaches); without a terminal,
    mark the session active and show its state."""
    view = m.show(a.session)
    session = m.touch(view.session)
    if not a.no_terminal and a.format == "table" and sys.stdin.isatty() and sys.stdout.isatty():
        return Result(status=asyncio.run(_attach_terminal(m, session)))
    return Result(data=session_json(session, view.totals), view=session_fields(session, view.totals))


DETACH_KEY = b"\x1d"  # Ctrl-]


async def _attach_terminal(m: SessionManager, session: Session) -> int:
    """Raw-mode terminal on the session's shell; every typed command is recorded as a run."""
    import termios
    import tty

    fd_in, fd_out = sys.stdin.fileno(), sys.stdout.fileno()
    size = os.get_terminal_size(fd_out)
    sh = await m.shells.shell(session, rows=size.lines, cols=size.columns)
    loop = asyncio.get_running_loop()
    detached = asyncio.Event()

    def show(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd_out, view):]

    def on_keys() -> None:
        on_resize()  # a resize just before the keys reaches the shell first, whatever SIGWINCH's timing
        data = os.read(fd_in, 4096)
        cut = data.find(DETACH_KEY)
        if not data or cut >= 0:
            sh.write(data[: max(cut, 0)])
            detached.set()
        else:
            sh.write(data)

    def on_resize() -> None:
        nonlocal size
        new = os.get_terminal_size(fd_out)
        if new != size:
            size = new
            sh.resize(new.lines, new.columns)

    show(f"[ai-session] attached to {session.name}; Ctrl-] detaches\r\n".encode())
    saved = termios.tcgetattr(fd_in)
    tty.setraw(fd_in)
    unsubscribe = sh.subscribe(show)
    loop.add_reader(fd_in, on_keys)
    loop.add_signal_handler(signal.SIGWINCH, on_resize)
    try:
        sh.write(b"\n")  # a fresh prompt (an empty line is not a command)
        ended = asyncio.ensure_future(sh.wait_closed())
        await asyncio.wait({ended, asyncio.ensure_future(detached.wait())}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        loop.remove_reader(fd_in)
        loop.remove_signal_handler(signal.SIGWINCH)
        unsubscribe()
        termios.tcsetattr(fd_in, termios.TCSAFLUSH, saved)
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
)
def output(m: SessionManager, a: argparse.Namespace) -> Result:
    """A command run's output: the context form the agent got (default), or the full raw output."""
    mode = "raw" if a.raw else "lines" if a.lines else "grep" if a.grep else "context"
    run, text = m.run_output(a.run, mode=mode, lines=a.lines, pattern=a.grep, context=a.context)
    return Result(data={"run": model_json(run, exclude={"context"}), "mode": mode, "text": text}, view=text)


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
    s = m.migrate_tmux(a.tmux_session, name=a.name, replace=a.replace, socket_name=a.socket_name,
                       socket_path=a.socket_path)  # fmt: skip
    info = s.metadata.get("migrated_from", {})
    text = (f"migrated tmux session {a.tmux_session} to {s.name} ({s.id}): cwd {s.shell_cwd}, "
            f"{len(info.get('windows', []))} window(s), {len(info.get('commands', []))} command(s) recovered"
            + ("; tmux session killed" if a.replace else ""))  # fmt: skip
    return Result(data=session_json(s), view=text)


@command(
    "compress",
    arg("--cmd", default=None, help="the command line that produced the output (picks the reducer)"),
    arg("--exit-code", type=int, default=None, help="its exit status (printed as [ai-session] exit N)"),
    arg("--stats", action="store_true", help="print raw and context token counts to stderr"),
    needs="nothing",
    formats=(),
)
def compress(_: None, a: argparse.Namespace) -> Result:
    """Read raw command output on stdin and print the compact context form (every failing test,
    error and location kept). Example: pytest 2>&1 | ai-session compress --cmd pytest --exit-code $?"""
    from ai_session.cli.views import percent
    from ai_session.core.compress import StreamCompressor
    from ai_session.core.tokens import count_tokens

    # Reads stdin in chunks: memory stays bounded however much a tool prints.
    sc = StreamCompressor(a.cmd)
    stdin = sys.stdin.buffer
    while chunk := stdin.read1(1 << 16) if hasattr(stdin, "read1") else stdin.read(1 << 16):
        sc.feed(chunk)
    result = sc.finish(a.exit_code)
    sys.stdout.write(result.text)
    sys.stdout.flush()
    if not a.stats:
        return Result()
    raw, ctx = sc.raw_tokens(), count_tokens(result.text)
    return Result(notes=[f"ai-session: {result.tool}: raw {raw} tokens, context {ctx} tokens, saved {percent(raw, ctx, 1)}"])
