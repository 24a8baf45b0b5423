import pytest

from ai_session.core.compress import StreamCompressor, compress, compress_stream, grep_lines, parse_line_range, slice_lines
from ai_session.core.errors import InvalidInput

RAW = "".join(f"line {k}\n" for k in range(1, 11))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("2:4", (2, 4)), ("3", (3, 3)), (":2", (1, 2)), ("8:", (8, 10)), ("-3:", (8, 10)), ("5:99", (5, 10)), ("12:", (12, 11))],
)
def test_parse_line_range(spec, expected):
    assert parse_line_range(spec, 10) == expected


@pytest.mark.parametrize("spec", ["", "a:b", "1:2:3", "0:3"])
def test_parse_line_range_rejects_bad_specs(spec):
    with pytest.raises(InvalidInput):
        parse_line_range(spec, 10)


def test_slice_lines_cleans_ansi_and_numbers_on_request():
    raw = "\x1b[31mred\x1b[0m\nplain\nthird\n"
    assert slice_lines(raw, "1:2") == "red\nplain\n"
    assert slice_lines(raw, "2:", number=True) == "2:plain\n3:third\n"
    assert slice_lines(raw, "1", clean=False) == "\x1b[31mred\x1b[0m\n"


def test_grep_lines_numbers_matches_and_context_like_grep_n():
    assert grep_lines(RAW, r"line [37]$") == "3:line 3\n7:line 7\n"
    assert grep_lines(RAW, r"line (3|5)$", context=1) == "2-line 2\n3:line 3\n4-line 4\n5:line 5\n6-line 6\n"
    assert grep_lines(RAW, r"line (2|9)$", context=1) == "1-line 1\n2:line 2\n3-line 3\n--\n8-line 8\n9:line 9\n10-line 10\n"
    assert grep_lines(RAW, "LINE 1$", ignore_case=True) == "1:line 1\n"
    assert grep_lines(RAW, "line", max_matches=2).endswith("[ai-session] 8 more matches not shown\n")
    with pytest.raises(InvalidInput):
        grep_lines(RAW, "(")


def test_omitted_ranges_named_in_notes_are_retrievable():
    raw = "".join(f"event {k} {'abcdefghij'[k % 10] * (k % 13)}\n" for k in range(400)) + "fatal: it broke\n"
    r = compress(raw, "./job", 1)
    note = next(line for line in r.text.splitlines() if "lines omitted (lines" in line)
    a, b = note.split("(lines ")[1].rstrip(")").split("-")
    got = slice_lines(raw, f"{a}:{b}").splitlines()
    assert len(got) == int(note.split("] ")[1].split(" lines")[0])
    assert all(line not in r.text.splitlines() for line in got)


def test_stream_matches_whole_compression_for_normal_sizes():
    raw = "".join(f"test t{k} ... ok\n" for k in range(300)) + "test bad ... FAILED\n\nfailures:\n\n" + \
        "---- bad stdout ----\nthread 'bad' panicked at src/lib.rs:3:5:\nboom\n\ntest result: FAILED. 300 passed; 1 failed\n"
    data = raw.encode()
    chunks = [data[k : k + 7] for k in range(0, len(data), 7)]  # splits lines and utf-8 sequences
    assert compress_stream(chunks, "cargo test", 101).text == compress(raw, "cargo test", 101).text


def test_stream_decodes_utf8_split_across_chunks():
    data = "naïve — ünïcödé ✓\n".encode() * 3
    chunks = [data[k : k + 1] for k in range(len(data))]
    assert compress_stream(chunks, "cat", 0).text == compress(data.decode(), "cat", 0).text


def test_stream_over_budget_keeps_head_tail_and_middle_errors_only():
    sc = StreamCompressor("./build.sh", head_chars=2000, tail_chars=2000, middle_chars=500)
    for k in range(20000):
        sc.feed(f"compiling unit {k} of 20000\n")
        if k == 10000:
            sc.feed("ERROR: disk quota exceeded while writing unit 10000\n")
    r = sc.finish(1)
    assert "ERROR: disk quota exceeded while writing unit 10000" in r.text
    assert "compiling unit 0 of 20000" in r.text and "compiling unit 19999 of 20000" in r.text
    first = r.text.splitlines()[0]
    assert first.startswith("[ai-session] long output (20001 lines") and "only 1 error/warning/location lines" in first
    assert len(sc._head) + len(sc._tail) + len(sc._middle) < 400  # bounded, not 20001


def test_stream_endless_progress_line_without_newline_is_bounded():
    sc = StreamCompressor("pip install x")
    for k in range(30000):
        sc.feed(f"\rDownloading {k}/30000 " + "#" * 40)
    sc.feed("\nSuccessfully installed x-1.0\n")
    r = sc.finish(0)
    assert "Successfully installed x-1.0" in r.text
    assert len(sc._partial) == 0 and sum(map(len, sc._head)) < 70_000
