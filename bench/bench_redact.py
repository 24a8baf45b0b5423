"""Redaction throughput: the stream path every command's output passes, and the per-row cost
the store pays.

Stream: the median MB/s of StreamRedactor over real command outputs (the project's corpus,
tests/corpus), fed 4 KiB at a time as a PTY reads, against a reference
measured in the same run on the same bytes: one Python regex (an AWS key id) scanned over
them, the cheapest redactor there could be. The target is >= 20 MB/s on every output.
Rows: microseconds to redact a typical message body and to scrub a session row.

    python bench/bench_redact.py [--runs N] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "server")]

from harness import median_ms

from ai_session.core.models import Session
from ai_session.core.redact import StreamRedactor, redact
from ai_session.core.store.codec import scrubbed

CORPUS = ROOT / "tests" / "corpus"
TARGET = 2_000_000  # bytes per sample: small outputs are repeated up to this
_REFERENCE = re.compile(rb"AKIA[A-Z0-9]{16}")


def _samples(corpus: Path) -> dict[str, bytes]:
    found = {p.parent.name: p.read_bytes() for p in sorted(corpus.glob("*/raw.txt"))} if corpus.is_dir() else {}
    if not found:  # no corpus given: outputs of the same families, generated
        found = {
            "pytest-verbose": b"".join(b"tests/test_m%d.py::test_case_%d PASSED [ %d%%]\n" % (i % 50, i, i % 100)
                                       for i in range(20000)),
            "gcc-warnings": b"".join(b"src/m%d.c:%d:5: warning: unused variable 'x' [-Wunused-variable]\n" % (i, i)
                                     for i in range(20000)),
            "coloured-jest": b"".join(b"\x1b[2m  at \x1b[22mObject.<anonymous> (\x1b[36msrc/a%d.test.js\x1b[39m:%d:5)\n"
                                      % (i, i) for i in range(20000)),
        }
    return {name: data * max(1, TARGET // len(data)) for name, data in found.items()}


def _stream(data: bytes) -> float:
    t = time.process_time()
    s = StreamRedactor()
    for i in range(0, len(data), 4096):
        s.feed(data[i : i + 4096])
    s.flush()
    return time.process_time() - t


def _reference(data: bytes) -> float:
    t = time.process_time()
    for i in range(0, len(data), 65536):
        for _ in _REFERENCE.finditer(data, i, i + 65536):
            pass
    return time.process_time() - t



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    args = ap.parse_args()
    print(f"{'output':38} {'MB/s':>8} {'reference MB/s':>15} {'ratio':>6}")
    rates = []
    for name, data in _samples(args.corpus).items():
        ours = statistics.median(_stream(data) for _ in range(args.runs))
        ref = statistics.median(_reference(data) for _ in range(args.runs))
        rate = len(data) / ours / 1e6
        rates.append(rate)
        print(f"{name[:38]:38} {rate:8.1f} {len(data) / ref / 1e6:15.1f} {ref / ours:6.2f}")
    print(f"stream: median {statistics.median(rates):.1f} MB/s, slowest {min(rates):.1f} MB/s (target >= 20)")
    message = "I ran the tests; 3 failed in tests/test_auth.py (see run_8f2a). " * 8
    session = Session(name="bench", system_prompt="You are a careful reviewer.", metadata={"origin": {"seq": 3}})
    print(f"redact one 500-character message: {median_ms(lambda: redact(message), 2000) * 1e3:.1f} us (median)")
    print(f"scrub one session row: {median_ms(lambda: scrubbed(session), 2000) * 1e3:.1f} us (median)")


if __name__ == "__main__":
    main()
