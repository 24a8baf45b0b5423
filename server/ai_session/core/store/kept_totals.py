"""Per-session totals kept as the store is written, so `list`, `show` and `stats` read one
small row per session instead of summing every message and run.

Two tables, both keyed by the session and whether the rows counted are copies (merge, fork
and import copies name their original in `copy_of`; a total over several sessions counts
those once, so it needs them apart):

- `message_totals` (session, kind, copies): messages, tokens, cost, and the history figures
  an answer records (`metadata.context`: raw and context history tokens, core/stats.py);
- `run_totals` (session, copies): runs and their raw and context command tokens.

An append adds its messages' figures (one upsert per kind); every other write to a session's
history (edit, prune, run save, quarantine, import) counts the session again, in the same
transaction. `validate` compares them with a fresh count and `repair` rebuilds them.

Both backends use these functions with their own `execute` and `Dialect` (in a migration too).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any

from ai_session.core.store.base import Totals

Execute = Callable[[str, Sequence[Any]], Any]

MESSAGE_FIGURES = ("messages", "tokens", "cost_usd", "history_raw", "history_context")
RUN_FIGURES = ("runs", "raw_tokens", "context_tokens")
# (session, kind, copies) -> [messages, tokens, cost, history raw, history context]
MessageSums = dict[tuple[str, bool], list[Any]]


def message_figures(role: str, kind: str, tokens: int | None, extra: str | None) -> tuple[int, float, int, int]:
    """One stored message's tokens, cost and recorded history figures, from its columns. An
    `extra` that does not parse counts nothing (validate reports the row)."""
    cost, raw_history, context_history = 0.0, 0, 0
    if extra:
        try:
            data = json.loads(extra)
            usage = data.get("usage") or {}
            cost = float(usage.get("cost_usd") or 0.0)
            sent = (data.get("metadata") or {}).get("context") if role == "assistant" and kind == "chat" else None
            if isinstance(sent, dict):
                raw_history, context_history = int(sent.get("rawHistory", 0)), int(sent.get("contextHistory", 0))
        except (ValueError, TypeError, AttributeError):
            cost, raw_history, context_history = 0.0, 0, 0
    return int(tokens or 0), cost, raw_history, context_history


def sum_messages(rows: Iterable[Sequence[Any]]) -> MessageSums:
    """Figures per (kind, copies) of message rows given as (role, kind, tokens, extra, copy_of)."""
    sums: MessageSums = {}
    for role, kind, tokens, extra, copy_of in rows:
        figures = sums.setdefault((kind, copy_of is not None), [0, 0, 0.0, 0, 0])
        tokens_, cost, raw_h, ctx_h = message_figures(role, kind, tokens, extra)
        figures[0] += 1
        figures[1] += tokens_
        figures[2] += cost
        figures[3] += raw_h
        figures[4] += ctx_h
    return sums


def add_messages(execute: Execute, mark: str, session_id: str, rows: Iterable[Sequence[Any]]) -> None:
    """Add appended messages (rows as (role, kind, tokens, extra, copy_of)) to the kept totals."""
    sql = add_sql(mark)
    for (kind, copies), figures in sum_messages(rows).items():
        execute(sql, (session_id, kind, copies, *figures))


@cache
def add_sql(mark: str) -> str:
    """The upsert that adds to a session's kept message figures (built once: every append runs it)."""
    added = ", ".join(f"{c} = message_totals.{c} + excluded.{c}" for c in MESSAGE_FIGURES)
    return (f"INSERT INTO message_totals (session_id, kind, copies, {', '.join(MESSAGE_FIGURES)})"
            f" VALUES ({', '.join([mark] * 8)}) ON CONFLICT (session_id, kind, copies) DO UPDATE SET {added}")  # fmt: skip


def counted(execute: Execute, mark: str, run_raw: str, run_context: str, session_id: str) -> tuple[MessageSums, dict[bool, list[int]]]:
    """A session's figures counted afresh from its rows (bodies are not read)."""
    messages = sum_messages(execute(
        f"SELECT role, kind, tokens, extra, copy_of FROM messages WHERE session_id = {mark}", (session_id,)
    ).fetchall())  # fmt: skip
    runs = {bool(copies): [int(n), int(raw), int(ctx)] for copies, n, raw, ctx in execute(
        f"SELECT copy_of IS NOT NULL, COUNT(*), COALESCE(SUM({run_raw}), 0), COALESCE(SUM({run_context}), 0)"
        f" FROM runs WHERE session_id = {mark} GROUP BY copy_of IS NOT NULL", (session_id,)
    ).fetchall()}  # fmt: skip
    return messages, runs


def kept(execute: Execute, mark: str, session_id: str) -> tuple[MessageSums, dict[bool, list[int]]]:
    """A session's figures as kept."""
    messages = {(kind, bool(copies)): [int(n), int(t), float(c), int(rh), int(ch)] for kind, copies, n, t, c, rh, ch in execute(
        f"SELECT kind, copies, {', '.join(MESSAGE_FIGURES)} FROM message_totals WHERE session_id = {mark}", (session_id,)
    ).fetchall()}  # fmt: skip
    runs = {bool(copies): [int(n), int(raw), int(ctx)] for copies, n, raw, ctx in execute(
        f"SELECT copies, {', '.join(RUN_FIGURES)} FROM run_totals WHERE session_id = {mark}", (session_id,)
    ).fetchall()}  # fmt: skip
    return messages, runs


def same(a: tuple[MessageSums, dict[bool, list[int]]], b: tuple[MessageSums, dict[bool, list[int]]]) -> bool:
    """Whether two sets of figures agree (costs to a millionth of a cent: they are float sums)."""
    if a[1] != b[1] or a[0].keys() != b[0].keys():
        return False
    return all(x[:2] == y[:2] and x[3:] == y[3:] and abs(x[2] - y[2]) < 1e-8 for x, y in ((a[0][k], b[0][k]) for k in a[0]))


def refresh(execute: Execute, mark: str, run_raw: str, run_context: str, session_id: str, *, runs_only: bool = False) -> None:
    """Count a session again and keep the result (in the writing transaction)."""
    messages, runs = counted(execute, mark, run_raw, run_context, session_id)
    if not runs_only:
        execute(f"DELETE FROM message_totals WHERE session_id = {mark}", (session_id,))
        for (kind, copies), figures in messages.items():
            execute(f"INSERT INTO message_totals (session_id, kind, copies, {', '.join(MESSAGE_FIGURES)})"
                    f" VALUES ({', '.join([mark] * 8)})", (session_id, kind, copies, *figures))  # fmt: skip
    execute(f"DELETE FROM run_totals WHERE session_id = {mark}", (session_id,))
    for copies, figures in runs.items():
        execute(f"INSERT INTO run_totals (session_id, copies, {', '.join(RUN_FIGURES)}) VALUES ({', '.join([mark] * 5)})",
                (session_id, copies, *figures))  # fmt: skip


def refresh_all(execute: Execute, mark: str, run_raw: str, run_context: str) -> None:
    """Fill the kept totals of every session (the upgrade that introduces them)."""
    for (session_id,) in execute("SELECT id FROM sessions", ()).fetchall():
        refresh(execute, mark, run_raw, run_context, session_id)


def read(message_rows: Iterable[Sequence[Any]], run_rows: Iterable[Sequence[Any]]) -> dict[str, Totals]:
    """Totals per session from kept rows: (session, kind, copies, *MESSAGE_FIGURES) and
    (session, copies, *RUN_FIGURES). Each Totals holds in `copied` the part its copies make."""
    out: dict[str, Totals] = {}

    def parts(sid: str, copies: Any) -> list[Totals]:
        t = out.setdefault(sid, Totals(copied=Totals()))
        return [t, t.copied] if copies and t.copied is not None else [t]

    for sid, kind, copies, n, tokens, cost, raw_h, ctx_h in message_rows:
        for t in parts(sid, copies):
            t.messages += int(n)
            t.message_tokens += int(tokens)
            t.cost_usd += float(cost)
            t.by_kind[kind] = t.by_kind.get(kind, 0) + int(tokens)
            t.kind_counts[kind] = t.kind_counts.get(kind, 0) + int(n)
            t.history_raw_tokens += int(raw_h)
            t.history_context_tokens += int(ctx_h)
    for sid, copies, n, raw, ctx in run_rows:
        for t in parts(sid, copies):
            t.runs += int(n)
            t.raw_tokens += int(raw)
            t.context_tokens += int(ctx)
    return out
