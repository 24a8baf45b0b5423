"""Compressing a stream (e.g. 100 MB on stdin) in bounded memory.

The first HEAD_CHARS of cleaned lines and the last TAIL_CHARS are held whole; lines in
between are held only if they look like trouble (error/warning words or a file:line
location), up to MIDDLE_CHARS. The reducer then sees head + kept middle + tail, and a
synthetic first line says how much of the middle it did not see. Outputs up to
HEAD_CHARS + TAIL_CHARS long are compressed exactly as `compress` would.
"""

from __future__ import annotations

import codecs
from collections import deque
from collections.abc import Iterable

from ai_session.core.compress.base import SYNTHETIC
from ai_session.core.compress.compressor import Compressed, compress_lines
from ai_session.core.compress.guard import scan
from ai_session.core.compress.text import clean_lines
from ai_session.core.tokens import count_tokens

HEAD_CHARS = 4_000_000
TAIL_CHARS = 4_000_000
MIDDLE_CHARS = 2_000_000
MAX_LINE = 65_536
EVICT_BATCH = 1_000_000  # a "line" longer than this is cut to a prefix


class StreamCompressor:
    def __init__(
        self,
        command: str | None,
        *,
        head_chars: int = HEAD_CHARS,
        tail_chars: int = TAIL_CHARS,
        middle_chars: int = MIDDLE_CHARS,
        count_raw_tokens: bool = False,
    ) -> None:
        self.command = command
        self._head_cap, self._tail_cap, self._middle_cap = head_chars, tail_chars, middle_chars
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._partial = ""
        self._discarding = False  # inside an over-long line, after its kept prefix
        self._head: list[str] = []
        self._head_chars = 0
        self._tail: deque[str] = deque()
        self._tail_chars = 0
        self._middle: list[str] = []
        self._middle_chars = 0
        self._middle_seen = 0
        self._middle_first = 0
        self._evicted: list[str] = []  # checked in batches: one bulk scan beats per-line regexes
        self._evicted_chars = 0
        self.lines = 0
        self.raw_chars = 0
        self.raw_tokens = 0 if count_raw_tokens else None

    def feed(self, chunk: str | bytes) -> None:
        text = self._decoder.decode(chunk) if isinstance(chunk, bytes) else chunk
        if not text:
            return
        self.raw_chars += len(text)
        if self.raw_tokens is not None:
            self.raw_tokens += count_tokens(text)
        buf = self._partial + text
        cut_at = buf.rfind("\n")
        if cut_at < 0:
            self._partial = self._bound_partial(buf)
            return
        complete, self._partial = buf[: cut_at + 1], self._bound_partial(buf[cut_at + 1 :])
        if self._discarding:
            nl = complete.find("\n")
            complete = complete[nl + 1 :]
            self._discarding = False
        for line in clean_lines(complete):
            self._add(line)

    def _bound_partial(self, part: str) -> str:
        if len(part) <= MAX_LINE:
            return part
        if "\r" in part:  # a progress bar redrawn forever without a newline: keep its last frame
            part = part[part.rfind("\r", 0, len(part) - 1) :]
            if len(part) <= MAX_LINE:
                return part
        if not self._discarding:
            self._add(clean_lines(part[:MAX_LINE])[0] if part[:MAX_LINE].strip() else "")
            self._discarding = True
        return ""

    def _add(self, line: str) -> None:
        self.lines += 1
        if self._head_chars < self._head_cap:
            self._head.append(line)
            self._head_chars += len(line) + 1
            return
        self._tail.append(line)
        self._tail_chars += len(line) + 1
        while self._tail_chars > self._tail_cap and len(self._tail) > 1:
            old = self._tail.popleft()
            self._tail_chars -= len(old) + 1
            if not self._middle_seen:
                self._middle_first = self.lines - len(self._tail)
            self._middle_seen += 1
            self._evicted.append(old)
            self._evicted_chars += len(old) + 1
            if self._evicted_chars > EVICT_BATCH:
                self._scan_evicted()

    def _scan_evicted(self) -> None:
        batch = self._evicted
        self._evicted, self._evicted_chars = [], 0
        if self._middle_chars >= self._middle_cap:
            return
        facts = scan(batch)
        keep = facts.protected | facts.low
        for k in sorted(keep):
            if self._middle_chars >= self._middle_cap:
                break
            self._middle.append(batch[k])
            self._middle_chars += len(batch[k]) + 1

    def finish(self, exit_code: int | None, *, run_id: str | None = None) -> Compressed:
        tail_text = self._decoder.decode(b"", final=True)
        if tail_text:
            self.raw_chars += len(tail_text)
        rest = self._partial + tail_text
        self._partial = ""
        if rest and not self._discarding:
            for line in clean_lines(rest):
                self._add(line)
        self._scan_evicted()
        preamble: list[str] = []
        if self._middle_seen:
            first = self._middle_first
            last = first + self._middle_seen - 1
            preamble.append(
                f"{SYNTHETIC} long output ({self.lines} lines, {self.raw_chars / 1e6:.1f} MB): of lines {first}-{last} "
                f"only {len(self._middle)} error/warning/location lines were compressed"
            )
        lines = self._head + self._middle + list(self._tail)
        return compress_lines(lines, self.command, exit_code, run_id=run_id, preamble=preamble)


def compress_stream(
    chunks: Iterable[str | bytes], command: str | None, exit_code: int | None, *, run_id: str | None = None
) -> Compressed:
    sc = StreamCompressor(command)
    for chunk in chunks:
        sc.feed(chunk)
    return sc.finish(exit_code, run_id=run_id)
