"""The reducer for any tool without its own: fold repeats, keep trouble, head and tail.

1. Runs of identical lines, and of lines that differ only in numbers/ids/hashes, keep
   their first and last line and a note with the count.
2. If what remains is small, that is the answer.
3. Else keep the head, the tail, and every error/warning/location line with one entry of
   context either side; each gap becomes a note naming the omitted line range.
"""

from __future__ import annotations

from typing import NamedTuple

from ai_session.core.compress.base import HAS_LOCATION_RE, Ctx, Out, important_indexes, template

HEAD = 12
TAIL = 25
SMALL = 60  # entries after folding: show everything
MAX_IMPORTANT = 400


class Entry(NamedTuple):
    first: int  # index of the first line of the run
    last: int  # index of its last line
    count: int  # lines in the run (blank runs count as what they are)


def fold(lines: list[str], idx: list[int]) -> list[Entry]:
    entries: list[Entry] = []
    n = len(idx)
    j = 0
    next_key: str | None = None  # template of idx[j] when already computed
    while j < n:
        line = lines[idx[j]]
        k = j + 1
        if not line.strip():
            while k < n and not lines[idx[k]].strip():
                k += 1
            next_key = None
        else:
            key = next_key if next_key is not None else template(line)
            next_key = None
            while k < n:
                other = lines[idx[k]]
                if other == line:
                    k += 1
                    continue
                if not other:
                    break
                t = template(other)
                if t != key:
                    next_key = t
                    break
                k += 1
        entries.append(Entry(idx[j], idx[k - 1], k - j))
        j = k
    return entries


def _emit(out: Out, e: Entry) -> None:
    out.keep(e.first)
    if not out.lines[e.first].strip():
        return
    if e.count > 2:
        out.note(e.first, f"{e.count - 2} similar lines")
    if e.count > 1:
        out.keep(e.last)


def reduce_generic(lines: list[str], ctx: Ctx) -> list[str]:
    out = Out(lines)
    reduce_into(out, list(range(len(lines))))
    return out.render()


def reduce_into(out: Out, idx: list[int]) -> None:
    """Generic reduction of the lines at `idx` (other reducers use it for leftovers)."""
    lines = out.lines
    entries = fold(lines, idx)
    while entries and not lines[entries[0].first].strip():
        entries.pop(0)
    while entries and not lines[entries[-1].first].strip():
        entries.pop()
    if len(entries) <= SMALL:
        for e in entries:
            _emit(out, e)
        return
    chosen = set(range(min(HEAD, len(entries))))
    chosen.update(range(max(0, len(entries) - TAIL), len(entries)))
    firsts = [lines[e.first] for e in entries]
    marked = important_indexes(firsts)
    marked.update(k for k, line in enumerate(firsts) if HAS_LOCATION_RE.search(line))
    for k in sorted(marked)[:MAX_IMPORTANT]:
        chosen.update((k - 1, k, k + 1))
    order = sorted(c for c in chosen if 0 <= c < len(entries))
    prev = -1
    for k in order:
        if prev >= 0 and k > prev + 1:
            gap = entries[prev + 1 : k]
            n = sum(e.count for e in gap)
            out.note(entries[k].first, f"{n} lines omitted (lines {gap[0].first + 1}-{gap[-1].last + 1})", sub=-1)
        _emit(out, entries[k])
        prev = k
