"""Reading a live tmux session (windows, panes, cwd, scrollback) into plain data.

The session manager turns a `TmuxSession` into an ai-session session: the active pane's
cwd as the shell's cwd, the scrollback as context, the recovered commands as history.
tmux is driven through its CLI (`list-panes -F`, `capture-pane -p -S -`), so any tmux
server the user can reach works, including one on its own socket (`-L NAME` / `-S PATH`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field

from ai_session.core.errors import AiSessionError, InvalidInput, NotFound
from ai_session.core.interop import ImportBundle
from ai_session.core.models import Message, MessageKind, Role, Session

# Fields of `list-panes -F`, separated by a byte that cannot occur in any of them.
_SEP = "\x1f"
_FIELDS = (
    "window_index",
    "window_name",
    "window_active",
    "pane_index",
    "pane_id",
    "pane_active",
    "pane_current_path",
    "pane_current_command",
    "pane_pid",
)
# Prompts a command can be recovered after: "user@host:~/dir$ cmd", "~/dir $ cmd", "% cmd",
# "❯ cmd", "# cmd" (root). Conservative on purpose: a line of output that merely contains
# a "$" is not a command.
_PROMPT = re.compile(
    r"^(?:\([^)]*\)\s*)?"  # (venv)
    r"(?:[\w.-]+@[\w.-]+(?::\S*)?\s?[$#%]|"  # user@host:path$
    r"(?:~|/)\S*\s[$#%]|"  # ~/dir $   /path #
    r"[$#%❯➜>]|"  # bare prompt characters
    r"\S*\s?[❯➜])"  # powerline-ish
    r"\s(?P<cmd>\S.*)$"
)
MAX_SCROLLBACK_LINES = 50_000


class TmuxError(AiSessionError):
    """tmux is missing or refused the request."""


@dataclass(slots=True)
class TmuxPane:
    window_index: int
    window_name: str
    pane_index: int
    pane_id: str
    active: bool  # the active pane of its window
    window_active: bool
    cwd: str
    current_command: str
    pid: int
    scrollback: str = ""
    commands: list[str] = field(default_factory=list)


@dataclass(slots=True)
class TmuxSession:
    name: str
    panes: list[TmuxPane]

    @property
    def active_pane(self) -> TmuxPane:
        for p in self.panes:
            if p.window_active and p.active:
                return p
        return self.panes[0]

    @property
    def cwd(self) -> str:
        return self.active_pane.cwd

    @property
    def windows(self) -> list[str]:
        seen: dict[int, str] = {}
        for p in self.panes:
            seen.setdefault(p.window_index, p.window_name)
        return [seen[i] for i in sorted(seen)]

    @property
    def commands(self) -> list[str]:
        """Recovered commands of every pane, window by window."""
        return [c for p in self.panes for c in p.commands]


class Tmux:
    """A tmux server: the default one, or `socket_name` (-L) / `socket_path` (-S)."""

    def __init__(self, socket_name: str | None = None, socket_path: str | None = None, binary: str = "tmux") -> None:
        path = shutil.which(binary)
        if path is None:
            raise TmuxError("tmux is not installed (the Debian package is 'tmux')")
        self._argv = [path]
        if socket_name:
            self._argv += ["-L", socket_name]
        if socket_path:
            self._argv += ["-S", socket_path]

    def run(self, *args: str) -> str:
        try:
            proc = subprocess.run(
                [*self._argv, *args],
                capture_output=True,
                stdin=subprocess.DEVNULL,
                timeout=30,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise TmuxError(f"tmux {args[0]} did not answer in 30 s") from exc
        if proc.returncode != 0:
            msg = proc.stderr.decode(errors="replace").strip()
            if "can't find" in msg or "no server running" in msg or "error connecting" in msg:
                raise NotFound(f"tmux: {msg}")
            raise TmuxError(f"tmux {args[0]} failed: {msg}")
        return proc.stdout.decode("utf-8", errors="replace")

    def sessions(self) -> list[str]:
        try:
            return [s for s in self.run("list-sessions", "-F", "#{session_name}").splitlines() if s]
        except NotFound:
            return []

    def read_session(self, name: str, *, max_lines: int = MAX_SCROLLBACK_LINES) -> TmuxSession:
        """Every pane of session `name` with its cwd, scrollback and recovered commands."""
        _check_name(name)
        fmt = _SEP.join(f"#{{{f}}}" for f in _FIELDS)
        # "=name" matches the session name exactly instead of by prefix.
        out = self.run("list-panes", "-s", "-t", f"={name}", "-F", fmt)
        panes = []
        for line in out.splitlines():
            parts = line.split(_SEP)
            if len(parts) != len(_FIELDS):
                continue
            f = dict(zip(_FIELDS, parts, strict=True))
            pane = TmuxPane(
                window_index=int(f["window_index"]),
                window_name=f["window_name"],
                pane_index=int(f["pane_index"]),
                pane_id=f["pane_id"],
                active=f["pane_active"] == "1",
                window_active=f["window_active"] == "1",
                cwd=f["pane_current_path"],
                current_command=f["pane_current_command"],
                pid=int(f["pane_pid"] or 0),
            )
            # -J joins wrapped lines, so a long command is one line again.
            text = self.run("capture-pane", "-p", "-J", "-t", pane.pane_id, "-S", f"-{max_lines}")
            pane.scrollback = text.rstrip("\n") + ("\n" if text.strip() else "")
            pane.commands = recover_commands(pane.scrollback)
            panes.append(pane)
        if not panes:
            raise NotFound(f"tmux session {name!r} has no panes")
        panes.sort(key=lambda p: (p.window_index, p.pane_index))
        return TmuxSession(name, panes)

    def kill_session(self, name: str) -> None:
        _check_name(name)
        self.run("kill-session", "-t", f"={name}")


def recover_commands(scrollback: str) -> list[str]:
    """Commands typed at a shell prompt, in order, from a pane's text."""
    out = []
    for line in scrollback.splitlines():
        m = _PROMPT.match(line.rstrip())
        if m:
            out.append(m.group("cmd").strip())
    return out


def _check_name(name: str) -> None:
    if not name or any(c in name for c in ":.\n\0") or name.startswith("-"):
        raise InvalidInput(f"not a tmux session name: {name!r}")


def read_session(name: str, *, socket_name: str | None = None, socket_path: str | None = None) -> TmuxSession:
    return Tmux(socket_name, socket_path).read_session(name)


def kill_session(name: str, *, socket_name: str | None = None, socket_path: str | None = None) -> None:
    Tmux(socket_name, socket_path).kill_session(name)


def to_bundle(ts: TmuxSession, name: str) -> ImportBundle:
    """A session for the manager to store: the active pane's cwd, one context message per
    pane (its scrollback), the recovered commands in the metadata of both."""
    session = Session(
        name=name,
        shell_cwd=ts.cwd,
        metadata={
            "migrated_from": {
                "tmux_session": ts.name,
                "windows": ts.windows,
                "commands": ts.commands,
            }
        },
    )
    messages = []
    for p in ts.panes:
        where = f"window {p.window_index} ({p.window_name}) pane {p.pane_index}"
        header = f"[ai-session] tmux session {ts.name}, {where}, cwd {p.cwd}"
        body = p.scrollback if p.scrollback.strip() else "[ai-session] (empty scrollback)\n"
        messages.append(
            Message(
                role=Role.TOOL,
                kind=MessageKind.COMMAND,
                content=f"{header}\n{body}",
                metadata={"tmux_pane": p.pane_id, "window": p.window_name, "cwd": p.cwd, "commands": p.commands},
            )
        )
    return ImportBundle(session=session, messages=messages, source="tmux")
