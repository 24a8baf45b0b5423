"""The mark scanner and the bounded capture, byte by byte."""

from __future__ import annotations

from ai_session.core.shell.capture import CrlfNormalizer, OutputCapture
from ai_session.core.shell.marks import Mark, MarkScanner

NONCE = "f00dfeed"
STREAM = (
    b"out1\x1b]133;C;aid=f00dfeed\x07hello\x1b]133;D;0\x07fake\x1b]133;D;0;aid=other\x07"
    b"\x1b]133;broken\x1b]133;D;3;aid=f00dfeed;cwd=/a%3Bb\x07tail\x1b]133;A"
)


def _scan(pieces: list[bytes]) -> tuple[bytes, list[Mark]]:
    sc = MarkScanner(NONCE)
    out = b""
    marks: list[Mark] = []
    for piece in pieces:
        for item in sc.feed(piece):
            if isinstance(item, Mark):
                marks.append(item)
            else:
                out += item
    return out + sc.flush(), marks


def test_only_marks_with_the_nonce_count() -> None:
    out, marks = _scan([STREAM])
    assert [m.kind for m in marks] == ["C", "D"]
    assert marks[1].exit_code == 3 and marks[1].decoded("cwd") == "/a;b"
    assert out == b"out1hello\x1b]133;D;0\x07fake\x1b]133;D;0;aid=other\x07\x1b]133;brokentail\x1b]133;A"


def test_every_split_point_gives_the_same_result() -> None:
    whole = _scan([STREAM])
    for i in range(len(STREAM) + 1):
        assert _scan([STREAM[:i], STREAM[i:]]) == whole, i
    assert _scan([bytes([b]) for b in STREAM]) == whole


def test_unterminated_look_alike_is_output_eventually() -> None:
    sc = MarkScanner(NONCE)
    items = sc.feed(b"\x1b]133;D;0;aid=f00dfeed" + b"x" * 300_000)
    assert b"".join(i for i in items if isinstance(i, bytes)).startswith(b"\x1b]133;D;0;")


def test_crlf_normaliser_keeps_lone_cr() -> None:
    n = CrlfNormalizer()
    pieces = [b"a\r", b"\nb\r", b"c\r\r", b"\n", b"end\r"]
    assert b"".join(n.feed(p) for p in pieces) + n.flush() == b"a\nb\rc\r\nend\r"


def test_capture_under_and_over_the_cap() -> None:
    cap = OutputCapture(10)
    cap.feed(b"0123456789")
    assert not cap.truncated and cap.getvalue() == b"0123456789"
    cap = OutputCapture(10)
    for i in range(1000):
        cap.feed(b"%04d" % i)
    value = cap.getvalue()
    assert cap.truncated and cap.total == 4000
    assert value.startswith(b"00000") and value.endswith(b"80999")  # ...0998 0999
    assert b"[ai-session] output truncated: 4000 bytes in total, over the cap of 10 bytes" in value
