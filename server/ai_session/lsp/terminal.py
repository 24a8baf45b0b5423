"""Interactive terminals on session shells, for editors: output out, keystrokes in.

The shells live in the session host: attach, input, resize and detach are forwarded to it,
and the terminal's output comes back from it. The editor keeps the terminal id it was given
while the host changes: when the host is killed and a new one starts, each terminal is
attached again to its session's new shell (back in its saved cwd and env) and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ai_session.core.errors import NotFound
from ai_session.lsp.context import session_of
from ai_session.lsp.wire import request
from ai_session.protocol import payloads as p

if TYPE_CHECKING:
    from ai_session.lsp.server import AiSessionServer

RECONNECTED = "\r\n[ai-session] reconnected: the session host restarted; the shell is back in its saved directory and environment\r\n"


@dataclass
class Terminal:
    session_id: str
    rows: int
    cols: int
    host_id: str  # its id in the current host (the editor's id stays the same)


def register(server: AiSessionServer) -> None:
    terminals: dict[str, Terminal] = {}  # by the editor's id
    by_host: dict[str, str] = {}  # host id -> editor id

    def get(terminal_id: str) -> Terminal:
        if (term := terminals.get(terminal_id)) is None:
            raise NotFound(f"no attached terminal {terminal_id} (it was detached or its shell exited)")
        return term

    def on_output(params: dict[str, Any]) -> None:
        if (editor_id := by_host.get(params["terminalId"])) is None:
            return
        server.send("aiSession/terminalOutput", p.TerminalOutput(terminal_id=editor_id, data=params["data"]))

    def on_closed(params: dict[str, Any]) -> None:
        if (editor_id := by_host.pop(params["terminalId"], None)) is not None:
            terminals.pop(editor_id, None)
            server.send("aiSession/terminalClosed", p.TerminalClosed(terminal_id=editor_id, reason=params["reason"]))

    async def reattach() -> None:
        by_host.clear()
        for editor_id, term in list(terminals.items()):
            try:
                # No clear-screen redraw: what the terminal showed stays, the note below it.
                got = await server.host.request("aiSession/terminal/attach", {
                    "session": term.session_id, "rows": term.rows, "cols": term.cols, "redraw": False})  # fmt: skip
            except Exception as exc:  # that terminal ends, saying why
                terminals.pop(editor_id, None)
                server.send("aiSession/terminalClosed", p.TerminalClosed(terminal_id=editor_id, reason=str(exc)))
                continue
            term.host_id = got["terminalId"]
            by_host[term.host_id] = editor_id
            server.send("aiSession/terminalOutput", p.TerminalOutput(terminal_id=editor_id, data=RECONNECTED))
            await server.host.request("aiSession/terminal/input", {"terminalId": term.host_id, "data": "\n"})

    def on_status(state: str) -> None:
        if state == "reconnected" and terminals:
            server.spawn(reattach(), "terminals: attach again")

    server.host_handlers["aiSession/terminalOutput"] = on_output
    server.host_handlers["aiSession/terminalClosed"] = on_closed
    server.host_status_hooks.append(on_status)

    @request(server, "aiSession/terminal/attach")
    async def attach(params: p.TerminalAttachParams) -> p.TerminalAttachResult:
        session = session_of(server, params)
        got = p.TerminalAttachResult.model_validate(await server.host.request("aiSession/terminal/attach", {
            "session": session.id, "rows": params.rows, "cols": params.cols}))  # fmt: skip
        terminals[got.terminal_id] = Terminal(session.id, params.rows, params.cols, got.terminal_id)
        by_host[got.terminal_id] = got.terminal_id
        return got

    @request(server, "aiSession/terminal/input")
    async def input_(params: p.TerminalInputParams) -> p.Ok:
        await server.host.request("aiSession/terminal/input", {"terminalId": get(params.terminal_id).host_id,
                                                               "data": params.data})  # fmt: skip
        return p.Ok()

    @request(server, "aiSession/terminal/resize")
    async def resize(params: p.TerminalResizeParams) -> p.Ok:
        term = get(params.terminal_id)
        term.rows, term.cols = params.rows, params.cols
        await server.host.request("aiSession/terminal/resize", {"terminalId": term.host_id, "rows": params.rows,
                                                                "cols": params.cols})  # fmt: skip
        return p.Ok()

    @request(server, "aiSession/terminal/detach")
    async def detach(params: p.TerminalRef) -> p.Ok:
        term = get(params.terminal_id)
        by_host.pop(term.host_id, None)
        terminals.pop(params.terminal_id, None)
        await server.host.request("aiSession/terminal/detach", {"terminalId": term.host_id})
        server.send("aiSession/terminalClosed", p.TerminalClosed(terminal_id=params.terminal_id, reason="detached"))
        return p.Ok()
