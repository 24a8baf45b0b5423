"""The reducer for any tool without its own: structure, severity, vendored code, repetition.

Facts (see guard.py) are always kept. Of the other lines:
1. Vendored lines (paths inside node_modules, site-packages, dist…, and minified lines) are
   counted per folder in one `[ai-session]` line.
2. Low-level findings (info, style, convention, refactor) next to errors and warnings are
   counted per rule in one `[ai-session]` line.
3. Lines repeated exactly are shown once; runs of lines of the same shape (equal after
   numbers, ids and hashes are normalised, or led by the same id, as a blame repeats one
   commit over the lines it wrote) keep their first and last line and a count.
4. A long successful run keeps its facts, its first and last lines, and counts the rest by
   how they start ("812 `Compiling crate …`").
5. Otherwise, when what remains is small, all of it is shown; else the head, the tail and
   every fact with a line of context either side; each gap becomes a note naming its line
   range (retrievable with `ai-session output RUN --lines A:B`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from ai_session.core.compress.base import Ctx, Out, templates
from ai_session.core.compress.guard import Facts, is_vendored, scan
from ai_session.core.compress.patterns import lazy

HEAD = 12
TAIL = 25
SMALL = 60  # entries after folding: show everything
MAX_FACTS_WITH_CONTEXT = 100  # more facts than this: no neighbours, they are context enough
GAP_NOTE = 10  # a gap this long gets a note with its line range; shorter ones are only counted
LONG_SUCCESS = 150  # lines: a successful run longer than this keeps its outcome
SUCCESS_HEAD = 5
SUCCESS_TAIL = 10
MINIFIED = 400  # characters: a line this long with almost no spaces is minified code or data
NOTE_ITEMS = 8
MIN_SET_ASIDE = 3  # lines: fewer are shown rather than counted
VENDORED_ROOT_RE = lazy(
    r"(?:^|[\s(\"'=])((?:[^\s:(\"'=]*/)?(?:node_modules|site-packages|dist-packages|bower_components|vendor|\.venv|venv"
    r"|\.tox|\.nox|\.yarn|third_party|third-party|dist|build|\.next|\.nuxt)/(?:@[^/\s:]+/)?[^/\s:]+)"
)
# A line led by an id (a commit, a request): consecutive lines with the same id are one run
# whatever follows it (`git blame`: one commit repeated over the lines it wrote).
ID_LED_RE = lazy(r"^\^?(?=[0-9a-f]*\d)[0-9a-f]{7,40}\b")
# A finding's rule: a trailing `(symbol)` or `[rule]` first, else a code like SC2086 or C0114.
RULE_RES = (lazy(r"\(([a-z][\w-]+)\)\s*$|\[([\w./-]+)\]\s*$"), lazy(r"\b(SC\d{4}|[A-Z]{1,3}\d{3,4})\b"))
# How a line starts: its first word ("[ 42%] Building C object …" -> "Building"). Matches every
# line (an empty group for a line without letters), so findall gives one result per line.
SHAPE_RE = lazy(r"^[^A-Za-z\n]*([A-Za-z]*)[^\n]*", re.MULTILINE)


class Entry:
    """A run of same-shape lines (a plain class: no `typing` on the filter's path)."""

    __slots__ = ("first", "last", "size")

    def __init__(self, first: int, last: int, size: int) -> None:
        self.first = first  # index of the first line of the run
        self.last = last  # index of its last line
        self.size = size  # lines in the run (blank runs count as what they are)


def fold(lines: list[str], idx: list[int], facts: set[int]) -> list[Entry]:
    """Runs of same-shape lines as entries; facts and blank lines break runs and stand alone."""
    entries: list[Entry] = []
    texts = [lines[i] for i in idx]
    shapes = templates(texts)
    for k, line in enumerate(texts):  # `^3f9a2c1 (Ann 2024-…  12) code`: one id repeated per line
        m = ID_LED_RE.match(line)
        if m:
            shapes[k] = m.group(0)
    n = len(idx)
    j = 0
    while j < n:
        i = idx[j]
        k = j + 1
        if not lines[i].strip():
            while k < n and not lines[idx[k]].strip():
                k += 1
        elif i not in facts:
            key = shapes[j]
            while k < n and idx[k] not in facts and shapes[k] == key and lines[idx[k]].strip():
                k += 1
        entries.append(Entry(i, idx[k - 1], k - j))
        j = k
    return entries


def _emit(out: Out, e: Entry) -> None:
    out.keep(e.first)
    if not out.lines[e.first].strip():
        return
    if e.size > 2:
        out.note(e.first, f"{e.size - 2} similar lines")
    if e.size > 1:
        out.keep(e.last)


def reduce_generic(lines: list[str], ctx: Ctx) -> Out:
    out = Out(lines, facts=ctx.facts)
    facts = ctx.facts if ctx.facts is not None else scan(lines)
    rest = set_aside(out, range(len(lines)), facts)
    reduce_into(out, rest, facts, successful=ctx.exit_code == 0 and not facts.high)
    return out


def set_aside(out: Out, idx: Sequence[int], facts: Facts, *, vendored_and_repeats: bool = True) -> list[int]:
    """Count low findings (next to errors and warnings), vendored lines and exact repeats;
    the other indexes are returned. Reducers that know their tool count only low findings.

    A group is set aside only when its one-line note is shorter than the lines it hides.
    """
    lines = out.lines
    must = facts.must_keep()
    quiet = _quiet_paragraphs(lines, facts, must) if facts.high and facts.headers else set()
    special = must | facts.headers | facts.low | quiet
    low = [i for i in idx if (i in facts.low or i in quiet) and i not in must]  # low is outside must only next to errors
    rest = [i for i in idx if i in must or not lines[i].strip()]
    vendored: list[tuple[int, str]] = []
    repeats = 0
    plain = [i for i in idx if i not in special and lines[i].strip()]
    if not vendored_and_repeats:
        rest += plain
    else:  # comprehensions, not one loop: this runs over every line of a million-line log
        vendored = [(i, root) for i in plain if (root := _vendored_root(lines[i])) is not None]
        if vendored:
            vendored_at = {i for i, _ in vendored}
            plain = [i for i in plain if i not in vendored_at]
        seen: set[str] = set()
        add = seen.add
        unique = [i for i in plain if not (lines[i] in seen or add(lines[i]))]  # first occurrences
        repeats = len(plain) - len(unique)
        rest += unique
    rules = Counter(_rule(lines[i]) for i in low if i in facts.low)
    note = f"{sum(rules.values())} low-level findings not shown (errors and warnings are): {_listing(rules)}"
    if low and _worth(lines, low, note):
        out.note(low[0], note, sub=-1)
        for i in low:
            out.drop("low-level findings" if i in facts.low else "lines about low-level findings", i)
    else:
        rest += low
    roots = Counter(root for _, root in vendored)
    note = f"{len(vendored)} lines in vendored or minified code not shown: {_listing(roots)}"
    if vendored and _worth(lines, [i for i, _ in vendored], note):
        out.note(vendored[0][0], note, sub=-1)
        for i, _ in vendored:
            out.drop("vendored lines", i)
    else:
        rest += [i for i, _ in vendored]
    out.drop_count("repeated lines", repeats)  # not facts: the guard has nothing to bring back
    return sorted(rest)


def _worth(lines: list[str], hidden: list[int], note: str) -> bool:
    """A note replacing `hidden` must save something: a few lines, and more than its own length."""
    return len(hidden) >= MIN_SET_ASIDE and sum(len(lines[i]) + 1 for i in hidden) > 2 * len(note)


def _quiet_paragraphs(lines: list[str], facts: Facts, must: set[int]) -> set[int]:
    """Lines of header paragraphs (`In x.sh line 3:` …) holding only low findings."""
    quiet: set[int] = set()
    n = len(lines)
    for h in facts.headers:
        j = h + 1
        while j < n and lines[j].strip() and j not in facts.headers:
            j += 1
        body = range(h + 1, j)
        if any(k in facts.low for k in body) and not any(k in must for k in body):
            quiet.update(body)
    return quiet


def _listing(counts: Counter[str]) -> str:
    shown = ", ".join(f"{what} ({n})" for what, n in counts.most_common(NOTE_ITEMS))
    more = len(counts) - NOTE_ITEMS
    return shown + (f" and {more} more" if more > 0 else "")


def _vendored_root(line: str) -> str | None:
    if "/" not in line and len(line) < MINIFIED:
        return None
    if len(line) >= MINIFIED and line.count(" ") * 20 < len(line):
        m = VENDORED_ROOT_RE.search(line[:300])
        return m.group(1) if m else "minified lines"
    if "/" not in line:
        return None
    m = VENDORED_ROOT_RE.search(line)
    if m and is_vendored(m.group(1) + "/"):
        return m.group(1)
    return None


def _rule(line: str) -> str:
    for rx in RULE_RES:
        m = rx.search(line)
        if m:
            return next(g for g in m.groups() if g)
    low = line.lower()
    for word in ("convention", "refactor", "style", "info", "note", "hint", "help"):
        if word in low:
            return word
    return "other"


def outcome(out: Out, entries: list[Entry], facts: set[int]) -> None:
    """A long successful run: its facts, its first and last entries; the rest counted by shape."""
    shown = set(range(SUCCESS_HEAD)) | set(range(len(entries) - SUCCESS_TAIL, len(entries)))
    shown |= {k for k, e in enumerate(entries) if e.first in facts}
    hidden = [e for k, e in enumerate(entries) if k not in shown]
    for k in sorted(shown):
        if 0 <= k < len(entries):
            _emit(out, entries[k])
    if not hidden:
        return
    starts = SHAPE_RE.findall("\n".join([out.lines[e.first] for e in hidden]))  # one match a line: one pass
    if all(e.size == 1 for e in hidden):
        shapes = Counter(starts)
    else:
        shapes = Counter()
        for start, e in zip(starts, hidden, strict=False):
            shapes[start] += e.size
    lines = sum(e.size for e in hidden)
    listing = _listing(Counter({(f"`{start} …`" if start else "other"): n for start, n in shapes.items()}))
    out.drop_count("lines of a successful run", lines)
    out.note(hidden[0].first, f"{lines} lines of a successful run not shown, by how they start: {listing}", sub=-1)


def reduce_into(out: Out, idx: list[int], facts: Facts | None = None, *, successful: bool = False) -> None:
    """Generic reduction of the lines at `idx`: runs folded, then all of it when small, the
    outcome of a long successful run, or head, tail and every fact with its neighbours."""
    lines = out.lines
    must = facts.must_keep() if facts is not None else set()
    entries = fold(lines, idx, must)
    while entries and not lines[entries[0].first].strip():
        entries.pop(0)
    while entries and not lines[entries[-1].first].strip():
        entries.pop()
    if len(entries) <= SMALL:
        for e in entries:
            _emit(out, e)
        return
    if successful and sum(e.size for e in entries) > LONG_SUCCESS:
        outcome(out, entries, must)
        return
    chosen = set(range(min(HEAD, len(entries))))
    chosen.update(range(max(0, len(entries) - TAIL), len(entries)))
    marked = [k for k, e in enumerate(entries) if e.first in must]
    if len(marked) <= MAX_FACTS_WITH_CONTEXT:  # sparse facts: a line either side helps read them
        for k in marked:
            chosen.update((k - 1, k, k + 1))
    chosen.update(marked)
    order = sorted(c for c in chosen if 0 <= c < len(entries))
    prev = -1
    for k in order:
        if prev >= 0 and k > prev + 1:
            gap = entries[prev + 1 : k]
            n = sum(e.size for e in gap)
            if n >= GAP_NOTE:  # a range worth fetching: say which
                out.note(entries[k].first, f"{n} lines omitted (lines {gap[0].first + 1}-{gap[-1].last + 1})", sub=-1)
            else:
                out.drop_count("other lines", n)
        _emit(out, entries[k])
        prev = k
