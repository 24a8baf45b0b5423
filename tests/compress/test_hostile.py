"""Hostile output: a 20 MiB single line, binary data, a context with more facts than fit."""

from __future__ import annotations

import gzip
import re

from ai_session.core.compress import StreamCompressor, compress

from .helpers import assert_faithful

BIG_LINE = ("x" * 997 + "abc") * 20_000 + "THE-END"  # 20,000,007 characters, no newline in it


def _cut_note(text: str) -> int:
    m = re.search(r"^\[ai-session\] ([\d,]+) characters cut from this line", text, re.MULTILINE)
    assert m, text[:2000]
    return int(m.group(1).replace(",", ""))


def test_a_20_mib_line_keeps_head_and_tail_and_says_how_much_was_cut():
    raw = "start\n" + BIG_LINE + "\nend: 1 error\n"
    r = compress(raw, "cat bundle.js", 0)
    lines = r.text.splitlines()
    at = next(k for k, line in enumerate(lines) if "characters cut" in line)
    head, tail = lines[at - 1], lines[at + 1]
    assert BIG_LINE.startswith(head) and BIG_LINE.endswith(tail) and tail.endswith("THE-END")
    assert _cut_note(r.text) == len(BIG_LINE) - len(head) - len(tail)
    assert "end: 1 error" in r.text and len(r.text) < 3000
    assert_faithful(raw, r)


def test_the_stream_keeps_the_same_head_and_tail_without_holding_the_line():
    sc = StreamCompressor("cat bundle.js")
    data = ("start\n" + BIG_LINE + "\nend: 1 error\n").encode()
    for k in range(0, len(data), 1 << 16):
        sc.feed(data[k : k + (1 << 16)])
    r = sc.finish(0)
    lines = r.text.splitlines()
    at = next(k for k, line in enumerate(lines) if "characters cut" in line)
    assert BIG_LINE.startswith(lines[at - 1]) and lines[at + 1].endswith("THE-END")
    assert _cut_note(r.text) == len(BIG_LINE) - len(lines[at - 1]) - len(lines[at + 1])
    assert "end: 1 error" in r.text


def test_binary_output_is_summarised_with_its_size_and_type():
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 400
    r = compress(png.decode("utf-8", "replace"), "cat logo.png", 0)
    assert len(r.text) < 300 and "binary output not shown" in r.text and "a PNG image" in r.text
    assert "102.4 KB" in r.text  # the bytes the command wrote, not what cleaning left of them
    sc = StreamCompressor("cat logo.png")
    for at in range(0, len(png), 4096):
        sc.feed(png[at : at + 4096])
    assert "102.4 KB" in sc.finish(0).text
    packed = gzip.compress(b"payload " * 20_000)
    r = compress("writing archive...\n" + packed.decode("utf-8", "replace"), "./pack.sh", 0, run_id="run_b")
    assert "gzip-compressed data" in r.text and r.text.count("\ufffd") == 0
    assert "full output: ai-session output run_b" in r.text  # something was left out: say how to get it


def test_text_with_a_few_invalid_bytes_is_still_text():
    raw = "".join(f'    +       "name": "{chr(0xFFFD) * 4}",  // case {k}\n' for k in range(3)) + "1 failed\n"
    r = compress(raw, "npx jest", 1)
    assert "binary" not in r.text and "1 failed" in r.text


def test_more_facts_than_one_context_holds_are_cut_in_the_middle_with_a_note():
    raw = "".join(f"src/m{k}.py:{k}:1: error: distinct failure number {k} in module {k}\n" for k in range(5000))
    r = compress(raw, "mypy .", 1, run_id="run_z")
    assert len(r.text) < 61_000
    assert "src/m0.py:0:1: error" in r.text and "src/m4999.py:4999:1: error" in r.text
    note = next(line for line in r.text.splitlines() if "more lines of this context not shown" in line)
    assert "ai-session output run_z --grep PATTERN" in note
    assert_faithful(raw, r)
