"""The language server as an attacker or a careless client meets it: TCP without the token,
frames that are not JSON-RPC, a pattern built to backtrack forever, secrets in what it sends."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from ai_session.core.config import Config
from ai_session.lsp.wire import ERROR_CODES
from tests.conftest import cli_env
from tests.lsp.rawclient import RawClient
from tests.security.fakes import found, plant

UNAUTHORIZED = ERROR_CODES["AccessDenied"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TcpClient:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def send(self, msg: dict) -> None:
        body = json.dumps(msg).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def read(self) -> dict | None:
        while True:
            head, sep, rest = self.buf.partition(b"\r\n\r\n")
            if sep:
                length = int(head.split(b":")[1])
                if len(rest) >= length:
                    self.buf = rest[length:]
                    return json.loads(rest[:length])
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk

    def closed(self) -> bool:
        try:
            return self.sock.recv(1) == b""
        except OSError:
            return True


def _initialize(token: str | None, msg_id: int = 1) -> dict:
    options = {"token": token} if token is not None else {}
    return {"jsonrpc": "2.0", "id": msg_id, "method": "initialize",
            "params": {"processId": None, "capabilities": {}, "rootUri": None, "initializationOptions": options}}


def test_tcp_server_refuses_clients_without_its_token(home: Path, tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ai_session", "serve", "--tcp", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=cli_env(home), text=True)
    try:
        announced = ""
        while "token" not in announced:
            line = proc.stderr.readline()
            assert line, "the server exited before listening"
            announced += line
        token_file = Config.load().home / "server-token"
        token = token_file.read_text()
        assert token in announced and len(token) >= 32
        assert (token_file.stat().st_mode & 0o777) == 0o600
        # Only loopback is listened on.
        listening = [c for c in Path("/proc/net/tcp").read_text().splitlines() if f":{port:04X} " in c]
        assert listening and all(line.split()[1].startswith("0100007F") for line in listening)

        for attempt in (None, "wrong-" + token, token[:-1]):  # no token, a wrong one, a prefix
            c = TcpClient(port)
            c.send(_initialize(attempt))
            answer = c.read()
            assert answer["error"]["code"] == UNAUTHORIZED and answer["id"] == 1 and "token" in answer["error"]["message"]
            assert c.closed()
        # A first message that is not initialize is refused just the same: no command runs.
        c = TcpClient(port)
        marker = tmp_path / "pwned"
        c.send({"jsonrpc": "2.0", "id": 5, "method": "aiSession/exec", "params": {"command": f"touch {marker}"}})
        assert c.read()["error"]["code"] == UNAUTHORIZED and c.closed()
        time.sleep(0.3)
        assert not marker.exists()

        c = TcpClient(port)
        c.send(_initialize(token))
        assert "capabilities" in c.read()["result"]
        c.send({"jsonrpc": "2.0", "id": 2, "method": "aiSession/sessions/create", "params": {"name": "over-tcp"}})
        assert c.read()["result"]["session"]["name"] == "over-tcp"
        # A second client, even with the token, does not get in while the first is served.
        other = TcpClient(port)
        other.send(_initialize(token))
        assert other.read()["error"]["code"] == UNAUTHORIZED and other.closed()
    finally:
        proc.kill()
        proc.wait()


def test_frames_that_are_not_json_rpc_get_the_prescribed_errors_and_one_log_line_each(home: Path) -> None:
    c = RawClient(home)
    try:
        c.initialize()
        c.frame(b"{this is not json")
        reply = c.response(None)
        assert reply == {"jsonrpc": "2.0", "id": None, "error": reply["error"]} and reply["error"]["code"] == -32700
        for bad_id in ({"a": 1}, [1, 2], 1.5, True):
            c.frame(json.dumps({"jsonrpc": "2.0", "id": bad_id, "method": "aiSession/sessions/list"}).encode())
            reply = c.response(None)
            assert reply["error"]["code"] == -32600 and "id" in reply and reply["id"] is None
        c.frame(json.dumps({"jsonrpc": "2.0", "id": 9, "method": ["x"]}).encode())
        assert c.response(9)["error"]["code"] == -32600
        c.frame(json.dumps({"jsonrpc": "2.0", "id": 10, "method": 42}).encode())
        assert c.response(10)["error"]["code"] == -32600
        for n in range(30):  # a small fuzz run of requests the handlers refuse
            c.send("aiSession/sessions/show", {"session": f"missing-{n}"})
            c.send("aiSession/run/output", {"runId": [n]})
        rid = c.send("aiSession/sessions/list", {})
        assert "result" in c.response(rid)
    finally:
        c.kill()
    log = (Config.load().log_dir / "server.log").read_text()
    assert "Traceback" not in log and "missing-" not in log
    assert len(log.splitlines()) < 200


def test_a_catastrophic_pattern_does_not_freeze_the_server(home: Path) -> None:
    c = RawClient(home)
    try:
        c.initialize()
        rid = c.send("aiSession/sessions/create", {"name": "g"})
        c.response(rid)
        rid = c.send("aiSession/exec", {"session": "g", "command": "printf 'a%.0s' $(seq 41); echo", "wait": True})
        run_id = c.response(rid)["result"]["runId"]
        start = time.monotonic()
        rid = c.send("aiSession/run/output", {"runId": run_id, "mode": "grep", "pattern": "^(a+)+$"})
        assert c.response(rid)["result"]["text"].startswith("1:aaaa")
        rid = c.send("aiSession/sessions/list", {})
        assert "result" in c.response(rid)
        assert time.monotonic() - start < 5
        rid = c.send("aiSession/run/output", {"runId": run_id, "mode": "grep", "pattern": r"(a)\1"})
        err = c.response(rid)["error"]
        assert err["code"] == -32602 and "RE2" in err["message"]
    finally:
        c.kill()


def test_output_streamed_to_the_editor_and_answers_are_redacted(home: Path, tmp_path: Path) -> None:
    fakes = plant()
    (tmp_path / "secrets.txt").write_text("\n".join(f.text for f in fakes) + "\n")
    traffic = bytearray()
    c = RawClient(home)
    read = c.read

    def recording_read() -> dict:
        msg = read()
        traffic.extend(json.dumps(msg).encode())
        return msg

    c.read = recording_read  # type: ignore[method-assign]
    try:
        c.initialize()
        c.response(c.send("aiSession/sessions/create", {"name": "t"}))
        rid = c.send("aiSession/exec", {"session": "t", "command": f"cat {tmp_path / 'secrets.txt'}", "wait": True})
        run_id = c.response(rid)["result"]["runId"]
        c.response(c.send("aiSession/run/output", {"runId": run_id, "mode": "raw"}))
        assert "result" in c.response(c.send("aiSession/sessions/get", {"session": "t", "history": True, "limit": None}))
    finally:
        c.kill()
    assert b"runOutput" in traffic
    assert [f.kind for f in found(bytes(traffic), fakes)] == []
