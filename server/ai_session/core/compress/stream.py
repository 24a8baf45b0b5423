"""Compressing a stream (e.g. 100 MB on stdin) in bounded memory.

The first HEAD_CHARS of cleaned lines and the last TAIL_CHARS are held whole; lines in
between are held only if the fact guard marks them (see guard.py), up to MIDDLE_CHARS.
Each held line counts LINE_COST characters more than its length: what holding and
compressing a line costs besides its text, so that a million one-character lines are
bounded like two megabytes of long ones. The reducer then sees head + kept middle + tail,
and a synthetic first line says how much of the middle it did not see. Outputs that fit in
HEAD_CHARS + TAIL_CHARS are compressed exactly as `compress` would.

A line longer than MAX_LINE (a 20 MB minified bundle, a progress bar that never ends its
line) is never held whole: its head and a rolling tail are, and the context says how
many characters were cut between them.
"""

from __future__ import annotations

import codecs
from collections import deque
from collections.abc import Iterable

from ai_session.core import accounting
from ai_session.core.accounting import DEFAULT_AGENT_OUTPUT_CAP
from ai_session.core.compress.base import HALF_LINE, MAX_LINE, SYNTHETIC
from ai_session.core.compress.binary import byte_size
from ai_session.core.compress.compressor import RAW_HEAD, Compressed, clip, compress_lines
from ai_session.core.compress.guard import scan
from ai_session.core.compress.text import clean_lines

HEAD_CHARS = 2_000_000
TAIL_CHARS = 2_000_000
MIDDLE_CHARS = 2_000_000
EVICT_BATCH = 1_000_000
LINE_COST = 64  # a str object, its list slot, and the per-line sets and lists of the guard and reducers


class LongLine:
    """A line too long to hold: its head, a rolling tail, and how much fell in between."""

    def __init__(self, start: str) -> None:
        self.head = start[:HALF_LINE]
        self.tail = start[HALF_LINE:][-HALF_LINE:]
        self.cut = len(start) - len(self.head) - len(self.tail)

    def extend(self, text: str) -> None:
        joined = self.tail + text
        self.tail = joined[-HALF_LINE:]
        self.cut += len(joined) - len(self.tail)

    def line(self) -> tuple[str, int]:
        cleaned = clean_lines(self.head + self.tail)
        return (cleaned[0] if cleaned else ""), self.cut


class StreamCompressor:
    def __init__(
        self,
        command: str | None,
        *,
        head_chars: int = HEAD_CHARS,
        tail_chars: int = TAIL_CHARS,
        middle_chars: int = MIDDLE_CHARS,
    ) -> None:
        self.command = command
        self._head_cap, self._tail_cap, self._middle_cap = head_chars, tail_chars, middle_chars
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._partial = ""
        self._long: LongLine | None = None  # the over-long line being read, when there is one
        self._cuts: dict[str, int] = {}  # clipped line -> characters cut from it
        self._raw_head = ""
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
        self.raw_bytes = 0

    def feed(self, chunk: str | bytes) -> None:
        text = self._decoder.decode(chunk) if isinstance(chunk, bytes) else chunk
        self.raw_bytes += len(chunk) if isinstance(chunk, bytes) else byte_size(chunk)
        if not text:
            return
        self.raw_chars += len(text)
        if len(self._raw_head) < RAW_HEAD:
            self._raw_head += text[: RAW_HEAD - len(self._raw_head)]
        if self._long is not None:  # inside an over-long line: only its tail moves
            nl = text.find("\n")
            self._long.extend(text if nl < 0 else text[:nl])
            if nl < 0:
                return
            self._end_long()
            text = text[nl + 1 :]
        buf = self._partial + text
        cut_at = buf.rfind("\n")
        if cut_at < 0:
            self._partial = buf
        else:
            complete, self._partial = buf[: cut_at + 1], buf[cut_at + 1 :]
            for line in clean_lines(complete):
                self._add(line)
        if len(self._partial) > MAX_LINE:
            self._bound_partial()

    def _bound_partial(self) -> None:
        part = self._partial
        if "\r" in part:  # a progress bar redrawn forever without a newline: keep its last frame
            part = part[part.rfind("\r", 0, len(part) - 1) :]
        if len(part) <= MAX_LINE:
            self._partial = part
            return
        self._long, self._partial = LongLine(part), ""

    def _end_long(self) -> None:
        assert self._long is not None
        line, cut = self._long.line()
        self._long = None
        self._add(line, cut)

    def _add(self, line: str, cut: int = 0) -> None:
        if len(line) > MAX_LINE:
            line, more = clip(line)
            cut += more
        if cut:
            self._cuts[line] = cut
        self.lines += 1
        if self._head_chars < self._head_cap:
            self._head.append(line)
            self._head_chars += len(line) + LINE_COST
            return
        self._tail.append(line)
        self._tail_chars += len(line) + LINE_COST
        while self._tail_chars > self._tail_cap and len(self._tail) > 1:
            old = self._tail.popleft()
            self._tail_chars -= len(old) + LINE_COST
            if not self._middle_seen:
                self._middle_first = self.lines - len(self._tail)
            self._middle_seen += 1
            self._evicted.append(old)
            self._evicted_chars += len(old) + LINE_COST
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
            self._middle_chars += len(batch[k]) + LINE_COST

    def raw_tokens(self, cap: int = DEFAULT_AGENT_OUTPUT_CAP) -> int:
        """The raw figure (core/accounting.py) of what was fed: the head holds far more than the cap."""
        return accounting.raw_tokens(self._head if self._head or not self._tail else list(self._tail), cap)

    def finish(self, exit_code: int | None, *, run_id: str | None = None) -> Compressed:
        tail_text = self._decoder.decode(b"", final=True)
        if tail_text:
            self.feed(tail_text)
        if self._long is not None:
            self._end_long()
        rest, self._partial = self._partial, ""
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
        cut = {i: self._cuts[line] for i, line in enumerate(lines) if line in self._cuts} if self._cuts else None
        return compress_lines(lines, self.command, exit_code, run_id=run_id, preamble=preamble, cut=cut,
                              raw_head=self._raw_head, raw_bytes=self.raw_bytes)


def compress_stream(
    chunks: Iterable[str | bytes], command: str | None, exit_code: int | None, *, run_id: str | None = None
) -> Compressed:
    sc = StreamCompressor(command)
    for chunk in chunks:
        sc.feed(chunk)
    return sc.finish(exit_code, run_id=run_id)
