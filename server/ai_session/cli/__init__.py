"""`ai-session`: the command-line adapter over SessionManager.

Tables for people, `--format json` for scripts. Errors go to stderr as one line and the
exit code says what kind (see `exit codes` in --help).

The table below says which module holds each command; the module declares the command's
arguments beside its handler (`cli/spec.py`) and is imported only when that command runs,
so `--help` and `--version` import nothing but the standard library.
"""

from __future__ import annotations

import sys
from importlib import import_module

from ai_session import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (not needed by `exec`)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable, Sequence
    from typing import Any

    from ai_session.cli.spec import Command

# Every exit code the CLI returns (core.errors names the error classes behind 1-8).
EXIT_CODES: dict[int, str] = {
    0: "ok",
    1: "failed: `exists` found nothing, `validate` found unfixed problems, a copy met a name taken, or a "
       "question was answered no (or could not be asked without a terminal: nothing was done, use --force)",
    2: "bad input: arguments, a malformed or hostile import file, config",
    3: "not found",
    4: "ambiguous: an id prefix matching several sessions",
    5: "conflict: a name is taken, the session has ended, a role is at its session limit",
    6: "store error: cannot open, corrupt, or locked past the retry budget",
    7: "provider error: the model's service or CLI failed (one line says which setting to check)",
    8: "access denied: the team store's permissions refused it",
    124: "timed out: `exec --timeout` stopped the command and everything it started",
    130: "interrupted (Ctrl-C)",
}

EPILOG = """\
sessions are named by name, id, or a unique prefix of the id.

environment:
  AI_SESSION_HOME         data dir (default: the platform's user data dir)
  AI_SESSION_STORE        store URL or file path (default: $AI_SESSION_HOME/sessions.db)
  AI_SESSION_MAX_TOKENS   default context budget of new sessions (4096)
  AI_SESSION_COMPRESSION  on/off: compress command output for the agent (on)
  AI_SESSION_CONFIG       config file (default: <user config dir>/ai-session/config.toml)
  AI_SESSION_HOST         off: no session host; exec and attach run the shell in their own process
  AI_SESSION_HOST_IDLE    seconds the session host stays with no client and nothing running (600)

exit codes:
""" + "\n".join(f"  {code:>3}  {text.split(':')[0]}" for code, text in EXIT_CODES.items()) + "\n"

# name: (module, one line of help). The order is the order of `--help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "create": ("sessions", "create a session"),
    "list": ("listing", "list sessions (newest activity first)"),
    "show": ("sessions", "show a session, optionally with its history"),
    "attach": ("runs", ("attach a terminal to the session's shell (in a terminal; Ctrl-] detaches), "
                        "else mark it active and show its state")),
    "exec": ("runs", "run a command in the session's persistent shell (cwd and env persist); exit code propagated"),
    "migrate": ("runs", "create a session from a tmux session: cwd, windows, scrollback, commands"),
    "pause": ("sessions", "pause a session"),
    "resume": ("sessions", "resume a paused or idle session"),
    "end": ("sessions", "end a session (kept, read-only)"),
    "exists": ("sessions", "exit 0 if the session exists, 1 if not"),
    "delete": ("sessions", "move a session to the trash (kept 30 days: `trash restore` brings it back)"),
    "rename": ("sessions", "rename a session"),
    "clear": ("sessions", "move stale sessions to the trash (asks first; --force does not), apply message retention"),
    "trash": ("trash", "deleted sessions, kept [trash] keep_days (30) days before they are gone for good"),
    "add": ("history", "append a message to a session (content from the argument or stdin)"),
    "pin": ("history", "pin (or --unpin) a message so context assembly always keeps it"),
    "output": ("runs", "a command run's output: the context form the agent got, or the full raw output"),
    "merge": ("history", "merge two or more sessions into a new one (messages interleaved by time)"),
    "fork": ("history", "branch a session, optionally at a message"),
    "prune": ("history", "keep a session's N recent messages: older ones summarized (or --delete'd)"),
    "export": ("transfer", "export a session to versioned JSON (secrets redacted)"),
    "import": ("transfer", "import a session: ai-session export JSON, ChannelCoder JSON, Claude Code .jsonl"),
    "template": ("templates", "session templates: a preloaded system prompt and settings"),
    "pool": ("templates", "pools of pre-created idle sessions per role"),
    "validate": ("admin", "list every damaged row, orphaned runs, bad token counts (exit 1 when it finds any)"),
    "repair": ("admin", "fix what validate finds: damaged rows move to the quarantine, a placeholder stays; --redact redacts every stored row again"),
    "quarantine": ("admin", "damaged rows `repair` set aside, kept byte for byte: list, export, restore"),
    "backup": ("admin", "a consistent copy of the store, taken while others keep writing"),
    "restore": ("admin", "replace the store's content by a backup, checked first; the replaced content is saved"),
    "optimize": ("admin", "re-compress large bodies, prune the change log, vacuum the store"),
    "stats": ("stats", "messages, commands, tokens and savings per session, agent or role"),
    "serve": ("server", "run the JSON-RPC server for editors (stdio by default)"),
    "host": ("server", "the session host clients start on demand: it owns the live shells (not run by hand)"),
    "integrate": ("agents", "connect an agent you run (claude: Claude Code's hooks) to the worktree's session"),
    "mcp": ("agents", "serve the sessions to any MCP client over stdio (exec, output, context, sessions, pin)"),
    "compress": ("compress", "filter: read a command's output on stdin, print its context form"),
    "share": ("admin", "show who shares a session, or share it --with a user (team store)"),
    "store": ("admin", "team store administration: create/upgrade the schema, copy sessions between stores"),
    "worktree": ("sessions", "find or create the session of the current git worktree and branch"),
    "ask": ("conversation", "send a prompt in a session (argument or stdin) and stream the answer"),
    "context": ("conversation", "the exact context the model gets next: parts, token counts, raw vs context"),
    "compact": ("conversation", "summarize older turns into a stored summary message (originals are kept)"),
    "summary": ("conversation", "list a session's summaries, or show one beside the messages it covers"),
    "interactive": ("conversation", ("a REPL in a session: prompts go to the provider; save, context, clear, "
                                     "info, export, exec, exit")),
}
ALIASES: dict[str, tuple[str, ...]] = {"clear": ("cleanup",)}  # the ai-session crate calls it cleanup


def _declare(parser: argparse.ArgumentParser, name: str, summary: str) -> None:
    """Import the command's module and add what it declares: its arguments, or its actions."""
    import argparse

    from ai_session.cli.spec import REGISTRY

    import_module(f"{__name__}.{COMMANDS[name][0]}")
    own = REGISTRY.get(name)
    actions = [c for key, c in REGISTRY.items() if key.startswith(name + " ")]
    if own is not None:
        parser.description = own.description or summary
        own.build(parser)
    if actions:
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=own is None)
        for c in actions:
            action = c.name.split(" ", 1)[1]
            c.build(sub.add_parser(action, help=c.help, description=c.description or c.help,
                                   formatter_class=argparse.RawDescriptionHelpFormatter, epilog=c.epilog))


def build_parser(load: Iterable[str] = (), *, only_loaded: bool = False) -> argparse.ArgumentParser:
    """The parser with every command listed (or, with `only_loaded`, just those in `load`); the
    arguments of the commands in `load`."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="ai-session",
        description="Persistent, per-worktree sessions for AI coding agents.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ai-session {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = set(load)
    for name, (_, summary) in COMMANDS.items():
        if only_loaded and name not in wanted:
            continue
        p = sub.add_parser(name, help=summary, description=summary, aliases=ALIASES.get(name, ()),
                           formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
        if name in wanted:
            _declare(p, name, summary)
    return parser


def command_name(argv: Sequence[str]) -> str | None:
    """The command a command line runs (its first word that is not an option), aliases resolved."""
    word = next((w for w in argv if not w.startswith("-")), None)
    return next((name for name, aliases in ALIASES.items() if word in aliases), word)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    name = command_name(argv)
    known = [name] if name in COMMANDS and name is not None else []
    plain = _parse_plain(name, argv) if known and argv[0] == name else None
    if plain is not None:
        return plain
    # A line that starts with its command needs that command's parser only: the other commands
    # are listed for the top-level help and its errors, which such a line never prints.
    parser = build_parser(known, only_loaded=bool(known) and not argv[0].startswith("-"))
    args, extra = parser.parse_known_args(argv)
    entry: Command = args._command
    if extra and entry.trailing and getattr(args, entry.trailing) is None and not any(w.startswith("-") for w in extra):
        setattr(args, entry.trailing, " ".join(extra))  # words after the flags: argparse took none of them
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def _parse_plain(name: str, argv: Sequence[str]) -> argparse.Namespace | None:
    """A plain line of a command without actions, parsed without building argparse's parser
    (see `Command.parse_plain`); None when argparse must parse it."""
    from ai_session.cli.spec import REGISTRY

    import_module(f"{__name__}.{COMMANDS[name][0]}")
    entry = REGISTRY.get(name)
    if entry is None or any(key.startswith(name + " ") for key in REGISTRY):
        return None
    return entry.parse_plain(argv[1:])


def run(entry: Command, args: argparse.Namespace) -> int:
    """Run a parsed command line: its handler with what it needs, the result rendered."""
    from ai_session.core.errors import AiSessionError

    target: Any = None
    try:
        if entry.needs == "manager":
            from ai_session.core.manager import SessionManager

            target = SessionManager()
        elif entry.needs == "config":
            from ai_session.core.config import Config

            target = Config.load()
        result = entry.handler(target, args)
        from ai_session.cli.render import render

        return render(result, getattr(args, "format", "table"))
    except AiSessionError as exc:
        print(f"ai-session: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("ai-session: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`); nothing more to say
        return 0
    finally:
        if entry.needs == "manager" and target is not None:
            target.close()


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv == ["--version"]:  # what argparse would print, without building 45 subparsers first
        print(f"ai-session {__version__}")
        return 0
    args = parse(argv)
    return run(args._command, args)
