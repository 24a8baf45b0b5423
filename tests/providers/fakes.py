"""Local stand-ins for the provider APIs, speaking their real wire formats.

- `FakeOpenAIServer`: `POST /v1/chat/completions`, SSE `data:` chunks, the
  `include_usage` usage chunk, `[DONE]`, OpenAI-shaped error bodies.
- `FakeAnthropicServer`: `POST /v1/messages`, named SSE events from `message_start` to
  `message_stop` with `ping`s, Anthropic-shaped error bodies and checks.
- `install_fake_claude(dir)`: a `claude` executable that parses the CLI's flags, keeps
  conversations per project directory like Claude Code does, writes stream-json lines and
  records every invocation (argv, cwd, stdin).

Both servers record every request (`.requests`, parsed JSON bodies) and answer from a
script of queued `Reply`s first, then from their default responder, which answers
deterministically and reports usage counted from the request. Reusable from any test:
`from tests.providers.fakes import FakeOpenAIServer`.
"""

from __future__ import annotations

import itertools
import json
import stat
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ai_session.core.tokens import count_tokens


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[bytes] = field(default_factory=list)  # each is written and flushed on its own
    stall_after: int | None = None  # stop sending after this many chunks and hang (timeouts)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw) if self.raw else None


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"content-type": "application/json", **(headers or {})}, [json.dumps(body).encode()])


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


# ---------------------------------------------------------------- OpenAI wire format

def openai_error(status: int, message: str, kind: str, code: str | None = None, **headers: str) -> Reply:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return json_reply(status, body, {k.replace("_", "-"): v for k, v in headers.items()})


def openai_stream(
    text: str,
    *,
    model: str = "gpt-4o-mini-2024-07-18",
    prompt_tokens: int = 0,
    completion_tokens: int | None = None,
    cached_tokens: int = 0,
    include_usage: bool = True,
    piece: int = 7,
    finish_reason: str = "stop",
) -> Reply:
    """Chat Completions SSE exactly as the API sends it (one `data:` line per event)."""
    created = 1727000000
    base = {"id": "chatcmpl-AJx7Q2fKc9", "object": "chat.completion.chunk", "created": created, "model": model,
            "system_fingerprint": "fp_f85bea6784"}  # fmt: skip

    def chunk(choices: list[dict[str, Any]], usage: Any = None) -> bytes:
        data = {**base, "choices": choices}
        if include_usage:
            data["usage"] = usage
        return f"data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()

    def choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}

    chunks = [chunk([choice({"role": "assistant", "content": "", "refusal": None})])]
    chunks += [chunk([choice({"content": p})]) for p in _pieces(text, piece) if p]
    chunks.append(chunk([choice({}, finish_reason)]))
    if include_usage:
        completion = count_tokens(text) if completion_tokens is None else completion_tokens
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion,
            "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
        }  # fmt: skip
        chunks.append(chunk([], usage))
    chunks.append(b"data: [DONE]\n\n")
    return Reply(200, {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}, chunks)


# ------------------------------------------------------------- Anthropic wire format

def anthropic_error(status: int, kind: str, message: str, **headers: str) -> Reply:
    body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011CTest"}
    return json_reply(status, body, {k.replace("_", "-"): v for k, v in headers.items()})


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def anthropic_stream(
    text: str,
    *,
    model: str = "claude-sonnet-4-5-20250929",
    input_tokens: int = 0,
    output_tokens: int | None = None,
    cache_read: int = 0,
    cache_write: int = 0,
    piece: int = 9,
    stop_reason: str = "end_turn",
    error_after: int | None = None,  # send an `error` event after this many deltas
) -> Reply:
    """Messages API SSE exactly as the API sends it (named events, pings, cumulative usage)."""
    start_usage = {"input_tokens": input_tokens, "cache_creation_input_tokens": cache_write,
                   "cache_read_input_tokens": cache_read, "output_tokens": 1, "service_tier": "standard"}  # fmt: skip
    chunks = [
        _event("message_start", {"type": "message_start", "message": {
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": None, "stop_sequence": None, "usage": start_usage}}),
        _event("content_block_start", {"type": "content_block_start", "index": 0,
                                       "content_block": {"type": "text", "text": ""}}),
        _event("ping", {"type": "ping"}),
    ]  # fmt: skip
    for n, part in enumerate(p for p in _pieces(text, piece) if p):
        if error_after is not None and n == error_after:
            chunks.append(_event("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}))
            return Reply(200, {"content-type": "text/event-stream; charset=utf-8"}, chunks)
        chunks.append(_event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                     "delta": {"type": "text_delta", "text": part}}))  # fmt: skip
    out = count_tokens(text) if output_tokens is None else output_tokens
    chunks += [
        _event("content_block_stop", {"type": "content_block_stop", "index": 0}),
        _event("message_delta", {"type": "message_delta",
                                 "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                 "usage": {"output_tokens": out}}),
        _event("message_stop", {"type": "message_stop"}),
    ]  # fmt: skip
    return Reply(200, {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}, chunks)


def anthropic_blocks(blocks: list[dict[str, Any]], *, model: str = "claude-sonnet-4-5-20250929", input_tokens: int = 0,
                     stop_reason: str = "end_turn") -> Reply:  # fmt: skip
    """A streamed assistant message of text and `tool_use` blocks, as the Messages API sends it:
    a tool's input arrives as `input_json_delta` pieces of its JSON."""
    start_usage = {"input_tokens": input_tokens, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                   "output_tokens": 1, "service_tier": "standard"}  # fmt: skip
    chunks = [_event("message_start", {"type": "message_start", "message": {
        "id": f"msg_01{abs(hash(json.dumps(blocks))) % 10**20:020d}", "type": "message", "role": "assistant",
        "model": model, "content": [], "stop_reason": None, "stop_sequence": None, "usage": start_usage}})]  # fmt: skip
    out_tokens = 0
    for index, block in enumerate(blocks):
        if block["type"] == "tool_use":
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            text = json.dumps(block["input"])
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in _pieces(text, 17)]
        else:
            start, text = {"type": "text", "text": ""}, block["text"]
            deltas = [{"type": "text_delta", "text": p} for p in _pieces(text, 9) if p]
        out_tokens += count_tokens(text)
        chunks.append(_event("content_block_start", {"type": "content_block_start", "index": index, "content_block": start}))
        chunks += [_event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}) for d in deltas]
        chunks.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
    chunks += [
        _event("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                 "usage": {"output_tokens": out_tokens}}),
        _event("message_stop", {"type": "message_stop"}),
    ]  # fmt: skip
    return Reply(200, {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}, chunks)


# ------------------------------------------------------------------ the HTTP server

class WireServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 with an ephemeral port, chunked streaming."""

    def __init__(self, responder: Callable[[RecordedRequest], Reply]) -> None:
        self.responder = responder
        self.requests: list[RecordedRequest] = []
        self.script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                request = RecordedRequest("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, raw)
                with server._lock:
                    server.requests.append(request)
                    reply = server.script.popleft() if server.script else None
                server._send(self, reply or server.responder(request))

            do_GET = do_POST

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="wire-server", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def queue(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order, before the default responder."""
        with self._lock:
            self.script.extend(replies)

    def start(self) -> WireServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> WireServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _send(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        try:
            handler.send_response(reply.status)
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.send_header("transfer-encoding", "chunked")
            handler.end_headers()
            for n, chunk in enumerate(reply.chunks):
                if reply.stall_after is not None and n >= reply.stall_after:
                    break
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                handler.wfile.flush()
            if reply.stall_after is not None:
                self._closing.wait(30)  # hang like a stuck server until the client gives up
                handler.close_connection = True
                return
            handler.wfile.write(b"0\r\n\r\n")
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content if isinstance(b, dict))
    return ""


def _all_text(message: dict[str, Any]) -> str:
    """Everything a model reads in one message: text, tool calls' input, tool results."""
    content = message.get("content")
    if not isinstance(content, list):
        return _text_of(content)
    parts = []
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "tool_use":
            parts.append(json.dumps(block.get("input", {})))
        elif block.get("type") == "tool_result":
            parts.append(_text_of(block.get("content")))
        else:
            parts.append(block.get("text", ""))
    return "\n".join(parts)


def default_answer(turn: int, last_user: str) -> str:
    first = last_user.strip().splitlines()[0][:60] if last_user.strip() else ""
    return f"Answer {turn}: noted \"{first}\"."


class FakeOpenAIServer(WireServer):
    """Checks requests as the API does; answers `answer(turn, body)` (default: a short echo)."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        answer: Callable[[int, dict[str, Any]], str] | None = None,
        include_usage_default: bool = True,
    ) -> None:
        self.api_key = api_key
        self.answer = answer
        self.include_usage_default = include_usage_default
        self._turns = itertools.count(1)
        super().__init__(self._respond)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def _respond(self, request: RecordedRequest) -> Reply:
        if request.path != "/v1/chat/completions":
            return openai_error(404, f"Invalid URL (POST {request.path})", "invalid_request_error")
        if self.api_key is not None:
            auth = request.headers.get("authorization", "")
            if auth != f"Bearer {self.api_key}":
                given = auth.removeprefix("Bearer ")
                return openai_error(401, f"Incorrect API key provided: {given}.", "invalid_request_error", "invalid_api_key")
        body = request.body
        if not isinstance(body, dict) or not body.get("model") or not isinstance(body.get("messages"), list):
            return openai_error(400, "you must provide a model parameter and messages", "invalid_request_error")
        messages = body["messages"]
        for m in messages:
            if m.get("role") not in ("system", "user", "assistant", "developer"):
                return openai_error(400, f"Invalid value: '{m.get('role')}'.", "invalid_request_error")
        last_user = next((_text_of(m["content"]) for m in reversed(messages) if m["role"] == "user"), "")
        turn = next(self._turns)
        text = self.answer(turn, body) if self.answer else default_answer(turn, last_user)
        prompt = sum(count_tokens(_text_of(m.get("content"))) + 4 for m in messages)
        usage_wanted = bool((body.get("stream_options") or {}).get("include_usage")) and self.include_usage_default
        if not body.get("stream"):
            return json_reply(200, {"id": "chatcmpl-x", "object": "chat.completion", "model": body["model"],
                                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                                 "finish_reason": "stop"}],
                                    "usage": {"prompt_tokens": prompt, "completion_tokens": count_tokens(text)}})  # fmt: skip
        return openai_stream(text, model=body["model"], prompt_tokens=prompt, include_usage=usage_wanted)


class FakeAnthropicServer(WireServer):
    """Checks requests as the Messages API does (key, version, max_tokens, alternation)."""

    def __init__(self, *, api_key: str = "sk-ant-test-key", answer: Callable[[int, dict[str, Any]], str] | None = None):
        self.api_key = api_key
        self.answer = answer
        self._turns = itertools.count(1)
        super().__init__(self._respond)

    def _respond(self, request: RecordedRequest) -> Reply:
        if request.path != "/v1/messages":
            return anthropic_error(404, "not_found_error", f"Not found: {request.path}")
        if request.headers.get("x-api-key") != self.api_key:
            return anthropic_error(401, "authentication_error", "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return anthropic_error(400, "invalid_request_error", "anthropic-version: header is required")
        body = request.body
        if not isinstance(body, dict):
            return anthropic_error(400, "invalid_request_error", "body must be a JSON object")
        for key in ("model", "max_tokens", "messages"):
            if key not in body:
                return anthropic_error(400, "invalid_request_error", f"{key}: Field required")
        messages = body["messages"]
        if not messages or messages[0]["role"] != "user":
            return anthropic_error(400, "invalid_request_error", "messages: first message must use the \"user\" role")
        for a, b in itertools.pairwise(messages):
            if a["role"] == b["role"]:
                return anthropic_error(400, "invalid_request_error", "messages: roles must alternate between \"user\" and \"assistant\"")
        for m in messages:
            if m["role"] not in ("user", "assistant"):
                return anthropic_error(400, "invalid_request_error", f"messages: Unexpected role \"{m['role']}\"")
        turn = next(self._turns)
        text = self.answer(turn, body) if self.answer else default_answer(turn, _text_of(messages[-1]["content"]))
        system = body.get("system")
        system_text = _text_of(system)
        prompt = count_tokens(system_text) + sum(count_tokens(_text_of(m["content"])) for m in messages)
        cached = isinstance(system, list) and any("cache_control" in b for b in system)
        # Like the API: a cached system prefix is written on first use, read afterwards.
        write = count_tokens(system_text) if cached and turn == 1 else 0
        read = count_tokens(system_text) if cached and turn > 1 else 0
        return anthropic_stream(text, model=body["model"], input_tokens=prompt - write - read,
                                cache_read=read, cache_write=write)  # fmt: skip


class FakeAgentModel(WireServer):
    """The model behind a real agent (Claude Code), on the Messages API: it asks for the
    scripted tool calls one after another, then ends the turn.

    `steps`: a Bash command line, or `(tool_name, input)` for any other tool (an MCP tool
    is `mcp__<server>__<tool>`). A request of the agent's conversation (one offering tools)
    gets the next step once the previous step's `tool_result` is in it; other requests (a
    title, a quota check) get a short text. Every `tool_result` the agent sends back is kept
    in `.tool_results`, exactly as the model would read it, and every conversation request's
    input tokens (cl100k, system and messages) in `.input_tokens`."""

    def __init__(self, steps: list[str | tuple[str, dict[str, Any]]], *, final: str = "Done.") -> None:
        self.steps = steps
        self.final = final
        self.tool_results: list[str] = []
        self.input_tokens: list[int] = []
        super().__init__(self._respond)

    def _respond(self, request: RecordedRequest) -> Reply:
        if not request.path.startswith("/v1/messages"):
            return anthropic_error(404, "not_found_error", f"Not found: {request.path}")
        body = request.body if isinstance(request.body, dict) else {}
        messages = body.get("messages") or []
        if not body.get("tools"):
            return anthropic_stream("ai-session test")
        results = [b for m in messages if m.get("role") == "user" and isinstance(m.get("content"), list)
                   for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_result"]  # fmt: skip
        if len(results) > len(self.tool_results):
            self.tool_results = [_text_of(b.get("content")) for b in results]
        self.input_tokens.append(count_tokens(_text_of(body.get("system"))) + sum(map(count_tokens, map(_all_text, messages))))
        step = len(results)
        if step >= len(self.steps):
            return anthropic_blocks([{"type": "text", "text": self.final}], model=body.get("model", "claude"))
        name, tool_input = ("Bash", {"command": self.steps[step], "description": "scripted step"}) \
            if isinstance(self.steps[step], str) else self.steps[step]  # fmt: skip
        return anthropic_blocks([{"type": "tool_use", "id": f"toolu_01step{step:04d}", "name": name, "input": tool_input}],
                                model=body.get("model", "claude"), stop_reason="tool_use")  # fmt: skip


# --------------------------------------------------------------- the fake claude CLI

_FAKE_CLAUDE = r'''
import json, os, re, sys, uuid

LOG = os.environ.get("FAKE_CLAUDE_LOG")
HOME = os.environ["FAKE_CLAUDE_HOME"]
MODE = os.environ.get("FAKE_CLAUDE_MODE", "ok")
MODEL = "claude-sonnet-4-5-20250929"
argv = sys.argv[1:]

def fail(message, code=1):
    sys.stderr.write(message + "\n")
    sys.exit(code)

opts, prompt, i = {}, None, 0
flags = {"-p", "--print", "--verbose", "--include-partial-messages", "--continue", "-c"}
valued = {"--output-format", "--session-id", "--resume", "-r", "--model", "--append-system-prompt",
          "--permission-mode", "--allowedTools"}
while i < len(argv):
    a = argv[i]
    if a == "--":
        prompt = " ".join(argv[i + 1:])
        break
    if a in flags:
        opts[a] = True
    elif a in valued:
        if i + 1 >= len(argv):
            fail(f"error: option '{a} <value>' argument missing")
        opts[a] = argv[i + 1]
        i += 1
    elif a.startswith("-"):
        fail(f"error: unknown option '{a}'")
    else:
        prompt = a
    i += 1
stdin = None
if prompt is None and not sys.stdin.isatty():
    stdin = sys.stdin.read()
    prompt = stdin
if LOG:
    with open(LOG, "a") as f:
        f.write(json.dumps({"argv": argv, "cwd": os.getcwd(), "stdin": stdin}) + "\n")

if not (opts.get("-p") or opts.get("--print")):
    fail("fake claude only runs headless (-p)")
if opts.get("--output-format") == "stream-json" and not opts.get("--verbose"):
    fail("Error: When using --print, --output-format=stream-json requires --verbose")
resume = opts.get("--resume") or opts.get("-r")
if opts.get("--session-id") and (resume or opts.get("--continue") or opts.get("-c")):
    fail("Error: --session-id cannot be used with --continue or --resume.")
if not prompt:
    fail("Error: Input must be provided either through stdin or as a prompt argument when using --print")

project = os.path.join(HOME, "projects", re.sub(r"[^A-Za-z0-9]", "-", os.getcwd()))
def find_anywhere(sid):
    for root, _, files in os.walk(os.path.join(HOME, "projects")):
        if sid + ".jsonl" in files:
            return True
    return False

if resume:
    if not os.path.isfile(os.path.join(project, resume + ".jsonl")):
        fail(f"No conversation found with session ID: {resume}")
    sid = resume
    if MODE == "new_id_on_resume":
        sid = str(uuid.uuid4())
        os.makedirs(project, exist_ok=True)
        with open(os.path.join(project, resume + ".jsonl")) as src, open(os.path.join(project, sid + ".jsonl"), "w") as dst:
            dst.write(src.read())
else:
    sid = opts.get("--session-id") or str(uuid.uuid4())
    if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", sid):
        fail("Error: Invalid session ID. Must be a valid UUID.")
    if find_anywhere(sid):
        fail(f"Error: Session ID {sid} is already in use.")
os.makedirs(project, exist_ok=True)
path = os.path.join(project, sid + ".jsonl")
turns = 0
if os.path.exists(path):
    with open(path) as f:
        turns = sum(1 for line in f if json.loads(line)["type"] == "user")
with open(path, "a") as f:
    f.write(json.dumps({"type": "user", "sessionId": sid, "cwd": os.getcwd(), "message": {"role": "user", "content": prompt}}) + "\n")

model = opts.get("--model") or MODEL
def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()

emit({"type": "system", "subtype": "init", "cwd": os.getcwd(), "session_id": sid, "tools": ["Bash", "Edit", "Read"],
      "mcp_servers": [], "model": model, "permissionMode": "default", "slash_commands": ["compact"],
      "apiKeySource": "none", "output_style": "default", "uuid": str(uuid.uuid4())})
if MODE == "error_result":
    emit({"type": "result", "subtype": "success", "is_error": True, "duration_ms": 210, "duration_api_ms": 0,
          "num_turns": 1, "result": "Invalid API key · Please run /login", "session_id": sid, "total_cost_usd": 0,
          "usage": {"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                    "output_tokens": 0}, "permission_denials": [], "uuid": str(uuid.uuid4())})
    sys.exit(1)
first_line = prompt.strip().splitlines()[-1][:60]
reply = os.environ.get("FAKE_CLAUDE_REPLY") or f"Turn {turns + 1} of {sid[:8]}: {first_line}"
usage = {"input_tokens": 12, "cache_creation_input_tokens": 2048, "cache_read_input_tokens": 13000 * turns,
         "output_tokens": 9, "service_tier": "standard"}
msg_id = "msg_01" + uuid.uuid4().hex[:20]
if opts.get("--include-partial-messages"):
    emit({"type": "stream_event", "event": {"type": "message_start", "message": {"id": msg_id, "model": model}},
          "session_id": sid, "parent_tool_use_id": None, "uuid": str(uuid.uuid4())})
    for k in range(0, len(reply), 5):
        emit({"type": "stream_event", "event": {"type": "content_block_delta", "index": 0,
              "delta": {"type": "text_delta", "text": reply[k:k + 5]}}, "session_id": sid,
              "parent_tool_use_id": None, "uuid": str(uuid.uuid4())})
emit({"type": "assistant", "message": {"id": msg_id, "type": "message", "role": "assistant", "model": model,
      "content": [{"type": "text", "text": reply}], "stop_reason": None, "stop_sequence": None, "usage": usage},
      "parent_tool_use_id": None, "session_id": sid, "uuid": str(uuid.uuid4())})
with open(path, "a") as f:
    f.write(json.dumps({"type": "assistant", "sessionId": sid, "message": {"role": "assistant", "content": reply}}) + "\n")
emit({"type": "result", "subtype": "success", "is_error": False, "duration_ms": 1534, "duration_api_ms": 1420,
      "num_turns": 1, "result": reply, "session_id": sid, "total_cost_usd": 0.0123,
      "usage": {**usage, "server_tool_use": {"web_search_requests": 0}}, "permission_denials": [],
      "uuid": str(uuid.uuid4())})
'''


@dataclass
class FakeClaude:
    bin_dir: Path
    home: Path
    log: Path

    @property
    def executable(self) -> Path:
        return self.bin_dir / "claude"

    def env(self) -> dict[str, str]:
        return {"FAKE_CLAUDE_HOME": str(self.home), "FAKE_CLAUDE_LOG": str(self.log)}

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def transcript(self, session_id: str) -> list[dict[str, Any]]:
        """The conversation the fake CLI stored for `session_id` (in whichever project dir)."""
        for path in (self.home / "projects").rglob(f"{session_id}.jsonl"):
            return [json.loads(line) for line in path.read_text().splitlines()]
        return []


def install_fake_claude(directory: Path) -> FakeClaude:
    bin_dir = directory / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    exe = bin_dir / "claude"
    exe.write_text(f"#!{sys.executable}\n{_FAKE_CLAUDE}")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    home = directory / "claude-home"
    home.mkdir(exist_ok=True)
    return FakeClaude(bin_dir, home, directory / "claude-calls.jsonl")

