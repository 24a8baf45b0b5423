"""Claude Code's Bash permission rules, read from its settings, so a rewrite never widens them.

Claude Code checks its rules against the command it is about to run, and after a rewrite
that is `… ai_session.hooks run … -- 'ORIGINAL'`: a rule naming the original would no
longer match, and a rule allowing the rewritten form would allow anything. So the hook
decides on the original, as Claude Code would, and rewrites only a command Claude Code
would run without asking: every part of it allowed by an `allow` rule (the hook then
tells Claude Code "allow", which is what that rule said), or any command in
`bypassPermissions` mode. A part that a `deny` or `ask` rule names, or that no rule
allows, leaves the command to Claude Code untouched, to ask or refuse as it always does.

Rule forms understood (the `Bash(…)` specifiers of Claude Code's settings): `Bash` and
`Bash(*)` (every command), `Bash(npm test)` (exactly), `Bash(npm run test:*)` (that
prefix, as whole words), and `*` wildcards (`Bash(git log *)`). Standard library only.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ai_session.hooks.shellwords import CommandLine

Decision = Literal["allow", "ask", "deny", "none"]


@dataclass
class Rules:
    allow: list[str] = field(default_factory=list)
    ask: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)

    def add(self, permissions: Any) -> None:
        if not isinstance(permissions, Mapping):
            return
        for kind in ("allow", "ask", "deny"):
            values = permissions.get(kind)
            if isinstance(values, list):
                getattr(self, kind).extend(v for v in values if isinstance(v, str))


def settings_files(project_dir: str | None, home: str | None = None) -> list[Path]:
    """Where Claude Code keeps settings that hold permission rules (managed settings aside:
    a rule there is enforced by Claude Code itself, whatever the hook decides)."""
    files = [Path(home or os.path.expanduser("~")) / ".claude" / "settings.json"]
    if project_dir:
        files += [Path(project_dir) / ".claude" / "settings.json", Path(project_dir) / ".claude" / "settings.local.json"]
    return files


def load_rules(files: Iterable[Path]) -> Rules:
    rules = Rules()
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # missing or unreadable: Claude Code reports a broken file itself
        if isinstance(data, Mapping):
            rules.add(data.get("permissions"))
    return rules


def _bash_specifier(rule: str) -> str | None:
    """`Bash(x)` -> "x"; `Bash` -> "*"; another tool's rule -> None."""
    rule = rule.strip()
    if rule == "Bash":
        return "*"
    if rule.startswith("Bash(") and rule.endswith(")"):
        return rule[5:-1].strip() or "*"
    return None


def rule_matches(specifier: str, command: str) -> bool:
    command = " ".join(command.split())
    if specifier in ("*", ":*"):
        return True
    if specifier.endswith(":*"):
        prefix = " ".join(specifier[:-2].split())
        return command == prefix or command.startswith(prefix + " ")
    if "*" in specifier:
        pattern = ".*".join(re.escape(" ".join(part.split())) for part in specifier.split("*"))
        return re.fullmatch(pattern, command, re.DOTALL) is not None
    return command == " ".join(specifier.split())


def _matches_any(rules: list[str], command: str) -> bool:
    return any((s := _bash_specifier(r)) is not None and rule_matches(s, command) for r in rules)


def _allows_everything(rules: list[str]) -> bool:
    return any(_bash_specifier(r) in ("*", ":*") for r in rules)


def decide(line: CommandLine, rules: Rules, mode: str | None) -> Decision:
    """What Claude Code would do with this command line: "allow" (an allow rule covers every
    part), "deny"/"ask" (a rule says so), or "none" (no rule: it would ask, or decide by
    its own judgement, which only Claude Code can make)."""
    if any(_matches_any(rules.deny, s) for s in line.segments):
        return "deny"
    if any(_matches_any(rules.ask, s) for s in line.segments):
        return "ask"
    if mode == "bypassPermissions":
        return "allow"
    if _allows_everything(rules.allow):
        return "allow"
    if line.substitution or line.heredoc or line.unsure:
        return "none"  # parts a prefix rule cannot be checked against
    # A leading `cd` into the project needs no rule, as in Claude Code (rewrite.py checks where it goes).
    parts = [s for s in line.segments if s.split(maxsplit=1)[0] != "cd"]
    if parts and all(_matches_any(rules.allow, s) for s in parts):
        return "allow"
    return "none"
