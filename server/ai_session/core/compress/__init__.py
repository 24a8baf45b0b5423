"""Output compression that keeps every fact: per-tool reducers over cleaned lines.

Public API:
    compress(raw, command, exit_code, *, run_id=None) -> Compressed
    StreamCompressor / compress_stream(chunks, command, exit_code, *, run_id=None)
    slice_lines, grep_lines, parse_line_range  (raw output retrieval, pure functions)
"""

from ai_session.core.compress.compressor import REDUCERS, Compressed, compress, compress_lines
from ai_session.core.compress.retrieve import grep_lines, parse_line_range, slice_lines
from ai_session.core.compress.stream import StreamCompressor, compress_stream
from ai_session.core.compress.text import clean_lines, strip_ansi

__all__ = [
    "REDUCERS",
    "Compressed",
    "StreamCompressor",
    "clean_lines",
    "compress",
    "compress_lines",
    "compress_stream",
    "grep_lines",
    "parse_line_range",
    "slice_lines",
    "strip_ansi",
]
