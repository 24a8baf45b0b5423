"""Benchmarks: `python bench/run.py [NAME ...]` runs bench/bench_NAME.py (all when none given).

Each prints medians and ratios. They are measurements, not tests: nothing here fails on a
slow machine; compare figures on the same machine.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "server"), str(HERE)]


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    sys.argv[1:] = []  # each benchmark's own options are for running it directly
    for name in names:
        print(f"== {name}")
        importlib.import_module(f"bench_{name}").main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
