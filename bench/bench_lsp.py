"""Language server round trips over real stdio: sessions/list with 1,000 sessions and
context/get on a 1,000-message session (targets: 5 ms and 10 ms median), and how long a
write by another process takes to reach the client as sessionsChanged (promise: < 1 s)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SERVER = Path(__file__).resolve().parents[1] / "server"


class Client:
    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "ai_session", "serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        self.next_id = 0

    def send(self, method: str, params: object, notify: bool = False) -> int:
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "method": method, "params": params}
        if not notify:
            msg["id"] = self.next_id
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()
        return self.next_id

    def read(self) -> dict:
        length = 0
        while (line := self.proc.stdout.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length"):
                length = int(line.split(b":")[1])
        return json.loads(self.proc.stdout.read(length))

    def call(self, method: str, params: object) -> dict:
        rid = self.send(method, params)
        while (msg := self.read()).get("id") != rid or "method" in msg:
            pass
        return msg

    def wait_for(self, method: str) -> dict:
        while (msg := self.read()).get("method") != method:
            pass
        return msg

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def _median_ms(fn, n: int) -> float:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1e3


def main() -> None:
    sys.path.insert(0, str(SERVER))
    from ai_session.core.config import Config
    from ai_session.core.manager import SessionManager
    from ai_session.core.models import Message

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = {**os.environ, "PYTHONPATH": str(SERVER), "AI_SESSION_HOME": str(home),
               "AI_SESSION_CONFIG": str(home / "none.toml")}
        m = SessionManager(Config(home=home, store_url=str(home / "sessions.db")))
        for i in range(999):
            m.create(f"s{i:04d}", agent="bench")
        big = m.create("big")
        m.add_messages(big, [Message(role="user" if i % 2 else "assistant",
                                     content=f"turn {i}: edited src/mod{i % 40}.py and ran the tests") for i in range(1000)])
        c = Client(env)
        try:
            c.call("initialize", {"processId": None, "capabilities": {}, "rootUri": None})
            c.send("initialized", {}, notify=True)
            c.call("aiSession/sessions/list", {})  # warm-up
            listing = _median_ms(lambda: c.call("aiSession/sessions/list", {}), 30)
            c.call("aiSession/context/get", {"session": "big"})
            context = _median_ms(lambda: c.call("aiSession/context/get", {"session": "big", "withItems": False}), 30)
            spare = m.create("spare")

            def after_a_change(method: str, params: dict) -> float:
                samples = []
                for i in range(15):
                    m.add_message(spare, "user", f"change {i}")  # invalidates the server's answers
                    t = time.perf_counter()
                    c.call(method, params)
                    samples.append(time.perf_counter() - t)
                return statistics.median(samples) * 1e3

            listing_cold = after_a_change("aiSession/sessions/list", {})
            context_cold = after_a_change("aiSession/context/get", {"session": "big", "withItems": False})
            latencies = []
            for i in range(10):
                t = time.perf_counter()
                m.create(f"external-{i}")
                c.wait_for("aiSession/sessionsChanged")
                latencies.append(time.perf_counter() - t)
        finally:
            c.close()
            m.close()
        print(f"sessions/list, 1,000 sessions   median {listing:.2f} ms  (target <= 5 ms); "
              f"first after a change {listing_cold:.2f} ms")
        print(f"context/get, 1,000 messages     median {context:.2f} ms  (target <= 10 ms); "
              f"first after a change {context_cold:.2f} ms")
        print(f"another process's write -> sessionsChanged  median {statistics.median(latencies) * 1e3:.0f} ms, "
              f"max {max(latencies) * 1e3:.0f} ms  (promise < 1 s)")
