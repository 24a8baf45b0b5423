"""Row encoding both backends share: column lists, session, message, run, template and
pool rows, text checks.

Every row either backend writes is built here, and every one passes `scrubbed` first: the
redaction choke point of the store. Nothing a caller forgot to redact reaches a table.

Each backend passes how it writes timestamps (`ts`) and reads them back (`parse`): SQLite
stores ISO text, PostgreSQL timestamptz.

Reading is per row and never raises for one bad row: a row whose body, JSON or columns do
not read back comes back with `damage` saying what is wrong (and what its other columns
still tell), so the rest of its session reads normally. Writing refuses such a row: its
damaged original stays on disk until `repair` moves it to quarantine.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from enum import Enum, StrEnum
from functools import cache
from typing import Any, TypeVar, cast, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError

from ai_session.core import blob
from ai_session.core.errors import Damaged, InvalidInput
from ai_session.core.models import (
    CommandRun,
    Message,
    MessageKind,
    PoolConfig,
    Role,
    RunStatus,
    Session,
    SessionStatus,
    Template,
    Usage,
)
from ai_session.core.redact import json_is_clean, redact, redact_data
from ai_session.core.store.base import SessionFilter

Timestamp = Callable[[datetime], Any]
Parse = Callable[[Any], datetime]
E = TypeVar("E", bound=StrEnum)
M = TypeVar("M", bound=BaseModel)

SESSION_COLS = "id, name, status, agent, role, worktree, branch, pool, created_at, last_active, data, trashed_at"
MESSAGE_COLS = (
    "session_id, seq, id, role, kind, created_at, tokens, pinned, agent, run_id, body, zstd, extra, checksum, copy_of"
)
# What a rewrite of a stored message may change (everything but its place and time).
MESSAGE_UPDATE_COLS = ("role", "kind", "tokens", "pinned", "agent", "run_id", "body", "zstd", "extra", "checksum",
                       "copy_of")  # fmt: skip
RUN_COLS = "id, session_id, started_at, status, exit_code, data"
# A trashed session gives its name up (a new session may take it); its name column holds this
# prefix and its id instead, which no session name can be (names start with a letter or digit).
TRASHED_NAME = "~"


def utf8_text(text: str, what: str) -> str:
    """Text a store can hold: valid Unicode (no lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{what} is not valid Unicode (lone surrogate)") from None
    return text


def why(exc: Exception) -> str:
    """A one-line reason for a value that did not parse."""
    if isinstance(exc, ValidationError) and exc.errors():
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where + ': ' if where else ''}{first['msg']}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _enum(kind: type[E], value: Any, fallback: E, damage: list[str], column: str) -> E:
    member = kind._value2member_map_.get(value)  # what kind(value) looks up, without its cost per row
    if member is None:
        damage.append(f"{column}: {value!r} is not a known value")
        return fallback
    return cast(E, member)


def scrubbed(model: M) -> M:
    """The model with every text field redacted (the same object when nothing was secret)."""
    fields = text_fields(type(model))
    text = _text_json(model, fields)
    if text is not None and json_is_clean(text):  # one search of all its text finds most models clean
        return model
    data = model.model_dump(mode="json", include=set(fields))
    clean = redact_data(data, own_keys=True)
    return model if clean is data else type(model).model_validate({**model.model_dump(mode="json"), **clean})


_ENCODE_JSON = json.JSONEncoder(ensure_ascii=False).encode


def _text_json(model: BaseModel, fields: frozenset[str]) -> str | None:
    """The model's text fields as one JSON text: their values as the C encoder writes them
    (strings, None, plain containers: an append's), else as pydantic does (a nested model);
    None for text that is not valid Unicode (searched string by string, refused later)."""
    if not _custom_serializers(type(model)):
        try:
            return _ENCODE_JSON([getattr(model, name) for name in fields])
        except (TypeError, ValueError):
            pass
    try:
        return model.model_dump_json(include=set(fields))
    except PydanticSerializationError:
        return None


@cache
def _custom_serializers(kind: type[BaseModel]) -> bool:
    """Whether the model writes a field otherwise than its value (then only pydantic's JSON is its text)."""
    decorators = kind.__pydantic_decorators__
    return bool(decorators.field_serializers or decorators.model_serializers)


@cache
def text_fields(kind: type[BaseModel]) -> frozenset[str]:
    """The fields of a model that can hold text, so a secret: all but numbers, flags, times and
    enums. Redacting only these spares every append the scan of a dozen values that cannot."""
    return frozenset(name for name, field in kind.model_fields.items() if _may_hold_text(field.annotation))


def _may_hold_text(annotation: Any) -> bool:
    if annotation in (int, float, bool, type(None), datetime):
        return False
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return False
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return bool(text_fields(annotation))
    if args := get_args(annotation):  # a union or a container: text if any part may be
        return any(_may_hold_text(a) for a in args if a is not Ellipsis)
    return True  # str, Any, a bare container


def refuse_damaged(item: Session | Message | CommandRun, what: str) -> None:
    """Writing a row read back damaged would overwrite its original bytes with what is left."""
    if item.damage:
        raise Damaged(f"{what} is damaged ({item.damage}); run `ai-session repair` first")


# ---------------------------------------------------------------------- sessions


def session_filter_sql(f: SessionFilter, mark: str, ts: Any) -> tuple[str, list[Any]]:
    """The WHERE clause (or "") for a SessionFilter; `mark` is the driver's placeholder
    (? or %s) and `ts` how the backend writes timestamps."""
    where: list[str] = []
    params: list[Any] = []
    if f.statuses:
        where.append(f"status IN ({', '.join([mark] * len(f.statuses))})")
        params += sorted(s.value for s in f.statuses)
    for column in ("agent", "role", "worktree", "branch", "pool"):
        if (value := getattr(f, column)) is not None:
            where.append(f"{column} = {mark}")
            params.append(value)
    if f.inactive_before is not None:
        where.append(f"last_active < {mark}")
        params.append(ts(f.inactive_before))
    if f.trashed is not None:
        where.append("trashed_at IS NOT NULL" if f.trashed else "trashed_at IS NULL")
    if f.trashed_before is not None:
        where.append(f"trashed_at < {mark}")
        params.append(ts(f.trashed_before))
    return (" WHERE " + " AND ".join(where)) if where else "", params


def session_row(s: Session, ts: Timestamp) -> tuple[Any, ...]:
    """Values for SESSION_COLS: the whole session as JSON, plus the columns queries filter on."""
    refuse_damaged(s, f"session {s.name}'s stored record")
    s = scrubbed(s)
    name = s.name if s.trashed_at is None else TRASHED_NAME + s.id
    trashed = ts(s.trashed_at) if s.trashed_at is not None else None
    return (s.id, name, s.status.value, s.agent, s.role, s.worktree, s.branch, s.pool,
            ts(s.created_at), ts(s.last_active), s.model_dump_json(), trashed)  # fmt: skip


def session_from_row(r: Sequence[Any], parse: Parse) -> Session:
    """A session from SESSION_COLS; a record that does not parse is rebuilt from the columns."""
    last_active = parse(r[9])
    try:
        session = Session.model_validate_json(r[10])
    except ValueError as exc:
        damage = [f"record: {why(exc)}"]
        trashed = parse(r[11]) if r[11] is not None else None
        return Session(
            id=r[0], name=r[0] if trashed else r[1], status=_enum(SessionStatus, r[2], SessionStatus.IDLE, damage, "status"),
            agent=r[3], role=r[4], worktree=r[5], branch=r[6], pool=r[7], created_at=parse(r[8]),
            last_active=last_active, trashed_at=trashed, damage="; ".join(damage),
        )  # fmt: skip
    session.last_active = last_active  # appends bump the column only
    return session


# ---------------------------------------------------------------------- messages


def extra_json(m: Message) -> str | None:
    """A message's optional fields as one JSON text (None when it has none)."""
    extra: dict[str, Any] = {}
    if m.covers is not None:
        extra["covers"] = list(m.covers)
    if m.usage is not None:
        extra["usage"] = m.usage.model_dump()
    if m.metadata:
        extra["metadata"] = m.metadata
    return json.dumps(extra) if extra else None


def extra_fields(text: str | None) -> dict[str, Any]:
    """The keyword arguments `extra_json` stored, ready for `Message.model_construct`."""
    extra = json.loads(text) if text else {}
    if not isinstance(extra, dict):
        raise TypeError(f"expected an object, got {type(extra).__name__}")
    return {
        "covers": tuple(extra["covers"]) if "covers" in extra else None,
        "usage": Usage(**extra["usage"]) if "usage" in extra else None,
        "metadata": dict(extra.get("metadata", {})),
    }


def import_seqs(messages: Sequence[Message]) -> list[int]:
    """Numbers for a new session's history: imports keep their (increasing) ones, others 1, 2, 3..."""
    seqs, last = [], 0
    for message in messages:
        last = message.seq if message.seq > last else last + 1
        seqs.append(last)
    return seqs


def numbered(
    messages: Sequence[Message], session_id: str, seqs: Iterable[int], ts: Timestamp
) -> tuple[list[Message], list[tuple[Any, ...]]]:
    """The messages as they will be stored (numbered, redacted) and their MESSAGE_COLS rows."""
    for m in messages:
        refuse_damaged(m, f"message #{m.seq}")
    stored = [scrubbed(m.replaced(session_id=session_id, seq=seq)) for m, seq in zip(messages, seqs, strict=True)]
    return stored, [_message_values(m, ts) for m in stored]


def message_row(m: Message, ts: Timestamp) -> tuple[Any, ...]:
    """Values for MESSAGE_COLS; the body is zstd-packed when large, and checksummed."""
    refuse_damaged(m, f"message #{m.seq}")
    return _message_values(scrubbed(m), ts)


def _message_values(m: Message, ts: Timestamp) -> tuple[Any, ...]:
    body, packed, checksum = blob.pack(utf8_text(m.content, f"message {m.id}"))
    return (m.session_id, m.seq, m.id, m.role.value, m.kind.value, ts(m.created_at), m.tokens, m.pinned,
            m.agent, m.run_id, body, packed, extra_json(m), checksum, m.copy_of)  # fmt: skip


def message_update(m: Message, ts: Timestamp) -> tuple[Any, ...]:
    """Values for MESSAGE_UPDATE_COLS, then the message id (for `... WHERE id = ?`)."""
    row = message_row(m, ts)
    return (*row[3:5], *row[6:], m.id)


def message_from_row(r: Sequence[Any], parse: Parse) -> Message:
    """A message from MESSAGE_COLS; what does not read back is named in `damage`."""
    damage: list[str] = []
    try:
        content = blob.unpack(bytes(r[10]), bool(r[11]), r[13])
    except Damaged as exc:
        content = ""
        damage.append(f"body: {exc}")
    try:
        extra = extra_fields(r[12])
    except (ValueError, TypeError) as exc:
        extra = {"covers": None, "usage": None, "metadata": {}}
        damage.append(f"metadata: not valid JSON ({why(exc)})")
    role = _enum(Role, r[3], Role.USER, damage, "role")
    kind = _enum(MessageKind, r[4], MessageKind.CHAT, damage, "kind")
    return _constructed(Message, {
        "id": r[2], "session_id": r[0], "seq": r[1], "role": role, "content": content, "kind": kind,
        "created_at": parse(r[5]), "tokens": r[6], "pinned": bool(r[7]), "agent": r[8], "run_id": r[9],
        **extra, "copy_of": r[14], "damage": "; ".join(damage) or None,
    })  # fmt: skip


def message_wire(r: Sequence[Any]) -> dict[str, Any] | None:
    """A message row (MESSAGE_COLS) in its model's wire form, `model_dump(mode="json",
    by_alias=True)`, read straight from the columns (an export writes whole histories); None
    for a row only `message_from_row` can tell: one that does not read back, or whose columns
    hold what the store does not write (their model's serializer would then say otherwise)."""
    created, tokens, extra_text = r[5], r[6], r[12]
    if r[3] not in _ROLES or r[4] not in _KINDS or not (tokens is None or type(tokens) is int):
        return None
    created_text = created[:-6] + "Z" if type(created) is str and created.endswith("+00:00") else _utc_wire(created)
    if created_text is None or (extra_text and ("NaN" in extra_text or "Infinity" in extra_text)):
        return None  # not UTC; or a float JSON has no literal for (the model writes null)
    try:
        content = blob.unpack(bytes(r[10]), bool(r[11]), r[13])
        extra = json.loads(extra_text) if extra_text else {}
        covers, metadata = extra.get("covers"), extra.get("metadata", {})
        usage = Usage(**extra["usage"]).model_dump(mode="json", by_alias=True) if "usage" in extra else None
    except (Damaged, ValueError, TypeError, AttributeError):
        return None
    if not isinstance(metadata, dict) or ("covers" in extra and not (
            type(covers) is list and len(covers) == 2 and all(type(c) is int for c in covers))):  # fmt: skip
        return None
    return {"id": r[2], "sessionId": r[0], "seq": r[1], "role": r[3], "content": content, "kind": r[4],
            "createdAt": created_text, "tokens": tokens, "pinned": bool(r[7]), "agent": r[8], "runId": r[9],
            "covers": covers, "usage": usage, "metadata": metadata, "copyOf": r[14], "damage": None}  # fmt: skip


_ROLES = frozenset(Role._value2member_map_)
_KINDS = frozenset(MessageKind._value2member_map_)


def _utc_wire(value: Any) -> str | None:
    """A stored UTC time as pydantic writes it (`...Z`): SQLite's ISO text or PostgreSQL's datetime."""
    if type(value) is not str:
        if not isinstance(value, datetime) or value.utcoffset() != _NO_OFFSET:
            return None
        value = value.isoformat()
    return value[:-6] + "Z" if value.endswith("+00:00") else None


_NO_OFFSET = timedelta(0)


def _constructed(kind: type[M], fields: dict[str, Any]) -> M:
    """`kind.model_construct(**fields)` for fields that name every one the model has, in half
    its time (whole histories are read a row at a time): the attributes it sets, set at once."""
    model = kind.__new__(kind)
    object.__setattr__(model, "__dict__", fields)
    object.__setattr__(model, "__pydantic_fields_set__", set(fields))
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


# ---------------------------------------------------------------------- runs


def run_data(run: CommandRun) -> str:
    """The stored JSON record of a run."""
    refuse_damaged(run, f"run {run.id}")
    return scrubbed(run).model_dump_json()


def output_body(run: CommandRun, raw: str) -> tuple[bytes, bool, int]:
    """A run's raw output as stored: redacted, packed and checksummed like a message body."""
    return blob.pack(utf8_text(redact(raw), f"output of {run.id}"))


def run_from_row(r: Sequence[Any], parse: Parse) -> CommandRun:
    """A run from RUN_COLS; a record that does not parse is rebuilt from the columns."""
    try:
        return CommandRun.model_validate_json(r[5])
    except ValueError as exc:
        damage = [f"record: {why(exc)}"]
        status = _enum(RunStatus, r[3], RunStatus.LOST, damage, "status")
        return CommandRun(id=r[0], session_id=r[1], command="", started_at=parse(r[2]), status=status,
                          exit_code=r[4], damage="; ".join(damage))  # fmt: skip


def template_data(template: Template) -> str:
    return scrubbed(template).model_dump_json()


def pool_data(pool: PoolConfig) -> str:
    return scrubbed(pool).model_dump_json()


def output_text(raw: Any, packed: Any, checksum: int | None) -> str | None:
    """A stored raw output as text (None when none was stored), or `Damaged`."""
    return None if raw is None else blob.unpack(bytes(raw), bool(packed), checksum)


# ---------------------------------------------------------------------- upgrades


def checksum_bodies(execute: Callable[[str, Sequence[Any]], Any], mark: str) -> None:
    """Give every stored body that still reads back its checksum (the v2 upgrade, both
    backends; `execute` is the migrating transaction's). One that does not keeps none and is
    reported by `validate` like any damaged row: an upgrade never fails on one bad row."""
    for table, column in (("messages", "body"), ("runs", "raw")):
        last = ""
        while rows := execute(
            f"SELECT id, {column}, zstd FROM {table} WHERE id > {mark} AND {column} IS NOT NULL ORDER BY id LIMIT 500",
            (last,),
        ).fetchall():
            for ident, body, packed in rows:
                try:
                    text = blob.unpack(bytes(body), bool(packed))
                except Damaged:
                    continue
                execute(f"UPDATE {table} SET checksum = {mark} WHERE id = {mark}", (blob.checksum(text.encode()), ident))
            last = rows[-1][0]
