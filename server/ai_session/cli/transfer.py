"""Moving sessions in and out: export to versioned JSON, import ours and foreign formats."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ai_session.cli.render import Result
from ai_session.cli.spec import arg, command
from ai_session.cli.views import human_tokens, session_json

if TYPE_CHECKING:
    from ai_session.core.manager import SessionManager


@command(
    "export",
    arg("--output", "-o", metavar="FILE", help="default: $AI_SESSION_HOME/exports/NAME.json"),
    arg("--skip-corrupted", action="store_true",
        help="export the readable rows of a session with damaged ones, listing what was left out"),
    target="session",
)
def export(m: SessionManager, a: argparse.Namespace) -> Result:
    """Export a session to versioned JSON (secrets redacted), mode 0600. A session with damaged
    rows is refused (each named) unless --skip-corrupted."""
    doc = m.export_document(a.session, skip_corrupted=a.skip_corrupted)
    path = m.write_export(doc, Path(a.output) if a.output else None)
    skipped = doc.get("skipped", [])
    notes = [f"skipped {_row(s)}: {s['damage']}" for s in skipped]
    if skipped:
        notes.append(f"[ai-session] {len(skipped)} damaged row(s) left out; `ai-session repair {a.session}` quarantines them")
    return Result(data={"path": str(path), "skipped": skipped}, view=f"exported to {path}", notes=notes)


@command(
    "import",
    arg("--file", "-f", required=True, help="the file to import"),
    arg("--input-format", "--from", dest="input_format", default="auto",
        choices=["auto", "native", "channelcoder", "claude-code"], help="default: from the file's content"),
    arg("--name", help="name for the imported session"),
)
def import_(m: SessionManager, a: argparse.Namespace) -> Result:
    s = m.import_file(Path(a.file), a.input_format, name=a.name)
    t = m.show(s.id).totals
    return Result(data=session_json(s, t),
                  view=f"imported {s.name} ({s.id}): {t.messages} messages, {human_tokens(t.message_tokens)} tokens")


def _row(skipped: dict) -> str:
    return f"message #{skipped['seq']}" if skipped["kind"] == "message" else f"{skipped['kind']} of {skipped['ref']}"
