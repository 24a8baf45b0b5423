"""Reading untrusted import files: size caps, depth caps, Unicode and name checks.

A hostile file gets one clear InvalidInput naming the field, and nothing is written. Only
regular files (or standard input, `-`) are read, and never more than MAX_FILE_BYTES of them:
`/dev/zero`, a FIFO or a symlink to either is refused before a byte is read.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import sys
from pathlib import Path
from typing import IO, Any

from ai_session.core import blob
from ai_session.core.errors import InvalidInput, StoreError
from ai_session.core.redact import redact

MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_TEXT_CHARS = 8 * 1024 * 1024  # one message, one command output or context form
MAX_COMMAND_CHARS = 256 * 1024  # one command line
MAX_PROMPT_CHARS = 1024 * 1024  # a system prompt
MAX_METADATA_BYTES = 64 * 1024  # one metadata object, as JSON
MAX_DIAGNOSTICS = 10_000  # per run
MAX_MESSAGES = 500_000
MAX_DEPTH = 64
MAX_NUMBER = 2**53  # beyond this a number is no count, size or code (and no store column holds it)

# Letters and digits of any script (café, 東京), then also . _ @ + : -; no spaces, no symbols.
SESSION_NAME = re.compile(r"^[^\W_][\w.@+:-]{0,127}\Z")
SESSION_ID = re.compile(r"^sess_[0-9a-f]{12}$")
ID_LIKE = re.compile(r"^sess_[0-9a-fA-F]*$")
FOREIGN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")  # provider ids, uuids


def read_bytes(path: Path) -> bytes:
    """The file's bytes (standard input for `-`), zstd-decompressed (bounded) when it is a
    .zst export. Anything but a regular file is refused unread."""
    if str(path) == "-":
        return checked_bytes(_bounded(sys.stdin.buffer, "standard input"), "standard input")
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise InvalidInput(f"{path} is {_kind(info.st_mode)}, not a regular file; import reads files only")
    if info.st_size > MAX_FILE_BYTES:
        os.close(fd)
        raise InvalidInput(f"{path} is {info.st_size} bytes, over the {MAX_FILE_BYTES}-byte import limit")
    with os.fdopen(fd, "rb") as fh:
        return checked_bytes(_bounded(fh, str(path)), str(path))


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


def _bounded(fh: IO[bytes], name: str) -> bytes:
    data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(f"{name} holds more than the {MAX_FILE_BYTES}-byte import limit")
    return data


def _kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a pipe (FIFO)"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a file"


def parse_json(text: str | bytes, where: str) -> Any:
    try:
        value = json.loads(text)
    except RecursionError:
        raise InvalidInput(f"{where}: JSON nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{where}: not valid JSON ({exc})") from None
    check_tree(value, where)
    return value


def check_tree(value: Any, where: str) -> None:
    """Depth, text and numbers of a parsed document: one clear error naming the first bad field."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if len(path) >= MAX_DEPTH:
            raise InvalidInput(f"{where}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            for k, v in node.items():
                _check_text(k, where, path)
                stack.append((v, (*path, k)))
        elif isinstance(node, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(node))
        elif isinstance(node, str):
            _check_text(node, where, path)
        elif isinstance(node, (int, float)) and not isinstance(node, bool) and not _in_range(node):
            raise InvalidInput(f"{where}: {field_name(path)}: the number {node!r} is out of range")


def _in_range(number: float) -> bool:
    return math.isfinite(number) and abs(number) <= MAX_NUMBER


def _check_text(text: str, where: str, path: tuple[Any, ...]) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(f"{where}: {field_name(path)}: contains a lone surrogate (invalid Unicode)") from None


def field_name(path: tuple[Any, ...]) -> str:
    """messages[3].metadata.x from ("messages", 3, "metadata", "x")."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the document"


def capped(value: Any, where: str, limit: int) -> None:
    """A field no longer than `limit` characters (text) or bytes of JSON (anything else)."""
    if value is None:
        return
    size = len(value) if isinstance(value, str) else len(json.dumps(value, ensure_ascii=False))
    if size > limit:
        unit = "characters" if isinstance(value, str) else "bytes of JSON"
        raise InvalidInput(f"{where}: {size} {unit}, over the {limit} limit")


def unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for ident in ids:
        if ident in seen:
            raise InvalidInput(f"{what} {ident!r} appears twice in the file; each must be unique")
        seen.add(ident)


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
    if redact(name) != name:  # names are shown everywhere and never redacted: no secret may be one
        raise InvalidInput(f"{where}: the name looks like a secret (a token or key shape); choose another")
    return name


def foreign_id(value: Any, where: str) -> str:
    ident = text(value, where, limit=128)
    if not FOREIGN_ID.match(ident):
        raise InvalidInput(f"{where}: {ident!r} is not a safe identifier")
    return ident


def path(value: Any, where: str) -> str | None:
    """An absolute directory path from a file, as data: kept only if absolute (a shell starts
    there only if it is an existing directory when the time comes)."""
    if not value:
        return None
    text_value = text(value, where, limit=4096)
    return text_value if os.path.isabs(text_value) and "\0" not in text_value else None


def count(items: list[Any], where: str) -> list[Any]:
    if len(items) > MAX_MESSAGES:
        raise InvalidInput(f"{where}: {len(items)} entries, over the {MAX_MESSAGES} limit")
    return items
