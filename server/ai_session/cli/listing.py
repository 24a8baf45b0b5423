"""`ai-session list`: the sessions, newest activity first.

The table is answered by the session host when one is running (its store is open); without
one, by reading an SQLite store read-only here (core/listing.py). Either way this process
imports the standard library only: importing pydantic and building a model per session cost
more than the whole listing. A host is never started only to list. `--format json` and
`--detailed` (every field of every session), and a store the read-only path cannot read as
it is (a team store, one to upgrade first), open the store as every command does. The table
is built here, by `table`, from rows of one shape (core/listing.py `Listed.table_row`).
"""

from __future__ import annotations

from ai_session.cli.render import Result, Table
from ai_session.cli.spec import arg, command

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the host path imports no more)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any

    from ai_session.core.manager import SessionManager

STATUS_FLAGS = ("active", "idle", "paused", "ended", "pool")
HEADERS = ["NAME", "STATUS", "AGENT", "ROLE", "MSGS", "TOKENS", "SAVED", "LAST ACTIVE"]
EMPTY = "no sessions (create one with `ai-session create --name NAME` or `ai-session worktree`)"


@command(
    "list",
    *(arg(f"--{flag}", action="store_true", help=f"only {flag} sessions (combinable)") for flag in STATUS_FLAGS),
    arg("--all", action="store_true", help="every session, whatever its status (ended and pooled ones too)"),
    arg("--agent", help="only this agent's sessions"),
    arg("--role", help="only this role's sessions"),
    arg("--detailed", action="store_true", help="one block per session: status, messages, token usage against "
        "the budget, compressions, created, last activity, id, branch, worktree"),
    needs="nothing",
)
def list_sessions(_: None, a: argparse.Namespace) -> Result:
    """Sessions, newest activity first. Without a status flag: every status but pooled. While a
    session host runs (one is started by exec, attach and the editors, never by list), it answers
    the table, as it has the store open."""
    which = {"statuses": [flag for flag in STATUS_FLAGS if getattr(a, flag)], "agent": a.agent, "role": a.role,
             "includePool": a.pool or a.all}  # fmt: skip
    if a.format == "table" and not a.detailed:
        listed = _from_host(which)
        if listed is None:
            listed = _read_only(which)
        if listed is not None:
            return Result(view=table(listed))
    from ai_session.core.manager import SessionManager

    m = SessionManager()
    try:
        return _listed_here(m, a, which)
    finally:
        m.close()


def _from_host(which: dict[str, Any]) -> list[list[Any]] | None:
    """The rows, from the session host if one of this version is running; else None."""
    from ai_session.host.client import HostError, HostLost, HostUnavailable, connect

    try:
        with connect(start=False) as conn:
            return conn.request("aiSession/host/listSessions", which)["rows"]
    except (HostUnavailable, HostLost, HostError):
        return None  # no host (or one that cannot list): read the store here


def _read_only(which: dict[str, Any]) -> list[list[Any]] | None:
    """The rows, from the store opened read-only here; None when it cannot be read that way.
    The config is loaded as every command loads it: a bad value is an error here too."""
    from ai_session.core import listing
    from ai_session.core.config import Config

    listed = listing.read_only(Config.load().store_url, statuses=listing.wanted(which["statuses"], which["includePool"]),
                               agent=which["agent"], role=which["role"])  # fmt: skip
    return None if listed is None else [s.table_row() for s in listed]


def _listed_here(m: SessionManager, a: argparse.Namespace, which: dict[str, Any]) -> Result:
    from ai_session.cli.views import detail_fields, details_json, session_json
    from ai_session.core.store import Totals

    if a.format == "table" and not a.detailed:
        return Result(view=table(rows(m, which)))
    sessions = m.list(**_filters(which))
    totals = m.totals(sessions)
    data = [session_json(s, totals.get(s.id, Totals())) for s in sessions]
    if a.detailed:
        blocks: list[Any] = []
        for s, entry in zip(sessions, data, strict=True):
            details = m.details(s)
            entry["details"] = details_json(details)
            blocks += [f"{s.name}", detail_fields(s, totals.get(s.id, Totals()), details), ""]
        return Result(data=data, view=blocks[:-1] or EMPTY)
    return Result(data=data)


def rows(m: SessionManager, which: dict[str, Any]) -> list[list[Any]]:
    """What the table shows of each session `which` selects (statuses, agent, role,
    includePool), as the session host sends it: plain JSON values, no session record parsed."""
    return [s.table_row() for s in m.listing(**_filters(which))]


def _filters(which: dict[str, Any]) -> dict[str, Any]:
    from ai_session.core.models import SessionStatus

    return {"statuses": [SessionStatus(s) for s in which.get("statuses") or ()] or None, "agent": which.get("agent"),
            "role": which.get("role"), "include_pool": bool(which.get("includePool"))}  # fmt: skip


def table(listed: Sequence[Sequence[Any]]) -> Table:
    from datetime import datetime

    from ai_session.cli.views import ago, human_tokens, percent

    return Table(HEADERS, [[name, status, agent or "-", role or "-", messages, human_tokens(tokens), percent(raw, context),
                            ago(datetime.fromisoformat(last))]
                           for name, status, agent, role, messages, tokens, raw, context, last in listed], empty=EMPTY)  # fmt: skip
