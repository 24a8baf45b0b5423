"""Store administration: validate, repair, optimize; the team store's schema, copies and sharing."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ai_session.cli.render import Result
from ai_session.cli.spec import arg, command

if TYPE_CHECKING:
    from ai_session.core.config import Config
    from ai_session.core.manager import SessionManager


def _problems(m: SessionManager, a: argparse.Namespace, fix: bool) -> Result:
    """Every problem on its own line; exit 0 when nothing is left to fix, else 1."""
    problems = m.repair(a.session) if fix else m.validate(a.session)
    lines = []
    for p in problems:
        if p.damaged:
            state = "moved to quarantine" if p.fixed else "`ai-session repair` moves it to quarantine"
        else:
            state = "fixed" if p.fixed else ("fixable with `ai-session repair`" if p.fixable else "not fixable")
        where = f"{p.session} ({p.session_id})" if p.session else (p.session_id or "store")
        lines.append(f"{where}: {p.what} ({state})")
    return Result(data=[p.__dict__ for p in problems], view=lines or "no problems found",
                  status=1 if any(not p.fixed for p in problems) else 0)


@command("validate", target="session?")
def validate(m: SessionManager, a: argparse.Namespace) -> Result:
    """List every damaged row (session, message number or run, what is wrong), orphaned runs,
    wrong token counts, dangling references and kept totals that differ from the history, without
    stopping at the first. Exit 0 when the store is healthy, 1 when it found problems."""
    return _problems(m, a, fix=False)


@command(
    "repair",
    arg("--redact", action="store_true",
        help="redact every stored row again (secrets an older version kept), then vacuum the store"),
    target="session?",
)
def repair(m: SessionManager, a: argparse.Namespace) -> Result:
    """Fix what `validate` finds: a damaged row moves to the quarantine, byte for byte, and what
    still reads stays in its place, marked. Exit 0 when nothing is left. With --redact, rewrite
    every stored row through the redaction rules instead."""
    if not a.redact:
        return _problems(m, a, fix=True)
    if a.session:
        from ai_session.core.errors import InvalidInput

        raise InvalidInput("repair --redact rewrites the whole store; give no session")
    report = m.redact_stored()
    return Result(data=report.__dict__, view=f"redacted {report.rows} stored rows again; store "
                  f"{report.bytes_before:,} -> {report.bytes_after:,} bytes (old copies vacuumed away)")


@command("quarantine list", target="session?", help="the quarantined rows")
def quarantine_list(m: SessionManager, a: argparse.Namespace) -> Result:
    from ai_session.cli.render import Table
    from ai_session.cli.views import ago

    rows = m.quarantined(getattr(a, "session", None))
    data = [{"id": q.id, "kind": q.kind, "sessionId": q.session_id, "ref": q.ref, "seq": q.seq, "damage": q.damage,
             "at": q.at.isoformat(), "bytes": len(q.body or b"")} for q in rows]  # fmt: skip
    table = [[q.id, q.session_id, f"message #{q.seq}" if q.kind == "message" else f"{q.kind} {q.ref}", q.damage[:70],
              len(q.body or b""), ago(q.at)] for q in rows]  # fmt: skip
    empty = "the quarantine is empty (`ai-session repair` moves damaged rows here)"
    return Result(data=data, view=Table(["#", "SESSION", "ROW", "DAMAGE", "BYTES", "SINCE"], table, empty=empty))


command("quarantine")(quarantine_list)  # `ai-session quarantine` alone lists all of it


@command(
    "quarantine export",
    arg("--output", "-o", metavar="FILE", help="write to FILE (0600) instead of stdout"),
    target="session?",
    formats=(),
    help="the quarantined rows as JSON, bodies in base64",
)
def quarantine_export(m: SessionManager, a: argparse.Namespace) -> Result:
    import json

    from ai_session.core.privacy import write_private

    doc = m.quarantine_document(a.session)
    text = json.dumps(doc, indent=1)
    if not a.output:
        return Result(view=text)
    write_private(Path(a.output), text.encode())
    return Result(view=f"exported {len(doc['rows'])} quarantined row(s) to {a.output}")


@command(
    "quarantine restore",
    arg("number", type=int, help="its number in `quarantine list`"),
    help="put a quarantined row back, if this version reads it",
)
def quarantine_restore(m: SessionManager, a: argparse.Namespace) -> Result:
    q = m.restore_quarantined(a.number)
    return Result(data={"restored": q.id, "kind": q.kind, "ref": q.ref},
                  view=f"put quarantined row #{q.id} ({q.kind} {q.ref}) back in place")


@command("backup", arg("--output", "-o", metavar="FILE", help="default: $AI_SESSION_HOME/backups/sessions-TIME.db"))
def backup(m: SessionManager, a: argparse.Namespace) -> Result:
    """A consistent copy of the store taken while other processes keep writing (SQLite's online
    backup API), as one 0600 file. The team store is backed up with pg_dump (docs/storage.md)."""
    path = m.backup(Path(a.output).expanduser() if a.output else None)
    size = path.stat().st_size
    return Result(data={"path": str(path), "bytes": size}, view=f"backed up {m.store_url} to {path} ({size:,} bytes)")


@command(
    "restore",
    arg("file", help="a file `ai-session backup` wrote"),
    arg("--force", action="store_true", help="do not ask (needed without a terminal)"),
)
def restore(m: SessionManager, a: argparse.Namespace) -> Result:
    """Replace the store's content by a backup. The file is checked first (a SQLite database, its
    integrity, a schema this version reads) and nothing changes if a check fails; the content it
    replaces is saved in $AI_SESSION_HOME/backups/."""
    import sys

    from ai_session.cli.sessions import confirm
    from ai_session.core.errors import InvalidInput

    if not a.force:
        if not sys.stdin.isatty():
            raise InvalidInput("restore replaces the store's content (it is saved first); add --force to do it "
                               "without a terminal to ask on")  # fmt: skip
        if not confirm(f"replace the content of {m.store_url} by {a.file}? (the current content is saved first)"):
            return Result(status=1, notes=["kept"])
    kept = m.restore(Path(a.file).expanduser())
    return Result(data={"restored": a.file, "previous": str(kept)},
                  view=f"restored {a.file}; the content it replaced is saved in {kept} (`ai-session restore {kept}` puts it back)")


@command("optimize", target="session?")
def optimize(m: SessionManager, a: argparse.Namespace) -> Result:
    """Apply the message retention of [session_management.message_retention] (reported), then:
    for one session, summarize its older turns into a stored summary (originals kept); for the
    whole store, re-compress large bodies stored plain, prune the change log and vacuum."""
    session = m.resolve(a.session) if a.session else None
    retained = m.apply_retention([session] if session else None)
    lines = [r.describe() for r in retained] or ["retention: nothing to remove" if m.config.session_management.retention
                                                  else "retention: none configured"]  # fmt: skip
    data: dict[str, object] = {"retention": [{"id": r.session.id, "name": r.session.name, "removed": r.removed,
                                               "why": r.why, "summarySeq": r.summary_seq} for r in retained]}  # fmt: skip
    if session is not None:
        compacted = m.compact(session) if session.status.value != "ended" else None
        data["compaction"] = compacted.as_dict() if compacted else None
        lines.append(f"summary #{compacted.summary.seq} covers messages {compacted.covers[0]}–{compacted.covers[1]} "
                     "(originals kept)" if compacted else "history: the recent turns already fit, nothing to summarize")
        return Result(data=data, view=lines)
    report = m.optimize()
    data.update(report)
    lines.append(f"re-compressed {report['recompressed']} bodies, pruned {report['changes_pruned']} change-log rows; "
                 f"store {report['bytes_before']:,} -> {report['bytes_after']:,} bytes")
    return Result(data=data, view=lines)


@command(
    "share",
    arg("--with", dest="users", action="append", metavar="USER", help="database role to share with (repeatable)"),
    arg("--remove", action="store_true", help="stop sharing with the --with users"),
    target="session",
)
def share(m: SessionManager, a: argparse.Namespace) -> Result:
    """Show who shares a session, or share it --with a user (team store)."""
    from ai_session.core.errors import InvalidInput

    if a.remove and not a.users:
        raise InvalidInput("--remove needs --with USER")
    s, access = m.access(a.session)
    for user in a.users or ():
        s, access = m.share(s.id, user, remove=a.remove)
    data = {"id": s.id, "name": s.name, "owner": access.owner if access else None,
            "members": access.members if access else []}  # fmt: skip
    if access is None:
        text = f"session {s.name} is in a single-user store ({m.store_url}); nothing is shared"
    else:
        text = f"session {s.name} ({s.id}): owner {access.owner}; shared with {', '.join(access.members) or 'nobody else'}"
    return Result(data=data, view=text)


def _store_endpoint(config: Config, spec: str) -> str:
    """`sqlite` (this user's embedded store), `sqlite:PATH`, `sqlite:///PATH`, or a postgresql:// URL."""
    if spec == "sqlite":
        return str(config.home / "sessions.db")
    if spec.startswith("sqlite:") and not spec.startswith("sqlite:///"):
        return str(Path(spec[len("sqlite:"):]).expanduser().resolve())
    return spec


@command(
    "store migrate",
    arg("--url", help="store URL (default: the configured store)"),
    needs="config",
    help="create or upgrade the store's schema (an admin role)",
)
def store_migrate(config: Config, a: argparse.Namespace) -> Result:
    from ai_session.core.store import is_postgres_url, open_store

    url = a.url or config.store_url
    if not is_postgres_url(url):
        open_store(url).close()  # the embedded store upgrades itself when opened
        return Result(data={"store": url}, view=f"embedded store {url} is up to date")
    from ai_session.core.store.postgres import PostgresStore, redacted_url

    before, after = PostgresStore.migrate(url, user=config.user)
    shown = redacted_url(url)
    text = (f"team store {shown} is up to date (schema v{after})" if before == after
            else f"team store {shown} migrated from schema v{before} to v{after}")  # fmt: skip
    return Result(data={"store": shown, "from": before, "to": after}, view=text)


@command(
    "store copy",
    arg("--from", dest="source", required=True, metavar="STORE",
        help="sqlite (your embedded store), sqlite:PATH, or postgresql://..."),
    arg("--to", dest="target", metavar="STORE", help="same forms (default: the configured store)"),
    needs="config",
    help="copy all sessions, runs, templates and pools to another store",
)
def store_copy(config: Config, a: argparse.Namespace) -> Result:
    from ai_session.core.errors import InvalidInput
    from ai_session.core.store import open_store
    from ai_session.core.store.copy import copy_store

    source_url, target_url = _store_endpoint(config, a.source), _store_endpoint(config, a.target or config.store_url)
    if source_url == target_url:
        raise InvalidInput("--from and --to are the same store")
    source = open_store(source_url, user=config.user)
    try:
        target = open_store(target_url, user=config.user)
        try:
            progress = None if a.format == "json" else lambda line: print(line, flush=True)
            report = copy_store(source, target, progress=progress)
        finally:
            target.close()
    finally:
        source.close()
    lines = [(f"copied {report.sessions} session(s), {report.messages} message(s), {report.runs} run(s), "
              f"{report.templates} template(s), {report.pools} pool(s) to {target.url}")]  # fmt: skip
    if report.skipped:
        lines.append(f"skipped {len(report.skipped)} already there: {', '.join(report.skipped)}")
    notes = [f"not copied, name taken there by another session: {', '.join(report.conflicts)}"] if report.conflicts else []
    if report.damaged:
        notes.append(f"not copied, damaged rows (`ai-session repair` them first): {', '.join(report.damaged)}")
    return Result(data=report.__dict__, view=lines, notes=notes, status=1 if report.conflicts or report.damaged else 0)
