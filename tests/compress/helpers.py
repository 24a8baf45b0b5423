"""Checks shared by the compressor tests: the faithfulness invariant, stated once."""

from __future__ import annotations

from ai_session.core.compress import Compressed, clean_lines

SYNTH = "[ai-session]"


def assert_faithful(raw: str, result: Compressed) -> None:
    """Every non-synthetic line is a cleaned raw line or a prefix of one."""
    cleaned = clean_lines(raw)
    whole = set(cleaned)
    for line in result.text.split("\n"):
        if not line or line.startswith(SYNTH) or line in whole:
            continue
        assert any(c.startswith(line) for c in cleaned), f"not from the raw output: {line!r}"


def body_lines(result: Compressed) -> list[str]:
    return [l for l in result.text.split("\n") if l and not l.startswith(SYNTH)]
