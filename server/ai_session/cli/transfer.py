"""Moving sessions in and out: export to versioned JSON (a file or a pipe), import ours and foreign formats."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ai_session.cli.render import Result
from ai_session.cli.spec import arg, command
from ai_session.cli.views import human_tokens, session_json

if TYPE_CHECKING:
    from ai_session.core.manager import SessionManager

STDIO = "-"


def _skipped_notes(a: argparse.Namespace, skipped: list[dict]) -> list[str]:
    notes = [f"skipped {_row(s)}: {s['damage']}" for s in skipped]
    if skipped:
        repair = f"ai-session repair {a.session}" if a.session else "ai-session repair"
        notes.append(f"[ai-session] {len(skipped)} damaged row(s) left out; `{repair}` quarantines them")
    return notes


@command(
    "export",
    arg("--all", action="store_true", help="every session (pooled ones aside) in one file"),
    arg("--output", "-o", metavar="FILE", help="a file, or - for stdout (default: $AI_SESSION_HOME/exports/"
        "NAME.json, all.json with --all)"),
    arg("--skip-corrupted", action="store_true",
        help="export the readable rows of a session with damaged ones, listing what was left out"),
    target="session?",
)
def export(m: SessionManager, a: argparse.Namespace) -> Result:
    """Export a session (or --all) to versioned JSON, secrets redacted; files are mode 0600.
    `--output -` writes to stdout, so `ai-session export S -o - | ssh host ai-session import --file -`
    works. A session with damaged rows is refused (each named) unless --skip-corrupted."""
    from ai_session.core.errors import InvalidInput

    if a.all == bool(a.session):
        raise InvalidInput("export takes a SESSION or --all")
    ref = None if a.all else a.session
    if a.output == STDIO:
        skipped = m.export_to(ref, sys.stdout, skip_corrupted=a.skip_corrupted)
        return Result(notes=_skipped_notes(a, skipped))
    path, skipped = m.export_file(ref, Path(a.output) if a.output else None, skip_corrupted=a.skip_corrupted)
    return Result(data={"path": str(path), "skipped": skipped}, notes=_skipped_notes(a, skipped),
                  view=f"exported {'every session' if a.all else a.session} to {path}")


@command(
    "import",
    arg("--file", "-f", required=True, help="the file to import, or - for stdin"),
    arg("--input-format", "--from", dest="input_format", default="auto",
        choices=["auto", "native", "channelcoder", "claude-code"], help="default: from the file's content"),
    arg("--name", help="name for the imported session (a file with one session)"),
    arg("--agent", help="the agent the imported sessions belong to"),
)
def import_(m: SessionManager, a: argparse.Namespace) -> Result:
    """Import sessions: an ai-session export (one session or `export --all`, also .json.zst), a
    ChannelCoder session file, or a Claude Code transcript (.jsonl). Everything is checked before
    anything is stored; a malformed or hostile file is refused and the store is left as it was."""
    from ai_session.core.interop.limits import read_bytes

    # `-` is standard input, read as boundedly as a file.
    where, file_name = ("stdin", "") if a.file == STDIO else (a.file, Path(a.file).name)
    data = read_bytes(Path(a.file))
    imported = m.import_data(data, a.input_format, where=where, file_name=file_name, name=a.name, agent=a.agent)
    totals = m.totals(imported)
    lines = []
    for s in imported:
        t = totals.get(s.id)
        lines.append(f"imported {s.name} ({s.id}): {t.messages if t else 0} messages, "
                     f"{human_tokens(t.message_tokens if t else 0)} tokens")  # fmt: skip
    data_out = [session_json(s, totals.get(s.id)) for s in imported]
    return Result(data=data_out[0] if len(data_out) == 1 else data_out, view=lines)


def _row(skipped: dict) -> str:
    return f"message #{skipped['seq']}" if skipped["kind"] == "message" else f"{skipped['kind']} of {skipped['ref']}"
