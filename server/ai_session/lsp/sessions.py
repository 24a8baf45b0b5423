"""Session lifecycle, history operations, templates, pools, stats and maintenance requests."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ai_session.core.models import Message, MessageKind, Role
from ai_session.lsp.context import session_of
from ai_session.lsp.summaries import summaries, summary, totals_payload
from ai_session.lsp.wire import Dumped, dump, request
from ai_session.protocol import payloads as p

if TYPE_CHECKING:
    from ai_session.lsp.server import AiSessionServer


# Bulky fields a list view never shows; sessions/get has them.
LIST_EXCLUDES = {"session": {"shell_env", "metadata", "provider_sessions", "system_prompt"}}


def _marked(row: Dumped, current: bool) -> Dumped:
    """A kept row as it is, or a copy saying whether it is the current session now."""
    return row if row["current"] is current else Dumped({**row, "current": current})


def register(server: AiSessionServer) -> None:
    m = server.manager

    @request(server, "aiSession/sessions/list")
    def list_sessions(params: p.ListSessionsParams) -> Dumped:
        # Editors list after every change notification, a page at a time. After a write the
        # order is read again, but only the rows of the sessions written are made again.
        current = server.current_session_id

        def build() -> Dumped:
            # A page is read from the store alone (its rows and a count), not cut from the whole list.
            page, total = m.page(statuses=params.statuses, agent=params.agent, role=params.role,
                                 worktree=params.worktree, include_pool=params.include_pool, offset=params.offset,
                                 limit=params.limit)  # fmt: skip
            rows = {s.id: row for s in page if (row := server.cache.lookup(f"row|{s.id}")) is not None}
            missing = [s for s in page if s.id not in rows]
            for s, row in zip(missing, summaries(server, missing), strict=True):
                rows[s.id] = server.cache.put(f"row|{s.id}", dump(row, exclude=LIST_EXCLUDES), session=s.id)
            head = dump(p.ListSessionsResult(sessions=[], current_session_id=current, total=total))
            return Dumped.listing(head, "sessions", [_marked(rows[s.id], s.id == current) for s in page])

        return server.cache.get(f"page|{params.model_dump_json()}|{current}", build)

    def ref(params: p.SessionRef) -> str:
        return session_of(server, params).id

    @request(server, "aiSession/sessions/get")
    def get_session(params: p.GetSessionParams) -> p.SessionDetail:
        view = m.show(ref(params), history=params.history, limit=params.limit)
        return p.SessionDetail(
            summary=p.SessionSummary(session=view.session, totals=totals_payload(view.totals),
                                     current=view.session.id == server.current_session_id),
            messages=view.messages,
            runs=view.runs,
        )

    @request(server, "aiSession/sessions/create")
    def create(params: p.CreateSessionParams) -> p.SessionSummary:
        session = m.create(params.name, agent=params.agent, role=params.role, template=params.template,
                           from_pool=params.from_pool, max_tokens=params.max_tokens, worktree=params.worktree,
                           provider=params.provider, model=params.model, system_prompt=params.system_prompt,
                           tags=params.tags)
        return summary(server, session)

    @request(server, "aiSession/sessions/rename")
    def rename(params: p.RenameSessionParams) -> p.SessionSummary:
        return summary(server, m.rename(ref(params), params.new_name))

    @request(server, "aiSession/sessions/checkName")
    def check_name(params: p.CheckNameParams) -> p.NameCheck:
        return p.NameCheck(problem=m.name_problem(params.name, renaming=params.renaming))

    @request(server, "aiSession/sessions/shareTerminal")
    def share_terminal(params: p.ShareTerminalParams) -> p.SessionSummary:
        return summary(server, m.share_terminal(ref(params), params.share))

    for verb, action in (("pause", m.pause), ("resume", m.resume), ("end", m.end)):
        request(server, f"aiSession/sessions/{verb}")(lambda params, action=action: summary(server, action(ref(params))))

    @request(server, "aiSession/sessions/delete")
    def delete(params: p.SessionRef) -> p.DeleteResult:
        session = m.delete(ref(params))
        if session.id == server.current_session_id:
            server.current_session_id = None
        return p.DeleteResult(deleted=session.id, trashed=session.trashed_at is not None)

    @request(server, "aiSession/sessions/fork")
    def fork(params: p.ForkSessionParams) -> p.SessionSummary:
        return summary(server, m.fork(ref(params), at=params.at, name=params.name))

    @request(server, "aiSession/sessions/merge")
    def merge(params: p.MergeSessionsParams) -> p.SessionSummary:
        return summary(server, m.merge(params.sessions, params.name))

    @request(server, "aiSession/sessions/export")
    def export(params: p.ExportSessionParams) -> p.ExportSessionResult:
        return p.ExportSessionResult(path=str(m.export(ref(params), Path(params.path) if params.path else None)))

    @request(server, "aiSession/sessions/import")
    def import_(params: p.ImportSessionParams) -> p.SessionSummary:
        return summary(server, m.import_file(Path(params.path), params.format, name=params.name))

    @request(server, "aiSession/sessions/addMessage")
    def add_message(params: p.AddMessageParams) -> p.SessionSummary:
        session = session_of(server, params)
        m.add_messages(session, [Message(role=Role(params.role), content=params.content, kind=MessageKind(params.kind),
                                         pinned=params.pinned, agent=params.agent)])
        return summary(server, m.resolve(session.id))

    @request(server, "aiSession/templates/list")
    def templates(_: p.Empty) -> p.TemplateList:
        return p.TemplateList(templates=m.templates())

    @request(server, "aiSession/templates/save")
    def save_template(params: p.TemplateSaveParams):
        return m.save_template(ref(params), params.name, system_prompt=params.system_prompt)

    @request(server, "aiSession/templates/delete")
    def delete_template(params: p.NameParams) -> p.DeleteResult:
        m.delete_template(params.name)
        return p.DeleteResult(deleted=params.name, trashed=False)

    @request(server, "aiSession/pool/list")
    def pools(_: p.Empty) -> p.PoolList:
        return p.PoolList(pools=[p.PoolState(config=s.config, idle=s.idle) for s in m.pool_status()])

    @request(server, "aiSession/pool/set")
    def set_pool(config) -> p.PoolState:
        m.configure_pool(config)
        state = next(s for s in m.pool_status() if s.config.role == config.role)
        return p.PoolState(config=state.config, idle=state.idle)

    @request(server, "aiSession/pool/acquire")
    def acquire(params: p.PoolAcquireParams) -> p.SessionSummary:
        return summary(server, m.acquire(params.role, name=params.name))

    @request(server, "aiSession/stats/get")
    def stats(params: p.StatsParams) -> p.StatsResult:
        period = timedelta(days=params.period_days) if params.period_days else None
        return p.StatsResult.model_validate(m.stats(period=period, group_by=params.group_by, savings=params.savings).as_dict())

    @request(server, "aiSession/store/validate")
    def validate(params: p.ValidateParams) -> p.ValidateResult:
        problems = m.repair(params.session) if params.repair else m.validate(params.session)
        return p.ValidateResult(problems=[p.ProblemInfo.model_validate(x.__dict__) for x in problems])
