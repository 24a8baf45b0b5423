"""SessionManager: the one façade the CLI, the library API and the language server call.

It owns the rules (names, state transitions, redaction, token counts, provenance); the
store only stores. Feature modules (pool, maintenance, stats, interop) are functions over
the store that the manager wires together.
"""

from __future__ import annotations

import builtins
import io
import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from ai_session.core import listing, maintenance, overview, pool, retention, stats, transcripts, trash
from ai_session.core import worktree as git_worktree
from ai_session.core.accounting import RAW_SCAN_FACTOR, agent_output_cap, output_raw_tokens, pipe_text
from ai_session.core.config import Config
from ai_session.core.errors import Ambiguous, Conflict, Damaged, InvalidInput, NotFound
from ai_session.core.ids import new_id
from ai_session.core.interop import ImportBundle, channelcoder, claude_code, limits, native
from ai_session.core.listing import Listed
from ai_session.core.models import (
    Change,
    CommandRun,
    Message,
    MessageKind,
    PoolConfig,
    Role,
    RunStatus,
    Session,
    SessionStatus,
    Template,
    quarantine_marker,
    utcnow,
)
from ai_session.core.privacy import private_dir, private_output
from ai_session.core.redact import redact_json_rows
from ai_session.core.sessions import Sessions
from ai_session.core.store import (
    Damage,
    Quarantined,
    SessionAccess,
    SessionFilter,
    SessionStore,
    StorageStats,
    Totals,
    open_store,
)
from ai_session.core.tokens import count_tokens
from ai_session.core.usage import SessionUsage, summarize_usage

if TYPE_CHECKING:
    # What only some commands need is imported where it is used: every command pays for the
    # start-up of what is imported here (the compressor, context assembly, providers, shells).
    from ai_session.core import ask as ask_flow
    from ai_session.core.compaction import CompactionResult
    from ai_session.core.context import AssembledContext, History
    from ai_session.core.providers import Provider
    from ai_session.core.shell.sessions import SessionShells

_Copyable = TypeVar("_Copyable", Message, CommandRun)
_Row = TypeVar("_Row")

IMPORT_FORMATS = ("auto", "native", "channelcoder", "claude-code")


@dataclass
class SessionView:
    """A session with what `show` needs: history, runs and totals."""

    session: Session
    totals: Totals
    messages: list[Message] = field(default_factory=list)
    runs: list[CommandRun] = field(default_factory=list)


@dataclass
class SessionDetails:
    """What `show` and `list --detailed` add: the next context against the budget, the
    compressions done, and what the model calls cost."""

    context_tokens: int
    budget: int
    compressed_outputs: int  # command outputs given to the agent in their compressed form
    summaries: int  # compactions stored
    usage: SessionUsage

    @property
    def budget_used(self) -> float:
        return self.context_tokens / self.budget if self.budget else 0.0


class SessionManager:
    def __init__(self, config: Config | None = None, store: SessionStore | None = None) -> None:
        self.config = config or Config.load()
        private_dir(self.config.home)
        # The service the core's flows share; the store stays behind it and this façade.
        self.sessions = Sessions(self.config, store or open_store(self.config.store_url, user=self.config.user))
        self._store = self.sessions.store
        maintenance.upgrade_redaction(self._store)  # rows an older ai-session stored unredacted

    def close(self) -> None:
        self._store.close()

    # ------------------------------------------------------------------ the store, as adapters see it

    @property
    def store_url(self) -> str:
        """Where sessions are stored (a team store's URL without its password)."""
        return self._store.url

    @property
    def store_file(self) -> Path | None:
        """The embedded store's file; None for a team store."""
        path = getattr(self._store, "path", None)
        return Path(path) if path else None

    def store_version(self) -> object:
        """Changes whenever anything in the store changed, in any process (for caches)."""
        return self._store.version()

    def last_change_id(self) -> int:
        return self._store.last_change_id()

    def changes_since(self, since: int, *, limit: int = 1000) -> list[Change]:
        """The change log after `since`, oldest first: which session each write touched (for caches)."""
        return self._store.changes_since(since, limit)

    def watch(self, since: int, *, interval: float = 0.2) -> AsyncIterator[list[Change]]:
        """Batches of changes after `since`, from any process, as they happen."""
        return self._store.watch(since, interval=interval)

    # ------------------------------------------------------------------ lookup

    def resolve(self, ref: str) -> Session:
        """A live session by exact id, else exact name, else unique id prefix (core/sessions.py)."""
        return self.sessions.resolve(ref)

    def find(self, ref: str) -> Session | None:
        """A live session by exact id or exact name; None when there is none."""
        return self.sessions.find(ref)

    def exists(self, ref: str) -> bool:
        try:
            self.resolve(ref)
        except (NotFound, Ambiguous):
            return False
        return True

    def get_run(self, ref: str) -> CommandRun:
        run = self._store.get_run(ref)
        if run:
            return run
        ids = self._store.find_run_ids(ref if ref.startswith("run_") else "run_" + ref)
        if len(ids) == 1 and (run := self._store.get_run(ids[0])):
            return run
        if len(ids) > 1:
            raise Ambiguous(f"{ref!r} matches {len(ids)} runs; give more of the id")
        raise NotFound(f"no command run {ref!r}")

    def describe_output(self, run: CommandRun, raw: str) -> CommandRun:
        """A finished run with its context form, reducer, diagnostics and token counts.

        raw_tokens and context_tokens are the figures of core/accounting.py: the output as
        an agent's pipe would have carried it (cleaned, capped at its truncation limit)
        against what it receives here.
        """
        from ai_session.core.compress import clean_lines, compress

        cap = run.metadata.get("agent_output_cap") or agent_output_cap(self.config.sections)  # the asking agent's own first
        session = self._store.get_session(run.session_id)
        if self.config.compression and (session is None or session.metadata.get("compression", True)):
            result = compress(raw, run.command, run.exit_code, run_id=run.id)
            context, tool, diagnostics = result.text, result.tool, result.diagnostics
        else:  # the agent gets what its pipe would have carried, and how the command ended
            code = "?" if run.exit_code is None else run.exit_code
            context = pipe_text(clean_lines(raw[: cap * RAW_SCAN_FACTOR]), cap) + f"[ai-session] exit {code}\n"
            tool, diagnostics = None, []
        return run.model_copy(update={
            "context": context, "tool": tool, "diagnostics": diagnostics,
            "raw_tokens": output_raw_tokens(raw, cap), "context_tokens": count_tokens(context),
        })  # fmt: skip

    def runs(self, ref: str | Session, *, last: int | None = None) -> list[CommandRun]:
        """A session's command runs, oldest first (the last `last` of them)."""
        session = ref if isinstance(ref, Session) else self.resolve(ref)
        return self._store.list_runs(session.id, last=last)

    def run_tokens(self, run: CommandRun) -> tuple[int, int]:
        """The history tokens a run added (its command message, in context form) and its session's total after."""
        added = sum(m.tokens or 0 for m in self._store.list_messages(run.session_id, last=5) if m.run_id == run.id)
        total = self._store.totals([run.session_id]).get(run.session_id, Totals()).message_tokens
        return added, total

    def raw_output(self, ref: str) -> str:
        """A run's full raw output as stored (redacted); empty when it printed nothing."""
        return self._store.run_output(self.get_run(ref).id) or ""

    def run_output(self, ref: str, *, mode: str = "context", lines: str | None = None,
                   pattern: str | None = None, context: int = 0, plain: bool = False) -> tuple[CommandRun, str]:
        """A run's output as the agent saw it (context), raw, a line range, or grep hits.

        `plain`: the raw output as a pipe would have received it (no ANSI escapes, `\\r`
        redraws collapsed), line for line."""
        from ai_session.core.compress.retrieve import grep_lines, slice_lines
        from ai_session.core.compress.text import clean_lines

        run = self.get_run(ref)
        if mode == "context" and run.context is not None:
            return run, run.context
        raw = self._raw_output(run)
        if mode == "context":
            return run, raw or ""
        if raw is None:
            raise NotFound(f"run {run.id} has no stored output")
        if plain:
            raw = "\n".join(clean_lines(raw))
        if mode == "raw":
            return run, raw
        if mode == "lines":
            if not lines:
                raise InvalidInput("--lines needs a range like 10:40")
            return run, slice_lines(raw, lines, number=True)
        if mode == "grep":
            if not pattern:
                raise InvalidInput("--grep needs a pattern")
            return run, grep_lines(raw, pattern, context=context)
        raise InvalidInput(f"unknown output mode {mode!r}: use context, raw, lines or grep")

    def _raw_output(self, run: CommandRun) -> str | None:
        """A run's stored raw output; a damaged or quarantined one is an error saying so."""
        try:
            raw = self._store.run_output(run.id)
        except Damaged as exc:
            raise Damaged(f"the raw output of {run.id} does not read back ({exc}); `ai-session repair "
                          f"{run.session_id}` moves it to quarantine") from None  # fmt: skip
        marker = quarantine_marker(run)
        if raw is None and marker and marker.get("output"):
            raise Damaged(f"the raw output of {run.id} was damaged ({marker.get('damage')}) and is kept in "
                          f"quarantine (`ai-session quarantine list {run.session_id}`)")  # fmt: skip
        return raw

    # ------------------------------------------------------------------ lifecycle

    def unique_name(self, base: str) -> str:
        return self.sessions.unique_name(base)

    def create(
        self,
        name: str | None = None,
        *,
        agent: str | None = None,
        role: str | None = None,
        template: str | None = None,
        from_pool: bool = False,
        max_tokens: int | None = None,
        worktree: str | Path | git_worktree.Worktree | None = None,
        provider: str | None = None,
        model: str | None = None,
        system_prompt: str | None = None,
        tags: Sequence[str] = (),
        compression: bool | None = None,
        into_pool: bool = False,
    ) -> Session:
        """A new session; `worktree` (a path in it, or one already detected) binds it to that git
        worktree and its branch. With `from_pool`, an idle pooled session of `role` (made from
        `template`, if given) is taken instead when there is one, with the other options applied.
        `compression=False` gives the agent command output as printed in this session.
        `into_pool` makes a waiting pooled session of `role` (see `fill_pool`)."""
        tree = git_worktree.require(worktree) if isinstance(worktree, (str, Path)) else worktree
        if from_pool:
            self.sessions.check_new(name, max_tokens=max_tokens, pooled=True, role=role)
        if not into_pool:
            self._check_role_limit(role)
        if from_pool:
            changes = {"agent": agent, "max_tokens": max_tokens, "provider": provider, "model": model,
                       "system_prompt": system_prompt, "tags": list(tags) or None,
                       "worktree": tree.root if tree else None, "branch": tree.label if tree else None}
            pooled = pool.acquire(self.sessions, role, name=name, template=template,  # type: ignore[arg-type]
                                  changes={k: v for k, v in changes.items() if v is not None})
            if pooled:
                if compression is not None:
                    pooled = self.sessions.update(pooled, metadata={**pooled.metadata, "compression": compression})
                return pooled
        return self.sessions.create(name, agent=agent, role=role, template=template, max_tokens=max_tokens, tree=tree,
                                    provider=provider, model=model, system_prompt=system_prompt, tags=tags,
                                    compression=compression, into_pool=into_pool)  # fmt: skip

    def _check_role_limit(self, role: str | None) -> None:
        """`[session_management] max_sessions_per_role`: live (active, idle, paused) sessions per role."""
        limit = self.config.session_management.max_sessions_per_role
        if role is None or limit is None:
            return
        live = self._store.list_sessions(SessionFilter(
            role=role, statuses={SessionStatus.ACTIVE, SessionStatus.IDLE, SessionStatus.PAUSED}))  # fmt: skip
        if len(live) >= limit:
            raise Conflict(f"role {role} already has {len(live)} live session(s), the most "
                           f"[session_management] max_sessions_per_role = {limit} allows; end or delete one first")

    def fill_pool(self, role: str, count: int, **options: object) -> pool.FillReport:
        """Add `count` idle sessions made with `options` to the role's pool (see core/pool.py)."""
        return pool.fill(self.sessions, role, count, **options)

    def set_pool(self, role: str, **changes: object) -> PoolConfig:
        """Create or change a role's pool; settings not given keep their value."""
        return pool.configure(self.sessions, pool.settings(self.sessions, role, changes))

    def list(
        self,
        *,
        statuses: Iterable[SessionStatus] | None = None,
        agent: str | None = None,
        role: str | None = None,
        worktree: str | None = None,
        include_pool: bool = False,
        offset: int = 0,
        limit: int | None = None,
    ) -> builtins.list[Session]:
        """Sessions, newest activity first; `offset` and `limit` read one page from the store."""
        self.refresh_idle()
        return self._store.list_sessions(self._listing(statuses, agent, role, worktree, include_pool),
                                         offset=offset, limit=limit)  # fmt: skip

    def listing(self, *, statuses: Iterable[SessionStatus | str] | None = None, agent: str | None = None,
                role: str | None = None, include_pool: bool = False) -> builtins.list[Listed]:  # fmt: skip
        """The sessions `list` selects with their kept totals, as plain rows (core/listing.py):
        no record parsed, no model built, for listings of many sessions."""
        wanted = listing.wanted([SessionStatus(s).value for s in statuses or ()], include_pool)
        return self._store.listing(statuses=wanted, agent=agent, role=role)

    def page(self, *, offset: int = 0, limit: int | None = None, **filters: Any) -> tuple[builtins.list[Session], int]:
        """One page of `list` (same filters) and how many sessions the whole listing holds."""
        sessions = self.list(offset=offset, limit=limit, **filters)
        if limit is None or (len(sessions) < limit and (sessions or offset == 0)):
            return sessions, offset + len(sessions)  # the last page says the count itself
        return sessions, self._store.count_sessions(self._listing(**filters))

    @staticmethod
    def _listing(statuses: Iterable[SessionStatus] | None = None, agent: str | None = None, role: str | None = None,
                 worktree: str | None = None, include_pool: bool = False) -> SessionFilter:  # fmt: skip
        wanted = listing.wanted([s.value for s in statuses or ()], include_pool)
        return SessionFilter(statuses=None if wanted is None else {SessionStatus(s) for s in wanted}, agent=agent,
                             role=role, worktree=worktree)  # fmt: skip

    def refresh_idle(self) -> int:
        """Active sessions untouched for IDLE_AFTER become idle (what `list --idle` shows)."""
        stale = self._store.list_sessions(
            SessionFilter(statuses={SessionStatus.ACTIVE}, inactive_before=utcnow() - listing.IDLE_AFTER)
        )
        stale = [s for s in stale if not s.damage]  # a damaged record is written by `repair` only
        for s in stale:
            self._store.update_session_fields(s.id, {"status": SessionStatus.IDLE})
        return len(stale)

    def show(self, ref: str, *, history: bool = False, limit: int | None = 20) -> SessionView:
        session = self.resolve(ref)
        view = SessionView(session=session, totals=self._store.totals([session.id]).get(session.id, Totals()))
        if history:
            last = limit or None  # `--limit 0` means all
            view.messages = self._store.list_messages(session.id, last=last)
            view.runs = self._store.list_runs(session.id, last=last)
        return view

    def details(self, ref: str | Session) -> SessionDetails:
        from ai_session.core import ask as ask_flow
        from ai_session.core.context import assemble as assemble_context

        session = ref if isinstance(ref, Session) else self.resolve(ref)
        messages = self._store.list_messages(session.id)
        runs = self._store.list_runs(session.id)
        default_strategy = ask_flow.context_settings(self.sessions)
        ctx = assemble_context(session, messages, {r.id: r for r in runs}, strategy=default_strategy)
        return SessionDetails(
            context_tokens=ctx.tokens, budget=ctx.budget, compressed_outputs=sum(1 for r in runs if r.tool),
            summaries=sum(1 for m in messages if m.kind is MessageKind.SUMMARY), usage=summarize_usage(messages),
        )  # fmt: skip

    def totals(self, sessions: Sequence[Session]) -> dict[str, Totals]:
        return self._store.totals([s.id for s in sessions])



    def name_problem(self, name: str, *, renaming: str | None = None) -> str | None:
        """Why `name` cannot name a new session (or `renaming`, the one being renamed); None if it can."""
        try:
            limits.session_name(name, "name")
        except InvalidInput as exc:
            return str(exc)
        taken = self._store.get_session_by_name(name)
        if taken is not None and (renaming is None or taken.id != self.resolve(renaming).id):
            return f"a session named {name!r} already exists"
        return None

    def share_terminal(self, ref: str, share: bool) -> Session:
        """Whether commands a person types in the session's attached terminals reach the model."""
        return self.sessions.update(self.resolve(ref), share_terminal=share)

    def rename(self, ref: str, new_name: str) -> Session:
        limits.session_name(new_name, "new name")
        return self.sessions.update(self.resolve(ref), name=new_name)

    def pause(self, ref: str) -> Session:
        session = self.resolve(ref)
        if session.status is SessionStatus.ENDED:
            raise Conflict(f"session {session.name} has ended; it cannot be paused")
        return self.sessions.update(session, status=SessionStatus.PAUSED)

    def resume(self, ref: str) -> Session:
        session = self.resolve(ref)
        if session.status is SessionStatus.ENDED:
            raise Conflict(f"session {session.name} has ended; fork it to continue (`ai-session fork`)")
        return self.sessions.update(session, status=SessionStatus.ACTIVE, last_active=utcnow())

    def end(self, ref: str) -> Session:
        return self.sessions.update(self.resolve(ref), status=SessionStatus.ENDED)

    def delete(self, ref: str) -> Session:
        """Move a session to the trash (see core/trash.py); `trashed_at` is None when the
        trash keeps nothing and it was deleted at once."""
        return trash.discard(self.sessions, [self.resolve(ref)])[0]

    def touch(self, session: Session) -> Session:
        """Mark activity: an idle or pooled session a user works in is active again."""
        return self.sessions.touch(session)

    def clear_candidates(self, *, older_than: timedelta | None = None, idle_only: bool = False) -> builtins.list[Session]:
        """The sessions `clear` deletes. With `idle_only`: idle ones. Else, with `older_than`:
        every session inactive that long (active and paused ones too, as the seed's `clear`);
        without an age: idle and ended ones. Pooled sessions never (their pool retires them)."""
        self.refresh_idle()
        if idle_only:
            statuses = {SessionStatus.IDLE}
        elif older_than is not None:
            statuses = {SessionStatus.ACTIVE, SessionStatus.IDLE, SessionStatus.PAUSED, SessionStatus.ENDED}
        else:
            statuses = {SessionStatus.IDLE, SessionStatus.ENDED}
        cutoff = utcnow() - older_than if older_than is not None else None
        return self._store.list_sessions(SessionFilter(statuses=statuses, inactive_before=cutoff))

    def clear(self, *, older_than: timedelta | None = None, idle_only: bool = False) -> builtins.list[Session]:
        """Move what `clear_candidates` finds to the trash; returns those sessions. Callers that
        talk to a person confirm the candidates first, then `discard` them."""
        return self.discard(self.clear_candidates(older_than=older_than, idle_only=idle_only))

    def discard(self, sessions: Iterable[Session]) -> builtins.list[Session]:
        """Move sessions to the trash (or delete them, when it keeps nothing)."""
        return trash.discard(self.sessions, sessions)

    # ------------------------------------------------------------------ trash

    def trash_list(self) -> Sequence[Session]:
        return trash.listing(self.sessions)

    def trash_restore(self, ref: str, *, name: str | None = None) -> Session:
        return trash.restore(self.sessions, ref, name)

    def trash_empty(self, *, older_than: timedelta | None = None, ref: str | None = None,
                    dry_run: bool = False) -> Sequence[Session]:  # fmt: skip
        return trash.empty(self.sessions, older_than=older_than, ref=ref, dry_run=dry_run)

    def trash_keep(self) -> timedelta:
        return trash.keep(self.config)

    def change_all(self, action: str, *, role: str | None = None, agent: str | None = None) -> builtins.list[Session]:
        """pause, resume or end every session (of `role`, of `agent`) that the change applies to:
        pause active and idle ones, resume paused and idle ones, end all that have not ended."""
        applies = {"pause": {SessionStatus.ACTIVE, SessionStatus.IDLE},
                   "resume": {SessionStatus.PAUSED, SessionStatus.IDLE},
                   "end": {SessionStatus.ACTIVE, SessionStatus.IDLE, SessionStatus.PAUSED}}  # fmt: skip
        if action not in applies:
            raise InvalidInput(f"unknown state change {action!r}: pause, resume or end")
        self.refresh_idle()
        chosen = self._store.list_sessions(SessionFilter(statuses=applies[action], role=role, agent=agent))
        return [getattr(self, action)(s.id) for s in chosen]

    # ------------------------------------------------------------------ messages



    def add_messages(self, ref: str | Session, messages: Sequence[Message]) -> builtins.list[Message]:
        return self.sessions.record(ref, messages)

    def add_message(
        self,
        ref: str | Session,
        role: Role | str,
        content: str,
        *,
        kind: MessageKind | str = MessageKind.CHAT,
        pinned: bool = False,
        agent: str | None = None,
    ) -> Message:
        message = Message(role=Role(role), content=content, kind=MessageKind(kind), pinned=pinned, agent=agent)
        return self.add_messages(ref, [message])[0]

    def messages(self, ref: str | Session, *, last: int | None = None) -> builtins.list[Message]:
        session = ref if isinstance(ref, Session) else self.resolve(ref)
        return self._store.list_messages(session.id, last=last)

    def pin(self, ref: str, seq: int, pinned: bool = True) -> Message:
        session = self.resolve(ref)
        found = [m for m in self._store.list_messages(session.id, after_seq=seq - 1) if m.seq == seq]
        if not found:
            raise NotFound(f"session {session.name} has no message #{seq}")
        message = found[0].model_copy(update={"pinned": pinned})
        self._store.update_messages([message])
        return message

    def delete_messages(self, ref: str | Session, seqs: Sequence[int]) -> int:
        session = ref if isinstance(ref, Session) else self.resolve(ref)
        return self._store.delete_messages(session.id, seqs)

    def apply_retention(self, sessions: Sequence[Session] | None = None, *,
                        dry_run: bool = False) -> builtins.list[retention.RetentionReport]:  # fmt: skip
        """The configured message retention on `sessions` (default: all); what it removed, per session."""
        return retention.apply(self, list(self.list() if sessions is None else sessions), dry_run=dry_run)

    def prunable(self, ref: str | Session, *, keep_recent: int = 0) -> builtins.list[int]:
        """The messages a history cut keeping the last `keep_recent` removes: older ones, pinned aside."""
        messages = self.messages(ref)
        return [m.seq for m in messages[: max(0, len(messages) - keep_recent)] if not m.pinned]

    def clear_history(self, ref: str, *, keep_last: int = 0) -> int:
        session = self.resolve(ref)
        return self._store.delete_messages(session.id, self.prunable(session, keep_recent=keep_last))

    # ------------------------------------------------------------------ templates

    def save_template(self, ref: str, name: str, *, system_prompt: str | None = None) -> Template:
        limits.session_name(name, "template name")
        session = self.resolve(ref)
        preload = [m for m in self._store.list_messages(session.id) if (m.pinned or m.role is Role.SYSTEM) and not m.damage]
        template = Template(
            name=name,
            system_prompt=system_prompt if system_prompt is not None else session.system_prompt,
            agent=session.agent,
            role=session.role,
            provider=session.provider,
            model=session.model,
            max_tokens=session.max_tokens,
            tags=session.tags,
            preload=[m.model_copy(update={"session_id": "", "seq": 0}) for m in preload],
            source_session=session.id,
        )
        self._store.save_template(template)
        return template

    def create_template(self, name: str, *, system_prompt: str | None = None, agent: str | None = None,
                        role: str | None = None, provider: str | None = None, model: str | None = None,
                        max_tokens: int | None = None, tags: Sequence[str] = ()) -> Template:  # fmt: skip
        """A template made from settings alone (no source session); a name in use is a conflict."""
        limits.session_name(name, "template name")
        if self._store.get_template(name):
            raise Conflict(f"a template named {name!r} already exists (`ai-session template delete {name}` first)")
        if max_tokens is not None and max_tokens <= 0:
            raise InvalidInput("--max-tokens must be positive")
        template = Template(name=name, system_prompt=system_prompt, agent=agent,
                            role=role, provider=provider, model=model, max_tokens=max_tokens or self.config.max_tokens,
                            tags=list(tags))  # fmt: skip
        self._store.save_template(template)
        return template

    def templates(self) -> builtins.list[Template]:
        return self._store.list_templates()

    def get_template(self, name: str) -> Template:
        return self.sessions.template(name)

    def delete_template(self, name: str) -> None:
        if not self._store.delete_template(name):
            raise NotFound(f"no template {name!r}")

    # ------------------------------------------------------------------ merge, fork

    def merge(self, refs: Sequence[str], name: str | None = None) -> Session:
        """A new session with the messages of all given sessions interleaved by time; written
        in one transaction, so a merge that fails leaves the store as it was."""
        if len(refs) < 2:
            raise InvalidInput("merge needs two or more sessions")
        if name:
            limits.session_name(name, "--output")
            if self._store.get_session_by_name(name):
                raise Conflict(f"a session named {name!r} already exists")
        sources = [self.resolve(r) for r in refs]
        if len({s.id for s in sources}) != len(sources):
            raise InvalidInput("merge got the same session twice")
        tagged: list[tuple[datetime, int, int, Message]] = []
        runs: list[tuple[CommandRun, str | None]] = []
        for index, src in enumerate(sources):
            history, outputs, damaged = self._store.contents(src.id)
            _refuse_damage(src, damaged)
            run_ids: dict[str, str] = {}
            for run, raw in outputs:
                run_copy = _copied(run, id=new_id("run"))
                run_ids[run.id] = run_copy.id
                runs.append((run_copy, raw))
            for m in history:
                copy = _copied(m, id=new_id("msg"), run_id=_renamed(run_ids, m.run_id),
                               metadata={**m.metadata, "origin": {"session": src.id, "seq": m.seq}})  # fmt: skip
                tagged.append((m.created_at, index, m.seq, copy))
        tagged.sort(key=lambda t: t[:3])
        first = sources[0]
        merged = Session(
            name=name or self.unique_name("-".join(s.name for s in sources)[:100]),
            agent=first.agent,
            role=first.role,
            worktree=first.worktree,
            branch=first.branch,
            provider=first.provider,
            model=first.model,
            max_tokens=max(s.max_tokens for s in sources),
            system_prompt=first.system_prompt,
            tags=sorted({t for s in sources for t in s.tags}),
            metadata={"merged_from": [{"id": s.id, "name": s.name} for s in sources]},
        )
        return self._store.create_session(merged, [t[3] for t in tagged], runs)

    def fork(self, ref: str, *, at: int | None = None, name: str | None = None) -> Session:
        """A new session whose history is the source's up to message `at` (inclusive)."""
        source = self.resolve(ref)
        history = self._store.list_messages(source.id)
        if at is not None:
            if not any(m.seq == at for m in history):
                raise NotFound(f"session {source.name} has no message #{at}")
            history = [m for m in history if m.seq <= at]
        _refuse_damage(source, [Damage.of_message(m) for m in history if m.damage])
        if name:
            limits.session_name(name, "name")
        fork = source.model_copy(
            update={
                "id": new_id("sess"),
                "name": name or self.unique_name(f"{source.name}-fork"),
                "status": SessionStatus.ACTIVE,
                "provider_sessions": [],  # the provider's conversation does not fork with us
                "created_at": utcnow(),
                "last_active": utcnow(),
                "metadata": {**source.metadata, "forked_from": {"id": source.id, "name": source.name, "at": at}},
            }
        )
        copies = [_copied(m, id=new_id("msg")) for m in history]
        return self._store.create_session(fork, copies)

    def checkpoint(self, ref: str | Session, name: str, *, replace: bool = False) -> tuple[Session, bool]:
        """A named copy of the session as it is now (a fork), which the session goes on past. Saving
        a checkpoint under the same name again updates it; with `replace`, whatever session has
        that name is replaced (a file-like "save as"). True when it replaced one."""
        source = ref if isinstance(ref, Session) else self.resolve(ref)
        limits.session_name(name, "checkpoint name")
        earlier = self._store.get_session_by_name(name)
        if earlier is not None:
            if earlier.id == source.id:
                raise InvalidInput(f"{name!r} is the session itself; a checkpoint needs another name")
            if not replace and (earlier.metadata.get("forked_from") or {}).get("id") != source.id:
                raise Conflict(f"a session named {name!r} already exists and is not a checkpoint of {source.name}")
            self.delete(earlier.id)
        copy = self.fork(source.id, name=name)
        return self.sessions.update(copy, metadata={**copy.metadata, "checkpoint": True}), earlier is not None

    # ------------------------------------------------------------------ worktree

    def worktree_session(self, path: str | Path = ".", *, agent: str | None = None) -> tuple[Session, bool]:
        """Find or create the session bound to the git worktree and branch of `path`."""
        tree = git_worktree.require(path)
        branch = tree.label
        found = self._store.list_sessions(
            SessionFilter(
                worktree=tree.root,
                branch=branch,
                statuses={SessionStatus.ACTIVE, SessionStatus.IDLE, SessionStatus.PAUSED},
            )
        )
        if found:
            return self.touch(found[0]), False
        base = f"{Path(tree.root).name}-{branch}".replace("/", "-")
        base = "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in base).lstrip(".-") or "worktree"
        session = self.create(self.unique_name(base[:100]), agent=agent, worktree=tree)
        return session, True

    def follow_conversation(self, path: str | Path, conversation_id: str, *, transcript: str | None = None,
                            agent: str = "claude-code") -> transcripts.Followed:  # fmt: skip
        """Bind an agent's conversation to the session of `path`'s worktree and store what its
        transcript gained since the last call (see core/transcripts.py)."""
        limits.foreign_id(conversation_id, "conversation id")
        return transcripts.follow(self, str(path), conversation_id, transcript=transcript, agent=agent)

    # ------------------------------------------------------------------ export, import

    def export_document(self, ref: str | None = None, *, skip_corrupted: bool = False) -> dict[str, Any]:
        """A session as our export format, as a dict (what `export_to` writes); without `ref`,
        every session (pooled ones aside) in one bundle. A damaged row is an error naming each
        one, unless `skip_corrupted`: then the readable rest is exported and `skipped` lists
        what was not."""
        out = io.StringIO()
        self.export_to(ref, out, skip_corrupted=skip_corrupted)
        document: dict[str, Any] = json.loads(out.getvalue())
        return document

    def export_to(self, ref: str | None, out: TextIO, *, skip_corrupted: bool = False) -> builtins.list[dict[str, Any]]:
        """Export a session (without `ref`: every one, pooled ones aside, in one bundle) to `out`
        as JSON, streamed from the store a batch of rows at a time (memory stays flat, and the C
        encoder writes them), every row redacted once more as it leaves. A damaged row is an
        error naming each one, raised where it is met (what was written stops mid-document, so
        no reader takes it for whole), unless `skip_corrupted`: then the readable rest is
        written and returned."""
        skipped: builtins.list[dict[str, Any]] = []

        def document(session: Session) -> Callable[[TextIO], None]:
            def write(to: TextIO) -> None:
                damaged: builtins.list[Damage] = []
                messages = self._store.stream_message_wire(session.id, damaged)
                runs = self._store.stream_runs(session.id, damaged)

                def undamaged(rows: Iterator[_Row]) -> Iterator[_Row]:
                    for row in rows:
                        if damaged:
                            break
                        yield row
                    if damaged:  # name every damaged row, not only the first one met
                        _refuse_damage(session, self._store.contents(session.id)[2],
                                       hint="or export the rest with --skip-corrupted")  # fmt: skip

                def skipped_rows() -> builtins.list[dict[str, Any]]:
                    rows = _skipped_rows(damaged)
                    skipped.extend(rows)
                    return rows

                if not skip_corrupted:
                    messages, runs = undamaged(messages), undamaged(runs)
                native.write_document(to, session, messages, runs, _leaving_json, skipped_rows)

            return write

        if ref is None:
            native.write_bundle(out, (document(s) for s in self.list()), _leaving_json)
        else:
            document(self.resolve(ref))(out)
        out.write("\n")
        return skipped

    def export_file(self, ref: str | None, path: Path | None = None, *,
                    skip_corrupted: bool = False) -> tuple[Path, builtins.list[dict[str, Any]]]:  # fmt: skip
        """Export to a file (0600, in place only once whole); default: the exports dir, named
        after the session (all.json for every session). Returns it and the rows left out."""
        if path is None:
            path = private_dir(self.config.export_dir) / f"{self.resolve(ref).name if ref else 'all'}.json"
        with private_output(Path(path)) as raw:
            out = io.TextIOWrapper(raw, encoding="utf-8")
            skipped = self.export_to(ref, out, skip_corrupted=skip_corrupted)
            out.flush()
            out.detach()  # the file is private_output's to close
        return Path(path), skipped

    def export(self, ref: str | None, path: Path | None = None, *, skip_corrupted: bool = False) -> Path:
        return self.export_file(ref, path, skip_corrupted=skip_corrupted)[0]

    def read_import(self, path: Path, fmt: str = "auto") -> builtins.list[ImportBundle]:
        return self.read_import_data(limits.read_bytes(Path(path)), fmt, where=str(path), file_name=Path(path).name)

    def read_import_data(self, data: bytes, fmt: str = "auto", *, where: str = "stdin",
                         file_name: str = "") -> builtins.list[ImportBundle]:  # fmt: skip
        """The sessions in an import file's bytes (one, or every session of an `export --all`)."""
        if fmt not in IMPORT_FORMATS:
            raise InvalidInput(f"unknown import format {fmt!r}: use one of {', '.join(IMPORT_FORMATS)}")
        data = limits.checked_bytes(data, where)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"{where} is not UTF-8 text") from None
        stem = Path(file_name).stem
        default_name = (limits.SESSION_NAME.match(stem) and stem) or "imported"
        jsonl = fmt == "claude-code" or (fmt == "auto" and (file_name.endswith(".jsonl") or native.looks_jsonl(text)))
        if jsonl:
            return [claude_code.from_lines(text.splitlines(), default_name)]
        doc = limits.parse_json(text, where)
        if fmt == "native" or (fmt == "auto" and native.looks_native(doc)):
            return native.from_bundle(doc) if native.is_bundle(doc) else [native.from_document(doc)]
        if fmt == "channelcoder" or (fmt == "auto" and channelcoder.looks_channelcoder(doc)):
            return [channelcoder.from_document(doc, default_name)]
        raise InvalidInput(f"{where}: unrecognised format; pass --from native, channelcoder or claude-code")

    def import_file(self, path: Path, fmt: str = "auto", *, name: str | None = None, agent: str | None = None) -> Session:
        """Import a file holding one session; see `import_data` for several."""
        bundles = self.read_import(path, fmt)
        if len(bundles) != 1:
            raise InvalidInput(f"{path} holds {len(bundles)} sessions; import it with `ai-session import --file`")
        return self._store_import(bundles[0], name=name, agent=agent)

    def import_data(self, data: bytes, fmt: str = "auto", *, where: str = "stdin", file_name: str = "",
                    name: str | None = None, agent: str | None = None) -> builtins.list[Session]:  # fmt: skip
        """Import every session in an import file's bytes; `name` only when it holds one.
        Everything is read and checked before the first session is stored."""
        bundles = self.read_import_data(data, fmt, where=where, file_name=file_name)
        if name and len(bundles) != 1:
            raise InvalidInput(f"--name names one session, and {where} holds {len(bundles)}")
        return [self._store_import(b, name=name, agent=agent) for b in bundles]

    def _store_import(self, bundle: ImportBundle, *, name: str | None, agent: str | None) -> Session:
        """Store one imported session, in one transaction (a failed import leaves the store as it
        was). Importing is activity: the session counts as active now for clearing; its original
        last activity stays in its metadata and its history keeps its times."""
        session = bundle.session
        if name:
            session = session.model_copy(update={"name": limits.session_name(name, "--name")})
        elif limits.looks_like_id(session.name):  # named before names could not look like ids
            session = session.model_copy(update={"name": self.unique_name("imported")})
        if agent:
            session = session.model_copy(update={"agent": limits.text(agent, "--agent", limit=128)})
        runs, messages = bundle.runs, bundle.messages
        if (self._store.get_session(session.id) or any(self._store.get_run(r.id) for r, _ in runs)
                or self._store.taken_message_ids([m.id for m in messages])):
            # A copy next to its original: everything gets ids of its own and names what it copies.
            session = session.model_copy(update={"id": new_id("sess")})
            new_ids = {r.id: new_id("run") for r, _ in runs}
            runs = [(_copied(r, id=new_ids[r.id]), raw) for r, raw in runs]
            messages = [_copied(m, id=new_id("msg"), run_id=_renamed(new_ids, m.run_id)) for m in messages]
        if self._store.get_session_by_name(session.name):
            session = session.model_copy(update={"name": self.unique_name(f"{session.name}-imported")})
        now = utcnow()
        session = session.model_copy(update={
            "last_active": now, "trashed_at": None,
            "metadata": {**session.metadata, "imported_at": now.isoformat(), "imported_format": bundle.source,
                         "imported_last_active": session.last_active.isoformat()},
        })  # fmt: skip
        runs = [(r.model_copy(update={"session_id": session.id}), raw) for r, raw in runs]
        messages = self.sessions.prepare(messages, session)
        return self._store.create_session(session, messages, runs)

    # ------------------------------------------------------------------ sharing (team store)

    def access(self, ref: str) -> tuple[Session, SessionAccess | None]:
        """A session with its owner and members (None on a single-user store)."""
        session = self.resolve(ref)
        return session, self._store.session_access(session.id)

    def share(self, ref: str, user: str, *, remove: bool = False) -> tuple[Session, SessionAccess]:
        """Let `user` (a database role) see and work in a session, or stop letting them."""
        session = self.resolve(ref)
        return session, self._store.share_session(session.id, user, remove=remove)

    def migrate_tmux(
        self,
        tmux_session: str,
        *,
        name: str | None = None,
        replace: bool = False,
        socket_name: str | None = None,
        socket_path: str | None = None,
    ) -> Session:
        """A new session from a live tmux session (cwd, scrollback, commands); with
        `replace` the tmux session is killed once the new one is stored."""
        from ai_session.core.interop import tmux

        server = tmux.Tmux(socket_name, socket_path)
        ts = server.read_session(tmux_session)
        if name:
            limits.session_name(name, "--name")
            if self._store.get_session_by_name(name):
                raise Conflict(f"a session named {name!r} already exists")
        bundle = tmux.to_bundle(ts, name or self.unique_name(f"tmux-{tmux_session}"))
        session = self._store.create_session(bundle.session, self.sessions.prepare(bundle.messages, bundle.session))
        if replace:
            server.kill_session(tmux_session)
        return session

    # ------------------------------------------------------------------ pools, maintenance, stats

    def configure_pool(self, config: PoolConfig) -> PoolConfig:
        return pool.configure(self.sessions, config)

    def pool_status(self) -> builtins.list[pool.PoolState]:
        return pool.status(self.sessions)

    def replenish_pools(self, role: str | None = None) -> dict[str, tuple[int, int]]:
        return pool.replenish(self.sessions, role)

    def remove_pool(self, role: str) -> int:
        return pool.remove(self.sessions, role)

    def acquire(self, role: str, *, name: str | None = None) -> Session:
        """A session for a task: an idle pooled one of `role` if any, else a new one."""
        self._check_role_limit(role)
        return pool.acquire(self.sessions, role, name=name) or self.create(name, role=role)

    def validate(self, ref: str | None = None) -> builtins.list[maintenance.Problem]:
        return maintenance.check(self.sessions, ref, fix=False, is_running=self.is_running)

    def repair(self, ref: str | None = None) -> builtins.list[maintenance.Problem]:
        return maintenance.check(self.sessions, ref, fix=True, is_running=self.is_running)

    def quarantined(self, ref: str | None = None) -> Sequence[Quarantined]:
        """Damaged originals `repair` moved out of the way (of one session, or all)."""
        return maintenance.quarantined(self.sessions, ref)

    def quarantine_document(self, ref: str | None = None) -> dict[str, Any]:
        return maintenance.quarantine_document(self.sessions, ref)

    def restore_quarantined(self, number: int) -> Quarantined:
        """Put a quarantined original back, if this version reads it; else `Damaged`."""
        return self._store.restore_quarantined(number)

    def backup(self, path: Path | None = None) -> Path:
        """A consistent copy of the store, taken while others write; default in the backups dir."""
        path = Path(path) if path is not None else _fresh(self.config.home / "backups", "sessions")
        self._store.backup(path)
        return path

    def restore(self, path: Path) -> Path:
        """Replace the store's content by a backup (checked before anything changes); returns
        where the replaced content was saved."""
        keep = _fresh(self.config.home / "backups", "before-restore")
        self._store.restore(Path(path), keep_current=keep)
        return keep

    def redact_stored(self) -> maintenance.RedactReport:
        """Rewrite every stored row through the redaction rules, then compact the store so
        the old copies are gone from disk (what `repair --redact` does)."""
        return maintenance.redact_and_compact(self._store)

    def optimize(self) -> dict[str, int]:
        return self._store.optimize()

    def stats(self, *, period: timedelta | None = None, group_by: stats.GroupBy = "session",
              savings: bool = False, agent: str | None = None, efficiency: bool = False) -> stats.StatsReport:  # fmt: skip
        """With `savings`, also history raw vs context per recorded answer (reads message bodies);
        `agent` keeps that agent's sessions; `efficiency` also counts compactions."""
        return stats.compute(self.sessions, period=period, group_by=group_by, savings=savings, agent=agent,
                             efficiency=efficiency)  # fmt: skip

    def global_stats(self) -> overview.GlobalReport:
        """The whole store in four blocks (efficiency, performance, resources, activity), all measured."""
        return overview.compute(self)

    def storage_stats(self) -> StorageStats | None:
        return self._store.storage_stats()

    # -- shells (async: they live on the caller's event loop) -----------------------------
    @cached_property
    def shells(self) -> SessionShells:
        """The live shells of this process's sessions; `await manager.shells.close()` at the end."""
        from ai_session.core.runs import RunRecorder
        from ai_session.core.shell.sessions import SessionShells

        # describe_output: compression settings and the accounting's one figure, defined here.
        return SessionShells(RunRecorder(self.sessions, self.describe_output), self.config.home)

    async def exec(
        self,
        ref: str | Session,
        command: str,
        *,
        timeout: float | None = None,
        cwd: str | None = None,
        on_output: Callable[[bytes], object] | None = None,
        on_start: Callable[[CommandRun], object] | None = None,
        stdin: bytes | str = "null",
        agent: str | None = None,
        output_cap: int | None = None,
    ) -> CommandRun:
        """Run a command in the session's persistent shell; output streams to `on_output`
        (raw bytes as printed); returns the recorded CommandRun (raw output stored, redacted).
        `agent` and its `output_cap` (its own limit on a command's output) are kept on the run."""
        return await self.shells.exec(ref, command, timeout=timeout, cwd=cwd, on_output=on_output, on_start=on_start,
                                      stdin=stdin, agent=agent, output_cap=output_cap)  # type: ignore[arg-type]

    def record_interrupted(self, *, last: int = 10) -> int:
        """Runs left "running" by a process that is gone (a killed session host) are recorded as
        lost, saying so; each session's `last` runs are looked at. Returns how many."""
        count = 0
        for session in self._store.list_sessions(SessionFilter()):
            for run in self._store.list_runs(session.id, last=last):
                if run.status is RunStatus.RUNNING and not self.is_running(run.id):
                    meta = {k: v for k, v in run.metadata.items() if k != "owner_pid"}
                    meta["interrupted"] = "the process running it (a session host) stopped before it ended"
                    self._store.save_run(run.model_copy(update={"status": RunStatus.LOST, "ended_at": utcnow(),
                                                               "metadata": meta}))  # fmt: skip
                    count += 1
        return count

    def is_running(self, run_id: str) -> bool:
        """Whether a run marked running still has a live owner process (maybe another one)."""
        run = self._store.get_run(run_id)
        if run is None or run.status is not RunStatus.RUNNING:
            return False
        from ai_session.core.shell import procs

        pid = run.metadata.get("owner_pid")
        return isinstance(pid, int) and pid > 0 and procs.alive(pid)

    # ------------------------------------------------------------------ context, compaction, ask

    def context(
        self,
        ref: str | Session,
        *,
        max_tokens: int | None = None,
        strategy: str | None = None,
        window: int | None = None,
        prompt: str | None = None,
        history: History | None = None,
    ) -> AssembledContext:
        """The exact context the model would receive next (with `prompt` as the new turn).
        `history`: the session's `context_history`, when the caller has it up to date."""
        from ai_session.core import ask as ask_flow
        from ai_session.core.context import assemble as assemble_context

        session = ref if isinstance(ref, Session) else self.resolve(ref)
        default_strategy = ask_flow.context_settings(self.sessions)
        return assemble_context(
            session, self.context_history(session) if history is None else history, max_tokens=max_tokens,
            strategy=strategy or default_strategy, window=window, prompt=prompt,
        )  # fmt: skip

    def context_history(self, session: Session, kept: History | None = None) -> History:
        """What contexts of `session` are assembled from: `kept` (made earlier for it) extended
        by the messages appended since, else a fresh pass over its whole history. Only appends
        may have happened since `kept` was made (a cache that follows the change log knows):
        an edit or a delete needs a fresh one. The run a new command message names is final
        when the message is appended (core/runs.py), so the runs read before it stay right."""
        from ai_session.core.context import History

        if kept is not None and kept.fits(session):
            new = self._store.list_messages(session.id, after_seq=kept.last_seq)
            named = {m.run_id for m in new if m.run_id and m.run_id not in kept.runs}
            runs = [r for run_id in named if (r := self._store.get_run(run_id)) and r.session_id == session.id]
            kept.extend(new, {r.id: r for r in runs})
            return kept
        runs_by_id = {r.id: r for r in self._store.list_runs(session.id)}
        return History.of(session, self._store.list_messages(session.id), runs_by_id, kept=True)

    async def acompact(
        self,
        ref: str | Session,
        *,
        budget: int | None = None,
        keep_last: int | None = None,
        max_summary_tokens: int | None = None,
        method: str = "extractive",
        provider: str | None = None,
    ) -> CompactionResult | None:
        """Store a summary of the older turns (originals kept); None when there is nothing to cover."""
        session = ref if isinstance(ref, Session) else self.resolve(ref)
        if session.status is SessionStatus.ENDED:
            raise Conflict(f"session {session.name} has ended; fork it to compact its history")
        if budget is not None and budget <= 0:
            raise InvalidInput(f"the token budget must be positive (got {budget})")
        if method not in ("extractive", "model"):
            raise InvalidInput(f"unknown summary method {method!r}; choose extractive or model")
        from ai_session.core import ask as ask_flow

        return await ask_flow.compact_session(
            self.sessions, session, budget=budget, keep_last=keep_last, max_summary_tokens=max_summary_tokens,
            method=method, provider=provider,  # type: ignore[arg-type]
        )  # fmt: skip

    def compact(self, ref: str | Session, **options: object) -> CompactionResult | None:
        """`acompact` for synchronous callers (the CLI); not for use inside an event loop."""
        import asyncio

        return asyncio.run(self.acompact(ref, **options))  # type: ignore[arg-type]

    def summaries(self, ref: str | Session) -> builtins.list[Message]:
        session = ref if isinstance(ref, Session) else self.resolve(ref)
        return [m for m in self._store.list_messages(session.id) if m.kind is MessageKind.SUMMARY]

    def covered(self, ref: str | Session, seq: int) -> tuple[Message, builtins.list[Message]]:
        """A summary and the original messages it covers (still stored, unchanged)."""
        session = ref if isinstance(ref, Session) else self.resolve(ref)
        history = self._store.list_messages(session.id)
        summary = next((m for m in history if m.seq == seq), None)
        if summary is None:
            raise NotFound(f"session {session.name} has no message #{seq}")
        if summary.kind is not MessageKind.SUMMARY or summary.covers is None:
            raise InvalidInput(f"message #{seq} is a {summary.kind.value} message, not a summary")
        first, last = summary.covers
        return summary, [m for m in history if first <= m.seq <= last and m.seq != seq]

    def ask(
        self,
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
    ) -> AsyncIterator[ask_flow.AskEvent]:
        """Stream an answer: TextDelta and Notice events, then one AskResult (messages stored).
        `new_session`: `ref` (the session or its id) was created for this ask, and an ask that
        fails (or is cancelled) before storing its answer removes it again: no orphan is left."""
        from ai_session.core import ask as ask_flow

        return ask_flow.ask(
            self.sessions, ref, prompt, agent=agent, shared=shared, provider=provider, model=model,
            context_window=context_window, max_tokens=max_tokens, strategy=strategy,
            provider_instance=provider_instance, new_session=new_session,
        )  # fmt: skip

    def provider_for(self, ref: str | Session, name: str | None = None) -> Provider:
        from ai_session.core import ask as ask_flow

        session = ref if isinstance(ref, Session) else self.resolve(ref)
        return ask_flow.provider_for(self.sessions, session, name)


def _copied(item: _Copyable, **changes: object) -> _Copyable:
    """A copy of a message or run (merge, fork, import) that names the original it copies,
    so stats count the original once however many sessions hold a copy."""
    return item.model_copy(update={**changes, "copy_of": item.copy_of or item.id})


def _renamed(new_ids: dict[str, str], run_id: str | None) -> str | None:
    """A copied message's run: the copy of its run when that was copied too."""
    return new_ids.get(run_id, run_id) if run_id is not None else None


def _refuse_damage(session: Session, damaged: Sequence[Damage], hint: str = "") -> None:
    """Stop before copying a session that has rows which do not read back (naming each)."""
    if not damaged:
        return
    rows = "; ".join(maintenance.describe(d) for d in damaged[:5]) + (" …" if len(damaged) > 5 else "")
    raise Damaged(
        f"session {session.name} has {len(damaged)} damaged row(s): {rows}. "
        f"`ai-session repair {session.name}` moves them to quarantine{', ' + hint if hint else ''}"
    )


def _skipped_rows(damaged: Sequence[Damage]) -> list[dict[str, Any]]:
    return [{"kind": d.kind, "ref": d.ref, "seq": d.seq, "damage": d.what} for d in damaged]


def _leaving_json(values: Sequence[Any]) -> list[str]:
    """JSON of values that leave in an export (redacted once more: nothing secret leaves)."""
    return redact_json_rows(values)


def _fresh(folder: Path, stem: str) -> Path:
    """A new file name in a private folder: `stem-<time>.db`, numbered if that is taken."""
    base = f"{stem}-{utcnow():%Y%m%d-%H%M%S}"
    path = private_dir(folder) / f"{base}.db"
    number = 1
    while path.exists():
        number += 1
        path = folder / f"{base}-{number}.db"
    return path
