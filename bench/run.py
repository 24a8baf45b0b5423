"""Benchmarks: `python bench/run.py [--format table|json] [NAME ...]` runs bench/bench_NAME.py
(all when none given).

A benchmark's `main()` prints what it measures as it goes and may return `Figure`s: each
figure beside its target and the reference measured in the same run. They are gathered
into one table at the end (or, with `--format json`, printed as JSON on stdout while the
running commentary goes to stderr). Results are also written to bench/results/ (ignored
by git). These are measurements, not tests: nothing here fails on a slow machine.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "server"), str(HERE)]

from harness import Figure, as_json, table

# The targets first, then the rest (each takes a while: run one by NAME to iterate).
ORDER = ("startup", "lsp", "history", "flood", "store", "compress", "team", "scale")


def names_available() -> list[str]:
    found = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    return [n for n in ORDER if n in found] + [n for n in found if n not in ORDER]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--format", choices=("table", "json"), default="table")
    ap.add_argument("names", nargs="*", metavar="NAME", help=f"one of: {', '.join(names_available())}")
    args = ap.parse_args(argv)
    unknown = [n for n in args.names if n not in names_available()]
    if unknown:
        ap.error(f"no benchmark named {', '.join(unknown)}")
    sys.argv[1:] = []  # each benchmark's own options are for running it directly
    figures: list[Figure] = []
    commentary = sys.stderr if args.format == "json" else sys.stdout
    with contextlib.redirect_stdout(commentary):
        for name in args.names or names_available():
            print(f"== {name}", flush=True)
            figures += importlib.import_module(f"bench_{name}").main() or []
    if figures:
        results = HERE / "results"
        results.mkdir(exist_ok=True)
        (results / f"{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(as_json(figures))
        print(as_json(figures) if args.format == "json" else "\n" + table(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
