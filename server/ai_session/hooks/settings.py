"""Our hooks in Claude Code's settings file: added beside what is there, removed exactly.

An entry is ours when its command runs `-m ai_session.hooks`; installing replaces ours
(a new interpreter path, say) and leaves every other hook, matcher and setting as it was.
"""

from __future__ import annotations

import json
import os
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ai_session.core.errors import InvalidInput

MARK = "-m ai_session.hooks "
# event -> (matcher or None, the hooks module's event name, timeout in seconds)
HOOKS: dict[str, tuple[str | None, str, int]] = {
    "PreToolUse": ("Bash", "pre-tool-use", 10),
    "SessionStart": (None, "session-start", 30),
    "Stop": (None, "stop", 30),
    "SessionEnd": (None, "session-end", 30),
}


@dataclass
class Change:
    path: Path
    events: list[str]  # the events whose hooks were written (or removed)
    changed: bool  # False: the file already said exactly this
    command: str  # how the hooks start (the interpreter running ai-session)


def hook_command(python: str, event: str) -> str:
    return f"{shlex.quote(python)} {MARK}{event}"


def ours(entry: Any) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("command"), str) and MARK in entry["command"] + " "


def read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"{path} is not valid JSON ({exc}); fix or move it, nothing was changed") from None
    if not isinstance(data, dict) or not isinstance(data.get("hooks", {}), dict):
        raise InvalidInput(f"{path}: expected a JSON object with a \"hooks\" object; nothing was changed")
    return data


def without_ours(data: dict[str, Any]) -> dict[str, Any]:
    """The settings with every hook of ours removed, and groups and events it leaves empty."""
    hooks = dict(data.get("hooks") or {})
    for event, groups in list(hooks.items()):
        if not isinstance(groups, list):
            continue
        kept = []
        for group in groups:
            if isinstance(group, dict) and isinstance(group.get("hooks"), list) and any(ours(h) for h in group["hooks"]):
                rest = [h for h in group["hooks"] if not ours(h)]
                if not rest:
                    continue
                group = {**group, "hooks": rest}
            kept.append(group)
        if kept:
            hooks[event] = kept
        else:
            del hooks[event]
    out = {k: v for k, v in data.items() if k != "hooks"}
    if hooks:
        out["hooks"] = hooks
    return out


def with_ours(data: dict[str, Any], python: str) -> dict[str, Any]:
    out = without_ours(data)
    hooks = dict(out.get("hooks") or {})
    for event, (matcher, name, timeout) in HOOKS.items():
        group: dict[str, Any] = {"matcher": matcher} if matcher else {}
        group["hooks"] = [{"type": "command", "command": hook_command(python, name), "timeout": timeout}]
        hooks[event] = [*hooks.get(event, []), group]
    return {**out, "hooks": hooks}


def apply(path: Path, python: str, *, remove: bool = False) -> Change:
    before = read(path)
    after = without_ours(before) if remove else with_ours(before, python)
    events = [e for e in HOOKS if (e in (before.get("hooks") or {})) or not remove]
    changed = after != before
    if changed:
        if remove and not after and path.exists():
            path.unlink()  # it held only our hooks: nothing of anyone else's is lost
        else:
            _write(path, json.dumps(after, indent=2, ensure_ascii=False) + "\n")
    return Change(path, events if changed else [], changed, hook_command(python, "EVENT"))


def _write(path: Path, text: str) -> None:
    """Replace the file in one step, keeping its permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
