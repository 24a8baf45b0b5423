import subprocess
import sys

from ai_session.core.config import Config
from ai_session.core.manager import SessionManager
from tests.lsp.rawclient import RawClient


def test_bad_frames_get_answers_and_the_server_stays_up(home):
    c = RawClient(home)
    try:
        c.initialize()
        c.frame(b"{this is not json")
        assert c.response(None)["error"]["code"] == -32700
        c.frame(b'{"jsonrpc": "2.0", "id": 7, "method": "aiSession/nope/nope", "params": {}}')
        assert c.response(7)["error"]["code"] == -32601
        c.frame(b'{"jsonrpc": "1.0", "id": 8, "method": "x"}')
        assert c.response(8)["error"]["code"] == -32600
        rid = c.send("aiSession/sessions/create", {"name": 42})
        err = c.response(rid)["error"]
        assert err["code"] == -32602 and "name" in err["message"]
        # A frame announcing 10^12 bytes is skipped, the stream resyncs at the next header.
        c.send_bytes(b"Content-Length: 1000000000000\r\n\r\n{\"partial\": tr")
        rid = c.send("aiSession/sessions/create", {"name": "after-junk"})
        while True:
            msg = c.read()
            if msg.get("id") == rid:
                break
        assert msg["result"]["session"]["name"] == "after-junk"
        c.send_bytes(b"Content-Length: 5\r\n\r\n" + b"[" * 5)  # truncated JSON
        assert c.response(None)["error"]["code"] == -32700
        rid = c.send("aiSession/sessions/list", {})
        assert [s["session"]["name"] for s in c.response(rid)["result"]["sessions"]] == ["after-junk"]
    finally:
        c.kill()


def test_client_vanishing_mid_request_loses_nothing(home):
    c = RawClient(home)
    c.initialize()
    rid = c.send("aiSession/sessions/create", {"name": "kept"})
    assert c.response(rid)["result"]["session"]["name"] == "kept"
    for i in range(20):
        c.send("aiSession/sessions/addMessage", {"session": "kept", "content": f"m{i}"})
    c.proc.stdin.close()  # the editor is gone without shutdown/exit
    assert c.wait_exit(10) is not None
    m = SessionManager(Config.load())
    try:
        messages = m.messages("kept")
        assert [x.content for x in messages] == [f"m{i}" for i in range(len(messages))]
        assert m.sessions.store.integrity_problems() == []
    finally:
        m.close()


def test_server_exits_when_its_client_process_dies(home):
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    c = RawClient(home)
    try:
        c.initialize(process_id=parent.pid)
        parent.kill()
        parent.wait()
        assert c.wait_exit(15) == 0
    finally:
        c.kill()
