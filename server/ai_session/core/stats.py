"""Usage statistics per session, agent or role over a period, from stored counts only.

Savings = 1 − context/raw over command outputs: what the agent received against what the
command printed (see docs/token-accounting.md). Bytes saved by zstd never count.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from ai_session.core.models import utcnow

if TYPE_CHECKING:
    from ai_session.core.manager import SessionManager

GroupBy = Literal["session", "agent", "role"]


@dataclass
class StatsRow:
    key: str
    sessions: int = 0
    messages: int = 0
    message_tokens: int = 0
    commands: int = 0
    raw_tokens: int = 0
    context_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def saved_tokens(self) -> int:
        return max(0, self.raw_tokens - self.context_tokens)

    @property
    def savings(self) -> float:
        return 1 - self.context_tokens / self.raw_tokens if self.raw_tokens else 0.0

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "saved_tokens": self.saved_tokens, "savings": round(self.savings, 4)}


@dataclass
class StatsReport:
    group_by: GroupBy
    period_days: float | None
    rows: list[StatsRow]
    total: StatsRow

    def as_dict(self) -> dict[str, object]:
        return {
            "groupBy": self.group_by,
            "periodDays": self.period_days,
            "rows": [r.as_dict() for r in self.rows],
            "total": self.total.as_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def to_csv(self) -> str:
        out = io.StringIO()
        fields = list(self.total.as_dict())
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        for row in [*self.rows, self.total]:
            writer.writerow(row.as_dict())
        return out.getvalue()


def compute(manager: SessionManager, *, period: timedelta | None = None, group_by: GroupBy = "session") -> StatsReport:
    sessions = {s.id: s for s in manager.store.list_sessions()}
    since = utcnow() - period if period else None
    totals = manager.store.totals(list(sessions), since=since)
    rows: dict[str, StatsRow] = {}
    members: dict[str, set[str]] = {}
    for sid, t in totals.items():
        session = sessions[sid]
        key = {"session": session.name, "agent": session.agent, "role": session.role}[group_by] or "(none)"
        row = rows.setdefault(key, StatsRow(key))
        members.setdefault(key, set()).add(sid)
        row.messages += t.messages
        row.message_tokens += t.message_tokens
        row.commands += t.runs
        row.raw_tokens += t.raw_tokens
        row.context_tokens += t.context_tokens
        row.cost_usd += t.cost_usd
    for key, row in rows.items():
        row.sessions = len(members[key])
    total = StatsRow("total")
    for row in rows.values():
        for name in ("sessions", "messages", "message_tokens", "commands", "raw_tokens", "context_tokens", "cost_usd"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    ordered = sorted(rows.values(), key=lambda r: (-r.message_tokens - r.raw_tokens, r.key))
    return StatsReport(group_by, period.total_seconds() / 86400 if period else None, ordered, total)
