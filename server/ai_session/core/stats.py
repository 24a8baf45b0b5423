"""Usage statistics per session, agent or role over a period, from stored counts only.

Savings are reported separately (definitions in docs/context.md, core/accounting.py):

- command outputs, per run started in the period: each run's own raw and context figures
  (core/accounting.py: the output as the agent's pipe would have carried it, capped at its
  truncation limit, against the context form it received). Each output counts once.
- history, per answer recorded in the period (with `savings=True`): raw = what that
  request would have carried without ai-session (the whole history verbatim, outputs
  raw), context = what was sent; both stored on the assistant message by `ask`.

Cost avoided = (raw − context) priced at the input price of the session's model.
Bytes saved by zstd never count.

Each message and run is counted once in the total, however many sessions hold a copy of it
(merge, fork and import copies name their original in `copy_of`); a session's own row
counts what that session holds, copies included. `copies` says how many were set aside.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from ai_session.core.accounting import saving
from ai_session.core.models import MessageKind, Role, Session, utcnow
from ai_session.core.providers.pricing import PER, PriceTable

if TYPE_CHECKING:
    from ai_session.core.sessions import Sessions

GroupBy = Literal["session", "agent", "role"]


@dataclass
class StatsRow:
    key: str
    sessions: int = 0
    messages: int = 0
    message_tokens: int = 0
    commands: int = 0
    raw_tokens: int = 0  # command outputs, capped at the agent's truncation limit
    context_tokens: int = 0
    cost_usd: float = 0.0
    history_raw_tokens: int = 0  # filled with savings=True
    history_context_tokens: int = 0
    cost_avoided_usd: float = 0.0

    @property
    def saved_tokens(self) -> int:
        return max(0, self.raw_tokens - self.context_tokens)

    @property
    def savings(self) -> float | None:
        return saving(self.raw_tokens, self.context_tokens)

    @property
    def history_savings(self) -> float | None:
        return saving(self.history_raw_tokens, self.history_context_tokens)

    def as_dict(self) -> dict[str, object]:
        return {
            **asdict(self),
            "cost_avoided_usd": round(self.cost_avoided_usd, 6),
            "saved_tokens": self.saved_tokens,
            "savings": None if self.savings is None else round(self.savings, 4),
            "history_savings": None if self.history_savings is None else round(self.history_savings, 4),
        }


@dataclass
class StatsReport:
    group_by: GroupBy
    period_days: float | None
    rows: list[StatsRow]
    total: StatsRow
    copies: int = 0  # copied messages and runs the rows hold and the total counts once
    compactions: dict[str, int] = field(default_factory=dict)  # per row key and "total", with efficiency=True

    def as_dict(self) -> dict[str, object]:
        return {
            "groupBy": self.group_by,
            "periodDays": self.period_days,
            "rows": [r.as_dict() for r in self.rows],
            "total": self.total.as_dict(),
            "copies": self.copies,
        }


@dataclass
class SessionSavings:
    raw_commands: int = 0
    context_commands: int = 0
    raw_history: int = 0
    context_history: int = 0
    cost_avoided_usd: float = 0.0
    # What each run and answer adds, by the id of the original it is or copies, so that a
    # total over several sessions counts each once.
    items: dict[str, tuple[int, int, int, int, float]] = field(default_factory=dict)


def session_savings(
    service: Sessions, session: Session, *, since: datetime | None, history: bool, prices: PriceTable
) -> SessionSavings:
    """The stored figures behind one session's savings in the period (see the module doc)."""
    out = SessionSavings()
    price = prices.lookup(session.model)
    per_token = price.input / PER if price is not None else 0.0

    def add(origin: str, raw_c: int, ctx_c: int, raw_h: int, ctx_h: int) -> None:
        out.items[origin] = (raw_c, ctx_c, raw_h, ctx_h, (raw_c - ctx_c + raw_h - ctx_h) * per_token)
        out.raw_commands += raw_c
        out.context_commands += ctx_c
        out.raw_history += raw_h
        out.context_history += ctx_h
        out.cost_avoided_usd += out.items[origin][4]

    for run in service.store.list_runs(session.id):
        if since is None or run.started_at >= since:
            add(run.copy_of or run.id, run.raw_tokens, run.context_tokens, 0, 0)
    if history:
        for m in service.store.list_messages(session.id):
            if m.role is not Role.ASSISTANT or m.kind is not MessageKind.CHAT or (since and m.created_at < since):
                continue
            sent = m.metadata.get("context")
            if isinstance(sent, dict):
                add(m.copy_of or m.id, 0, 0, int(sent.get("rawHistory", 0)), int(sent.get("contextHistory", 0)))
    return out


def compute(service: Sessions, *, period: timedelta | None = None, group_by: GroupBy = "session",
            savings: bool = False, agent: str | None = None, efficiency: bool = False) -> StatsReport:  # fmt: skip
    sessions = {s.id: s for s in service.store.list_sessions() if agent is None or s.agent == agent}
    since = utcnow() - period if period else None
    totals = service.store.totals(list(sessions), since=since)
    prices = PriceTable(service.config.sections.get("prices"))
    rows: dict[str, StatsRow] = {}
    members: dict[str, set[str]] = {}
    originals: dict[str, tuple[int, int, int, int, float]] = {}  # each run and answer once
    compactions: dict[str, int] = {}
    for sid, t in totals.items():
        session = sessions[sid]
        key = {"session": session.name, "agent": session.agent, "role": session.role}[group_by] or "(none)"
        row = rows.setdefault(key, StatsRow(key))
        members.setdefault(key, set()).add(sid)
        row.messages += t.messages
        row.message_tokens += t.message_tokens
        row.commands += t.runs
        row.cost_usd += t.cost_usd
        measured = session_savings(service, session, since=since, history=savings, prices=prices)
        row.raw_tokens += measured.raw_commands
        row.context_tokens += measured.context_commands
        row.history_raw_tokens += measured.raw_history
        row.history_context_tokens += measured.context_history
        row.cost_avoided_usd += measured.cost_avoided_usd
        for origin, figures in measured.items.items():
            originals.setdefault(origin, figures)
        if efficiency:
            compactions[key] = compactions.get(key, 0) + sum(
                1 for m in service.store.list_messages(sid)
                if m.kind is MessageKind.SUMMARY and (since is None or m.created_at >= since))  # fmt: skip
    for key, row in rows.items():
        row.sessions = len(members[key])
    once = service.store.origin_totals(list(totals), since=since)
    total = StatsRow(
        "total", sessions=sum(r.sessions for r in rows.values()), messages=once.messages,
        message_tokens=once.message_tokens, commands=once.runs, cost_usd=once.cost_usd,
        raw_tokens=sum(f[0] for f in originals.values()), context_tokens=sum(f[1] for f in originals.values()),
        history_raw_tokens=sum(f[2] for f in originals.values()),
        history_context_tokens=sum(f[3] for f in originals.values()),
        cost_avoided_usd=sum(f[4] for f in originals.values()),
    )  # fmt: skip
    copies = sum(r.messages + r.commands for r in rows.values()) - once.messages - once.runs
    ordered = sorted(rows.values(), key=lambda r: (-r.message_tokens - r.raw_tokens, r.key))
    compactions["total"] = sum(compactions.values())
    return StatsReport(group_by, period.total_seconds() / 86400 if period else None, ordered, total, copies,
                       compactions)
