"""The session host's client: find (or start) the host of this user and store, and talk to it.

Standard library only (plus `core.location` and `core.errors`), and no `dataclasses` or `typing`
at run time: this is the path of every `ai-session exec`, `attach` and `output`, and of agent
hooks, where start-up is felt on every command. The wire is JSON-RPC 2.0, one JSON object per line, over the host's Unix socket.

    code, context, run_id = run_command("my-session", "pytest -q")
"""

from __future__ import annotations

import binascii
import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from ai_session import __version__
from ai_session.core.errors import AiSessionError
from ai_session.core.location import locate

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from typing import Any, Self

    Message = dict[str, Any]

START_TIMEOUT = 15.0  # a new host opens the store and listens well within this
MAX_SOCKET_PATH = 104  # sun_path is 108 bytes on Linux, 104 on the BSDs


class HostUnavailable(Exception):
    """No host can run here (read-only data dir, no Unix sockets...): the caller falls back to
    in-process shells and says this one line."""


class HostError(AiSessionError):
    """An error the host answered with; `exit_code` is the one the domain error carries."""

    def __init__(self, message: str, exit_code: int = 1, kind: str = "") -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.kind = kind


class HostLost(AiSessionError):
    """The connection to the host broke (it was killed or exited) before it answered."""


class HostPaths:
    """One host per user and store: its files live in the store's 0700 data dir (paths as
    strings: pathlib costs an `exec` through the host a tenth of its start-up)."""

    def __init__(self, home: str, store_url: str) -> None:
        self.home = home
        self.store_url = store_url

    @property
    def stem(self) -> str:
        return f"host-{binascii.crc32(self.store_url.encode()):08x}"  # a name per store, not a secret

    @property
    def socket(self) -> str:
        return os.path.join(self.home, f"{self.stem}.sock")

    @property
    def lock(self) -> str:  # held by the running host for its whole life
        return os.path.join(self.home, f"{self.stem}.lock")

    @property
    def start_lock(self) -> str:  # held by a client while it starts a host: never two at once
        return os.path.join(self.home, f"{self.stem}.start")

    @property
    def log(self) -> str:
        return os.path.join(self.home, f"{self.stem}.log")

    @classmethod
    def find(cls, env: Mapping[str, str] | None = None) -> HostPaths:
        home, store = locate(env)
        return cls(home, store)


def disabled_reason(env: Mapping[str, str] | None = None) -> str | None:
    """Why no host is used, when the user turned it off (AI_SESSION_HOST=off)."""
    value = (os.environ if env is None else env).get("AI_SESSION_HOST", "").strip().lower()
    return "AI_SESSION_HOST=off" if value in ("0", "off", "no", "false") else None


class Connection:
    """One connection to the host. `request` waits for its answer; notifications that arrive
    meanwhile go to `on_notification` (or are queued for `notifications()`)."""

    def __init__(self, sock: socket.socket, on_notification: Callable[[str, Message], None] | None = None,
                 notes: list[str] | None = None) -> None:  # fmt: skip
        self.sock = sock
        self.on_notification = on_notification
        self.notes: list[str] = [] if notes is None else notes  # what the client should tell the user
        self.host: Message = {}  # the host's hello: version, pid
        self._buf = b""
        self._next = 0
        self._queued: list[Message] = []

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def send(self, message: Message) -> None:
        try:
            self.sock.sendall(json.dumps(message).encode() + b"\n")
        except OSError as exc:
            raise HostLost(f"the session host went away ({exc.strerror or exc})") from None

    def notify(self, method: str, params: Message) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Message | None = None) -> Any:
        self._next += 1
        ident = self._next
        self.send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params or {}})
        while True:
            msg = self.receive()
            if msg.get("id") == ident and "method" not in msg:
                return _result(msg)
            self._dispatch(msg)

    def receive(self, timeout: float | None = None) -> Message:
        """The next message; TimeoutError after `timeout` seconds with none."""
        self.sock.settimeout(timeout)
        while b"\n" not in self._buf:
            try:
                data = self.sock.recv(1 << 16)
            except TimeoutError:
                raise
            except OSError as exc:
                raise HostLost(f"the session host went away ({exc.strerror or exc})") from None
            if not data:
                raise HostLost("the session host closed the connection (it was stopped or killed)")
            self._buf += data
        line, _, self._buf = self._buf.partition(b"\n")
        return json.loads(line)

    def take(self, *, read: bool) -> list[Message]:
        """Every message already here (queued, or whole lines in the buffer); with `read`, one
        read from the socket first (for a caller whose select() said it is readable)."""
        if read:
            self.sock.settimeout(None)
            try:
                data = self.sock.recv(1 << 16)
            except OSError as exc:
                raise HostLost(f"the session host went away ({exc.strerror or exc})") from None
            if not data:
                raise HostLost("the session host closed the connection (it was stopped or killed)")
            self._buf += data
        out, self._queued = self._queued, []
        *lines, self._buf = self._buf.split(b"\n")
        out += [json.loads(line) for line in lines if line.strip()]
        return out

    def notifications(self) -> Iterator[tuple[str, Message]]:
        """Notifications as they come (those queued while a request waited first)."""
        while True:
            while self._queued:
                msg = self._queued.pop(0)
                yield msg["method"], msg.get("params") or {}
            msg = self.receive()
            if "method" in msg:
                yield msg["method"], msg.get("params") or {}

    def _dispatch(self, msg: Message) -> None:
        if "method" not in msg:
            return  # an answer to a request nobody waits for any more
        if self.on_notification is not None:
            self.on_notification(msg["method"], msg.get("params") or {})
        else:
            self._queued.append(msg)


def _result(msg: Message) -> Any:
    if "error" in msg:
        err = msg["error"]
        data = err.get("data") or {}
        raise HostError(err.get("message", "the session host failed"), int(data.get("exitCode", 1)), data.get("kind", ""))
    return msg.get("result")


def connect(env: Mapping[str, str] | None = None, *, watch: bool = False, start: bool = True) -> Connection:
    """A connection to this user's host for the store, starting one if none runs.

    `watch`: also receive every run's output and end (an editor's language server wants
    them; the CLI only its own). `start=False`: only a running host of this version (for
    what is worth asking a warm host but not starting one, as `list`). Raises HostUnavailable
    when no host can run here (or, with `start=False`, none runs)."""
    reason = disabled_reason(env)
    if reason:
        raise HostUnavailable(reason)
    paths = HostPaths.find(env)
    if len(os.fsencode(paths.socket)) >= MAX_SOCKET_PATH:
        raise HostUnavailable(f"the data dir's path is too long for a Unix socket ({paths.home})")
    notes: list[str] = []
    for _ in range(3):
        sock = _try_connect(paths.socket) or (_start(paths, env) if start else None)
        if sock is None:
            raise HostUnavailable("no session host is running")
        conn = Connection(sock, notes=notes)
        try:
            conn.host = conn.request("aiSession/host/hello", {"version": __version__, "watch": watch})
        except HostLost:
            conn.close()
            continue  # it was on its way out (idle, or replaced): start another
        if conn.host.get("version") == __version__:
            return conn
        if not start:
            conn.close()
            raise HostUnavailable(f"the session host runs version {conn.host.get('version')}")
        # A host of another version: replaced when idle; else used as it is, and said so.
        if conn.request("aiSession/host/stop", {"ifIdle": True}).get("stopping"):
            conn.close()
            _wait_gone(paths)
            notes.append(f"ai-session: replaced the session host of version {conn.host.get('version')} "
                         f"by version {__version__}")  # fmt: skip
            continue
        notes.append(f"ai-session: the session host runs version {conn.host.get('version')} (this is "
                     f"{__version__}); it is replaced once no command runs")  # fmt: skip
        return conn
    raise HostUnavailable("the session host kept exiting as it started; see " + paths.log)


def _try_connect(path: str) -> socket.socket | None:
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    except (AttributeError, OSError) as exc:
        raise HostUnavailable(f"no Unix domain sockets here ({exc})") from None
    try:
        sock.connect(path)
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        return None
    except OSError as exc:
        sock.close()
        raise HostUnavailable(f"cannot reach the session host's socket {path}: {exc.strerror or exc}") from None
    return sock


def _start(paths: HostPaths, env: Mapping[str, str] | None) -> socket.socket:
    """Start a host, holding the start lock so that concurrent clients start one between them;
    a socket left by a killed host is replaced by the new host."""
    try:
        os.makedirs(paths.home, mode=0o700, exist_ok=True)
        fd = os.open(paths.start_lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise HostUnavailable(f"the data dir {paths.home} is not writable ({exc.strerror or exc})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        sock = _try_connect(paths.socket)  # another client started one while we waited
        if sock is not None:
            return sock
        return _spawn(paths, env)
    finally:
        os.close(fd)  # releases the lock


def _spawn(paths: HostPaths, env: Mapping[str, str] | None) -> socket.socket:
    import subprocess

    log = os.open(paths.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ai_session", "host"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=dict(os.environ if env is None else env),
            start_new_session=True, close_fds=True, cwd=paths.home,
        )  # fmt: skip
    except OSError as exc:
        raise HostUnavailable(f"cannot start the session host: {exc.strerror or exc}") from None
    finally:
        os.close(log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        sock = _try_connect(paths.socket)
        if sock is not None:
            import threading

            # Reaped when it exits (no zombie left in a long-lived client such as an editor's server).
            threading.Thread(target=proc.wait, name="ai-session host reaper", daemon=True).start()
            return sock
        if proc.poll() is not None:
            raise HostUnavailable(_last_line(paths.log) or f"the session host exited at start (status {proc.returncode})")
        time.sleep(0.005)
    proc.kill()
    raise HostUnavailable(f"the session host did not start within {START_TIMEOUT:g} s")


def _wait_gone(paths: HostPaths, timeout: float = 10.0) -> None:
    """Until the host that was asked to stop has let go of its lock."""
    deadline = time.monotonic() + timeout
    with contextlib.suppress(OSError):
        fd = os.open(paths.lock, os.O_RDWR | os.O_CLOEXEC)
        try:
            while time.monotonic() < deadline:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    time.sleep(0.01)
        finally:
            os.close(fd)


def _last_line(path: str) -> str:
    with contextlib.suppress(OSError), open(path, errors="replace") as f:
        lines = [ln for ln in f.read().splitlines() if ln.strip()]
        if lines:
            return lines[-1].strip()
    return ""


class CommandResult:
    """What `run_command` returns: how the command ended and what the agent's context got."""

    def __init__(self, exit_code: int | None, status: str, context: str, run_id: str, run: Message) -> None:
        self.exit_code = exit_code
        self.status = status  # finished, timeout, cancelled, lost
        self.context = context  # the run's context form (compressed output), as stored
        self.run_id = run_id
        self.run = run  # the whole stored run, in wire form

    def __repr__(self) -> str:
        return f"CommandResult(exit_code={self.exit_code!r}, status={self.status!r}, run_id={self.run_id!r})"

    @classmethod
    def of(cls, run: Message) -> CommandResult:
        return cls(run.get("exitCode"), run.get("status", ""), run.get("context") or "", run["id"], run)


def run_command(session: str | None, command: str, *, timeout: float | None = None, cwd: str | None = None,
                agent: str | None = None, on_output: Callable[[str], None] | None = None,
                conn: Connection | None = None, worktree: str | None = None, output_cap: int | None = None,
                on_start: Callable[[str], None] | None = None) -> CommandResult:  # fmt: skip
    """Run `command` in the session's shell (the one every editor and the CLI share) and wait
    for it: the public client function for agents' hooks and tools.

    `worktree` instead of a session: the session of that directory's worktree (made if
    missing). `output_cap`: the agent's own output limit. `on_start` gets the run id once the
    host has started the command."""
    own = conn is None
    conn = conn or connect()
    try:
        started = conn.request("aiSession/exec", _drop_none(
            {"session": session, "command": command, "timeout": timeout, "cwd": cwd, "agent": agent,
             "worktree": worktree, "outputCap": output_cap}))  # fmt: skip
        run_id = started["runId"]
        if on_start is not None:
            on_start(run_id)
        return CommandResult.of(wait_for_run(conn, run_id, on_output))
    finally:
        if own:
            conn.close()


def wait_for_run(conn: Connection, run_id: str, on_output: Callable[[str], None] | None = None) -> Message:
    """Stream a run's output until it ends; the recorded run."""
    for method, params in conn.notifications():
        if params.get("runId") == run_id and method == "aiSession/runOutput" and on_output is not None:
            on_output(params.get("data", ""))
        elif method == "aiSession/runFinished" and (params.get("run") or {}).get("id") == run_id:
            return params["run"]
    raise HostLost("the session host closed the connection")  # pragma: no cover - notifications() raises first


def _drop_none(params: Message) -> Message:
    return {k: v for k, v in params.items() if v is not None}


def stop_host(env: Mapping[str, str] | None = None, *, if_idle: bool = False) -> bool:
    """Ask the running host (if any) to save every shell and exit; True once it has."""
    paths = HostPaths.find(env)
    sock = _try_connect(paths.socket) if len(os.fsencode(paths.socket)) < MAX_SOCKET_PATH else None
    if sock is None:
        return False
    with Connection(sock) as conn:
        try:
            stopping = conn.request("aiSession/host/stop", {"ifIdle": if_idle}).get("stopping", False)
        except HostLost:
            return False
    if stopping:
        _wait_gone(paths)
    return bool(stopping)
