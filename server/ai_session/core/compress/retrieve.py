"""Getting at the raw output behind a context form: line ranges and searches.

Pure functions over the stored text; the store lookup by run id belongs to the caller.
Line numbers are 1-based and the same as in the raw output (cleaning never merges or
splits lines), so ranges named in `[ai-session] … (lines A-B)` notes can be fetched.

A search pattern comes from a user or an agent: it runs on RE2, whose matching time is
linear in the text whatever the pattern (`^(a+)+$` cannot freeze the server), so
backreferences and look-arounds are refused with a clear message.
"""

from __future__ import annotations

import re

from ai_session.core.compress.text import clean_lines
from ai_session.core.errors import InvalidInput

MAX_GREP_MATCHES = 1000


def parse_line_range(spec: str, total: int) -> tuple[int, int]:
    """`A:B`, `A:`, `:B`, `A` (one line), `-N:` (the last N lines) -> 1-based inclusive bounds.

    Bounds are clamped to the text; an empty range gives (start, start - 1).
    """
    m = re.fullmatch(r"\s*(-?\d*)\s*(?::\s*(-?\d*))?\s*", spec)
    if not m or (not m.group(1) and m.group(2) is None):
        raise InvalidInput(f"bad line range {spec!r}: expected A:B, A:, :B, A or -N:")
    a_text, b_text = m.group(1), m.group(2)

    def resolve(text: str, default: int) -> int:
        if not text or text == "-":
            return default
        n = int(text)
        return total + n + 1 if n < 0 else n

    start = resolve(a_text, 1)
    end = start if b_text is None else resolve(b_text, total)
    if start == 0:
        raise InvalidInput(f"bad line range {spec!r}: lines are numbered from 1")
    start = max(1, start)
    end = min(total, end)
    if end < start:
        return start, start - 1
    return start, end


def _lines(text: str, clean: bool) -> list[str]:
    if clean:
        return clean_lines(text)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def slice_lines(text: str, spec: str, *, number: bool = False, clean: bool = True) -> str:
    """Lines A..B of `text` (ANSI-cleaned unless clean=False), optionally `N:`-numbered."""
    lines = _lines(text, clean)
    start, end = parse_line_range(spec, len(lines))
    picked = lines[start - 1 : end]
    if number:
        picked = [f"{start + k}:{line}" for k, line in enumerate(picked)]
    return "\n".join(picked) + ("\n" if picked else "")


def grep_lines(
    text: str,
    pattern: str,
    *,
    context: int = 0,
    ignore_case: bool = False,
    max_matches: int = MAX_GREP_MATCHES,
    clean: bool = True,
) -> str:
    """grep -n style: `N:line` for matches, `N-line` for context, `--` between groups."""
    import re2  # here: the filter (`ai-session compress`) imports this module and never greps

    options = re2.Options()
    options.case_sensitive = not ignore_case
    options.log_errors = False  # a bad pattern is the caller's error, not a line on stderr
    try:
        rx = re2.compile(pattern, options)
    except re2.error as e:
        why = e.args[0].decode(errors="replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        raise InvalidInput(
            f"bad pattern {pattern!r}: {why} (patterns are RE2 syntax: no backreferences or look-arounds)"
        ) from None
    if context < 0:
        raise InvalidInput("context must be >= 0")
    lines = _lines(text, clean)
    hits = [i for i, line in enumerate(lines) if rx.search(line)]
    more = len(hits) - max_matches
    hits = hits[:max_matches]
    out: list[str] = []
    hit_set = set(hits)
    last = -2
    for i in hits:
        lo, hi = max(0, i - context), min(len(lines) - 1, i + context)
        if context and last >= 0 and lo > last + 1:
            out.append("--")
        for j in range(max(lo, last + 1), hi + 1):
            out.append(f"{j + 1}{':' if j in hit_set else '-'}{lines[j]}")
        last = max(last, hi)
    if more > 0:
        out.append(f"[ai-session] {more} more matches not shown")
    return "\n".join(out) + ("\n" if out else "")
