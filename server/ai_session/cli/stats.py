"""Usage statistics: messages, commands, tokens, savings and cost per session, agent or role;
pools; one agent's efficiency; the whole store (`--global`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ai_session.cli.render import Fields, Result, Table, formatted
from ai_session.cli.spec import arg, command
from ai_session.cli.views import human_tokens, percent

if TYPE_CHECKING:
    from ai_session.cli.render import View
    from ai_session.core.manager import SessionManager
    from ai_session.core.overview import GlobalReport, Median
    from ai_session.core.stats import GroupBy, StatsRow

SAVINGS_LEGEND = """
saved = 1 - context/raw, counted in tokens (tiktoken cl100k_base), never in stored bytes.
CMD: each command output run in the period, once: raw = its output capped at the agent's own
  truncation limit ([context] agent_output_cap, 30,000 characters), context = the compressed form sent.
HIST: each answer recorded in the period: raw = the whole history verbatim that request would
  have carried without ai-session, context = what was sent (summary, pinned, recent turns).
AVOIDED $ = (raw - context) tokens at the input price of the session's model (0 if unpriced)."""

EFFICIENCY_LEGEND = """
TOK/MSG = message tokens per message; CTX/CMD = context tokens the agent got per command run;
CMD SAVED as in --show-savings; $/TASK = cost per session (a task is one session, as in ccswarm);
COMPACTIONS = summaries stored."""


def _record(r: StatsRow) -> dict[str, Any]:
    """One CSV row: a saving with nothing raw to save on is undefined, so written empty (not 0.0)."""
    row = r.as_dict()
    if not r.raw_tokens:
        row["savings"] = None
    if not r.history_raw_tokens:
        row["history_savings"] = None
    return row


def _ratio(part: float, whole: int, digits: int = 1) -> str:
    return f"{part / whole:,.{digits}f}" if whole else "-"


@command(
    "stats",
    arg("--period", metavar="AGE", help="only activity in the last AGE (e.g. 30d; a bare number is days)"),
    arg("--by-agent", action="store_true", help="one row per agent"),
    arg("--by-role", action="store_true", help="one row per role"),
    arg("--agent", help="only this agent's sessions"),
    arg("--show-savings", action="store_true", help="raw vs context tokens of command outputs and history"),
    arg("--show-efficiency", action="store_true", help="tokens per message and per command, savings, cost per "
        "task, compactions"),
    arg("--pool", action="store_true", help="per pool: idle, taken, created, retired, reuse rate"),
    arg("--global", dest="global_", action="store_true", help="the whole store: token efficiency, performance, "
        "resources, activity, every figure measured"),
    arg("--export", metavar="FILE", help="write the report to FILE (.csv or .json)"),
    formats=("table", "json", "csv"),
)
def stats(m: SessionManager, a: argparse.Namespace) -> Result:
    """Messages, commands, tokens, savings and cost per session (or --by-agent, --by-role) over a
    --period; --pool and --global report pools and the whole store instead."""
    from ai_session.core.durations import parse_age
    from ai_session.core.privacy import write_private

    if a.pool:
        result = _pools(m)
    elif a.global_:
        result = _global(m.global_stats())
    else:
        group: GroupBy = "agent" if a.by_agent else "role" if a.by_role else "session"
        report = m.stats(period=parse_age(a.period) if a.period else None, group_by=group, agent=a.agent,
                         savings=a.show_savings or a.show_efficiency, efficiency=a.show_efficiency)  # fmt: skip
        rows = [*report.rows, report.total]
        headers = [group.upper(), "SESSIONS", "MSGS", "MSG TOKENS", "CMDS", "COST $"]
        extra: list[str] = []
        if a.show_savings:
            headers += ["CMD RAW", "CMD CONTEXT", "CMD SAVED", "HIST RAW", "HIST CONTEXT", "HIST SAVED", "AVOIDED $"]
            extra.append(SAVINGS_LEGEND)
        if a.show_efficiency:
            headers += ["TOK/MSG", "CTX/CMD", "CMD SAVED", "$/TASK", "COMPACTIONS"]
            extra.append(EFFICIENCY_LEGEND)
        table = []
        for r in rows if a.format == "table" else ():  # each view only when shown (10,000 rows cost)
            row = [r.key, r.sessions, r.messages, human_tokens(r.message_tokens), r.commands, f"{r.cost_usd:.4f}"]
            if a.show_savings:
                row += [human_tokens(r.raw_tokens), human_tokens(r.context_tokens), percent(r.raw_tokens, r.context_tokens, 1),
                        human_tokens(r.history_raw_tokens), human_tokens(r.history_context_tokens),
                        percent(r.history_raw_tokens, r.history_context_tokens, 1), f"{r.cost_avoided_usd:.4f}"]
            if a.show_efficiency:
                row += [_ratio(r.message_tokens, r.messages), _ratio(r.context_tokens, r.commands),
                        percent(r.raw_tokens, r.context_tokens, 1), _ratio(r.cost_usd, r.sessions, 4),
                        report.compactions.get(r.key, 0)]
            table.append(row)
        data: dict[str, Any] | None = None
        records: list[dict[str, Any]] | None = None
        if a.format != "table" or a.export:
            data = report.as_dict()
            records = [_record(r) for r in rows]
        if a.show_efficiency and data is not None and records is not None:
            data["compactions"] = report.compactions
            for record in records:
                record["compactions"] = report.compactions.get(str(record["key"]), 0)
        copies = [(f"\ntotal: each message and command once; {report.copies} copies made by merge, fork or import "
                   "are counted in their own sessions' rows only.")] if report.copies else []
        result = Result(data=data, view=[Table(headers, table), *copies, *extra], records=records)
    if a.export:
        write_private(Path(a.export), (formatted(result, "csv" if a.export.endswith(".csv") else "json") or "").encode())
        result.notes = [f"exported stats to {a.export}"]
    return result


def _pools(m: SessionManager) -> Result:
    records: list[dict[str, Any]] = []
    for p in m.pool_status():
        c = p.config
        records.append({"role": c.role, "idle": p.idle, "taken": c.taken, "created": c.created, "retired": c.retired,
                        "reuse_rate": None if p.reuse_rate is None else round(p.reuse_rate, 4)})  # fmt: skip
    rows = [[r["role"], r["idle"], r["taken"], r["created"], r["retired"],
             "-" if r["reuse_rate"] is None else f"{r['reuse_rate'] * 100:.0f}%"] for r in records]  # fmt: skip
    table = Table(["ROLE", "IDLE", "TAKEN", "CREATED", "RETIRED", "REUSE"], rows,
                  empty="no pools (create one with `ai-session pool set ROLE` or `create --role R --pool --count N`)")
    return Result(data=records, view=[table, "\nREUSE = taken / created: how much of what a pool made went to a task."]
                  if rows else table, records=records)  # fmt: skip


def _ms(m: Median) -> str:
    return "not measured yet" if m.value is None else f"{m.value:,.2f} ms (median of {m.samples}; {m.how})"


def _global(g: GlobalReport) -> Result:
    saved = "-" if g.savings is None else f"{g.savings * 100:.1f}%"
    disk = "not measurable on this store" if g.bytes_on_disk is None else f"{g.bytes_on_disk:,} bytes"
    view: list[View] = [
        "Token efficiency", Fields([
            ("sessions", f"{g.sessions:,}"), ("messages", f"{g.messages:,}"),
            ("raw tokens", f"{g.raw_tokens:,} (what agents would have read without ai-session)"),
            ("context tokens", f"{g.context_tokens:,} (what they got)"),
            ("saved", f"{g.saved_tokens:,} tokens ({saved})"), ("cost avoided", f"${g.cost_avoided_usd:.4f}")]),
        "", "Performance", Fields([
            ("session create", _ms(g.session_create)), ("exec overhead", _ms(g.exec_overhead)),
            ("context assembly", _ms(g.context_assembly))]),
        "", "Resources", Fields([
            ("store on disk", disk),
            ("per session", "-" if g.bytes_per_session is None else f"{g.bytes_per_session:,.0f} bytes"),
            ("zstd ratio", "-" if g.zstd_ratio is None else f"{g.zstd_ratio:.2f}x over {g.zstd_bodies:,} stored "
             "bodies (bytes, not tokens: never counted as savings)")]),
        "", "Activity", Fields([*((status, f"{n:,} session(s)") for status, n in g.by_status.items()),
                                 ("commands", f"{g.commands:,} executed")]),
    ]  # fmt: skip
    return Result(data=g.as_dict(), view=view, records=[_flat(g.as_dict())])


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out
