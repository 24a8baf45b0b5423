"""How sessions, messages and runs look to people and scripts; shared by commands and the REPL."""

from __future__ import annotations

from datetime import UTC, datetime

from ai_session.cli.render import Fields

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (`list` through the host)
if TYPE_CHECKING:
    from typing import Any

    from ai_session.core.manager import SessionDetails
    from ai_session.core.models import CommandRun, Message, Session
    from ai_session.core.store import Totals


def ago(when: datetime) -> str:
    seconds = max(0, int((datetime.now(UTC) - when).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def human_tokens(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


def percent(raw: int, context: int, digits: int = 0) -> str:
    """The saving of `context` against `raw` (core's definition), or `-` when there was no raw."""
    from ai_session.core.accounting import saving_text

    return saving_text(raw, context, digits)


def session_json(s: Session, totals: Totals | None = None) -> dict[str, Any]:
    data = s.model_dump(mode="json", by_alias=True)
    if totals is not None:
        data["totals"] = totals.as_dict()
    return data


def session_fields(s: Session, t: Totals, details: SessionDetails | None = None) -> Fields:
    fields = [
        ("Id", s.id),
        ("Name", s.name),
        ("Status", s.status.value),
        ("Agent", s.agent),
        ("Role", s.role),
        ("Worktree", s.worktree),
        ("Branch", s.branch),
        ("Provider", s.provider and f"{s.provider} ({s.model or 'default model'})"),
        ("Budget", f"{s.max_tokens:,} tokens"),
        ("Template", s.template),
        ("Tags", ", ".join(s.tags)),
        ("Created", f"{s.created_at:%Y-%m-%d %H:%M} ({ago(s.created_at)})"),
        ("Last active", ago(s.last_active)),
        ("Messages", f"{t.messages} ({human_tokens(t.message_tokens)} tokens)"),
        ("Commands", (f"{t.runs} (raw {human_tokens(t.raw_tokens)} -> context {human_tokens(t.context_tokens)} "
                      f"tokens, saved {percent(t.raw_tokens, t.context_tokens)})")),
    ]  # fmt: skip
    if details is not None:
        fields += usage_fields(details)
    return Fields(fields)


def token_usage(d: SessionDetails) -> str:
    return f"{d.context_tokens:,} / {d.budget:,} ({d.budget_used * 100:.0f}%)"


def usage_fields(d: SessionDetails) -> list[tuple[str, Any]]:
    u = d.usage
    per_model = ", ".join(f"{m.model} ${m.cost_usd:.4f}" for m in u.by_model)
    per_turn = u.tokens_per_interaction
    return [
        ("Token Usage", token_usage(d)),
        ("Compressions", f"{d.compressed_outputs} command output(s), {d.summaries} summary(ies)"),
        ("Cost", f"${u.cost_usd:.4f}" + (f" ({per_model})" if per_model else "")),
        ("Interactions", f"{u.interactions}" + ("" if per_turn is None else
                         f", {per_turn:,.0f} tokens per interaction ({u.input_tokens:,} in, {u.output_tokens:,} out)")),
    ]  # fmt: skip


def detail_fields(s: Session, t: Totals, d: SessionDetails) -> Fields:
    """`list --detailed`: one block per session, as the ai-session crate's CLI shows it."""
    return Fields([
        ("Status", s.status.value),
        ("Messages", f"{t.messages:,}"),
        ("Token Usage", token_usage(d)),
        ("Compressions", f"{d.compressed_outputs} command output(s), {d.summaries} summary(ies)"),
        ("Created", f"{s.created_at:%Y-%m-%d %H:%M}"),
        ("Last Activity", ago(s.last_active)),
        ("Agent", s.agent),
        ("Role", s.role),
        ("Id", s.id),
        ("Branch", s.branch),
        ("Worktree", s.worktree),
    ])  # fmt: skip


def details_json(d: SessionDetails) -> dict[str, Any]:
    return {"contextTokens": d.context_tokens, "budget": d.budget, "compressedOutputs": d.compressed_outputs,
            "summaries": d.summaries, "usage": d.usage.as_dict()}  # fmt: skip


def message_line(m: Message) -> str:
    pin = "*" if m.pinned else " "
    first = m.content.splitlines()[0] if m.content else ""
    if m.damage:  # does not read back: say so where it is, with whatever part still reads
        first = f"[damaged {m.damage}]" if not first else f"[damaged {m.damage.split(':')[0]}] {first}"
    elif m.covers:  # a summary: say what it stands for (`ai-session summary SESSION SEQ` shows them)
        first = f"[covers {m.covers[0]}–{m.covers[1]}] {first}"
    more = " …" if len(m.content.splitlines()) > 1 or len(first) > 100 else ""
    return f"{m.seq:>5}{pin} {m.created_at:%H:%M:%S} {m.role.value:<9} {m.kind.value:<8} {m.tokens or 0:>6}t  {first[:100]}{more}"


def run_line(r: CommandRun) -> str:
    if r.damage:
        return f"  {r.id}  [damaged record: {r.damage}]"
    code = "…" if r.exit_code is None else str(r.exit_code)
    return (f"  {r.id}  exit {code:>3}  {r.status.value:<9} {human_tokens(r.raw_tokens):>6} -> "
            f"{human_tokens(r.context_tokens):>6} {percent(r.raw_tokens, r.context_tokens):>5}  {r.command[:80]}")  # fmt: skip


def model_json(value: Any, **options: Any) -> Any:
    """A pydantic model (or a list of them) as the camelCase JSON the wire uses."""
    if isinstance(value, list):
        return [model_json(v, **options) for v in value]
    return value.model_dump(mode="json", by_alias=True, **options)
