"""The planting probe: fake secrets of every documented kind, planted through every channel a
user or an agent has, then searched for in every place ai-session keeps or sends text.

Used by test_planting.py, and runnable against any checkout to compare (the figures in a
closing note come from here):

    python -m tests.security.probe [--server PATH_TO_server_DIR] [--copies N]

Everything runs as a user would: the CLI and the language server in subprocesses, the
library in a subprocess too, against a throw-away data dir.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard

from tests.security.fakes import Fake, found, plant

REPO = Path(__file__).resolve().parents[2]
TOKEN_KINDS = ["aws-access-key", "github-pat-classic", "openai-project-key", "anthropic-key", "slack-token",
               "stripe-live", "google-api-key", "sendgrid-key", "npm-token", "jwt"]  # fmt: skip


@dataclass
class Probe:
    home: Path
    work: Path
    server: Path = REPO / "server"
    copies: int = 1
    planted: list[tuple[str, Fake]] = field(default_factory=list)
    traffic: bytearray = field(default_factory=bytearray)
    # Harmless random words planted beside the secrets: a scan must find them, or it is blind.
    controls: list[Fake] = field(default_factory=list)

    # ------------------------------------------------------------------ running things

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AI_SESSION")}
        env.update(PYTHONPATH=os.pathsep.join([str(self.server), str(REPO)]), AI_SESSION_HOME=str(self.home),
                   AI_SESSION_CONFIG=str(self.home.parent / "config.toml"))
        return env

    def cli(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "ai_session", *args], capture_output=True, text=True,
                              input=stdin, env=self.env(), cwd=self.work, timeout=120, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"ai-session {' '.join(args)[:200]} failed ({done.returncode}): {done.stderr[-2000:]}")
        return done

    def exec(self, session: str, command: str) -> None:
        self.cli("exec", session, command, "--cwd", str(self.work))

    def fakes(self, channel: str, kinds: list[str] | None = None) -> list[Fake]:
        made = plant(kinds, self.copies)
        self.planted += [(channel, f) for f in made]
        return made

    # ------------------------------------------------------------------ channels

    def plant_everything(self) -> None:
        self.cli("create", "cli")
        self.plant_controls()
        self.exec_output()
        self.command_text()
        self.shell_exported()
        self.files_printed()
        self.ansi_coloured()
        self.added_messages()
        self.system_prompt_and_template()
        self.library()
        self.imports()
        self.language_server()

    def plant_controls(self) -> None:
        short, long = (Fake("control", w, w) for w in (f"canary{os.urandom(8).hex()}", f"canary{os.urandom(8).hex()}"))
        self.controls += [short, long]
        self.exec("cli", f"echo {short.text}; for i in $(seq 200); do echo {long.text} $i; done")  # the long one is zstd-packed
        self._lsp_session("control", [f"echo {short.text}"])

    def exec_output(self) -> None:
        secrets_file = self.work / "secrets.txt"
        secrets_file.write_text("\n".join(f.text for f in self.fakes("exec output")) + "\n")
        self.exec("cli", f"cat {shlex.quote(str(secrets_file))}")

    def command_text(self) -> None:
        quoted = " ".join(shlex.quote(f.text) for f in self.fakes("command text"))
        self.exec("cli", f": {quoted}")

    def shell_exported(self) -> None:
        # Assigned in the command line and echoed in the same command ...
        made = self.fakes("shell-exported vars")
        names = [f"PROBE_TOKEN_{i}" for i in range(len(made))]
        assign = "; ".join(f"export {n}={shlex.quote(f.value)}" for n, f in zip(names, made, strict=True))
        self.exec("cli", f"{assign}; " + "; ".join(f'echo "{n} is ${n}"' for n in names))
        # ... and exported without the value in the command line, printed by a later command
        # of the same shell (the language server keeps it between requests).
        hidden = self.fakes("shell-exported vars")
        lines = [f"export PROBE_SECRET_{i}=$(printf %s {base64.b64encode(f.value.encode()).decode()} | base64 -d)"
                 for i, f in enumerate(hidden)]
        self._lsp_session("exported", ["; ".join(lines), "env | grep PROBE_SECRET_ | sort"])

    def files_printed(self) -> None:
        env_fakes = self.fakes(".env and JSON files printed", [k for k in ["env-secret-key", "env-password", "env-token",
                                                                           "env-credential", "url-password"]])
        (self.work / "prod.env").write_text("\n".join(f"{f.text}" for f in env_fakes) + "\n")
        json_fakes = self.fakes(".env and JSON files printed", ["json-pair"] * 4 + ["pem"])
        doc = {"credentials": [json.loads(f.text) for f in json_fakes if f.kind == "json-pair"],
               "private_key": next(f.text for f in json_fakes if f.kind == "pem") + "\n"}
        (self.work / "creds.json").write_text(json.dumps(doc, indent=2))
        self.exec("cli", "cat prod.env creds.json; set -a; . ./prod.env; set +a")

    def ansi_coloured(self) -> None:
        made = self.fakes("ANSI-coloured output", TOKEN_KINDS)
        (self.work / "c.yml").write_text("\n".join(f"token: {f.text}" for f in made) + "\n")
        printfs = "; ".join(f"printf '\\033[31m%s\\033[0m\\n' {shlex.quote(f.text)}" for f in made)
        self.exec("cli", f"{printfs}; grep --color=always -E 'AKIA|ASIA|ghp_|sk-|xox|_live_|AIza|SG\\.|npm_|eyJ' c.yml")

    def added_messages(self) -> None:
        made = self.fakes("add")
        for start in range(0, len(made), 7):
            self.cli("add", "cli", "\n".join(f.text for f in made[start : start + 7]))

    def system_prompt_and_template(self) -> None:
        made = self.fakes("system prompts and templates")
        half = len(made) // 2
        prompt = "You are a deploy bot. Use these:\n" + "\n".join(f.text for f in made[:half])
        self.cli("create", "prompted", "--system-prompt", prompt)
        self.cli("add", "prompted", "\n".join(f.text for f in made[half:]), "--pin", "--role", "system")
        more = self.fakes("system prompts and templates")
        self.cli("template", "save", "prompted", "deploy", "--system-prompt", "\n".join(f.text for f in more))
        self.cli("create", "from-template", "--template", "deploy")

    def library(self) -> None:
        made = self.fakes("library API")
        payload = json.dumps([f.text for f in made])
        script = f"""
import json
from ai_session import session
from ai_session.core.manager import SessionManager
from ai_session.core.models import CommandRun, Message, RunStatus
texts = json.loads({payload!r})
m = SessionManager()
m.create("library", system_prompt=texts[0])
s = session(name="library")
for t in texts[1:]:
    s.add("user", t)
s.close()
target = m.resolve("library")
# Straight to the store, past every manager rule: the store's own choke point must hold.
m.sessions.store.append_messages(target.id, [Message(role="tool", content=t, metadata={{"command": t}}) for t in texts])
run = CommandRun(session_id=target.id, command=" && ".join(texts[:3]), context=texts[3], status=RunStatus.FINISHED,
                 metadata={{"note": texts[4], "password": texts[5]}})
m.sessions.store.save_run(run, "\\n".join(texts))
m.close()
"""
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=self.env(),
                              cwd=self.work, timeout=120, check=False)
        if done.returncode:
            raise AssertionError(f"library channel failed: {done.stderr[-2000:]}")

    def imports(self) -> None:
        made = self.fakes("import: ai-session JSON")
        t = [f.text for f in made]
        sid = "sess_" + os.urandom(6).hex()
        run_id = "run_" + os.urandom(6).hex()
        now = "2026-11-20T10:00:00+00:00"
        doc = {
            "format": "ai-session", "version": 1, "exportedAt": now,
            "session": {"id": sid, "name": "imported-native", "systemPrompt": t[0], "metadata": {"password": made[1].value, "note": t[2]},
                        "shellEnv": {"GH_TOKEN": made[3].value}, "tags": [], "createdAt": now, "lastActive": now},
            "messages": [{"id": f"msg_{i:012x}", "sessionId": sid, "seq": i + 1, "role": "user", "content": x,
                          "metadata": {"origin": x}, "createdAt": now} for i, x in enumerate(t[4:10])],
            "runs": [{"run": {"id": run_id, "sessionId": sid, "command": t[10], "context": t[11], "status": "finished",
                              "startedAt": now, "metadata": {"secret": made[12].value},
                              "diagnostics": [{"file": "a.py", "line": 1, "message": t[13]}]},
                      "output": "\n".join(t[14:])}],
        }  # fmt: skip
        (self.work / "native.json").write_text(json.dumps(doc))
        self.cli("import", "--file", "native.json")

        cc = self.fakes("import: ChannelCoder JSON")
        channel = {"sessionChain": ["abc-1"], "currentSessionId": "abc-1", "metadata": {"name": "imported-cc"},
                   "messages": [{"role": "user" if i % 2 else "assistant", "content": f.text, "timestamp": now}
                                for i, f in enumerate(cc)]}
        (self.work / "cc.json").write_text(json.dumps(channel))
        self.cli("import", "--file", "cc.json")

        claude = self.fakes("import: Claude Code transcript")
        sid2 = "5b7e2c1a-9f1d-4c2e-8a61-" + os.urandom(6).hex()
        events = []
        for i, f in enumerate(claude):
            base = {"sessionId": sid2, "cwd": str(self.work), "uuid": f"u{i}", "timestamp": "2026-11-20T10:00:00.000Z"}
            if i % 3 == 0:
                events.append({**base, "type": "user", "message": {"role": "user", "content": f.text}})
            elif i % 3 == 1:
                events.append({**base, "type": "assistant", "message": {"id": f"m{i}", "role": "assistant", "content": [
                    {"type": "tool_use", "id": f"t{i}", "name": "Bash", "input": {"command": f"curl -d {f.text!r} x"}}]}})
            else:
                events.append({**base, "type": "user", "message": {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": f"t{i - 1}", "content": f.text}]}})
        (self.work / "t.jsonl").write_text("\n".join(json.dumps(e) for e in events) + "\n")
        self.cli("import", "--file", "t.jsonl")

    def language_server(self) -> None:
        made = self.fakes("language server")
        (self.work / "lsp-secrets.txt").write_text("\n".join(f.text for f in made) + "\n")
        more = self.fakes("language server")
        with LspClient(self) as c:
            c.request("aiSession/sessions/create", {"name": "lsp"})
            for f in more:
                c.request("aiSession/sessions/addMessage", {"session": "lsp", "content": f.text})
            run = c.request("aiSession/exec", {"session": "lsp", "command": "cat lsp-secrets.txt", "cwd": str(self.work),
                                               "wait": True})
            c.request("aiSession/run/output", {"runId": run["runId"], "mode": "raw"})
            c.request("aiSession/run/output", {"runId": run["runId"], "mode": "grep", "pattern": "."})
            c.request("aiSession/sessions/get", {"session": "lsp", "history": True, "limit": None})
            # Requests that fail with the secret in them: the error answers and the log.
            failing = self.fakes("language server")
            for f in failing[: len(failing) // 2]:
                c.request("aiSession/exec", {"session": "lsp", "command": f"echo {shlex.quote(f.text)}",
                                             "cwd": "/nonexistent-dir"}, fails=None)  # older servers accepted it
            for f in failing[len(failing) // 2 :]:
                c.request("aiSession/sessions/get", {"session": f.text}, fails=True)
            typed = self.fakes("typed terminal input")
            term = c.request("aiSession/terminal/attach", {"session": "lsp", "rows": 24, "cols": 200})
            for i, f in enumerate(typed):
                line = f"export PROBE_TYPED_TOKEN_{i}={shlex.quote(f.value)}; echo {shlex.quote(f.text)}\r"
                c.request("aiSession/terminal/input", {"terminalId": term["terminalId"], "data": line})
            c.request("aiSession/terminal/input", {"terminalId": term["terminalId"], "data": "env | grep PROBE_TYPED\r"})
            c.wait_quiet(2.0)
            c.request("aiSession/terminal/detach", {"terminalId": term["terminalId"]})

    def _lsp_session(self, name: str, commands: list[str]) -> None:
        with LspClient(self) as c:
            c.request("aiSession/sessions/create", {"name": name})
            for command in commands:
                c.request("aiSession/exec", {"session": name, "command": command, "cwd": str(self.work), "wait": True})

    # ------------------------------------------------------------------ scanning

    def stop_host(self) -> None:
        """The session host the planting's commands started (it outlives them until idle)."""
        from ai_session.host.client import stop_host

        stop_host(self.env())

    def scan(self) -> dict[str, list[tuple[str, Fake]]]:
        """location -> the planted secrets found there (with the channel each came through)."""
        fakes = [f for _, f in self.planted]
        channel_of = {id(f): c for c, f in self.planted}
        places: dict[str, bytes] = {}
        self.stop_host()  # it keeps the store open: the files are read at rest, checkpointed
        db = self.home / "sessions.db"
        for suffix in ("", "-wal", "-shm"):
            path = Path(f"{db}{suffix}")
            places[f"database{suffix or ' file'}"] = path.read_bytes() if path.exists() else b""
        places["zstd bodies"] = b"\n".join(_zstd_bodies(db))
        sessions = json.loads(self.cli("list", "--format", "json").stdout)
        names = [s.get("name") or s.get("session", {}).get("name") for s in sessions]
        history, exports, outputs = [], [], []
        for name in names:
            history.append(self.cli("show", name, "--history", "--limit", "0", "--format", "json").stdout)
            out = self.work / f"export-{name}.json"
            self.cli("export", name, "--output", str(out))
            exports.append(out.read_text())
        for run_id in _run_ids(db):
            outputs.append(self.cli("output", run_id, "--raw", check=False).stdout)  # a run may have no output
        places["exports"] = "\n".join(exports).encode()
        places["show --history --format json"] = "\n".join(history).encode()
        places["output --raw"] = "\n".join(outputs).encode()
        logs = [p.read_bytes() for p in (self.home / "logs").rglob("*") if p.is_file()] if (self.home / "logs").exists() else []
        places["logs"] = b"\n".join(logs)
        places["server traffic"] = bytes(self.traffic)
        self.control_hits = {where: [f.text for f in found(data, self.controls)] for where, data in places.items()}
        self.stop_host()  # the one `output` started
        return {where: [(channel_of[id(f)], f) for f in found(data, fakes)] for where, data in places.items()}


class LspClient:
    """`ai-session serve` over stdio; everything it sends is kept in probe.traffic."""

    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self.proc = subprocess.Popen([sys.executable, "-m", "ai_session", "serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=probe.env(), cwd=probe.work)
        self.next_id = 0

    def __enter__(self) -> LspClient:
        self.request("initialize", {"processId": None, "capabilities": {}, "rootUri": None})
        self._send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.request("shutdown", None)
            self._send({"jsonrpc": "2.0", "method": "exit"})
            self.proc.wait(10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()

    def _send(self, msg: dict[str, Any]) -> None:
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def _read(self) -> dict[str, Any]:
        length = None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise EOFError("the server closed its output")
            self.probe.traffic += line
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
            elif line in (b"\r\n", b"\n") and length is not None:
                body = self.proc.stdout.read(length)
                self.probe.traffic += body
                return json.loads(body)

    def request(self, method: str, params: Any, *, fails: bool | None = False) -> Any:
        """The result; `fails`: the request must fail (True), succeed (False), either (None)."""
        self.next_id += 1
        self._send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        while True:
            msg = self._read()
            if msg.get("id") == self.next_id and "method" not in msg:
                if fails is not None and ("error" in msg) != fails:
                    raise AssertionError(f"{method}: {msg.get('error') or 'succeeded'}")
                return msg.get("result")

    def wait_quiet(self, seconds: float) -> None:
        """Read notifications for a while (typed commands finish and get recorded)."""
        import select

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if ready:
                self._read()


def _zstd_bodies(db: Path) -> list[bytes]:
    out = []
    with sqlite3.connect(db) as conn:
        for table, column in (("messages", "body"), ("runs", "raw")):
            for (data,) in conn.execute(f"SELECT {column} FROM {table} WHERE zstd = 1"):
                out.append(zstandard.ZstdDecompressor().decompressobj().decompress(data))
    return out


def _run_ids(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM runs")]


def report(probe: Probe, results: dict[str, list[tuple[str, Fake]]]) -> str:
    kinds, channels = len({f.kind for _, f in probe.planted}), len({c for c, _ in probe.planted})
    lines = [f"planted {len(probe.planted)} fake secrets of {kinds} kinds through {channels} channels"]
    for where, hits in results.items():
        by_channel = Counter(c for c, _ in hits)
        detail = ", ".join(f"{c}: {n}" for c, n in by_channel.most_common()) if hits else ""
        lines.append(f"  {where:30} {len(hits):5} found" + (f"  ({detail})" if detail else ""))
    by_kind: dict[str, int] = defaultdict(int)
    for hits in results.values():
        for _, f in hits:
            by_kind[f.kind] += 1
    if by_kind:
        lines.append("  by kind: " + ", ".join(f"{k}: {n}" for k, n in sorted(by_kind.items())))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", type=Path, default=REPO / "server", help="the server/ dir of the checkout to probe")
    parser.add_argument("--copies", type=int, default=1, help="fakes of each kind per channel")
    a = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home, work = Path(tmp) / "home", Path(tmp) / "work"
        work.mkdir()
        subprocess.run(["git", "init", "-q", str(work)], check=True)
        probe = Probe(home, work, a.server.resolve(), a.copies)
        probe.plant_everything()
        print(report(probe, probe.scan()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
