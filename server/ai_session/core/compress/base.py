"""What every reducer shares: its input context, the output builder, line classifiers.

A reducer reads cleaned lines and says which of them to keep (by index, so order and
faithfulness come for free), plus `[ai-session]` notes about what it left out. It never
writes text of its own except in notes.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from ai_session.core.compress.text import cut

SYNTHETIC = "[ai-session]"
LINE_LIMIT = 1000
NOTE_KINDS = 3  # longest line kept whole; longer ones keep this prefix


@dataclass(frozen=True)
class Ctx:
    command: str
    exit_code: int | None
    tool: str
    subcommand: str = ""  # e.g. "log" for git log, "test" for cargo test


@dataclass
class Out:
    """Kept lines keyed by position; notes and regrouped lines get keys in between."""

    lines: list[str]
    _items: dict[tuple[int, int], str] = field(default_factory=dict)
    omitted: Counter[str] = field(default_factory=Counter)

    def keep(self, i: int) -> None:
        self._items[(i, 0)] = self.lines[i]

    def keep_range(self, start: int, stop: int) -> None:
        for i in range(max(0, start), min(stop, len(self.lines))):
            self._items[(i, 0)] = self.lines[i]

    def keep_at(self, key: tuple[int, int], i: int) -> None:
        """Keep line i but show it at `key` (used to group repeats under their first)."""
        self._items[key] = self.lines[i]

    def keep_prefix(self, i: int, limit: int) -> None:
        self._items[(i, 0)] = cut(self.lines[i], limit)

    def kept(self, i: int) -> bool:
        return (i, 0) in self._items

    def note(self, i: int, text: str, sub: int = 1) -> None:
        self._items[(i, sub)] = f"{SYNTHETIC} {text}"

    def drop(self, what: str, n: int = 1) -> None:
        self.omitted[what] += n

    def count(self) -> int:
        return len(self._items)

    def render(self, keep_last: bool = True) -> list[str]:
        if keep_last:  # the last words of a tool are nearly always its verdict
            for i in range(len(self.lines) - 1, -1, -1):
                if self.lines[i].strip():
                    self._items.setdefault((i, 0), self.lines[i])
                    break
        out = [cut(self._items[k], LINE_LIMIT) for k in sorted(self._items)]
        if self.omitted:  # the biggest few kinds: enough to know what is not shown
            parts = [f"{n} {what}" for what, n in self.omitted.most_common(NOTE_KINDS) if n]
            if parts:
                out.append(f"{SYNTHETIC} omitted " + ", ".join(parts))
        return out


Reducer = Callable[[list[str], Ctx], list[str]]

# Words that mark a line worth keeping whatever the tool (errors, failures, crashes).
# Every alternative contains one of IMPORTANT_KEYWORDS (lower-cased), which are looked for
# first with plain substring search: the regex alone costs ~10 us a line, too slow for
# 100 MB logs.
IMPORTANT_RE = re.compile(
    r"\b(?:error|errors|fatal|failed|failure|failures|fail|panic|panicked|exception|traceback"
    r"|denied|segmentation fault|core dumped|aborted|critical|warning|cannot|can't|could not"
    r"|unable to|undefined reference|not found|no such file|timed out|timeout|time out|killed)\b"
    r"|ERR!|\*\*\*|[a-z](?:Error|Exception)\b",
    re.IGNORECASE,
)
IMPORTANT_KEYWORDS = (
    "error", "fail", "fatal", "panic", "exception", "traceback", "denied", "segmentation fault", "core dumped",
    "abort", "critical", "warn", "cannot", "can't", "could not", "unable to", "undefined reference", "not found",
    "no such file", "timed out", "timeout", "time out", "killed", "err!", "***",
)
# Has a `path.ext:line` location (a cheap test: a literal dot first keeps the scan fast).
HAS_LOCATION_RE = re.compile(r"\.[A-Za-z]\w*:\d")
# Numbers, hex ids, hashes, uuids: what differs between otherwise equal lines.
VARIABLE_RE = re.compile(r"[0-9a-fA-F]*\d[0-9a-fA-F]*")


def is_important(line: str) -> bool:
    low = line.lower()
    for k in IMPORTANT_KEYWORDS:
        if k in low:
            return bool(IMPORTANT_RE.search(line))
    return False


def important_indexes(lines: list[str]) -> set[int]:
    """Indexes of important lines, found with a few scans of the joined text (bulk version)."""
    if not lines:
        return set()
    joined = "\n".join(lines)
    text = joined.lower()
    if len(text) != len(joined):  # a few characters lower-case to two: offsets would drift
        return {i for i, line in enumerate(lines) if is_important(line)}
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    candidates: set[int] = set()
    for k in IMPORTANT_KEYWORDS:
        pos = text.find(k)
        while pos >= 0:
            i = bisect_right(starts, pos) - 1
            candidates.add(i)
            pos = text.find(k, starts[i] + len(lines[i]) + 1) if i + 1 < len(lines) else -1
    return {i for i in candidates if IMPORTANT_RE.search(lines[i])}


def template(line: str) -> str:
    return VARIABLE_RE.sub("#", line)


def keep_important(out: Out, i: int, what: str) -> None:
    """Default for a line a reducer does not recognise: keep it if it looks like trouble."""
    if is_important(out.lines[i]):
        out.keep(i)
    elif out.lines[i].strip():
        out.drop(what)
