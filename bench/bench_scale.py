"""How each command's cost grows: stores of 100 / 1,000 / 10,000 sessions, and sessions of
1,000 / 10,000 / 100,000 messages. What concerns one session should stay flat in the number
of sessions, and grow linearly (or less) with its own history. Whole commands as a user runs
them; CPU time medians (the command's own cost on a shared machine), wall beside."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fixtures import add_history, large_store, manager
from harness import Figure, bench_env, cli, time_command

RUNS = 3
SESSION_COUNTS = (100, 1_000, 10_000)
HISTORIES = (1_000, 10_000, 100_000)


def _row(label: str, sizes: tuple[int, ...], measure) -> list[Figure]:
    cells, figures = [], []
    for size in sizes:
        t = measure(size)
        figures.append(Figure(f"scale: {label} @ {size:,}", t.cpu_ms, "ms", note=f"cpu; wall {t.wall_ms:.0f} ms"))
        cells.append(f"{t.cpu_ms:>9,.0f}")
    print(f"{label:<34}" + "".join(cells), flush=True)
    return figures


def main() -> list[Figure]:
    figures: list[Figure] = []
    stores = {n: large_store(n, 100_000 if n == 10_000 else 1_000) for n in SESSION_COUNTS}
    print(f"\n{'by sessions in the store (cpu ms)':<34}" + "".join(f"{n:>9,}" for n in SESSION_COUNTS))
    for label, args in (("list", ("list",)), ("list --format json", ("list", "--format", "json")),
                        ("show (one session)", ("show", "spare")), ("context (one session)", ("context", "spare")),
                        ("stats", ("stats",)), ("stats --show-savings", ("stats", "--show-savings"))):
        figures += _row(label, SESSION_COUNTS, lambda n, a=args: time_command(cli(*a), bench_env(stores[n]), RUNS))
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        m = manager(home)
        for n in HISTORIES:
            add_history(m, f"h{n}", n)
        m.close()
        env = bench_env(home)
        print(f"\n{'by messages in the session (cpu ms)':<34}" + "".join(f"{n:>9,}" for n in HISTORIES))
        for label, args in (("show", ("show", "h{n}")), ("show --history (last 20)", ("show", "h{n}", "--history")),
                            ("context", ("context", "h{n}")), ("export", ("export", "h{n}", "-o", str(home / "x.json")))):
            figures += _row(label, HISTORIES, lambda n, a=args: time_command(
                cli(*(w.format(n=n) for w in a)), env, RUNS))  # fmt: skip
    return figures


if __name__ == "__main__":
    from harness import table

    print(table(main()))
