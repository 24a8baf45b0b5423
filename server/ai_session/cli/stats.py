"""Usage statistics: messages, commands, tokens, savings and cost per session, agent or role."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ai_session.cli.render import Result, Table, formatted
from ai_session.cli.spec import arg, command
from ai_session.cli.views import human_tokens, percent

if TYPE_CHECKING:
    from ai_session.core.manager import SessionManager

SAVINGS_LEGEND = """
saved = 1 - context/raw, counted in tokens (tiktoken cl100k_base), never in stored bytes.
CMD: each command output run in the period, once: raw = its output capped at the agent's own
  truncation limit ([context] agent_output_cap, 30,000 characters), context = the compressed form sent.
HIST: each answer recorded in the period: raw = the whole history verbatim that request would
  have carried without ai-session, context = what was sent (summary, pinned, recent turns).
AVOIDED $ = (raw - context) tokens at the input price of the session's model (0 if unpriced)."""


@command(
    "stats",
    arg("--period", metavar="AGE", help="only activity in the last AGE (e.g. 30d)"),
    arg("--by-agent", action="store_true", help="one row per agent"),
    arg("--by-role", action="store_true", help="one row per role"),
    arg("--show-savings", action="store_true", help="raw vs context tokens of command outputs and history"),
    arg("--export", metavar="FILE", help="write the report to FILE (.csv or .json)"),
    formats=("table", "json", "csv"),
)
def stats(m: SessionManager, a: argparse.Namespace) -> Result:
    from ai_session.core.durations import parse_duration
    from ai_session.core.privacy import write_private

    group = "agent" if a.by_agent else "role" if a.by_role else "session"
    report = m.stats(period=parse_duration(a.period) if a.period else None, group_by=group, savings=a.show_savings)
    headers = [group.upper(), "SESSIONS", "MSGS", "MSG TOKENS", "CMDS", "COST $"]
    if a.show_savings:
        headers += ["CMD RAW", "CMD CONTEXT", "CMD SAVED", "HIST RAW", "HIST CONTEXT", "HIST SAVED", "AVOIDED $"]
    rows = []
    for r in [*report.rows, report.total]:
        row = [r.key, r.sessions, r.messages, human_tokens(r.message_tokens), r.commands, f"{r.cost_usd:.4f}"]
        if a.show_savings:
            row += [human_tokens(r.raw_tokens), human_tokens(r.context_tokens), percent(r.raw_tokens, r.context_tokens, 1),
                    human_tokens(r.history_raw_tokens), human_tokens(r.history_context_tokens),
                    percent(r.history_raw_tokens, r.history_context_tokens, 1), f"{r.cost_avoided_usd:.4f}"]
        rows.append(row)
    once = (f"\ntotal: each message and command once; {report.copies} copies made by merge, fork or import are "
            "counted in their own sessions' rows only.")
    copies = [once] if report.copies else []
    result = Result(data=report.as_dict(), view=[Table(headers, rows), *copies] + ([SAVINGS_LEGEND] if a.show_savings else []),
                    records=[r.as_dict() for r in [*report.rows, report.total]])  # fmt: skip
    if a.export:
        write_private(Path(a.export), (formatted(result, "csv" if a.export.endswith(".csv") else "json") or "").encode())
        result.notes = [f"exported stats to {a.export}"]
    return result
