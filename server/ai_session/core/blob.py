"""zstd for large bodies, with decompression that never trusts a frame's declared size."""

from __future__ import annotations

import zstandard

from ai_session.core.errors import StoreError

COMPRESS_THRESHOLD = 1024  # bytes; smaller bodies are stored as they are
DEFAULT_MAX_OUTPUT = 256 * 1024 * 1024  # what any one body may decompress to

_MAGIC = b"\x28\xb5\x2f\xfd"


def compress(data: bytes, level: int = 3) -> bytes:
    return zstandard.ZstdCompressor(level=level).compress(data)


def is_zstd(data: bytes) -> bool:
    return data[:4] == _MAGIC


def decompress(data: bytes, max_output: int = DEFAULT_MAX_OUTPUT) -> bytes:
    """Stream-decompress, stopping with a clear error past `max_output` bytes.

    The frame header's content size is only checked, never used to allocate: a frame that
    claims more than the cap is refused before any work, and one that lies is cut off by
    the streaming reader.
    """
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


def pack(text: str, threshold: int = COMPRESS_THRESHOLD) -> tuple[bytes, bool]:
    """Body bytes for storage and whether they are compressed."""
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) < threshold:
        return raw, False
    return compress(raw), True


def unpack(data: bytes, compressed: bool, max_output: int = DEFAULT_MAX_OUTPUT) -> str:
    raw = decompress(data, max_output) if compressed else data
    return raw.decode("utf-8", "replace")
