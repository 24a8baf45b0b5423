"""Claude Code's PreToolUse hook on Bash: the decision and its JSON answer.

Prints `hookSpecificOutput.updatedInput` with the rewritten command, or nothing (the
command runs as it is). Whatever goes wrong in here, the answer is nothing: the hook must
never stand between Claude Code and its command. Standard library only.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ai_session.hooks.permissions import decide, load_rules
from ai_session.hooks.rewrite import passthrough, plan
from ai_session.hooks.shellwords import scan

if TYPE_CHECKING:
    from ai_session.hooks.rewrite import Plan

AGENT = "claude-code"
OFF = ("off", "0", "false", "no")


def pre_tool_use(event: Mapping[str, Any], env: Mapping[str, str]) -> tuple[dict[str, Any] | None, Plan]:
    """The hook's answer to one PreToolUse event (None: let it run untouched) and why."""
    if env.get("AI_SESSION_HOOKS", "").strip().lower() in OFF:
        return None, passthrough("AI_SESSION_HOOKS=off")
    tool_input = event.get("tool_input")
    if event.get("tool_name") != "Bash" or not isinstance(tool_input, Mapping):
        return None, passthrough("not a Bash command")
    mode = event.get("permission_mode")
    if mode == "plan":
        return None, passthrough("plan mode runs nothing")
    given = event.get("cwd")
    cwd = given if isinstance(given, str) else os.getcwd()
    project = env.get("CLAUDE_PROJECT_DIR") or None
    chosen = plan(tool_input, cwd=cwd, python=sys.executable, agent=AGENT, project_dir=project)
    if chosen.command is None:
        return None, chosen
    decision = decide(scan(str(tool_input["command"])), load_rules(project or cwd), mode)
    if decision != "allow":
        return None, passthrough(f"Claude Code's permission rules {'say ' + decision if decision != 'none' else 'do not allow it outright'}")
    output: dict[str, Any] = {"hookEventName": "PreToolUse", "updatedInput": {**tool_input, "command": chosen.command}}
    if mode != "bypassPermissions":
        # The rules allowed the original; the rewritten form must not be asked about again.
        output["permissionDecision"] = "allow"
        output["permissionDecisionReason"] = "ai-session: allowed by your permission rules; runs in the worktree session"
    return {"hookSpecificOutput": output}, chosen


def pre_tool_use_main() -> int:
    debug = os.environ.get("AI_SESSION_HOOK_DEBUG", "").strip().lower() not in ("", *OFF)
    try:
        event = json.loads(sys.stdin.buffer.read() or b"{}")
        answer, chosen = pre_tool_use(event if isinstance(event, dict) else {}, os.environ)
        if answer is not None:
            sys.stdout.write(json.dumps(answer))
        if debug:
            print(f"ai-session hook: {chosen.reason}", file=sys.stderr)
    except BaseException as exc:  # never in Claude Code's way: no answer runs the original
        if debug:
            print(f"ai-session hook: passed through after an error: {exc!r}", file=sys.stderr)
    return 0
