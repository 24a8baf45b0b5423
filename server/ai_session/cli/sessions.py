"""Session lifecycle: create, list, show, pause/resume/end, delete, rename, exists, clear, worktree."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from ai_session.cli.render import Result
from ai_session.cli.spec import arg, command
from ai_session.cli.views import (
    ago,
    details_json,
    message_line,
    model_json,
    run_line,
    session_fields,
    session_json,
)
from ai_session.core.providers import PROVIDERS

if TYPE_CHECKING:
    from collections.abc import Callable

    from ai_session.cli.spec import Arg
    from ai_session.core.manager import SessionManager
    from ai_session.core.models import Session


def session_result(s: Session, text: str) -> Result:
    return Result(data=session_json(s), view=text)


@command(
    "create",
    arg("name_pos", nargs="?", metavar="NAME", help="session name (or --name)"),
    arg("--name", help="unique name (default: from agent/role)"),
    arg("--agent", help="agent that works in it (e.g. frontend, claude)"),
    arg("--role", help="the agent's role (e.g. Frontend); pools are per role"),
    arg("--template", "--from-template", dest="template", metavar="TEMPLATE",
        help="start from a saved template; with --preload, create that template instead"),
    arg("--preload", metavar="TEXT", help="with --template NAME: create the template NAME with TEXT as its "
        "system prompt (and the settings given here), no session"),
    arg("--pool", action="store_true", help="take an idle pre-created session of --role if there is one; "
        "with --count, fill the pool instead"),
    arg("--count", type=int, metavar="N", help="with --pool: add N idle sessions to the role's pool"),
    arg("--max-tokens", type=int, help="context budget (default 4096, AI_SESSION_MAX_TOKENS or "
        "[session_management.context_window] size)"),
    arg("--worktree", nargs="?", const=".", metavar="PATH", help="bind to the git worktree of PATH (default: .)"),
    arg("--provider", choices=PROVIDERS, help="AI provider for `ask`"),
    arg("--model", help="model name for the provider"),
    arg("--system-prompt", help="preloaded system prompt"),
    arg("--tag", action="append", help="tag (repeatable)"),
    arg("--ai-context", action="store_true", help="accepted for the ai-session crate's CLI: every session keeps "
        "an AI context (this is the default)"),
    arg("--compression", action=argparse.BooleanOptionalAction, default=None,
        help="give the agent the compressed context form of command output (default: on, AI_SESSION_COMPRESSION); "
        "--no-compression gives it the output as printed, in this session"),
)
def create(m: SessionManager, a: argparse.Namespace) -> Result:
    """Create a session. `--template NAME --preload TEXT` creates a template instead;
    `--role R --pool --count N` fills R's pool with N idle sessions."""
    from ai_session.core.errors import InvalidInput

    name = a.name or a.name_pos
    settings = {"agent": a.agent, "max_tokens": a.max_tokens, "provider": a.provider, "model": a.model,
                "tags": a.tag or ()}  # fmt: skip
    if a.preload is not None:
        if not a.template or name or a.pool:
            raise InvalidInput("--preload creates a template: give it with --template NAME (and no session name or --pool)")
        t = m.create_template(a.template, system_prompt=a.preload, role=a.role, **settings)
        return Result(data=model_json(t), view=f"created template {t.name}; start a session from it with "
                      f"`ai-session create --from-template {t.name}`")
    if a.count is not None:
        if not a.pool or name:
            raise InvalidInput("--count N fills a pool: use it with --role ROLE --pool (and no session name)")
        report = m.fill_pool(a.role, a.count, template=a.template, system_prompt=a.system_prompt,
                             compression=a.compression, **settings)  # fmt: skip
        p = report.pool
        text = [(f"pool {p.role}: created {len(report.created)} idle session(s); {report.waiting} waiting "
                f"(min {p.min_idle}, max {p.max_idle})")]  # fmt: skip
        if report.max_idle_raised_from is not None:
            text.append(f"max idle raised from {report.max_idle_raised_from} to {p.max_idle} so none is retired")
        return Result(data=[session_json(s) for s in report.created], view=text)
    s = m.create(name, role=a.role, template=a.template, from_pool=a.pool, worktree=a.worktree,
                 system_prompt=a.system_prompt, compression=a.compression, **settings)  # fmt: skip
    return session_result(s, f"created session {s.name} ({s.id})")


@command(
    "show",
    arg("--history", action="store_true", help="include messages and command runs"),
    arg("--limit", type=int, default=20, help="last N messages/runs (default 20; 0 = all)"),
    target="session",
)
def show(m: SessionManager, a: argparse.Namespace) -> Result:
    """A session's details and totals: token usage against its budget, cost in total and per
    model, tokens per interaction; with --history its messages and command runs."""
    view = m.show(a.session, history=a.history, limit=a.limit)
    details = m.details(view.session)
    data = {**session_json(view.session, view.totals), "details": details_json(details)}
    text: list[Any] = [session_fields(view.session, view.totals, details)]
    notes = []
    if view.session.damage:
        notes.append(f"[ai-session] this session's stored record is damaged ({view.session.damage}); "
                     f"`ai-session repair {view.session.name}` quarantines it")  # fmt: skip
    if a.history:
        data["messages"] = model_json(view.messages)
        data["runs"] = model_json(view.runs, exclude={"context"})
        text.append(f"\nhistory (last {a.limit}):" if a.limit else "\nhistory:")
        text += [message_line(msg) for msg in view.messages]
        if view.runs:
            text.append("\ncommand runs:")
            text += [run_line(run) for run in view.runs]
        damaged = [f"#{msg.seq}" for msg in view.messages if msg.damage] + [r.id for r in view.runs if r.damage]
        if damaged:
            notes.append(f"[ai-session] {len(damaged)} damaged row(s) shown as such ({', '.join(damaged)}); the rest is "
                         f"intact. See `ai-session validate {view.session.name}`")  # fmt: skip
    return Result(data=data, view=text, notes=notes)


def _state_change(name: str, verb: str, help: str, *extra: Arg, then: Callable[..., None] | None = None) -> None:
    def handler(m: SessionManager, a: argparse.Namespace) -> Result:
        from ai_session.core.errors import InvalidInput

        if a.all == bool(a.session):
            raise InvalidInput(f"{name} takes a SESSION, or --all (with --role/--agent to choose), not both")
        if (a.role or a.agent) and not a.all:
            raise InvalidInput("--role and --agent choose the sessions of --all")
        if not a.all:
            s = getattr(m, name)(a.session)
            if then is not None:
                then(m, s, a)  # e.g. resume: continue the agent's conversation (replaces this process)
            return session_result(s, f"{verb} session {s.name} ({s.id})")
        changed = m.change_all(name, role=a.role, agent=a.agent)
        lines = [f"{verb} session {s.name} ({s.id})" for s in changed] + [f"{verb} {len(changed)} session(s)"]
        return Result(data=[session_json(s) for s in changed], view=lines)

    handler.__doc__ = help
    command(
        name,
        arg("--all", action="store_true", help=f"{name} every session it applies to (of --role, of --agent)"),
        arg("--role", help="with --all: only this role's sessions"),
        arg("--agent", help="with --all: only this agent's sessions"),
        *extra,
        target="session?",
    )(handler)


def _continue_agent(m: SessionManager, s: Session, a: argparse.Namespace) -> None:
    from ai_session.cli.agents import continue_conversation

    if not a.no_agent:
        continue_conversation(m, s, a)


_state_change("pause", "paused", "Pause a session (or --all: every active and idle one); it keeps its history and shell state.")
_state_change("resume", "resumed", "Resume a paused or idle session (or --all of them). In a terminal, a session "
              "bound to a Claude Code conversation continues it: `claude --resume ID` starts in its directory.",
              arg("--no-agent", action="store_true", help="only mark it active; do not start the agent"),
              then=_continue_agent)
_state_change("end", "ended", "End a session (or --all): kept, read-only (fork it to go on).")


def confirm(question: str) -> bool:
    """Ask on the terminal; only an explicit yes counts."""
    answer = input(f"{question} [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def trash_note(m: SessionManager) -> str:
    keep = m.trash_keep()
    return f"kept {keep.days} days; `ai-session trash restore NAME` brings it back" if keep else "the trash keeps nothing"


@command("delete", arg("--force", "-f", action="store_true", help="do not ask for confirmation"), target="session")
def delete(m: SessionManager, a: argparse.Namespace) -> Result:
    """Move a session to the trash with its history (kept 30 days: `ai-session trash restore` brings
    it back); with `[trash] keep_days = 0` it is deleted at once."""
    s = m.resolve(a.session)
    trashing = bool(m.trash_keep())
    question = (f"move session {s.name} ({s.id}) to the trash?" if trashing
                else f"delete session {s.name} ({s.id}) and all its history for good?")  # fmt: skip
    if not a.force and sys.stdin.isatty() and not confirm(question):
        return Result(status=1, notes=["kept"])
    s = m.delete(s.id)
    trashed = s.trashed_at is not None
    text = (f"moved session {s.name} ({s.id}) to the trash ({trash_note(m)})" if trashed
            else f"deleted session {s.name} ({s.id})")  # fmt: skip
    return Result(data={"deleted": s.id, "name": s.name, "trashed": trashed}, view=text)


@command("rename", arg("new_name", metavar="NEW_NAME"), target="session")
def rename(m: SessionManager, a: argparse.Namespace) -> Result:
    """Rename a session. Names: letters, digits and `. _ @ + : -`, starting with a letter or digit, at most 128."""
    s = m.rename(a.session, a.new_name)
    return session_result(s, f"renamed to {s.name} ({s.id})")


@command("exists", target="session")
def exists(m: SessionManager, a: argparse.Namespace) -> Result:
    """Exit 0 if the session exists, 1 if not (nothing printed unless --format json)."""
    found = m.exists(a.session)
    return Result(data={"exists": found}, status=0 if found else 1)


@command(
    "clear",
    arg("--older-than", metavar="AGE", help="sessions inactive for AGE (7d, 12h; a bare number is days), whatever "
        "their status"),
    arg("--idle-only", action="store_true", help="only idle sessions"),
    arg("--force", "-f", action="store_true", help="do not ask for confirmation"),
    arg("--dry-run", action="store_true", help="only show what would be moved to the trash"),
)
def clear(m: SessionManager, a: argparse.Namespace) -> Result:
    """Move stale sessions to the trash: with --older-than AGE every session inactive that long
    (an imported session counts as active from its import), with --idle-only only idle ones,
    with neither the idle and ended ones; then apply the message retention of
    [session_management.message_retention] to the sessions left. In a terminal it lists what it
    will do and asks; without one it does nothing unless --force."""
    from ai_session.core.durations import parse_age

    doomed = m.clear_candidates(older_than=parse_age(a.older_than) if a.older_than else None, idle_only=a.idle_only)
    gone = {s.id for s in doomed}
    kept = [s for s in m.list() if s.id not in gone]
    retention = m.apply_retention(kept, dry_run=True)
    trashing = bool(m.trash_keep())
    verb, where = ("move", " to the trash") if trashing else ("delete", "")
    listing = [f"{s.name}{where} ({s.status.value}, last active {ago(s.last_active)})" for s in doomed]
    plan = [f"would {verb} {line}" for line in listing] + [r.describe(done=False) for r in retention]
    data: dict[str, Any] = {"dryRun": True, "sessions": [{"id": s.id, "name": s.name} for s in doomed],
                            "retention": [{"id": r.session.id, "name": r.session.name, "removed": r.removed,
                                           "why": r.why} for r in retention]}  # fmt: skip
    if not doomed and not retention:
        return Result(data=data, view="nothing to clear")
    if a.dry_run:
        return Result(data=data, view=[*plan, f"would {verb} {len(doomed)} session(s){where}"])
    if not a.force:
        if not sys.stdin.isatty():
            return Result(data=data, view=plan, status=1,
                          notes=[(f"ai-session: nothing done: {len(doomed)} session(s) listed above would be; "
                                 f"run again with --force to {verb} them (no terminal to ask on)")])  # fmt: skip
        print("\n".join(plan))
        if not confirm(f"{verb} {len(doomed)} session(s){where}" + (" and apply retention" if retention else "") + "?"):
            return Result(data=data, status=1, notes=["nothing done"])
    m.discard(doomed)
    done = m.apply_retention([m.resolve(s.id) for s in kept if s.id in {r.session.id for r in retention}])
    data.update(dryRun=False, retention=[{"id": r.session.id, "name": r.session.name, "removed": r.removed,
                                          "why": r.why, "summarySeq": r.summary_seq} for r in done])  # fmt: skip
    done_verb = "moved" if trashing else "deleted"
    lines = [f"{done_verb} {line}" for line in listing] + [r.describe() for r in done]
    note = f" ({trash_note(m)})" if trashing and doomed else ""
    return Result(data=data, view=[*lines, f"{done_verb} {len(doomed)} session(s){where}{note}"])


@command(
    "worktree",
    arg("path", nargs="?", default=".", help="a directory in the worktree (default: .)"),
    arg("--agent", help="agent of a newly created session"),
)
def worktree(m: SessionManager, a: argparse.Namespace) -> Result:
    """Find or create the session bound to the git worktree and branch of PATH."""
    s, created = m.worktree_session(a.path, agent=a.agent)
    return Result(data={**session_json(s), "created": created},
                  view=f"{'created' if created else 'attached'} session {s.name} ({s.id}) for {s.worktree} @ {s.branch}")
