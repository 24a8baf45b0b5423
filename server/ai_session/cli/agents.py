"""The agents people already run, connected: `integrate claude` (hooks), `mcp` (the MCP server)."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ai_session.cli.render import Fields, Result
from ai_session.cli.spec import arg, command, one_of

if TYPE_CHECKING:
    from ai_session.core.manager import SessionManager
    from ai_session.core.models import Session

INTEGRATE_EPILOG = """\
what the hooks do (see docs/agents.md):
  PreToolUse (Bash)   runs the command in the worktree session's shell; Claude Code gets the
                      context form (every failing test, error and file:line; the exit code; the
                      run id and how to get the raw output). Background, interactive and
                      directory-changing commands, and commands your permission rules do not
                      allow outright, run untouched in Claude Code's own shell.
  SessionStart, Stop, SessionEnd
                      bind Claude Code's session to the worktree session and store its
                      transcript as it grows (kept when Claude Code deletes it).

turn it off: `ai-session integrate claude --uninstall`, or AI_SESSION_HOOKS=off for one run.
"""


@command(
    "integrate claude",
    one_of(
        arg("--project", action="store_true", help="this worktree's .claude/settings.json (the default)"),
        arg("--user", action="store_true", help="your ~/.claude/settings.json: every project"),
    ),
    arg("--uninstall", action="store_true", help="remove exactly the hooks this added; everything else stays"),
    arg("--dir", default=".", help="a directory in the project (default: the current one)"),
    needs="nothing",
    help="write ai-session's hooks into Claude Code's settings (merged, idempotent)",
    epilog=INTEGRATE_EPILOG,
)
def integrate_claude(_: None, a: argparse.Namespace) -> Result:
    """Write ai-session's Claude Code hooks into its settings, beside whatever is there; running
    it again changes nothing, --uninstall removes exactly these hooks."""
    from ai_session.core.errors import InvalidInput
    from ai_session.hooks import settings
    from ai_session.hooks.rewrite import git_root

    if a.user:
        path = Path.home() / ".claude" / "settings.json"
    else:
        root = git_root(str(Path(a.dir).resolve()))
        if root is None:
            raise InvalidInput(f"{a.dir} is not in a git worktree; use --user for every project, or --dir")
        path = Path(root) / ".claude" / "settings.json"
    change = settings.apply(path, sys.executable, remove=a.uninstall)
    verb = ("removed from" if a.uninstall else "written to") if change.changed else "already as wanted in"
    notes = []
    if not a.uninstall and shutil.which("ai-session") is None:
        notes.append("ai-session: note: `ai-session` is not on PATH, so the agent cannot run `ai-session output RUN` "
                     "to see a raw output; put this environment's bin directory on PATH")  # fmt: skip
    if not a.uninstall:
        notes.append("ai-session: commands your permission rules allow outright (e.g. \"Bash(python -m pytest:*)\" in "
                     "permissions.allow) run in the session; others run untouched after Claude Code asks")  # fmt: skip
    view = Fields([("hooks", f"{verb} {change.path}"), ("events", ", ".join(change.events) or "-"),
                   ("runs", change.command if not a.uninstall else "-")])  # fmt: skip
    data = {"path": str(change.path), "changed": change.changed, "events": change.events,
            "removed": a.uninstall, "command": change.command}  # fmt: skip
    return Result(data=data, view=view, notes=notes)


@command("mcp", needs="nothing", formats=())
def mcp(_: None, a: argparse.Namespace) -> Result:
    """Serve ai-session to any MCP client over stdio: tools exec, output, context, sessions, session
    and pin, in the session of the client's worktree. Register it with your agent, e.g.
    `claude mcp add ai-session -- ai-session mcp` (see docs/agents.md)."""
    from ai_session.mcp.server import serve

    serve()
    return Result()


def continue_conversation(m: SessionManager, session: Session, a: argparse.Namespace) -> None:
    """`resume` in a terminal, for a session bound to a Claude Code conversation: start `claude
    --resume ID` in the conversation's directory (this process becomes Claude Code)."""
    import os

    from ai_session.core.providers.base import Conversation
    from ai_session.core.transcripts import KEY

    if a.format != "table" or not (sys.stdin.isatty() and sys.stdout.isatty()):
        return
    followed = session.metadata.get(KEY) or {}
    conversations = [Conversation.decode(c) for c in session.provider_sessions]
    ours = [c for c in conversations if c.id in followed or session.provider == "claude"]
    exe = shutil.which("claude")
    if not ours or exe is None:
        return
    conversation = ours[-1]
    where = next((d for d in (conversation.cwd, session.worktree) if d and os.path.isdir(d)), os.getcwd())
    print(f"[ai-session] resumed {session.name}; continuing Claude Code conversation {conversation.id} in {where}",
          file=sys.stderr)  # fmt: skip
    sys.stderr.flush()
    m.close()
    os.chdir(where)
    os.execv(exe, [exe, "--resume", conversation.id])
