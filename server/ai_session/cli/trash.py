"""The trash: deleted sessions wait here `[trash] keep_days` (30) days before they are gone."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ai_session.cli.render import Result, Table
from ai_session.cli.sessions import confirm
from ai_session.cli.spec import arg, command
from ai_session.cli.views import ago, session_json

if TYPE_CHECKING:
    from ai_session.core.manager import SessionManager


@command("trash list", help="trashed sessions and the days left before each is removed for good")
def trash_list(m: SessionManager, a: argparse.Namespace) -> Result:
    from ai_session.core.store import Totals

    trashed, keep = m.trash_list(), m.trash_keep()
    totals = m.totals(trashed)
    now = datetime.now(UTC)

    def days_left(s: object) -> str:
        when = getattr(s, "trashed_at", None)
        return f"{max(0, -(-(when + keep - now) // timedelta(days=1)))}d" if when else "-"

    rows = [[s.name, s.id, ago(s.trashed_at) if s.trashed_at else "-", days_left(s),
             totals.get(s.id, Totals()).messages, totals.get(s.id, Totals()).runs] for s in trashed]  # fmt: skip
    data = [{**session_json(s, totals.get(s.id, Totals())),
             "expiresAt": (s.trashed_at + keep).isoformat() if s.trashed_at else None} for s in trashed]  # fmt: skip
    empty = f"the trash is empty (deleted sessions are kept here {keep.days} days)"
    return Result(data=data, view=Table(["NAME", "ID", "TRASHED", "REMOVED IN", "MSGS", "RUNS"], rows, empty=empty))


command("trash")(trash_list)  # `ai-session trash` alone lists it


@command(
    "trash restore",
    arg("session", help="a trashed session's name, id or unique id prefix"),
    arg("--name", help="restore it under this name (when its own is taken meanwhile)"),
    help="bring a session back from the trash",
)
def trash_restore(m: SessionManager, a: argparse.Namespace) -> Result:
    s = m.trash_restore(a.session, name=a.name)
    return Result(data=session_json(s), view=f"restored session {s.name} ({s.id}) from the trash")


@command(
    "trash empty",
    arg("session", nargs="?", help="only this trashed session (default: all)"),
    arg("--older-than", metavar="AGE", help="only those trashed longer ago than AGE (e.g. 7d)"),
    arg("--force", action="store_true", help="do not ask (needed without a terminal)"),
    help="remove trashed sessions for good (asks first)",
)
def trash_empty(m: SessionManager, a: argparse.Namespace) -> Result:
    from ai_session.core.durations import parse_duration
    from ai_session.core.errors import InvalidInput

    older = parse_duration(a.older_than) if a.older_than else None
    if a.session is None and not a.force:
        doomed = m.trash_empty(older_than=older, dry_run=True)
        if not doomed:
            return Result(data={"deleted": []}, view="the trash has nothing to remove")
        names = ", ".join(s.name for s in doomed[:10]) + (" …" if len(doomed) > 10 else "")
        if not sys.stdin.isatty():
            raise InvalidInput(f"this removes {len(doomed)} session(s) for good ({names}); "
                               "add --force to do it without a terminal to ask on")  # fmt: skip
        if not confirm(f"remove {len(doomed)} session(s) for good ({names})?"):
            return Result(status=1, notes=["kept"])
    gone = m.trash_empty(older_than=older, ref=a.session)
    text = f"removed {len(gone)} session(s) for good" + (f": {', '.join(s.name for s in gone)}" if gone else "")
    return Result(data={"deleted": [{"id": s.id, "name": s.name} for s in gone]}, view=text)
