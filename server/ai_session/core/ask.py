"""Ask: one prompt in a session, sent with the assembled context, answer streamed and recorded.

Flow: resolve the session and its provider, assemble the context with the new prompt
under the budget; when turns that no summary covers had to be dropped, compact first
(extractive: no extra model call, stored like any compaction) and assemble again; stream
the answer; then store the user and assistant messages together. The assistant message
carries the provider's usage and cost, the model, any note (a conversation that could
not be resumed) and the context accounting of the request (raw vs context tokens), which
is what `stats --show-savings` adds up for history.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ai_session.core import compaction
from ai_session.core.accounting import agent_output_cap
from ai_session.core.context import DEFAULT_STRATEGY, AssembledContext, assemble, check_strategy, hidden_from_model
from ai_session.core.errors import Conflict, InvalidInput, NoProvider, ProviderError
from ai_session.core.models import CommandRun, Message, MessageKind, Role, Session, SessionStatus
from ai_session.core.providers import (
    PROVIDERS,
    ChatRequest,
    Completion,
    Conversation,
    Notice,
    Provider,
    TextDelta,
    get_provider,
)
from ai_session.core.providers.windows import whole_history_budget
from ai_session.core.tokens import count_tokens

if TYPE_CHECKING:
    from ai_session.core.sessions import Sessions


@dataclass
class AskResult:
    session: Session
    user: Message
    assistant: Message
    completion: Completion
    context: AssembledContext
    compaction: compaction.CompactionResult | None = None

    def as_dict(self) -> dict[str, object]:
        usage = self.assistant.usage
        return {
            "sessionId": self.session.id,
            "sessionName": self.session.name,
            "answer": self.completion.text,
            "model": self.completion.model,
            "userSeq": self.user.seq,
            "assistantSeq": self.assistant.seq,
            "usage": usage.model_dump(mode="json", by_alias=True) if usage else None,
            "note": self.completion.note,
            "context": self.context.as_dict(with_items=False),
            "compaction": self.compaction.as_dict() if self.compaction else None,
        }


AskEvent = TextDelta | Notice | AskResult


def context_settings(service: Sessions) -> str:
    """The default strategy, from `[session_management.context_window]` (strategy,
    preserve_important) and `[context]` (strategy; its output cap is checked too: a bad value is
    an error wherever the table is read)."""
    table = service.config.sections.get("context") or {}
    window = service.config.session_management
    strategy = check_strategy(window.context_strategy or str(table.get("strategy", DEFAULT_STRATEGY)))
    if strategy == "preserve_important" and not window.preserve_important:
        strategy = "summarize"  # the same, without the rule that pinned items are always sent
    agent_output_cap(service.config.sections)
    return strategy


def provider_for(service: Sessions, session: Session, name: str | None = None) -> Provider:
    """`name`, else the session's provider, else the config's `[providers] default`."""
    configured = service.config.sections.get("providers") or {}
    chosen = name or session.provider or configured.get("default")
    if not chosen:
        raise NoProvider(f"session {session.name} has no provider: choose one of {', '.join(PROVIDERS)} (--provider, "
                         "the session's, or a default in the config file: [providers] default = \"openai\")")
    if not isinstance(chosen, str):
        raise InvalidInput(f"providers.default must be a provider name ({', '.join(PROVIDERS)}), got {chosen!r}")
    settings = configured.get(chosen)
    return get_provider(chosen, settings, prices=service.config.sections.get("prices"))


def _new_turn(session: Session, history: list[Message], prompt: str) -> str:
    """For a provider that keeps the conversation: the commands run since its last answer, then the prompt."""
    since: list[str] = []
    for m in reversed(history):
        if m.role == Role.ASSISTANT and m.kind == MessageKind.CHAT:
            break
        if m.kind == MessageKind.COMMAND and not hidden_from_model(session, m):
            since.append(m.content)
    if not since:
        return prompt
    runs = "\n\n".join(reversed(since))
    return f"[ai-session] Commands run since your last answer:\n\n{runs}\n\n[ai-session] The new request:\n\n{prompt}"


async def ask(
    service: Sessions,
    ref: str | Session,
    prompt: str,
    *,
    agent: str | None = None,
    shared: bool = False,
    provider: str | None = None,
    model: str | None = None,
    context_window: int | None = None,
    max_tokens: int | None = None,
    strategy: str | None = None,
    provider_instance: Provider | None = None,
    new_session: bool = False,
) -> AsyncIterator[AskEvent]:
    answered = False
    try:
        async for event in _ask(service, ref, prompt, agent=agent, shared=shared, provider=provider, model=model,
                                context_window=context_window, max_tokens=max_tokens, strategy=strategy,
                                provider_instance=provider_instance):  # fmt: skip
            answered = answered or isinstance(event, AskResult)
            yield event
    finally:
        if new_session and not answered:
            # All or nothing: a session made for this ask goes with it (nothing was stored in it).
            service.store.delete_session(ref.id if isinstance(ref, Session) else ref)


async def _ask(
    service: Sessions,
    ref: str | Session,
    prompt: str,
    *,
    agent: str | None,
    shared: bool,
    provider: str | None,
    model: str | None,
    context_window: int | None,
    max_tokens: int | None,
    strategy: str | None,
    provider_instance: Provider | None,
) -> AsyncIterator[AskEvent]:
    if not prompt.strip():
        raise InvalidInput("empty prompt: give it as an argument or on stdin")
    if shared and not agent:
        raise InvalidInput("--shared needs --agent NAME: every message in a shared session names its agent")
    session = ref if isinstance(ref, Session) else service.resolve(ref)
    if session.status is SessionStatus.ENDED:
        raise Conflict(f"session {session.name} has ended; fork it to continue (`ai-session fork`)")
    default_strategy = context_settings(service)
    strategy = check_strategy(strategy or default_strategy)
    updates: dict[str, object] = {}
    if shared and not session.metadata.get("shared"):
        updates["metadata"] = {**session.metadata, "shared": True}
    if provider and not session.provider:  # the first provider used becomes the session's
        updates["provider"] = provider
        if model and not session.model:
            updates["model"] = model
    if updates:
        session = service.update(session, **updates)
    engine = provider_instance or provider_for(service, session, provider)
    if not model and (provider is None or provider == session.provider):
        model = session.model  # a one-off other provider gets its own default model

    user = service.prepare([Message(role=Role.USER, content=prompt, agent=agent)], session)[0]
    history = service.store.list_messages(session.id)
    runs = {r.id: r for r in service.store.list_runs(session.id)}
    budget = max_tokens or session.max_tokens
    if context_window == 0:  # unlimited: the whole history, as far as the model's own window goes
        context_window = None
        if max_tokens is None:
            budget = whole_history_budget(model or engine.default_model, service.config.sections.get("context_windows"),
                                          engine.name)

    # In a shared session the new turn says who asks, as every earlier one does (see context.assemble).
    sent_prompt = f"[{agent}] {user.content}" if session.metadata.get("shared") and agent else user.content

    def build() -> AssembledContext:
        return assemble(session, history, runs, max_tokens=budget, strategy=strategy, window=context_window,
                        prompt=sent_prompt, prompt_tokens=None if sent_prompt != user.content else user.tokens)  # fmt: skip

    ctx = build()
    compacted = None
    if ctx.needs_compaction and context_window is None:
        compacted = await compact_session(service, session, budget=budget, auto=True, messages=history, runs=runs)
        if compacted is not None:
            history = service.store.list_messages(session.id)
            ctx = build()

    conversation = None
    if engine.keeps_conversation and session.provider_sessions:
        conversation = Conversation.decode(session.provider_sessions[-1])
    request = ChatRequest(
        messages=ctx.messages,
        model=model,
        conversation=conversation,
        cwd=session.shell_cwd or session.worktree,
        new_turn=_new_turn(session, history, sent_prompt) if engine.keeps_conversation else None,
    )
    final: Completion | None = None
    async for event in engine.stream(request):
        if isinstance(event, Completion):
            final = event
        else:
            yield event
    if final is None:
        raise ProviderError(f"{engine.name}: the answer ended without a final event")

    metadata: dict[str, object] = {
        "provider": engine.name,
        "model": final.model,
        "context": {
            "strategy": ctx.strategy,
            "budget": ctx.budget,
            "tokens": ctx.tokens,
            "rawHistory": ctx.accounting.raw_history,
            "contextHistory": ctx.accounting.context_history,
            "rawCommands": ctx.accounting.raw_commands,
            "contextCommands": ctx.accounting.context_commands,
        },
    }
    if final.note:
        metadata["note"] = final.note
    if final.stop_reason:
        metadata["stop_reason"] = final.stop_reason
    assistant = Message(
        role=Role.ASSISTANT,
        content=final.text,
        agent=agent,
        usage=final.usage,
        tokens=count_tokens(final.text, session.model),
        metadata=metadata,
    )
    stored = service.record(session, [user, assistant])
    if final.conversation is not None:
        encoded = final.conversation.encode()
        fresh = service.resolve(session.id)
        if not fresh.provider_sessions or fresh.provider_sessions[-1] != encoded:
            session = service.update(fresh, provider_sessions=[*fresh.provider_sessions, encoded])
    yield AskResult(service.resolve(session.id), stored[0], stored[1], final, ctx, compacted)


async def compact_session(
    service: Sessions,
    session: Session,
    *,
    budget: int | None = None,
    keep_last: int | None = None,
    max_summary_tokens: int | None = None,
    method: compaction.Method = "extractive",
    provider: str | None = None,
    auto: bool = False,
    messages: list[Message] | None = None,
    runs: dict[str, CommandRun] | None = None,
) -> compaction.CompactionResult | None:
    """Summarize the older uncovered turns of `session` into one stored summary message."""
    budget = budget or session.max_tokens
    history = messages if messages is not None else service.store.list_messages(session.id)
    history = [m for m in history if m.damage is None]  # a summary is made of what reads back
    the_plan = compaction.plan(history, budget, keep_last=keep_last)
    if the_plan is None:
        return None
    if runs is None:
        runs = {r.id: r for r in service.store.list_runs(session.id)}
    limit = max_summary_tokens or compaction.default_summary_tokens(budget)
    engine = provider_for(service, session, provider) if method == "model" else None
    summary = await compaction.summarize_plan(
        the_plan, runs=runs, max_tokens=limit, method=method, provider=engine,
        model=session.model, cwd=session.shell_cwd or session.worktree,
    )  # fmt: skip
    message = compaction.summary_message(summary, the_plan, auto=auto)
    stored = service.record(session, [message])[0]
    return compaction.CompactionResult(
        summary=stored,
        method=summary.method,
        covers=summary.covers,
        covered_messages=len(the_plan.new_turns),
        covered_tokens=int(message.metadata["covered_tokens"]),
        summary_tokens=stored.tokens or summary.tokens,
        omitted=summary.omitted,
        kept=the_plan.kept,
    )
