"""What every reducer shares: its input context, the output builder, line classifiers.

A reducer reads cleaned lines and says which of them to keep (by index, so order and
faithfulness come for free), plus `[ai-session]` notes about what it left out. It never
writes text of its own except in notes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from ai_session.core.compress.guard import Facts, classify, scan
from ai_session.core.compress.text import cut

SYNTHETIC = "[ai-session]"
LINE_LIMIT = 1000  # longer lines keep their head and tail around a note
MAX_LINE = 65_536  # longer lines are clipped (head and tail) before reducers see them
HALF_LINE = MAX_LINE // 2
LINE_HEAD = 600
LINE_TAIL = 250
NOTE_KINDS = 3  # the omitted-lines note names this many kinds


# Plain classes, not dataclasses: `ai-session compress` is a filter on a pipe, and importing
# `dataclasses` (which pulls in `inspect`) would cost it more than reducing a megabyte.


class Ctx:
    __slots__ = ("command", "exit_code", "facts", "subcommand", "tool")

    def __init__(self, command: str, exit_code: int | None, tool: str, subcommand: str = "",
                 facts: Facts | None = None) -> None:  # fmt: skip
        self.command = command
        self.exit_code = exit_code
        self.tool = tool
        self.subcommand = subcommand  # e.g. "log" for git log, "test" for cargo test
        self.facts = facts  # what the guard will keep whatever the reducer says


class Out:
    """Kept lines keyed by position; notes and regrouped lines get keys in between.

    `drop(what, i)` records why line i was left out, so the closing note counts only the
    lines that stay out after the fact guard has had its say.
    """

    def __init__(self, lines: list[str], facts: Facts | None = None) -> None:
        self.lines = lines
        self.facts = facts  # the guard's scan of `lines` (made on first use when not given)
        self._items: dict[tuple[int, int], str] = {}
        self.omitted: Counter[str] = Counter()
        self._dropped: dict[int, str] = {}
        self._moved: set[int] = set()  # lines shown elsewhere (keep_at)
        self.keep_last = True  # the last words of a tool are nearly always its verdict
        self.cut: dict[int, int] = {}  # characters of line i removed before it got here
        self.code: set[int] = set()  # lines recognised as printed source code
        self.passed: set[int] = set()  # lines recognised as the output of a passing test
        self.repeats: set[int] = set()  # exact repeats of a kept line (drop_repeat)

    def keep(self, i: int) -> None:
        self._items[(i, 0)] = self.lines[i]

    def important(self, i: int) -> bool:
        """Line i is a fact or a finding of any level (the guard's classification, by index),
        other than the inside of a run of repeats the guard lets fold."""
        if self.facts is None:
            self.facts = scan(self.lines)
        return i in self.facts.marked and i not in self.facts.folded

    def keep_range(self, start: int, stop: int) -> None:
        for i in range(max(0, start), min(stop, len(self.lines))):
            self._items[(i, 0)] = self.lines[i]

    def keep_at(self, key: tuple[int, int], i: int) -> None:
        """Keep line i but show it at `key` (used to group repeats under their first)."""
        self._items[key] = self.lines[i]
        self._moved.add(i)

    def keep_prefix(self, i: int, limit: int) -> None:
        self._items[(i, 0)] = cut(self.lines[i], limit)

    def kept(self, i: int) -> bool:
        return (i, 0) in self._items or i in self._moved

    def kept_in_place(self) -> set[int]:
        return {k[0] for k in self._items if k[1] == 0 and k[0] < len(self.lines)}

    def kept_indexes(self) -> set[int]:
        return {k[0] for k in self._items if k[1] == 0 and k[0] < len(self.lines)} | self._moved

    def noted(self, i: int, sub: int = 1) -> bool:
        return (i, sub) in self._items

    def note(self, i: int, text: str, sub: int = 1) -> None:
        self._items[(i, sub)] = f"{SYNTHETIC} {text}"

    def drop(self, what: str, i: int) -> None:
        self._dropped[i] = what

    def drop_count(self, what: str, n: int) -> None:
        """Count n lines left out that no guard rule brings back (cheaper than one drop each)."""
        self.omitted[what] += n

    def drop_code(self, what: str, i: int) -> None:
        """Drop line i as source code the tool printed (its words are code, not the tool's
        verdict): the guard keeps it only if it carries a location or a test id."""
        self._dropped[i] = what
        self.code.add(i)

    def drop_repeat(self, what: str, i: int) -> None:
        """Drop line i, an exact repeat of a line shown with what it applies to grouped under it."""
        self._dropped[i] = what
        self.repeats.add(i)

    def drop_passed(self, what: str, i: int) -> None:
        """Drop line i as what a passing test printed (its log, with its own locations)."""
        self._dropped[i] = what
        self.passed.add(i)

    def count(self) -> int:
        return len(self._items)

    def render(self) -> list[str]:
        if self.keep_last:
            for i in range(len(self.lines) - 1, -1, -1):
                if self.lines[i].strip():
                    self._items.setdefault((i, 0), self.lines[i])
                    break
        out: list[str] = []
        for key in sorted(self._items):
            text = self._items[key]
            extra = self.cut.get(key[0], 0) if key[1] == 0 else 0
            if len(text) > LINE_LIMIT or extra:
                out += long_line(text, extra)
            else:
                out.append(text)
        omitted = self.omitted + Counter(w for i, w in self._dropped.items() if not self.kept(i))
        if omitted:  # the biggest few kinds: enough to know what is not shown
            parts = [f"{n} {what}" for what, n in omitted.most_common(NOTE_KINDS) if n]
            if parts:
                out.append(f"{SYNTHETIC} omitted " + ", ".join(parts))
        return out


def long_line(text: str, extra: int = 0) -> list[str]:
    """An over-long line as its head, a note saying how much was cut, and its tail."""
    head, tail = text[:LINE_HEAD], text[-LINE_TAIL:] if len(text) > LINE_HEAD + LINE_TAIL else ""
    removed = len(text) - len(head) - len(tail) + extra
    if removed <= 0:
        return [text]
    return [head, f"{SYNTHETIC} {removed:,} characters cut from this line (its head above, its tail below)", tail]


Reducer = Callable[[list[str], Ctx], Out]

# Digits and hex letters: what differs between otherwise equal lines (numbers, ids, hashes).
_VARIABLE_TO_HASH = bytes.maketrans(b"0123456789abcdefABCDEF", b"#" * 22)


def is_important(line: str) -> bool:
    """A fact by the guard's definition (location, severity, summary, test id), or a low finding."""
    return bool(classify(line))


def templates(lines: list[str]) -> list[str]:
    """Each line's shape: runs of digits and hex letters made one `#` (timestamps, counters,
    ids and hashes vary; the words around them do not). Done on the joined text, not per line."""
    text = "\n".join(lines).encode("utf-8", "surrogatepass").translate(_VARIABLE_TO_HASH).decode("utf-8", "surrogatepass")
    while "##" in text:  # a run of n marks takes log2(n) passes of one C call each
        text = text.replace("####", "#").replace("##", "#")
    return text.split("\n")


def keep_important(out: Out, i: int, what: str) -> None:
    """Default for a line a reducer does not recognise: keep it if it looks like trouble."""
    if out.important(i):
        out.keep(i)
    elif out.lines[i].strip():
        out.drop(what, i)
