"""The exact context a model receives next, under a token budget.

`assemble()` is a pure function over already-loaded messages, using the token counts
cached on each message (never re-tokenising), so it is cheap enough to run on every
prompt redraw. The context is made of five parts, always in this order:

    system   the session's system prompt and system-role messages (template preloads)
    summary  stored summaries of older turns (see core/compaction.py)
    pinned   pinned messages and decisions (kind DECISION)
    recent   the most recent turns verbatim; command runs appear in their context form
    prompt   the new user turn, when assembling for `ask`

Strategies (what happens to turns that do not fit):

    sliding             system + the newest turns that fit; everything older is dropped.
                        Summaries and pinned items get no special place.
    summarize           system + the newest stored summary chain + the newest turns not
                        covered by it. Turns a summary covers are represented by it, not
                        repeated. Uncovered turns that do not fit are dropped and reported
                        (`needs_compaction`): `ask` then compacts and assembles again.
    preserve_important  summarize, and pinned items and decisions are always sent
                        verbatim (also when a summary covers them). The default.

Budget order: system and prompt are mandatory (a budget smaller than both is an error);
then pinned items (newest first), then summaries, then recent turns newest first. The
recent window is contiguous: it stops at the first turn that does not fit.
Every message costs its tokens plus `MESSAGE_OVERHEAD`.

Raw vs context (see core/accounting.py): "raw" is what the agent would have received
without ai-session, i.e. the whole history verbatim with every command output at its raw
figure (as its pipe would carry it, capped at its truncation limit); "context" is what is
sent. Both are split into command outputs (each run's own raw and context figures, the
same numbers every other view shows for that run) and history (everything else, including
the `$ command` header and framing of command messages, which cost the same either way).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress
from typing import Any

from ai_session.core.accounting import MESSAGE_OVERHEAD, saving, saving_text
from ai_session.core.errors import InvalidInput
from ai_session.core.models import CommandRun, Message, MessageKind, Role, Session
from ai_session.core.providers.base import ChatMessage
from ai_session.core.tokens import count_tokens

STRATEGIES = ("sliding", "summarize", "preserve_important")
DEFAULT_STRATEGY = "preserve_important"
PARTS = ("system", "summary", "pinned", "recent", "prompt")
TYPED = "typed"  # origin of a run a person typed in an attached terminal


@lru_cache(maxsize=512)
def _count(text: str) -> int:
    return count_tokens(text)


@dataclass(slots=True)
class ContextItem:
    part: str
    role: str  # chat role as sent: system | user | assistant | tool
    content: str
    tokens: int  # including MESSAGE_OVERHEAD
    raw_tokens: int  # what it would have cost without ai-session
    seq: int | None = None  # None for the session's system prompt and the new prompt
    kind: str = MessageKind.CHAT.value
    run_id: str | None = None
    covers: tuple[int, int] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "part": self.part,
            "seq": self.seq,
            "role": self.role,
            "kind": self.kind,
            "tokens": self.tokens,
            "rawTokens": self.raw_tokens,
            "runId": self.run_id,
            "covers": list(self.covers) if self.covers else None,
            "content": self.content,
        }


@dataclass
class ContextPart:
    name: str
    tokens: int = 0
    raw_tokens: int = 0
    items: list[int] = field(default_factory=list)  # seqs sent in this part
    compressed: int = 0  # command runs sent in their context form
    dropped: list[int] = field(default_factory=list)  # seqs that did not fit (or fell outside the window)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tokens": self.tokens,
            "rawTokens": self.raw_tokens,
            "items": list(self.items),
            "compressed": self.compressed,
            "dropped": list(self.dropped),
            "note": self.note,
        }


@dataclass
class Accounting:
    raw_history: int = 0
    context_history: int = 0
    raw_commands: int = 0
    context_commands: int = 0

    @property
    def raw(self) -> int:
        return self.raw_history + self.raw_commands

    @property
    def context(self) -> int:
        return self.context_history + self.context_commands

    def as_dict(self) -> dict[str, Any]:
        return {
            "rawHistory": self.raw_history,
            "contextHistory": self.context_history,
            "rawCommands": self.raw_commands,
            "contextCommands": self.context_commands,
            "raw": self.raw,
            "context": self.context,
            "historySavings": _rounded(saving(self.raw_history, self.context_history)),
            "commandSavings": _rounded(saving(self.raw_commands, self.context_commands)),
            "savings": _rounded(saving(self.raw, self.context)),
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass
class AssembledContext:
    session_id: str
    strategy: str
    budget: int
    items: list[ContextItem]
    parts: list[ContextPart]
    accounting: Accounting
    needs_compaction: bool = False  # uncovered turns were dropped: a compaction would keep their facts
    window: int | None = None
    unreadable: list[int] = field(default_factory=list)  # seqs left out: they do not read back (see validate)

    @property
    def tokens(self) -> int:
        return sum(p.tokens for p in self.parts)

    @property
    def messages(self) -> list[ChatMessage]:
        """The ordered chat messages to send."""
        return [ChatMessage(i.role, i.content) for i in self.items]

    @property
    def dropped(self) -> list[int]:
        return sorted(s for p in self.parts for s in p.dropped)

    def part(self, name: str) -> ContextPart:
        return next(p for p in self.parts if p.name == name)

    def as_dict(self, *, with_items: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "sessionId": self.session_id,
            "strategy": self.strategy,
            "budget": self.budget,
            "window": self.window,
            "tokens": self.tokens,
            "needsCompaction": self.needs_compaction,
            "parts": [p.as_dict() for p in self.parts],
            "accounting": self.accounting.as_dict(),
            "unreadable": list(self.unreadable),
        }
        if with_items:
            data["items"] = [i.as_dict() for i in self.items]
        return data


def typed_by_a_person(m: Message) -> bool:
    """A command a person typed in an attached terminal (not one an agent ran)."""
    return m.kind is MessageKind.COMMAND and m.metadata.get("origin") == TYPED


def hidden_from_model(session: Session, m: Message) -> bool:
    """A typed command stays in the session's history but out of the model's context unless
    the session shares its terminal with the agent."""
    return not session.share_terminal and typed_by_a_person(m)


def check_strategy(strategy: str) -> str:
    if strategy not in STRATEGIES:
        raise InvalidInput(f"unknown context strategy {strategy!r}; choose one of: {', '.join(STRATEGIES)}")
    return strategy


def message_cost(message: Message | Turn) -> int:
    tokens = message.tokens if message.tokens is not None else _count(message.content)
    return tokens + MESSAGE_OVERHEAD


def active_summaries(messages: Sequence[Message]) -> list[Message]:
    """The summaries in force: newest first wins, an older one inside its range is superseded."""
    chosen: list[Message] = []
    for m in reversed(messages):
        if m.kind != MessageKind.SUMMARY or m.covers is None or m.damage is not None:
            continue
        if any(c.covers[0] <= m.covers[0] and m.covers[1] <= c.covers[1] for c in chosen):  # type: ignore[index]
            continue
        chosen.append(m)
    chosen.sort(key=lambda m: m.covers[0])  # type: ignore[index]
    return chosen


class Turn:
    """What assembly reads of a stored message, without the rest of its record: a history kept
    across requests holds these (100,000 turns in some 30 MB instead of 200 MB of models)."""

    __slots__ = ("agent", "content", "covers", "kind", "pinned", "role", "run_id", "seq", "tokens")
    seq: int
    role: Role
    kind: MessageKind
    tokens: int | None
    pinned: bool
    agent: str | None
    content: str
    run_id: str | None
    covers: tuple[int, int] | None

    def __init__(self, m: Message) -> None:
        self.seq, self.role, self.kind, self.tokens, self.pinned = m.seq, m.role, m.kind, m.tokens, m.pinned
        self.agent, self.content, self.run_id, self.covers = m.agent, m.content, m.run_id, m.covers


Said = Message | Turn  # a turn as assembly reads it


@dataclass(eq=False)
class History:
    """What `assemble` needs from a session's stored messages, gathered in one pass over them:
    the raw totals and the turns that may be sent. Messages appended later extend it (`extend`)
    with the same result as a fresh pass, so a language server keeps it across appends instead
    of reading a long history again on every write. An edit, a delete or a prune needs a fresh one.
    """

    session_id: str
    share_terminal: bool  # whether typed commands count (see hidden_from_model)
    kept: bool = False  # kept across requests: turns are held as `Turn`s, not whole messages
    runs: dict[str, CommandRun] = field(default_factory=dict)
    last_seq: int = 0  # the newest message it has seen
    system: list[Said] = field(default_factory=list)  # system-role messages
    live: list[Said] = field(default_factory=list)  # every other turn that may be sent, in seq order
    live_seqs: list[int] = field(default_factory=list)  # their seqs
    important: list[Said] = field(default_factory=list)  # of live: pinned items and decisions
    summaries: list[Message] = field(default_factory=list)
    unreadable: list[int] = field(default_factory=list)  # seqs whose text did not read back: left out, and said so
    raw_history: int = 0
    raw_commands: int = 0

    @classmethod
    def of(cls, session: Session, messages: Sequence[Message], runs: Mapping[str, CommandRun] | None = None, *,
           kept: bool = False) -> History:  # fmt: skip
        history = cls(session.id, session.share_terminal, kept)
        history.extend(messages, runs)
        return history

    def fits(self, session: Session) -> bool:
        """Whether it was made for this session as it is now (a setting it depends on may have changed)."""
        return self.session_id == session.id and self.share_terminal == session.share_terminal

    def extend(self, messages: Sequence[Message], runs: Mapping[str, CommandRun] | None = None) -> None:
        """Take in `messages`, newer than every one seen (oldest first), and the runs they name."""
        if runs:
            self.runs.update(runs)
        # This loop is the hot path of a fresh pass: cached counts, enum identity checks, no
        # per-message function calls except for command runs.
        SUMMARY, COMMAND, DECISION, SYSTEM = MessageKind.SUMMARY, MessageKind.COMMAND, MessageKind.DECISION, Role.SYSTEM
        overhead, runs_get, typed_hidden, kept = MESSAGE_OVERHEAD, self.runs.get, not self.share_terminal, self.kept
        live, live_seqs, important, system = self.live, self.live_seqs, self.important, self.system
        raw_history = raw_commands = 0
        for m in messages:
            if m.damage is not None:
                self.unreadable.append(m.seq)
                continue
            kind = m.kind
            if kind is SUMMARY:
                self.summaries.append(m)
                continue
            if kind is COMMAND and typed_hidden and typed_by_a_person(m):
                continue  # the person's own typing: neither sent nor counted (an agent never saw it)
            t = m.tokens
            if t is None:
                t = _count(m.content)
            if kind is COMMAND:
                raw_run, _, framing = command_split(m, t + overhead, runs_get)
                raw_commands += raw_run
                raw_history += framing
            else:
                raw_history += t + overhead
            turn = Turn(m) if kept else m
            if m.role is SYSTEM:
                system.append(turn)
            else:
                live.append(turn)
                live_seqs.append(m.seq)
                if m.pinned or kind is DECISION:
                    important.append(turn)
        self.raw_history += raw_history
        self.raw_commands += raw_commands
        if messages:
            self.last_seq = max(self.last_seq, messages[-1].seq)


def command_split(m: Said, cost: int, runs_get: Callable[[str], CommandRun | None]) -> tuple[int, int, int]:
    """(raw, context, framing) of a command message: its run's own figures (the one
    definition, core/accounting.py) and the rest of the message's cost (its `$ cmd` header,
    the message overhead), which is the same with or without ai-session."""
    run = runs_get(m.run_id) if m.run_id else None
    if run is not None and (run.raw_tokens or run.context_tokens):
        framing = max(0, cost - run.context_tokens)
        return run.raw_tokens, cost - framing, framing
    return cost, cost, 0


def assemble(
    session: Session,
    messages: Sequence[Message] | History,
    runs: Mapping[str, CommandRun] | None = None,
    *,
    max_tokens: int | None = None,
    strategy: str = DEFAULT_STRATEGY,
    window: int | None = None,
    prompt: str | None = None,
    prompt_tokens: int | None = None,
) -> AssembledContext:
    """The context for `session` from its stored `messages` (oldest first) and the `runs` they
    name, or from its `History` already gathered (which holds both).

    `window`: keep only the last N user turns (and what followed them) in the recent part.
    `prompt`: the new user turn, always included; pass `prompt_tokens` when already counted.
    In a shared session (several agents write it) each turn an agent wrote is sent as
    `[agent] text`, so the model knows who said what; the labels are counted in the budget.
    """
    history = messages if isinstance(messages, History) else History.of(session, messages, runs)
    check_strategy(strategy)
    budget = max_tokens if max_tokens is not None else session.max_tokens
    if budget <= 0:
        raise InvalidInput(f"the token budget must be positive (got {budget})")
    if window is not None and window <= 0:
        raise InvalidInput(f"--context-window must be a positive number of message pairs (got {window})")
    parts = {name: ContextPart(name) for name in PARTS}
    acct = Accounting(raw_history=history.raw_history, raw_commands=history.raw_commands)
    items: dict[str, list[ContextItem]] = {name: [] for name in PARTS}
    SUMMARY, COMMAND = MessageKind.SUMMARY, MessageKind.COMMAND
    overhead = MESSAGE_OVERHEAD
    runs_get = history.runs.get
    shared = bool(session.metadata.get("shared"))
    preserve = strategy == "preserve_important"
    live = history.live
    important = history.important if preserve else []

    def label(m: Said) -> str:
        return f"[{m.agent}] " if shared and m.agent and m.role is not Role.SYSTEM else ""

    def take(part: str, m: Said, cost: int) -> None:
        is_command = m.kind is COMMAND
        raw = cost
        if is_command:
            raw_run, context_run, framing = command_split(m, cost, runs_get)
            raw = raw_run + framing
            acct.context_commands += context_run
            acct.context_history += framing
        else:
            acct.context_history += cost
        role = "system" if m.kind is SUMMARY else m.role.value
        items[part].append(ContextItem(part, role, label(m) + m.content, cost, raw, m.seq, m.kind.value, m.run_id, m.covers))
        p = parts[part]
        p.tokens += cost
        p.raw_tokens += raw
        p.items.append(m.seq)
        if is_command:
            p.compressed += 1

    # Mandatory parts: the system prompt and system-role messages, and the new prompt.
    if session.system_prompt:
        cost = _count(session.system_prompt) + overhead
        items["system"].append(ContextItem("system", "system", session.system_prompt, cost, cost))
        parts["system"].tokens += cost
        parts["system"].raw_tokens += cost
        acct.context_history += cost
        acct.raw_history += cost
    for m in history.system:
        take("system", m, message_cost(m))
    if prompt is not None:
        cost = (prompt_tokens if prompt_tokens is not None else _count(prompt)) + overhead
        items["prompt"].append(ContextItem("prompt", "user", prompt, cost, cost))
        parts["prompt"].tokens = parts["prompt"].raw_tokens = cost
        acct.context_history += cost
        acct.raw_history += cost
    remaining = budget - parts["system"].tokens - parts["prompt"].tokens
    if remaining < 0:
        raise InvalidInput(
            f"the budget of {budget} tokens is too small: the system prompt and the new prompt alone take "
            f"{budget - remaining}; raise --max-tokens"
        )

    summaries = active_summaries(history.summaries) if strategy != "sliding" else []
    ranges = [m.covers for m in summaries if m.covers]

    if preserve:
        kept: list[tuple[Said, int]] = []
        for m in reversed(important):
            cost = message_cost(m) + (_count(label(m)) if shared else 0)
            if cost <= remaining:
                kept.append((m, cost))
                remaining -= cost
            else:
                parts["pinned"].dropped.append(m.seq)
        for m, cost in reversed(kept):
            take("pinned", m, cost)
        if parts["pinned"].dropped:
            parts["pinned"].note = "pinned items over the budget: the oldest were left out"
    for m in reversed(summaries):
        cost = message_cost(m)
        if cost <= remaining:
            remaining -= cost
            take("summary", m, cost)
        else:
            parts["summary"].dropped.append(m.seq)
            parts["summary"].note = "a summary did not fit the budget"
    items["summary"].sort(key=lambda i: i.covers or (0, 0))
    if ranges:
        spans = ", ".join(f"{a}–{b}" for a, b in ranges)
        parts["summary"].note = parts["summary"].note or f"covers messages {spans}"

    # Candidates for the recent window: live turns outside every summary's range (found by
    # bisection, live is in seq order) and, with preserve_important, not pinned/decisions.
    # Only the newest few are looked at one by one: the rest is list slices and their seqs
    # (a long history's older turns cost no per-message work here).
    live_seqs = history.live_seqs
    spans_out = [(0, len(live))]
    for lo, hi in ranges:
        a = bisect_left(live_seqs, lo)
        b = bisect_right(live_seqs, hi)
        spans_out = [piece for s0, s1 in spans_out for piece in ((s0, min(s1, a)), (max(s0, b), s1)) if piece[0] < piece[1]]
    candidates: list[Said] = []
    candidate_seqs: list[int] = []
    for s0, s1 in spans_out:
        candidates += live[s0:s1]
        candidate_seqs += live_seqs[s0:s1]
    if preserve and important:
        sent_anyway = {m.seq for m in important}
        keep = [seq not in sent_anyway for seq in candidate_seqs]
        candidates, candidate_seqs = list(compress(candidates, keep)), list(compress(candidate_seqs, keep))

    start = 0
    if window is not None:  # at the window-th user turn from the end, if there are that many
        users = 0
        for i in range(len(candidates) - 1, -1, -1):
            if candidates[i].role is Role.USER:
                users += 1
                if users == window:
                    start = i
                    break
    recent: list[tuple[Said, int]] = []
    index = len(candidates) - 1
    while index >= start:
        m = candidates[index]
        t = m.tokens
        cost = (t if t is not None else _count(m.content)) + overhead
        if shared:
            cost += _count(label(m))
        if cost > remaining:
            break
        recent.append((m, cost))
        remaining -= cost
        index -= 1
    for m, cost in reversed(recent):
        take("recent", m, cost)
    dropped = candidate_seqs[: index + 1]
    parts["recent"].dropped = dropped
    over_budget = index + 1 - start
    needs_compaction = strategy != "sliding" and over_budget > 0
    if dropped:
        reason = []
        if over_budget:
            reason.append(f"{over_budget} older turn(s) over the budget")
        if start:
            reason.append(f"{start} outside the {window}-pair window")
        parts["recent"].note = "; ".join(reason)
        if needs_compaction:
            parts["recent"].note += " (not yet summarized: compact to keep their facts)"

    # Send order: system, summaries, then pinned and recent turns together in seq order, prompt.
    body = sorted(items["pinned"] + items["recent"], key=lambda i: i.seq or 0)
    ordered = items["system"] + items["summary"] + body + items["prompt"]
    return AssembledContext(
        session_id=session.id,
        strategy=strategy,
        budget=budget,
        items=ordered,
        parts=[parts[name] for name in PARTS],
        accounting=acct,
        needs_compaction=needs_compaction,
        window=window,
        unreadable=list(history.unreadable),
    )


def command_message(run: CommandRun, *, agent: str | None = None) -> Message:
    """A command run as it appears in history: a header, then its context form.

    The content is what the agent sees (and what `assemble` sends); the raw output stays
    retrievable by the run id shown in the header.
    """
    if run.context is not None:
        body = run.context  # the compressor's form already ends with the exit code and the run id
    else:
        code = "?" if run.exit_code is None else str(run.exit_code)
        body = f"[ai-session] exit {code} · run {run.id}"
    return Message(
        role=Role.TOOL,
        kind=MessageKind.COMMAND,
        content=f"$ {run.command}\n{body}".rstrip("\n"),
        run_id=run.id,
        agent=agent,
        metadata={"command": run.command, "exit_code": run.exit_code,
                  **({"origin": TYPED} if run.metadata.get("origin") == TYPED else {})},
    )


def render_text(ctx: AssembledContext, *, lines: int | None = None) -> str:
    """The people's view: parts with token counts, then the context itself."""
    out = [
        f"context for {ctx.session_id}: {ctx.tokens} of {ctx.budget} tokens, strategy {ctx.strategy}"
        + (f", window {ctx.window} pair(s)" if ctx.window else ""),
        "",
        f"{'PART':<8} {'TOKENS':>7} {'RAW':>7} {'ITEMS':>5} {'CMDS':>4} {'DROPPED':>7}  NOTE",
    ]
    counts = Counter(i.part for i in ctx.items)
    for p in ctx.parts:
        out.append(
            f"{p.name:<8} {p.tokens:>7} {p.raw_tokens:>7} {counts[p.name]:>5} {p.compressed:>4} {len(p.dropped):>7}  {p.note}".rstrip()
        )
    a = ctx.accounting
    out.append(f"{'total':<8} {ctx.tokens:>7}")
    out.append("")
    out.append(
        f"raw vs context: history {a.raw_history} -> {a.context_history} tokens, "
        f"command outputs {a.raw_commands} -> {a.context_commands} tokens "
        f"(saved {saving_text(a.raw_commands, a.context_commands, 1)} on command outputs, "
        f"{saving_text(a.raw, a.context, 1)} overall)"
    )
    if ctx.needs_compaction:
        out.append("[ai-session] older turns were dropped without a summary: run `ai-session compact` to keep their facts")
    if ctx.unreadable:
        seqs = ", ".join(f"#{s}" for s in ctx.unreadable)
        out.append(f"[ai-session] {len(ctx.unreadable)} damaged message(s) left out ({seqs}): see `ai-session validate`")
    out.append("")
    body: list[str] = []
    for item in ctx.items:
        label = f"#{item.seq} " if item.seq is not None else ""
        body.append(f"--- {item.part} · {label}{item.role} · {item.tokens} tokens")
        body.extend(item.content.splitlines() or [""])
    if lines is not None and len(body) > lines:
        body = [*body[:lines], f"[ai-session] … {len(body) - lines} more line(s); --lines 0 shows all"]
    return "\n".join(out + body)
