"""Reading untrusted import files: size caps, depth caps, Unicode and name checks.

A hostile file gets one clear InvalidInput and nothing is written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ai_session.core import blob
from ai_session.core.errors import InvalidInput, StoreError

MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_TEXT_CHARS = 8 * 1024 * 1024  # one message or one command output
MAX_MESSAGES = 500_000
MAX_DEPTH = 64

# Letters and digits of any script (café, 東京), then also . _ @ + : -; no spaces, no symbols.
SESSION_NAME = re.compile(r"^[^\W_][\w.@+:-]{0,127}\Z")
SESSION_ID = re.compile(r"^sess_[0-9a-f]{12}$")
ID_LIKE = re.compile(r"^sess_[0-9a-fA-F]*$")
FOREIGN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")  # provider ids, uuids


def read_bytes(path: Path) -> bytes:
    """The file's bytes, zstd-decompressed (bounded) when it is a .zst export."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise InvalidInput(f"{path} is {size} bytes, over the {MAX_FILE_BYTES}-byte import limit")
    return checked_bytes(path.read_bytes(), str(path))


def checked_bytes(data: bytes, where: str) -> bytes:
    """Import bytes from anywhere (a file, a pipe) within the size limit, zstd-decompressed (bounded)."""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(f"{where} is over the {MAX_FILE_BYTES}-byte import limit")
    if blob.is_zstd(data):
        try:
            data = blob.decompress(data, max_output=MAX_FILE_BYTES)
        except StoreError as exc:
            raise InvalidInput(f"{where}: {exc}") from None
    return data


def parse_json(text: str | bytes, where: str) -> Any:
    try:
        value = json.loads(text)
    except RecursionError:
        raise InvalidInput(f"{where}: JSON nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{where}: not valid JSON ({exc})") from None
    check_depth(value, where)
    return value


def check_depth(value: Any, where: str) -> None:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidInput(f"{where}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def text(value: Any, where: str, *, limit: int = MAX_TEXT_CHARS) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{where}: expected text, got {type(value).__name__}")
    if len(value) > limit:
        raise InvalidInput(f"{where}: {len(value)} characters, over the {limit}-character limit")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{where}: contains a lone surrogate (invalid Unicode)") from None
    return value


def looks_like_id(name: str) -> bool:
    """`sess_` and hex digits: what a session id looks like, so no name may (a name equal to
    another session's id would make that id point at two sessions)."""
    return bool(ID_LIKE.match(name))


def session_name(value: Any, where: str, *, id_like: bool = False) -> str:
    """A valid session name; `id_like` lets one that looks like an id through (an import
    renames it rather than refusing the file)."""
    name = text(value, where, limit=128)
    if not SESSION_NAME.match(name):
        raise InvalidInput(
            f"{where}: {name!r} is not a valid session name (letters of any script, digits, . _ @ + : -; "
            "no spaces; starting with a letter or digit; at most 128)"
        )
    if not id_like and looks_like_id(name):
        raise InvalidInput(f"{where}: {name!r} looks like a session id (sess_ and hex digits); choose another name")
    return name


def foreign_id(value: Any, where: str) -> str:
    ident = text(value, where, limit=128)
    if not FOREIGN_ID.match(ident):
        raise InvalidInput(f"{where}: {ident!r} is not a safe identifier")
    return ident


def count(items: list[Any], where: str) -> list[Any]:
    if len(items) > MAX_MESSAGES:
        raise InvalidInput(f"{where}: {len(items)} entries, over the {MAX_MESSAGES} limit")
    return items
