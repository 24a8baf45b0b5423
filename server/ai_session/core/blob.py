"""Stored bodies: zstd for large ones, a checksum on every one, bounded decompression.

A body is written with the CRC-32 of its UTF-8 text; a compressed one is also one zstd frame
that declares its content size and carries its own content checksum. Reading it back checks
all of that, so a flipped byte, a truncated frame or garbage is reported as `Damaged`
instead of being returned as (wrong or empty) text. Decompression never trusts a frame's
declared size: a frame that claims more than the cap is refused before any work, and zstd
itself stops a frame that produces more than it declared.
"""

from __future__ import annotations

import zlib

import zstandard

from ai_session.core.errors import Damaged, StoreError

COMPRESS_THRESHOLD = 1024  # bytes; smaller bodies are stored as they are
DEFAULT_MAX_OUTPUT = 256 * 1024 * 1024  # what any one body may decompress to

_MAGIC = b"\x28\xb5\x2f\xfd"


def compress(data: bytes, level: int = 3) -> bytes:
    return zstandard.ZstdCompressor(level=level, write_checksum=True, write_content_size=True).compress(data)


def is_zstd(data: bytes) -> bool:
    return data[:4] == _MAGIC


def checksum(data: bytes) -> int:
    """The checksum stored beside every body: CRC-32 of its uncompressed bytes."""
    return zlib.crc32(data)


def decompress(data: bytes, max_output: int = DEFAULT_MAX_OUTPUT) -> bytes:
    """Stream-decompress a file someone gave us (frames of any shape), stopping with a clear
    error past `max_output` bytes. Stored bodies are read by the stricter `unpack`."""
    try:
        params = zstandard.get_frame_parameters(data)
    except zstandard.ZstdError as exc:
        raise StoreError(f"corrupt compressed body: {exc}") from None
    declared = params.content_size
    if declared not in (0, zstandard.CONTENTSIZE_UNKNOWN) and declared > max_output:
        raise StoreError(
            f"compressed body claims {declared} bytes, over the {max_output}-byte limit; refused"
        )
    out = bytearray()
    reader = zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True)
    try:
        while chunk := reader.read(1 << 16):
            out += chunk
            if len(out) > max_output:
                raise StoreError(
                    f"compressed body expands past the {max_output}-byte limit; refused"
                )
    except zstandard.ZstdError as exc:
        raise StoreError(f"corrupt compressed body: {exc}") from None
    return bytes(out)


def content_size(data: bytes) -> int:
    """The size a zstd frame declares for its content (0 when it does not say); nothing is decompressed."""
    try:
        size = zstandard.frame_content_size(data)
    except zstandard.ZstdError:
        return 0
    return size if size > 0 else 0


def _decompress_stored(data: bytes, max_output: int) -> bytes:
    """One complete frame that declares its size, decoded to exactly that size."""
    try:
        params = zstandard.get_frame_parameters(data)
    except zstandard.ZstdError as exc:
        raise Damaged(f"corrupt compressed body: {exc}") from None
    declared = params.content_size
    if declared == zstandard.CONTENTSIZE_UNKNOWN:
        raise Damaged("truncated compressed body: the frame declares no content size")
    if declared > max_output:
        raise Damaged(f"compressed body claims {declared} bytes, over the {max_output}-byte limit")
    decoder = zstandard.ZstdDecompressor().decompressobj()
    try:
        out = decoder.decompress(data)
    except zstandard.ZstdError as exc:
        raise Damaged(f"corrupt compressed body: {exc}") from None
    if not decoder.eof:
        raise Damaged(f"truncated compressed body: the frame ends after {len(out)} of {declared} bytes")
    if decoder.unused_data:
        raise Damaged(f"corrupt compressed body: {len(decoder.unused_data)} stray bytes after the frame")
    if len(out) != declared:
        raise Damaged(f"corrupt compressed body: {len(out)} bytes where the frame declares {declared}")
    return out


def pack(text: str, threshold: int = COMPRESS_THRESHOLD) -> tuple[bytes, bool, int]:
    """Body bytes for storage, whether they are compressed, and their checksum."""
    raw = text.encode("utf-8", "surrogatepass")
    crc = checksum(raw)
    if len(raw) < threshold:
        return raw, False, crc
    return compress(raw), True, crc


def unpack(data: bytes, compressed: bool, crc: int | None = None, max_output: int = DEFAULT_MAX_OUTPUT) -> str:
    """The text of a stored body, or `Damaged` saying what is wrong with it. `crc` is None only
    for a body an older version stored whose own bytes no longer decode (see the v2 migration)."""
    raw = _decompress_stored(data, max_output) if compressed else data
    if crc is not None and checksum(raw) != crc:
        raise Damaged("checksum mismatch: the body changed on disk since it was written")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Damaged(f"body is not valid UTF-8 (byte {exc.start})") from None
