"""`stats --global`: the whole store in four blocks, every figure measured and said how.

- token efficiency: sessions (pooled ones aside) and the stats totals (raw vs context, counted
  as `stats --show-savings` does);
- performance: the median overhead each exec recorded around its command, the median of
  context assemblies timed now on this store, and of session creates timed now in a scratch
  store beside it (same engine, same disk; creating in yours would change what you have);
- resources: the store's size on disk and what zstd does for its stored bodies;
- activity: sessions per status and the command runs recorded.

A figure that could not be measured is None, never a guess.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ai_session.core.models import SessionStatus

if TYPE_CHECKING:
    from ai_session.core.manager import SessionManager

CONTEXT_SAMPLE = 20  # sessions whose context is assembled and timed
CREATE_SAMPLE = 10  # sessions created (and thrown away) in the scratch store


@dataclass
class Median:
    value: float | None  # milliseconds
    samples: int
    how: str


@dataclass
class GlobalReport:
    sessions: int
    messages: int
    raw_tokens: int
    context_tokens: int
    saved_tokens: int
    savings: float | None
    cost_avoided_usd: float
    session_create: Median
    exec_overhead: Median
    context_assembly: Median
    bytes_on_disk: int | None
    bytes_per_session: float | None
    zstd_ratio: float | None  # raw / stored bytes of the compressed bodies
    zstd_bodies: int | None
    by_status: dict[str, int]
    commands: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _median(values: list[float], how: str) -> Median:
    return Median(round(statistics.median(values), 2) if values else None, len(values), how)


def compute(manager: SessionManager) -> GlobalReport:
    every = manager.list(include_pool=True)
    report = manager.stats(savings=True).total
    creates = _time_creates(manager)
    overheads: list[float] = []
    for s in every:
        overheads += [float(ms) for r in manager.runs(s)
                      if isinstance(ms := r.metadata.get("timings", {}).get("overhead_ms"), int | float)]  # fmt: skip
    assembled: list[float] = []
    budgets = set()
    for s in sorted(every, key=lambda x: x.last_active, reverse=True)[:CONTEXT_SAMPLE]:
        start = time.perf_counter()
        ctx = manager.context(s)
        assembled.append((time.perf_counter() - start) * 1000)
        budgets.add(ctx.budget)
    disk = manager.storage_stats()
    counts = {status.value: sum(1 for s in every if s.status is status) for status in SessionStatus}
    live = [s for s in every if s.status is not SessionStatus.POOL]
    return GlobalReport(
        sessions=len(live),
        messages=report.messages,
        raw_tokens=report.raw_tokens + report.history_raw_tokens,
        context_tokens=report.context_tokens + report.history_context_tokens,
        saved_tokens=report.saved_tokens + max(0, report.history_raw_tokens - report.history_context_tokens),
        savings=_saving(report.raw_tokens + report.history_raw_tokens, report.context_tokens + report.history_context_tokens),
        cost_avoided_usd=round(report.cost_avoided_usd, 6),
        session_create=_median(creates, f"timed now: {len(creates)} creates in a scratch store beside this one "
                                        "(same engine and disk): checks, naming, row written"),
        exec_overhead=_median(overheads, "recorded by each exec: its time minus the command's own time in the shell "
                                         "(start, capture, compression, token counts)"),
        context_assembly=_median(assembled, f"timed now: the next context of the {len(assembled)} most recently "
                                            f"active session(s), read from this store, at budget(s) "
                                            f"{', '.join(str(b) for b in sorted(budgets)) or '-'}"),
        bytes_on_disk=disk.bytes_on_disk if disk else None,
        bytes_per_session=round(disk.bytes_on_disk / len(live), 1) if disk and live else None,
        zstd_ratio=round(disk.zstd_raw_bytes / disk.zstd_stored_bytes, 2) if disk and disk.zstd_stored_bytes else None,
        zstd_bodies=disk.zstd_bodies if disk else None,
        by_status=counts,
        commands=sum(t.runs for t in manager.totals(every).values()),
    )  # fmt: skip


def _time_creates(manager: SessionManager) -> list[float]:
    """Creates timed in a throwaway SQLite store in the store's own directory; none for a team
    store (its scratch database would be another server's business)."""
    from ai_session.core.manager import SessionManager
    from ai_session.core.store import open_store

    home = manager.store_file.parent if manager.store_file else None
    if home is None:
        return []
    with tempfile.TemporaryDirectory(dir=home, prefix=".probe-") as scratch:
        probe = SessionManager(manager.config, store=open_store(str(Path(scratch) / "probe.db")))
        try:
            probe.create("warm-up")  # the first write also creates the schema
            times = []
            for i in range(CREATE_SAMPLE):
                start = time.perf_counter()
                probe.create(f"probe-{i}")
                times.append((time.perf_counter() - start) * 1000)
            return times
        finally:
            probe.close()


def _saving(raw: int, context: int) -> float | None:
    from ai_session.core.accounting import saving

    value = saving(raw, context)
    return None if value is None else round(value, 4)
