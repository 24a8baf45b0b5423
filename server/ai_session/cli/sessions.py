"""Session lifecycle: create, list, show, pause/resume/end, delete, rename, exists, clear, worktree."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ai_session.cli.render import Result, Table
from ai_session.cli.spec import arg, command
from ai_session.cli.views import ago, human_tokens, message_line, percent, run_line, session_fields, session_json
from ai_session.core.providers import PROVIDERS

if TYPE_CHECKING:
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
    arg("--template", help="start from a saved template"),
    arg("--pool", action="store_true", help="take an idle pre-created session of --role if there is one"),
    arg("--max-tokens", type=int, help="context budget (default 4096 or AI_SESSION_MAX_TOKENS)"),
    arg("--worktree", nargs="?", const=".", metavar="PATH", help="bind to the git worktree of PATH (default: .)"),
    arg("--provider", choices=PROVIDERS, help="AI provider for `ask`"),
    arg("--model", help="model name for the provider"),
    arg("--system-prompt", help="preloaded system prompt"),
    arg("--tag", action="append", help="tag (repeatable)"),
)
def create(m: SessionManager, a: argparse.Namespace) -> Result:
    s = m.create(a.name or a.name_pos, agent=a.agent, role=a.role, template=a.template, from_pool=a.pool,
                 max_tokens=a.max_tokens, worktree=a.worktree, provider=a.provider, model=a.model,
                 system_prompt=a.system_prompt, tags=a.tag or ())  # fmt: skip
    return session_result(s, f"created session {s.name} ({s.id})")


STATUS_FLAGS = ("active", "idle", "paused", "ended", "pool")


@command(
    "list",
    *(arg(f"--{flag}", action="store_true", help=f"only {flag} sessions (combinable)") for flag in STATUS_FLAGS),
    arg("--agent", help="only this agent's sessions"),
    arg("--role", help="only this role's sessions"),
    arg("--detailed", action="store_true", help="also show id, branch and worktree"),
)
def list_sessions(m: SessionManager, a: argparse.Namespace) -> Result:
    from ai_session.core.models import SessionStatus
    from ai_session.core.store import Totals

    statuses = [SessionStatus(flag) for flag in STATUS_FLAGS if getattr(a, flag)]
    sessions = m.list(statuses=statuses or None, agent=a.agent, role=a.role, include_pool=a.pool)
    totals = m.totals(sessions)
    headers = ["NAME", "STATUS", "AGENT", "ROLE", "MSGS", "TOKENS", "SAVED", "LAST ACTIVE"]
    if a.detailed:
        headers += ["ID", "BRANCH", "WORKTREE"]
    rows = []
    for s in sessions:
        t = totals.get(s.id, Totals())
        row = [s.name, s.status.value, s.agent or "-", s.role or "-", t.messages, human_tokens(t.message_tokens),
               percent(t.raw_tokens, t.context_tokens), ago(s.last_active)]  # fmt: skip
        if a.detailed:
            row += [s.id, s.branch or "-", s.worktree or "-"]
        rows.append(row)
    empty = "no sessions (create one with `ai-session create --name NAME` or `ai-session worktree`)"
    return Result(data=[session_json(s, totals.get(s.id, Totals())) for s in sessions],
                  view=Table(headers, rows, empty=empty))  # fmt: skip


@command(
    "show",
    arg("--history", action="store_true", help="include messages and command runs"),
    arg("--limit", type=int, default=20, help="last N messages/runs (default 20; 0 = all)"),
    target="session",
)
def show(m: SessionManager, a: argparse.Namespace) -> Result:
    from ai_session.cli.views import model_json

    view = m.show(a.session, history=a.history, limit=a.limit)
    data = session_json(view.session, view.totals)
    text: list[str] = [session_fields(view.session, view.totals).text()]
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


def _state_change(name: str, verb: str, help: str) -> None:
    def handler(m: SessionManager, a: argparse.Namespace) -> Result:
        s = getattr(m, name)(a.session)
        return session_result(s, f"{verb} session {s.name} ({s.id})")

    handler.__doc__ = help
    command(name, target="session")(handler)


_state_change("pause", "paused", "Pause a session: it keeps its history and shell state.")
_state_change("resume", "resumed", "Resume a paused or idle session.")
_state_change("end", "ended", "End a session: kept, read-only (fork it to go on).")


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
    s = m.rename(a.session, a.new_name)
    return session_result(s, f"renamed to {s.name} ({s.id})")


@command("exists", target="session")
def exists(m: SessionManager, a: argparse.Namespace) -> Result:
    """Exit 0 if the session exists, 1 if not (nothing printed unless --format json)."""
    found = m.exists(a.session)
    return Result(data={"exists": found}, status=0 if found else 1)


@command(
    "clear",
    arg("--older-than", metavar="AGE", help="only sessions inactive for AGE (e.g. 7d, 12h)"),
    arg("--idle-only", action="store_true", help="only idle sessions (not ended ones)"),
    arg("--force", action="store_true", help="also active and paused sessions"),
    arg("--dry-run", action="store_true", help="show what would be moved to the trash"),
)
def clear(m: SessionManager, a: argparse.Namespace) -> Result:
    """Move idle and ended sessions to the trash (active and paused ones only with --force). An
    imported session counts as active from its import."""
    from ai_session.core.durations import parse_duration

    older = parse_duration(a.older_than) if a.older_than else None
    doomed = m.clear(older_than=older, idle_only=a.idle_only, force=a.force, dry_run=a.dry_run)
    trashing = bool(m.trash_keep())
    verb = ("would move" if a.dry_run else "moved") if trashing else ("would delete" if a.dry_run else "deleted")
    where = " to the trash" if trashing else ""
    lines = [f"{verb} {s.name}{where} ({s.status.value}, last active {ago(s.last_active)})" for s in doomed]
    lines.append(f"{verb} {len(doomed)} session(s){where}" + (f" ({trash_note(m)})" if trashing and doomed else "")
                 + ("" if a.force else "; active and paused sessions are kept without --force"))
    return Result(data={"dryRun": a.dry_run, "sessions": [{"id": s.id, "name": s.name} for s in doomed]}, view=lines)


@command(
    "worktree",
    arg("path", nargs="?", default=".", help="a directory in the worktree (default: .)"),
    arg("--agent", help="agent of a newly created session"),
)
def worktree(m: SessionManager, a: argparse.Namespace) -> Result:
    s, created = m.worktree_session(a.path, agent=a.agent)
    return Result(data={**session_json(s), "created": created},
                  view=f"{'created' if created else 'attached'} session {s.name} ({s.id}) for {s.worktree} @ {s.branch}")
