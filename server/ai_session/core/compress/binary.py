"""Binary output (a `cat` of an image, a compressed stream on stdout): summarised, never shown.

A line is binary when it holds a NUL, or when control characters and U+FFFD (what
invalid UTF-8 decodes to) make up a third of it (and there are at least MIN_RUN). Text with a stray Latin-1 byte stays
text. The summary says how big the binary part is and what it looks like, from the
magic numbers at its start (as `file` does).
"""

from __future__ import annotations

from ai_session.core.compress.patterns import lazy

# C0 controls a terminal does not lay out as text (tab, line feeds, form feed, escape and
# backspace excluded: cleaning has dealt with escapes) and the replacement character.
BINARY_CHAR_RE = lazy("[\x00-\x07\x0e-\x1a\x1c-\x1f\x7f\ufffd]")
MIN_RUN = 8

# Magic numbers as they appear after decoding with errors="replace" (bytes >= 0x80 that are
# not valid UTF-8 become U+FFFD).
MAGIC: list[tuple[str, str]] = [
    ("\x7fELF", "an ELF executable or library"),
    ("\ufffdPNG", "a PNG image"),
    ("GIF8", "a GIF image"),
    ("\ufffd\ufffd\ufffd\ufffd\x00\x10JFIF", "a JPEG image"),
    ("%PDF", "a PDF document"),
    ("PK\x03\x04", "a zip archive (or jar, wheel, docx)"),
    ("\x1f\ufffd", "gzip-compressed data"),
    ("BZh", "bzip2-compressed data"),
    ("\ufffd7zXZ", "xz-compressed data"),
    ("(\ufffd/\ufffd", "zstd-compressed data"),
    ("SQLite format 3\x00", "an SQLite database"),
    ("\x00asm", "a WebAssembly module"),
    ("MZ", "a Windows executable"),
    ("\ufffd\ufffd\ufffd\ufffd", "a Mach-O binary or Java class file"),
    ("7z\ufffd\ufffd", "a 7-Zip archive"),
    ("Rar!", "a RAR archive"),
    ("OggS", "an Ogg media file"),
    ("RIFF", "a RIFF file (WAV, AVI, WebP)"),
    ("ID3", "an MP3 file"),
]


def is_binary(line: str) -> bool:
    if "\x00" in line:
        return True
    n = len(BINARY_CHAR_RE.findall(line))
    return n >= MIN_RUN and n * 3 >= len(line)


def find_binary(lines: list[str]) -> set[int]:
    """Indexes of the binary lines (a quick look first: most outputs have none)."""
    text = "\n".join(lines)
    if "\x00" not in text and "\ufffd" not in text:  # binary bytes always bring one of these (fast finds)
        return set()
    if not BINARY_CHAR_RE.search(text):
        return set()
    found = {i for i, line in enumerate(lines) if BINARY_CHAR_RE.search(line) and is_binary(line)}
    binary_chars = sum(len(lines[i]) for i in found)
    if binary_chars * 2 >= sum(map(len, lines)):  # mostly binary: the text in between is its string table
        return {i for i, line in enumerate(lines) if line}
    return found


def guess_type(start: str) -> str:
    """What binary data starting at (or soon after) `start` looks like."""
    for magic, what in MAGIC:
        at = start.find(magic, 0, 128)
        if at == 0 or (at > 0 and magic != "MZ" and start[at - 1] in "\n\r"):
            return what
    if start[257:262] == "ustar":
        return "a tar archive"
    return "binary data"


def byte_size(text: str) -> int:
    """Bytes of the raw output `text` was decoded from: each U+FFFD stands for one byte it replaced."""
    return len(text.encode("utf-8", "replace")) - 2 * text.count("\ufffd")


def binary_note(lines: list[str], binary: set[int], raw_head: str = "", raw_bytes: int | None = None) -> str:
    """`raw_bytes`: the whole raw output's size, the figure given when all of it is binary
    (cleaning has removed the control bytes and carriage-return "redraws" from the lines)."""
    whole = raw_bytes is not None and all(i in binary or not line for i, line in enumerate(lines))
    size = raw_bytes if whole and raw_bytes is not None else sum(byte_size(lines[i]) + 1 for i in binary)
    first = min(binary, key=lambda i: (not is_binary(lines[i]), i))
    return (
        f"binary output not shown: {human_size(size)} in {len(binary)} line(s) from line {first + 1}, "
        f"looks like {guess_type(raw_head or lines[first])}"
    )


def human_size(n: int) -> str:
    if n < 1000:
        return f"{n} bytes"
    for unit in ("KB", "MB", "GB"):
        n_unit = n / 1000 ** ("KMG".index(unit[0]) + 1)
        if n_unit < 1000 or unit == "GB":
            return f"{n_unit:.1f} {unit}"
    return f"{n} bytes"
