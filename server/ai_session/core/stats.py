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

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from ai_session.core.accounting import saving
from ai_session.core.listing import Figures, Listed
from ai_session.core.models import MessageKind, Role, utcnow
from ai_session.core.providers.pricing import PER, PriceTable
from ai_session.core.store.base import Totals

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
            **vars(self),  # every field is a plain value: no deep copy (dataclasses.asdict) per row
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
    service: Sessions, session: Listed, *, since: datetime | None, history: bool, prices: PriceTable
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


def _add(row: StatsRow, t: Totals | Listed | Figures, per_token: float, history: bool) -> None:
    """Add one session's (or one copied row's) figures to `row`; history ones only when asked."""
    raw_h, ctx_h = (t.history_raw_tokens, t.history_context_tokens) if history else (0, 0)
    row.messages += t.messages
    row.message_tokens += t.message_tokens
    row.commands += t.runs
    row.cost_usd += t.cost_usd
    row.raw_tokens += t.raw_tokens
    row.context_tokens += t.context_tokens
    row.history_raw_tokens += raw_h
    row.history_context_tokens += ctx_h
    row.cost_avoided_usd += (t.raw_tokens - t.context_tokens + raw_h - ctx_h) * per_token


def _own(s: Listed) -> Figures:
    """A session's kept totals without what its copies add."""
    c = s.copied
    return Figures(s.messages - c.messages, s.message_tokens - c.message_tokens, s.cost_usd - c.cost_usd,
                   s.history_raw_tokens - c.history_raw_tokens, s.history_context_tokens - c.history_context_tokens,
                   s.runs - c.runs, s.raw_tokens - c.raw_tokens, s.context_tokens - c.context_tokens)


def _kept_total(service: Sessions, sessions: dict[str, Listed], per_token: Callable[[Listed], float],
                history: bool) -> StatsRow:  # fmt: skip
    """The total from kept totals: each session's own rows, plus each copy whose original is
    not among these sessions (once, however many of them hold it)."""
    total = StatsRow("total")
    for s in sessions.values():
        if s.counted:
            _add(total, _own(s), per_token(s), history)
    counted: set[str] = set()
    for c in service.store.copy_rows():
        if c.session_id in sessions and c.origin_session not in sessions and c.origin not in counted:
            counted.add(c.origin)
            _add(total, c.figures, per_token(sessions[c.session_id]), history)
    return total


def _summed_total(service: Sessions, sessions: dict[str, Listed], totals: Collection[str], since: datetime,
                  prices: PriceTable, history: bool) -> StatsRow:  # fmt: skip
    """The total over a period, summed from its rows (each message and run once)."""
    originals: dict[str, tuple[int, int, int, int, float]] = {}
    for sid in totals:
        for origin, figures in session_savings(service, sessions[sid], since=since, history=history, prices=prices).items.items():
            originals.setdefault(origin, figures)
    once = service.store.origin_totals(list(totals), since=since)
    return StatsRow(
        "total", messages=once.messages, message_tokens=once.message_tokens, commands=once.runs, cost_usd=once.cost_usd,
        raw_tokens=sum(f[0] for f in originals.values()), context_tokens=sum(f[1] for f in originals.values()),
        history_raw_tokens=sum(f[2] for f in originals.values()),
        history_context_tokens=sum(f[3] for f in originals.values()),
        cost_avoided_usd=sum(f[4] for f in originals.values()),
    )  # fmt: skip


def compute(service: Sessions, *, period: timedelta | None = None, group_by: GroupBy = "session",
            savings: bool = False, agent: str | None = None, efficiency: bool = False) -> StatsReport:  # fmt: skip
    """Over all time, from the totals the store keeps, read with the sessions in one query of
    plain rows (core/listing.py: no history read, no record parsed); over a period, summed
    from that period's rows."""
    sessions = {s.id: s for s in service.store.listing(agent=agent)}
    since = utcnow() - period if period else None
    # Sessions with something counted: over all time, their kept totals as listed.
    totals: dict[str, Totals | Listed] = (
        {sid: s for sid, s in sessions.items() if s.counted} if since is None
        else dict(service.store.totals(list(sessions), since=since)))  # fmt: skip
    prices = PriceTable(service.config.sections.get("prices"))
    per_model: dict[str | None, float] = {}

    def per_token(session: Listed) -> float:
        if session.model not in per_model:
            price = prices.lookup(session.model)
            per_model[session.model] = price.input / PER if price is not None else 0.0
        return per_model[session.model]

    rows: dict[str, StatsRow] = {}
    compactions: dict[str, int] = {}
    keyed_by = {"session": "name", "agent": "agent", "role": "role"}[group_by]
    for sid, t in totals.items():
        session = sessions[sid]
        key = getattr(session, keyed_by) or "(none)"
        row = rows.setdefault(key, StatsRow(key))
        row.sessions += 1
        if isinstance(t, Totals):  # a period's: its runs and answers, from their rows
            measured = session_savings(service, session, since=since, history=savings, prices=prices)
            t = replace(t, raw_tokens=measured.raw_commands, context_tokens=measured.context_commands,
                        history_raw_tokens=measured.raw_history, history_context_tokens=measured.context_history)  # fmt: skip
        _add(row, t, per_token(session), savings)
        if efficiency:
            compactions[key] = compactions.get(key, 0) + (
                session.summaries if since is None else sum(
                    1 for m in service.store.list_messages(sid)
                    if m.kind is MessageKind.SUMMARY and m.created_at >= since))  # fmt: skip
    if since is None:
        total = _kept_total(service, sessions, per_token, savings)
    else:
        total = _summed_total(service, sessions, totals, since, prices, savings)
    total.sessions = sum(r.sessions for r in rows.values())
    copies = sum(r.messages + r.commands for r in rows.values()) - total.messages - total.commands
    ordered = sorted(rows.values(), key=lambda r: (-r.message_tokens - r.raw_tokens, r.key))
    compactions["total"] = sum(compactions.values())
    return StatsReport(group_by, period.total_seconds() / 86400 if period else None, ordered, total, copies,
                       compactions)
