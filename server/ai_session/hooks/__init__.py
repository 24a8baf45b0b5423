"""Claude Code's hooks: thin clients of ai-session, like the CLI.

`python -m ai_session.hooks EVENT` reads the hook's JSON input on stdin:

- `pre-tool-use` (Bash): rewrites the command to run in the worktree session's shell
  (rewrite.py says which commands, permissions.py why Claude Code's rules still hold).
  Standard library only and fast; on any error it prints nothing, which lets the original
  command run untouched.
- `run`: what a rewritten command runs (runner.py): the command in the session host's live
  shell of the worktree's session, the context form on stdout, the command's exit code.
- `session-start`, `stop`, `session-end`: bind Claude Code's session id to the worktree
  session and store what its transcript gained (lifecycle.py).

`ai-session integrate claude` writes these into Claude Code's settings.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

EVENTS = {"pre-tool-use": "PreToolUse", "session-start": "SessionStart", "stop": "Stop", "session-end": "SessionEnd"}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    name = args[0] if args else ""
    if name == "run":
        from ai_session.hooks.runner import main as run_main

        return run_main(args[1:])
    if name == "pre-tool-use":
        from ai_session.hooks.claude import pre_tool_use_main

        return pre_tool_use_main()
    if name in EVENTS:
        from ai_session.hooks.lifecycle import main as lifecycle_main

        return lifecycle_main(EVENTS[name])
    print(f"usage: python -m ai_session.hooks {{run|{'|'.join(EVENTS)}}}", file=sys.stderr)
    return 2
