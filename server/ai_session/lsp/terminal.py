"""Interactive terminals on session shells, for editors: output out, keystrokes in.

Commands typed here are recorded as runs like any exec (the shell's marks give the
boundaries); detaching leaves the shell running for the next attach or exec.
"""

from __future__ import annotations

import asyncio
import codecs
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ai_session.core.errors import NotFound
from ai_session.core.shell.process import ShellProcess
from ai_session.lsp.context import session_of
from ai_session.lsp.wire import request
from ai_session.protocol import payloads as p

if TYPE_CHECKING:
    from ai_session.lsp.server import AiSessionServer

REDRAW_PROMPT = b"\x0c"  # Ctrl-L: readline clears the screen and prints the prompt again


@dataclass
class Terminal:
    shell: ShellProcess
    unsubscribe: Callable[[], None]
    watcher: asyncio.Task[None] | None = field(default=None)


def register(server: AiSessionServer) -> None:
    terminals: dict[str, Terminal] = {}

    def get(terminal_id: str) -> Terminal:
        if (term := terminals.get(terminal_id)) is None:
            raise NotFound(f"no attached terminal {terminal_id} (it was detached or its shell exited)")
        return term

    def drop(terminal_id: str, reason: str) -> None:
        if (term := terminals.pop(terminal_id, None)) is not None:
            term.unsubscribe()
            if term.watcher and term.watcher is not asyncio.current_task():
                term.watcher.cancel()
            server.send("aiSession/terminalClosed", p.TerminalClosed(terminal_id=terminal_id, reason=reason))

    @request(server, "aiSession/terminal/attach")
    async def attach(params: p.TerminalAttachParams) -> p.TerminalAttachResult:
        session = session_of(server, params)
        shell = await server.manager.shells.shell(session, rows=params.rows, cols=params.cols)
        shell.resize(params.rows, params.cols)
        terminal_id = f"term_{uuid.uuid4().hex[:12]}"
        decoder = codecs.getincrementaldecoder("utf-8")("replace")

        def on_output(data: bytes) -> None:
            if text := decoder.decode(data):
                server.send("aiSession/terminalOutput", p.TerminalOutput(terminal_id=terminal_id, data=text))

        async def watch() -> None:
            await shell.wait_closed()
            drop(terminal_id, "the shell exited")

        terminals[terminal_id] = Terminal(shell, shell.subscribe(on_output))
        terminals[terminal_id].watcher = server.spawn(watch(), f"terminal {terminal_id}")
        if not shell.busy:
            shell.write(REDRAW_PROMPT)
        return p.TerminalAttachResult(terminal_id=terminal_id, session_id=session.id)

    @request(server, "aiSession/terminal/input")
    def input_(params: p.TerminalInputParams) -> p.Ok:
        get(params.terminal_id).shell.write(params.data.encode("utf-8"))
        return p.Ok()

    @request(server, "aiSession/terminal/resize")
    def resize(params: p.TerminalResizeParams) -> p.Ok:
        get(params.terminal_id).shell.resize(params.rows, params.cols)
        return p.Ok()

    @request(server, "aiSession/terminal/detach")
    def detach(params: p.TerminalRef) -> p.Ok:
        get(params.terminal_id)
        drop(params.terminal_id, "detached")
        return p.Ok()
