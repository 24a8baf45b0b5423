"""The quarantine table, for both backends: damaged originals kept byte for byte.

`repair` moves a row that does not read back here and leaves what is still readable (with
a marker saying so) in its place, so the history shows where something was lost. A
quarantined original can be exported, and put back by `restore` once a version that can
read it exists. The SQL is written once with the driver's placeholder (`mark`); `execute`
is the open transaction's `execute`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from ai_session.core.errors import Damaged, NotFound
from ai_session.core.models import CommandRun, Session
from ai_session.core.store.base import Damage, Quarantined
from ai_session.core.store.codec import MESSAGE_COLS, message_from_row, output_text, why

Execute = Callable[[str, Sequence[Any]], Any]  # returns a cursor

COLUMNS = "id, kind, session_id, ref, seq, damage, at, row, body"
# kind -> the table, the columns kept as JSON, and the body column kept as bytes
ORIGINALS: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "session": ("sessions", ("data",), None),
    "message": ("messages", tuple(c for c in MESSAGE_COLS.split(", ") if c != "body"), "body"),
    "run": ("runs", ("data",), None),
    "output": ("runs", ("zstd", "checksum"), "raw"),
}


def move(execute: Execute, mark: str, now: Any, damage: Damage) -> int:
    """Copy the damaged row into the quarantine table; returns its number there. The caller
    writes the replacement in the same transaction."""
    table, columns, body_column = ORIGINALS[damage.kind]
    selected = ", ".join(columns + ((body_column,) if body_column else ()))
    found = execute(f"SELECT {selected} FROM {table} WHERE id = {mark}", (damage.ref,)).fetchone()
    if found is None:
        raise NotFound(f"{damage.kind} {damage.ref} is no longer stored")
    row = dict(zip(columns, found, strict=False))
    body = bytes(found[-1]) if body_column and found[-1] is not None else None
    number: int = execute(
        f"INSERT INTO quarantine (kind, session_id, ref, seq, damage, at, row, body)"
        f" VALUES ({', '.join([mark] * 8)}) RETURNING id",
        (damage.kind, damage.session_id, damage.ref, damage.seq, damage.what, now, json.dumps(row, default=str), body),
    ).fetchone()[0]
    return number


def from_row(r: Sequence[Any], parse: Callable[[Any], datetime]) -> Quarantined:
    """A Quarantined from COLUMNS."""
    return Quarantined(id=r[0], kind=r[1], session_id=r[2], ref=r[3], seq=r[4], damage=r[5], at=parse(r[6]),
                       row=json.loads(r[7]), body=bytes(r[8]) if r[8] is not None else None)  # fmt: skip


def still_damaged(q: Quarantined) -> str | None:
    """What is wrong with a quarantined original as this version reads it (None: it reads back)."""
    try:
        if q.kind == "session":
            Session.model_validate_json(q.row["data"])
        elif q.kind == "run":
            CommandRun.model_validate_json(q.row["data"])
        elif q.kind == "output":
            output_text(q.body, q.row["zstd"], q.row["checksum"])
        else:
            values = [q.row.get(c) for c in MESSAGE_COLS.split(", ")]
            values[MESSAGE_COLS.split(", ").index("body")] = q.body or b""
            return message_from_row(values, _parse_text).damage
    except Damaged as exc:
        return str(exc)
    except ValueError as exc:
        return f"record: {why(exc)}"
    return None


def restore(execute: Execute, mark: str, number: int, parse: Callable[[Any], datetime]) -> Quarantined:
    """Put quarantined row `number` back where it was, if it now reads back; else `Damaged`."""
    row = execute(f"SELECT {COLUMNS} FROM quarantine WHERE id = {mark}", (number,)).fetchone()
    if row is None:
        raise NotFound(f"no quarantined row #{number} (see `ai-session quarantine list`)")
    found = from_row(row, parse)
    if problem := still_damaged(found):
        raise Damaged(f"quarantined row #{number} still does not read back ({problem}); it stays there")
    put_back(execute, mark, found)
    return found


def put_back(execute: Execute, mark: str, q: Quarantined) -> None:
    """Write a quarantined original back over its placeholder and drop it from the quarantine."""
    table, columns, body_column = ORIGINALS[q.kind]
    names = [c for c in columns if c not in ("id", "session_id", "seq")]
    values = [q.row[c] for c in names]
    if body_column:
        names.append(body_column)
        values.append(q.body)
    assignments = ", ".join(f"{c} = {mark}" for c in names)
    if not execute(f"UPDATE {table} SET {assignments} WHERE id = {mark}", (*values, q.ref)).rowcount:
        raise NotFound(f"{q.kind} {q.ref} is no longer stored; quarantined row #{q.id} is kept")
    execute(f"DELETE FROM quarantine WHERE id = {mark}", (q.id,))


def _parse_text(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
