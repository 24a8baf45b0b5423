"""Our own export format: versioned JSON that round-trips a session exactly.

    {"format": "ai-session", "version": 1, "exportedAt": ...,
     "session": {...}, "messages": [...], "runs": [{"run": {...}, "output": "..."}]}

`export --all` writes several in one bundle:

    {"format": "ai-session", "version": 1, "exportedAt": ..., "sessions": [<document>, ...]}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, TextIO

from pydantic import ValidationError

from ai_session.core.errors import InvalidInput
from ai_session.core.interop import ImportBundle, limits
from ai_session.core.models import CommandRun, Message, Session, utcnow

FORMAT = "ai-session"
VERSION = 1
# Encodes a batch of values (rows of an array, or one value) to their JSON texts.
Encode = Callable[[Sequence[Any]], list[str]]
BATCH = 500  # rows encoded at once: one search for secrets over them all (core/redact.py)


def write_document(out: TextIO, session: Session, messages: Iterable[dict[str, Any]],
                   runs: Iterable[tuple[CommandRun, str | None]], encode: Encode,
                   skipped: Callable[[], Sequence[dict[str, Any]]] = tuple) -> None:  # fmt: skip
    """A session's document written to `out` a row at a time: memory stays that of one row,
    whatever the history, and each row is encoded by `encode` (the C JSON encoder, not
    `indent`'s pure-Python one). `messages` come in their wire form (the store reads them so).
    `skipped()`, asked once the rows are written, gives the damaged rows left out; they come
    last when there are any."""

    def tail() -> dict[str, Any]:
        rows = skipped()
        return {"skipped": list(rows)} if rows else {}

    write_object(out, {**_head(), "session": _item(session)},
                 {"messages": messages, "runs": (_run_item(r, raw) for r, raw in runs)},
                 encode, tail=tail)  # fmt: skip


def write_bundle(out: TextIO, documents: Iterable[Callable[[TextIO], None]], encode: Encode) -> None:
    """A bundle of several sessions written to `out`: each of `documents` writes one in place."""
    write_object(out, _head(), {"sessions": documents}, encode)


def write_object(out: TextIO, head: dict[str, Any], arrays: dict[str, Iterable[Any]], encode: Encode,
                 tail: Callable[[], dict[str, Any]] = dict) -> None:  # fmt: skip
    """A JSON object: the keys of `head`, then each array of `arrays` an item a line (an item
    that is a function writes itself), then the keys of `tail()`, asked for after them."""

    def one(value: Any) -> str:
        return encode([value])[0]

    fields = [f"{one(k)}: {one(v)}" for k, v in head.items()]
    out.write("{" + ",\n ".join(fields))
    first_field = not fields
    for key, items in arrays.items():
        out.write(("" if first_field else ",\n ") + one(key) + ": [")
        first_field = False
        first_item = True
        for batch in _batches(items):
            if not callable(batch[0]):  # a batch of values: one write
                out.write(("\n  " if first_item else ",\n  ") + ",\n  ".join(encode(batch)))
                first_item = False
                continue
            for item in batch:
                out.write("\n  " if first_item else ",\n  ")
                first_item = False
                item(out)
        out.write("]")
    for key, value in tail().items():
        out.write(",\n " + one(key) + ": " + one(value))
    out.write("}")


def _batches(items: Iterable[Any]) -> Iterator[list[Any]]:
    """Runs of up to BATCH items (an array holds values, or functions: a bundle's documents)."""
    it = iter(items)
    while batch := list(islice(it, BATCH)):
        yield batch


def _head() -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "exportedAt": utcnow().isoformat()}


def _item(model: Session | Message) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)


def _run_item(run: CommandRun, raw: str | None) -> dict[str, Any]:
    return {"run": run.model_dump(mode="json", by_alias=True), "output": raw}


def looks_native(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("format") == FORMAT


def is_bundle(doc: Any) -> bool:
    return looks_native(doc) and "sessions" in doc and "session" not in doc


def looks_jsonl(text: str) -> bool:
    """JSON Lines (a Claude Code transcript read from a pipe, with no file name to tell)."""
    lines = [line for line in text.splitlines()[:3] if line.strip()]
    return len(lines) > 1 and all(line.lstrip().startswith("{") and line.rstrip().endswith("}") for line in lines)


def from_bundle(doc: Any) -> list[ImportBundle]:
    """Every session of an `export --all` bundle, each checked as its own export."""
    documents = doc.get("sessions")
    if not isinstance(documents, list):
        raise InvalidInput("invalid export bundle: \"sessions\" must be a list")
    bundles = []
    for i, document in enumerate(limits.count(documents, "sessions")):
        try:
            bundles.append(from_document(document))
        except InvalidInput as exc:
            raise InvalidInput(f"sessions[{i}]: {exc}") from None
    return bundles


def from_document(doc: Any) -> ImportBundle:
    if not looks_native(doc):
        raise InvalidInput("not an ai-session export (missing \"format\": \"ai-session\")")
    version = doc.get("version")
    if version != VERSION:
        raise InvalidInput(f"ai-session export version {version!r} is not supported (this ai-session reads v{VERSION})")
    try:
        session = Session.model_validate(doc.get("session"))
        raw_messages = limits.count(list(doc.get("messages") or []), "messages")
        messages = [Message.model_validate(m) for m in raw_messages]
        runs = []
        for i, entry in enumerate(limits.count(list(doc.get("runs") or []), "runs")):
            if not isinstance(entry, dict):
                raise InvalidInput(f"runs[{i}]: expected an object")
            output = entry.get("output")
            if output is not None:
                output = limits.text(output, f"runs[{i}].output")
            runs.append((CommandRun.model_validate(entry.get("run")), output))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"invalid export: {where}: {first['msg']}") from None
    limits.session_name(session.name, "session.name", id_like=True)
    if not limits.SESSION_ID.match(session.id):
        raise InvalidInput(f"session.id: {session.id!r} is not an ai-session id")
    limits.capped(session.system_prompt, "session.systemPrompt", limits.MAX_PROMPT_CHARS)
    limits.capped(session.metadata, "session.metadata", limits.MAX_METADATA_BYTES)
    for i, m in enumerate(messages):
        limits.text(m.content, f"messages[{i}].content")
        limits.capped(m.metadata, f"messages[{i}].metadata", limits.MAX_METADATA_BYTES)
        if m.session_id and m.session_id != session.id:
            raise InvalidInput(f"messages[{i}] belongs to another session ({m.session_id})")
    limits.unique([m.id for m in messages], "message id")
    for i, (run, _) in enumerate(runs):
        where = f"runs[{i}].run"
        if run.session_id and run.session_id != session.id:
            raise InvalidInput(f"run {run.id} belongs to another session ({run.session_id})")
        limits.foreign_id(run.id, f"{where}.id")
        limits.capped(run.command, f"{where}.command", limits.MAX_COMMAND_CHARS)
        limits.capped(run.context, f"{where}.context", limits.MAX_TEXT_CHARS)
        limits.capped(run.metadata, f"{where}.metadata", limits.MAX_METADATA_BYTES)
        if len(run.diagnostics) > limits.MAX_DIAGNOSTICS:
            raise InvalidInput(f"{where}.diagnostics: {len(run.diagnostics)} entries, over the {limits.MAX_DIAGNOSTICS} limit")
    limits.unique([r.id for r, _ in runs], "run id")
    # A file's saved shell state is never restored: an environment or a directory chosen by
    # whoever wrote the file must not decide what the next shell runs.
    worktree = limits.path(session.worktree, "session.worktree")
    session = session.model_copy(update={"shell_env": {}, "shell_cwd": None, "worktree": worktree})
    return ImportBundle(session=session, messages=messages, runs=runs, source="native")
