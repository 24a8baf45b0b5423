"""Bounded capture of one command's output: the head and the tail, with the cap stated."""

from __future__ import annotations

DEFAULT_CAP = 8 * 1024 * 1024  # bytes kept per command: half head, half tail


class CrlfNormalizer:
    """Undoes the terminal's ONLCR (`\\n` -> `\\r\\n`) so stored output is what the program wrote.

    A lone `\\r` (progress bars) is kept. A `\\r` at the end of a read is held until the next
    byte shows whether it starts a `\\r\\n`.
    """

    def __init__(self) -> None:
        self._cr = False

    def feed(self, data: bytes) -> bytes:
        if self._cr:
            data = b"\r" + data
            self._cr = False
        if data.endswith(b"\r"):
            data = data[:-1]
            self._cr = True
        return data.replace(b"\r\n", b"\n")

    def flush(self) -> bytes:
        if self._cr:
            self._cr = False
            return b"\r"
        return b""


class OutputCapture:
    """Keeps the first cap/2 and the last cap/2 bytes of a stream in O(cap) memory."""

    def __init__(self, cap: int = DEFAULT_CAP) -> None:
        if cap < 2:
            raise ValueError("capture cap must be at least 2 bytes")
        self.cap = cap
        self._head_cap = cap // 2
        self._tail_cap = cap - self._head_cap
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0  # bytes seen

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self._head_cap - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if data:
            self._tail += data
            # Trim lazily (at 2x) so a flood of small reads does not shift the buffer each time.
            if len(self._tail) > 2 * self._tail_cap:
                del self._tail[: len(self._tail) - self._tail_cap]

    @property
    def truncated(self) -> bool:
        return self.total > self.cap

    def getvalue(self) -> bytes:
        if not self.truncated:
            return bytes(self._head + self._tail)
        tail = bytes(self._tail[-self._tail_cap :])
        dropped = self.total - len(self._head) - len(tail)
        note = (
            f"\n[ai-session] output truncated: {self.total} bytes in total, over the cap of "
            f"{self.cap} bytes; kept the first {len(self._head)} and the last {len(tail)} bytes, "
            f"dropped {dropped} bytes in between\n"
        ).encode()
        return bytes(self._head) + note + tail
