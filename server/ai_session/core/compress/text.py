"""Turning terminal bytes into the lines a reader saw: ANSI/OSC removal and `\\r` redraws.

Every later step works on these cleaned lines, and every line the compressor prints is
one of them (or a prefix of one), so cleaning must only ever *remove* text: it strips
escape sequences, keeps the last non-blank segment of a line redrawn with `\\r`, and drops
trailing blanks. Line numbers are preserved one-to-one with the raw output (split on
`\\n` only; a form feed or vertical tab inside a line is content, not a line break).
"""

from __future__ import annotations

from ai_session.core.compress.patterns import lazy

# CSI (colours, cursor moves, erase), OSC (titles, OSC 8 links), DCS/SOS/PM/APC strings,
# two-character escapes and character-set selection (ESC ( B).
ANSI_RE = lazy(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b[PX^_][^\x1b]*\x1b\\"
    r"|\x1b[@-Z\\-_]"
    r"|\x1b[()][0-9A-Za-z]"
)
# Cursor to column 1 (CHA 1 / CHA) and "cursor back N>=10 columns": spinners and progress
# bars redraw with these exactly as with `\r`, so they are turned into `\r` first.
_TO_COL1_RE = lazy(r"\x1b\[(?:1|0)?G|\x1b\[\d{2,}D")
_SPINNER_RE = lazy(r"^[\u2800-\u28ff\s]+$")  # a spinner frame left alone on its line
_SPINNER_CHAR_RE = lazy(r"[\u2800-\u28ff]")


def strip_ansi(text: str) -> str:
    """Remove escape sequences only (what `cat` would show minus colours)."""
    if "\x1b" not in text:
        return text
    return ANSI_RE.sub("", text)


def _resolve_cr(line: str) -> str:
    # The last non-blank segment is what stayed on screen (progress redraws end with it).
    for seg in reversed(line.split("\r")):
        if seg.strip():
            return seg
    return ""


def clean_lines(raw: str) -> list[str]:
    """Cleaned lines of `raw`; a final newline does not make an extra empty line."""
    if "\x1b" in raw:
        raw = ANSI_RE.sub("", _TO_COL1_RE.sub("\r", raw))
    lines = raw.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = [line.rstrip(" \t\r") for line in lines]  # CRLF endings and trailing blanks
    if "\r" in raw:  # only the lines redrawn in place need more (one pass each, in C, otherwise)
        out = [_resolve_cr(line).rstrip(" \t") if "\r" in line else line for line in out]
    if _SPINNER_CHAR_RE.search(raw):
        out = ["" if line and line[0] >= "\u2800" and _SPINNER_RE.match(line) else line for line in out]
    return out


def cut(line: str, limit: int) -> str:
    """A prefix of `line` at most `limit` characters long (minified code, base64 blobs)."""
    return line if len(line) <= limit else line[:limit]
