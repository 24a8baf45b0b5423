"""Human durations: `90s`, `15m`, `12h`, `7d`, `2w`; ages may also be a bare number of days."""

from __future__ import annotations

import re
from datetime import timedelta

from ai_session.core.errors import InvalidInput

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PATTERN = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")


def parse_duration(text: str) -> timedelta:
    match = _PATTERN.match(text)
    if not match:
        raise InvalidInput(f"bad duration {text!r}: use a number and s, m, h, d or w (e.g. 7d)")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def parse_age(text: str) -> timedelta:
    """An age as `--older-than` and `--period` take it: a duration, or a bare number of days
    (`30` = `30d`, as the orchestrator's `clean --older-than 30`)."""
    return parse_duration(f"{text.strip()}d" if text.strip().isdigit() else text)
