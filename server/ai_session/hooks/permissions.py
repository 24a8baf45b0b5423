"""Claude Code's Bash permission rules, read from its settings, so a rewrite never widens them.

Claude Code checks its rules against the command it is about to run, and after a rewrite
that is `… ai_session.hooks run … -- 'ORIGINAL'`: a rule naming the original would no
longer match, and a rule allowing the rewritten form would allow anything. So the hook
decides on the original, as Claude Code would, and rewrites only a command Claude Code
would run without asking: every part of it allowed by an `allow` rule (the hook then
tells Claude Code "allow", which is what that rule said), or any command in
`bypassPermissions` mode. A part that a `deny` or `ask` rule names, or that no rule
allows, leaves the command to Claude Code untouched, to ask or refuse as it always does.

Allow rules count from your own settings (`~/.claude/settings.json`) and, for a project
whose folder you have trusted in Claude Code, from its `.claude/settings.json` and
`.claude/settings.local.json`: Claude Code ignores an untrusted project's rules, and so
does the hook (a cloned repository cannot widen what runs). Deny and ask rules count from
everywhere: they only ever leave a command untouched.

Rule forms understood (the `Bash(…)` specifiers of Claude Code's settings): `Bash` and
`Bash(*)` (every command), `Bash(npm test)` (exactly), `Bash(npm run test:*)` (that
prefix, as whole words), and `*` wildcards (`Bash(git log *)`). Standard library only.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ai_session.hooks.shellwords import CommandLine


class Rules:
    def __init__(self, allow: list[str] | None = None, ask: list[str] | None = None,
                 deny: list[str] | None = None) -> None:  # fmt: skip
        self.allow, self.ask, self.deny = list(allow or ()), list(ask or ()), list(deny or ())

    def add(self, permissions: Any, *, allow: bool = True) -> None:
        if not isinstance(permissions, Mapping):
            return
        for kind in ("allow", "ask", "deny") if allow else ("ask", "deny"):
            values = permissions.get(kind)
            if isinstance(values, list):
                getattr(self, kind).extend(v for v in values if isinstance(v, str))


def load_rules(project_dir: str | None, home: str | None = None) -> Rules:
    """The rules Claude Code applies in `project_dir` (see the module doc)."""
    base = home or os.path.expanduser("~")
    rules = Rules()
    _add_file(rules, os.path.join(base, ".claude", "settings.json"), allow=True)
    if project_dir:
        trusted = _trusted(os.path.join(base, ".claude.json"), project_dir)
        for name in ("settings.json", "settings.local.json"):
            _add_file(rules, os.path.join(project_dir, ".claude", name), allow=trusted)
    return rules


def _read_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None  # missing or unreadable: Claude Code reports a broken file itself


def _add_file(rules: Rules, path: str, *, allow: bool) -> None:
    data = _read_json(path)
    if isinstance(data, Mapping):
        rules.add(data.get("permissions"), allow=allow)


def _trusted(state_file: str, project_dir: str) -> bool:
    """Whether you accepted Claude Code's trust dialog for this folder (or a folder above it)."""
    state = _read_json(state_file)
    projects = state.get("projects") if isinstance(state, Mapping) else None
    if not isinstance(projects, Mapping):
        return False
    folder = os.path.abspath(project_dir)
    while True:
        entry = projects.get(folder)
        if isinstance(entry, Mapping) and entry.get("hasTrustDialogAccepted") is True:
            return True
        parent = os.path.dirname(folder)
        if parent == folder:
            return False
        folder = parent


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


def decide(line: CommandLine, rules: Rules, mode: str | None) -> str:
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
