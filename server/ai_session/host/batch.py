"""A run's output to clients in batches: a flood of PTY reads (one every few microseconds, 4 KiB
each) becomes at most one notification per INTERVAL, or per SIZE characters, while output that
comes now and then still goes out the moment it comes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class OutputBatcher:
    INTERVAL = 0.05  # seconds between two notifications of one run, at most one
    SIZE = 64 * 1024  # characters held at most before they go out anyway

    def __init__(self, send: Callable[[str], None]) -> None:
        self._send = send
        self._parts: list[str] = []
        self._size = 0
        self._sent_at = float("-inf")  # nothing sent yet: the first output goes at once
        self._timer: asyncio.TimerHandle | None = None

    def add(self, text: str) -> None:
        """Called on the event loop: send now when the last batch went out long enough ago."""
        self._parts.append(text)
        self._size += len(text)
        if self._size >= self.SIZE:
            self.flush()
        elif self._timer is None:
            wait = self._sent_at + self.INTERVAL - time.monotonic()
            if wait <= 0:
                self.flush()
            else:
                self._timer = asyncio.get_running_loop().call_later(wait, self.flush)

    def flush(self) -> None:
        """Send what is held (before the run's end is announced: output comes first)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._parts:
            text = "".join(self._parts)
            self._parts.clear()
            self._size = 0
            self._sent_at = time.monotonic()
            self._send(text)

