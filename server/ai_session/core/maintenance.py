"""validate / repair: find what is broken in stored sessions and fix what can be.

Problems are data, so the CLI can print them and the language server can send them. A check
never stops at the first problem or the first session it cannot read: every damaged row is
listed with its session, its number and what is wrong. `repair` moves each damaged row to the
quarantine (kept byte for byte, exportable, restorable) and leaves in its place what is still
readable, marked, so the history shows where something was lost.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ai_session.core.errors import Damaged, NotFound
from ai_session.core.models import (
    CommandRun,
    Message,
    RunStatus,
    Session,
    SessionStatus,
    utcnow,
)
from ai_session.core.redact import redact
from ai_session.core.versions import REDACTION_RULES
from ai_session.core.store import Damage, Quarantined, SessionFilter, SessionStore
from ai_session.core.store.codec import scrubbed
from ai_session.core.tokens import count_tokens

if TYPE_CHECKING:
    from ai_session.core.sessions import Sessions


@dataclass
class Problem:
    session_id: str | None
    what: str
    fixable: bool = True
    fixed: bool = False
    session: str | None = None  # the session's name, for people
    seq: int | None = None  # the damaged message's number
    ref: str | None = None  # the damaged row's id (message, run or session)
    damaged: bool = False  # a row that does not read back (repair quarantines it)


def describe(d: Damage) -> str:
    """A damaged row for people: which row, and what is wrong with it."""
    row = {"message": f"message #{d.seq}", "run": f"record of run {d.ref}", "output": f"raw output of run {d.ref}",
           "session": "session record"}[d.kind]  # fmt: skip
    return f"{row}: {d.what}"


def _replacement(service: Sessions, session: Session, d: Damage) -> Session | Message | CommandRun:
    """What stays in the damaged row's place: everything still readable, and a marker."""
    store = service.store
    marker: dict[str, Any] = {"damage": d.what, "at": utcnow().isoformat()}
    if d.kind == "session":
        return session.model_copy(update={"damage": None, "metadata": {**session.metadata, "quarantine": marker}})
    if d.kind == "message":
        found = [m for m in store.list_messages(d.session_id, after_seq=(d.seq or 1) - 1) if m.id == d.ref]
        if not found:
            raise NotFound(f"message {d.ref} is no longer stored")
        m = found[0]
        body_lost = d.what.startswith("body:")  # the codec names the body first when it is what failed
        content = m.content
        if body_lost:
            content = (f"[ai-session] message #{m.seq} could not be read back ({d.what}); its original is kept "
                       f"in quarantine (`ai-session quarantine list {d.session_id}`)")  # fmt: skip
        return m.model_copy(update={
            "damage": None, "content": content, "tokens": count_tokens(content, session.model),
            "metadata": {**m.metadata, "quarantine": {**marker, "bodyLost": body_lost}},
        })  # fmt: skip
    run = store.get_run(d.ref)
    if run is None:
        raise NotFound(f"run {d.ref} is no longer stored")
    if d.kind == "output":
        marker["output"] = True
    return run.model_copy(update={
        "damage": None, "command": run.command or "(unreadable run record)",
        "metadata": {**run.metadata, "quarantine": marker},
    })  # fmt: skip


def _damage_problems(service: Sessions, session: Session, *, fix: bool) -> list[Problem]:
    problems = []
    for d in service.store.find_damage(session.id):
        problem = Problem(session.id, describe(d), session=session.name, seq=d.seq, ref=d.ref, damaged=True)
        if fix:
            service.store.quarantine(d, _replacement(service, session, d))
            problem.fixed = True
        problems.append(problem)
    return problems


def _session_problems(service: Sessions, session: Session, *, fix: bool, is_running: Callable[[str], bool]) -> list[Problem]:
    store = service.store
    problems = _damage_problems(service, session, fix=fix)
    if fix and problems:
        session = store.get_session(session.id) or session
    messages = [m for m in store.list_messages(session.id) if not m.damage]
    runs = {r.id: r for r in store.list_runs(session.id) if not r.damage}
    rewritten: dict[str, Message] = {}  # message fixes, written once at the end
    checks: list[Problem] = []
    bad_tokens = [m for m in messages if m.tokens != count_tokens(m.content, session.model)]
    if bad_tokens:
        checks.append(Problem(session.id, f"{len(bad_tokens)} message(s) with a wrong token count"))
        for m in bad_tokens:
            rewritten[m.id] = m.model_copy(update={"tokens": count_tokens(m.content, session.model)})
    dangling = [m for m in messages if m.run_id and m.run_id not in runs and store.get_run(m.run_id) is None]
    if dangling:
        checks.append(Problem(session.id, f"{len(dangling)} message(s) point at a missing command run"))
        for m in dangling:
            rewritten[m.id] = rewritten.get(m.id, m).model_copy(update={"run_id": None})
    if fix and rewritten:
        store.update_messages(rewritten.values())
        for p in checks:
            p.fixed = True
    stuck = [r for r in runs.values() if r.status is RunStatus.RUNNING and not is_running(r.id)]
    if stuck:
        checks.append(Problem(session.id, f"{len(stuck)} command run(s) marked running with no process behind them"))
        if fix:
            for r in stuck:
                store.save_run(r.model_copy(update={"status": RunStatus.LOST}))
            checks[-1].fixed = True
    if store.totals_differ(session.id, rebuild=fix):  # list, show and stats read them
        checks.append(Problem(session.id, "its kept totals differ from its history (counted again by repair)",
                              fixed=fix))  # fmt: skip
    if not session.damage:  # a damaged record is only rewritten by quarantining it
        checks += _record_problems(service, session, fix=fix)
    for p in checks:
        p.session = session.name
    return problems + checks


def _record_problems(service: Sessions, session: Session, *, fix: bool) -> list[Problem]:
    problems = []
    for wrong, what, right in (
        (session.last_active < session.created_at, "last activity is before creation",
         {"last_active": session.created_at}),
        (session.status is SessionStatus.POOL and not session.pool, "pooled session without a pool role",
         {"status": SessionStatus.IDLE}),
        (session.max_tokens <= 0, f"invalid token budget {session.max_tokens}",
         {"max_tokens": service.config.max_tokens}),
    ):  # fmt: skip
        if wrong:
            problems.append(Problem(session.id, what))
            if fix:
                session = service.store.update_session_fields(session.id, right)
                problems[-1].fixed = True
    return problems


def check(service: Sessions, ref: str | None = None, *, fix: bool,
          is_running: Callable[[str], bool]) -> list[Problem]:  # fmt: skip
    """Every problem in one session, or in the whole store (trashed sessions included);
    `is_running` tells whether a run marked running has a process behind it."""
    problems: list[Problem] = []
    if ref is None:
        try:
            store_level = service.store.integrity_problems()
        except Exception as exc:  # reported, and the per-session checks still run
            store_level = [f"the store's own integrity check failed: {exc}"]
        for what in store_level:
            orphan = "belong to no session" in what
            problems.append(Problem(None, what, fixable=orphan))
        if fix and any(p.fixable and p.session_id is None for p in problems):
            service.store.remove_orphans()
            for p in problems:
                if p.fixable and p.session_id is None:
                    p.fixed = True
        sessions = service.store.list_sessions(SessionFilter(trashed=None))
    else:
        sessions = [service.resolve(ref)]
    for session in sessions:
        try:
            problems += _session_problems(service, session, fix=fix, is_running=is_running)
        except Exception as exc:  # one session that cannot be checked never stops the rest
            problems.append(Problem(session.id, f"could not be checked: {exc}", fixable=False, session=session.name))
    return problems


# ---------------------------------------------------------------------- the quarantine


def quarantined(service: Sessions, ref: str | None = None) -> list[Quarantined]:
    session_id = service.resolve(ref).id if ref else None
    return service.store.list_quarantine(session_id)


def quarantine_document(service: Sessions, ref: str | None = None) -> dict[str, Any]:
    """The quarantined originals, byte for byte (bodies in base64), for a later version or a person."""
    return {
        "format": "ai-session-quarantine",
        "version": 1,
        "exportedAt": utcnow().isoformat(),
        "rows": [
            {"id": q.id, "kind": q.kind, "sessionId": q.session_id, "ref": q.ref, "seq": q.seq, "damage": q.damage,
             "at": q.at.isoformat(), "row": q.row,
             "body": base64.b64encode(q.body).decode() if q.body is not None else None}
            for q in quarantined(service, ref)
        ],
    }  # fmt: skip


# ---------------------------------------------------------------------- redaction of what is stored


@dataclass
class RedactReport:
    rows: int  # rows rewritten because something in them was secret
    bytes_before: int
    bytes_after: int


def redact_stored(store: SessionStore) -> int:
    """Rewrite every stored row that holds something the redaction rules now hide: session
    fields, message bodies and metadata (with their token counts), runs and their raw
    output, templates, pools; sessions in the trash too. A damaged row is left to `repair`
    (it cannot be rewritten without losing what is left of it). Returns how many rows were
    rewritten."""
    rewritten = 0
    for template in store.list_templates():
        if scrubbed(template) is not template:
            store.save_template(template)
            rewritten += 1
    for pool in store.list_pools():
        if scrubbed(pool) is not pool:
            store.save_pool(pool)
            rewritten += 1
    for session in store.list_sessions(SessionFilter(trashed=None)):
        if not session.damage and scrubbed(session) is not session:
            store.update_session(session)
            rewritten += 1
        changed = []
        for m in store.list_messages(session.id):
            clean = m if m.damage else scrubbed(m)
            if clean is not m:
                changed.append(clean.model_copy(update={"tokens": count_tokens(clean.content, session.model)}))
        store.update_messages(changed)
        rewritten += len(changed)
        for run in store.list_runs(session.id):
            if run.damage:
                continue
            try:
                raw = store.run_output(run.id)
            except Damaged:
                continue
            if scrubbed(run) is not run or (raw is not None and redact(raw) != raw):
                store.save_run(run, raw)
                rewritten += 1
    return rewritten


def redact_and_compact(store: SessionStore) -> RedactReport:
    """`redact_stored`, then free the space the old rows took, so no old copy stays on disk."""
    rows = redact_stored(store)
    before, after = store.compact()
    store.set_redaction_level(REDACTION_RULES)
    return RedactReport(rows, before, after)


def upgrade_redaction(store: SessionStore) -> RedactReport | None:
    """On opening a store kept under older redaction rules: redact it again, once."""
    level = store.redaction_level()
    if level is None or level >= REDACTION_RULES:
        return None
    return redact_and_compact(store)
