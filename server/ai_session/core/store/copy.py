"""Copy every session (messages, runs with raw output), template and pool from one store to
another: how a team moves from the embedded store to the PostgreSQL team store (or back).

Each session is copied in one transaction of the target, with its ids and sequence numbers
unchanged, trashed ones too (still trashed). Sessions the target already holds (same id) are
skipped, so a copy that stopped half-way can simply be run again. A session with rows that
do not read back is not copied (it is listed; `repair` it first); quarantined originals stay
in the source.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ai_session.core.errors import Conflict, Damaged
from ai_session.core.store.base import SessionFilter, SessionStore


@dataclass
class CopyReport:
    sessions: int = 0
    messages: int = 0
    runs: int = 0
    templates: int = 0
    pools: int = 0
    skipped: list[str] = field(default_factory=list)  # already in the target (same id)
    conflicts: list[str] = field(default_factory=list)  # name taken by another session there
    damaged: list[str] = field(default_factory=list)  # rows that do not read back: repair first


def copy_store(
    source: SessionStore, target: SessionStore, *, progress: Callable[[str], None] | None = None
) -> CopyReport:
    report = CopyReport()
    for template in source.list_templates():
        target.save_template(template)
        report.templates += 1
    for pool in source.list_pools():
        target.save_pool(pool)
        report.pools += 1
    for session in source.list_sessions(SessionFilter(trashed=None)):
        if target.get_session(session.id) is not None:
            report.skipped.append(session.name)
            continue
        try:
            messages = source.list_messages(session.id)
            runs = [(run, source.run_output(run.id)) for run in source.list_runs(session.id)]
            target.create_session(session, messages, runs)
        except Conflict:
            report.conflicts.append(session.name)
            continue
        except Damaged:
            report.damaged.append(session.name)
            continue
        report.sessions += 1
        report.messages += len(messages)
        report.runs += len(runs)
        if progress:
            progress(f"copied {session.name}: {len(messages)} messages, {len(runs)} runs")
    return report
