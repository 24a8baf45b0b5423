"""Splits a PTY byte stream into output and the shell-integration marks of one shell.

A mark is `ESC ] 133 ; <kind> [; params...] BEL` and counts only when it carries this
shell's nonce (`aid=<nonce>`). Anything else -- a command printing a look-alike mark, a
truncated sequence, binary noise -- is output and passes through byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

PREFIX = b"\x1b]133;"
BEL = b"\x07"
ESC = 0x1B
# A mark longer than this is not ours (ours carry at most a cwd and a typed command line).
MAX_MARK = 256 * 1024


@dataclass(slots=True)
class Mark:
    kind: str  # A, B, C or D
    exit_code: int | None = None  # D only
    params: dict[str, str] = field(default_factory=dict)

    def decoded(self, key: str) -> str | None:
        value = self.params.get(key)
        if value is None:
            return None
        return unquote_to_bytes(value).decode("utf-8", "surrogateescape")


class MarkScanner:
    """Feed bytes, get a list of `bytes` (output) and `Mark` items in stream order."""

    def __init__(self, nonce: str) -> None:
        self._aid = f"aid={nonce}"
        self._pending = b""

    def feed(self, data: bytes) -> list[bytes | Mark]:
        buf = self._pending + data if self._pending else data
        self._pending = b""
        out: list[bytes | Mark] = []
        pos = 0
        n = len(buf)
        while pos < n:
            start = buf.find(PREFIX, pos)
            if start < 0:
                # Keep a possible beginning of a mark at the very end for the next read.
                keep = _partial_prefix_len(buf, max(pos, n - len(PREFIX) + 1))
                if n - keep > pos:
                    out.append(buf[pos : n - keep])
                if keep:
                    self._pending = buf[n - keep :]
                return out
            if start > pos:
                out.append(buf[pos:start])
            body_start = start + len(PREFIX)
            end = buf.find(BEL, body_start)
            esc = buf.find(b"\x1b", body_start, end if end >= 0 else n)
            if esc >= 0:
                # Another escape before the terminator: this one is not a mark of ours.
                out.append(buf[start:esc])
                pos = esc
                continue
            if end < 0:
                if n - start > MAX_MARK:
                    out.append(buf[start:n])
                    return out
                self._pending = buf[start:]
                return out
            mark = self._parse(buf[body_start:end])
            if mark is None:
                out.append(buf[start : end + 1])
            else:
                out.append(mark)
            pos = end + 1
        return out

    def flush(self) -> bytes:
        """Whatever is held back (at end of stream it is output)."""
        rest, self._pending = self._pending, b""
        return rest

    def _parse(self, body: bytes) -> Mark | None:
        try:
            text = body.decode("ascii")
        except UnicodeDecodeError:
            return None
        parts = text.split(";")
        if self._aid not in parts[1:] or parts[0] not in ("A", "B", "C", "D"):
            return None
        mark = Mark(parts[0])
        for p in parts[1:]:
            key, sep, value = p.partition("=")
            if sep:
                mark.params[key] = value
            elif mark.kind == "D" and mark.exit_code is None and p.lstrip("-").isdigit():
                mark.exit_code = int(p)
        return mark


def _partial_prefix_len(buf: bytes, from_: int) -> int:
    """Length of the longest suffix of buf (starting at or after from_) that begins PREFIX."""
    i = buf.find(b"\x1b", from_)
    while i >= 0:
        if PREFIX.startswith(buf[i:]):
            return len(buf) - i
        i = buf.find(b"\x1b", i + 1)
    return 0
