"""SIGKILL a writer 100 times mid-write; then check no acknowledged message is lost and the
store passes PRAGMA integrity_check.  `python bench/stress_kill.py [KILLS]`"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

SERVER = Path(__file__).resolve().parents[1] / "server"
sys.path.insert(0, str(SERVER))

WRITER = """
import sys
from ai_session.core.models import Message
from ai_session.core.store.sqlite import SQLiteStore
store = SQLiteStore(sys.argv[1])
for i in range(10**9):
    store.append_messages(sys.argv[2], [Message(role="user", content=f"{sys.argv[3]}-{i}" + "x" * (i % 3000), tokens=1)])
    print(f"{sys.argv[3]}-{i}", flush=True)
"""


def main(kills: int = 100) -> None:
    from ai_session.core.models import Session
    from ai_session.core.store.sqlite import SQLiteStore

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.db"
        store = SQLiteStore(path)
        sid = store.create_session(Session(name="crash")).id
        env = {**os.environ, "PYTHONPATH": str(SERVER)}
        acknowledged = []
        for k in range(kills):
            p = subprocess.Popen([sys.executable, "-c", WRITER, str(path), sid, f"k{k}"], stdout=subprocess.PIPE, text=True, env=env)
            for _ in range(random.randint(5, 200)):
                acknowledged.append(p.stdout.readline().strip())
            p.kill()
            p.wait()
            p.stdout.close()
        stored = {m.content.split("x")[0] for m in store.list_messages(sid)}
        lost = [a for a in acknowledged if a not in stored]
        check = sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0]
        print(f"{kills} SIGKILLs, {len(acknowledged)} acknowledged messages, {len(lost)} lost, integrity_check={check}")
        if lost or check != "ok":
            raise SystemExit(1)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
