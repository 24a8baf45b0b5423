"""Checks shared by the compressor tests: the faithfulness invariant, stated once."""

from __future__ import annotations

from ai_session.core.compress import Compressed, clean_lines

SYNTH = "[ai-session]"


def assert_faithful(raw: str, result: Compressed) -> None:
    """Every non-synthetic line is a cleaned raw line, or a prefix of one, or the tail of an
    over-long one right after the note saying how much of it was cut."""
    cleaned = clean_lines(raw)
    whole = set(cleaned)
    after_cut = False
    for line in result.text.split("\n"):
        if not line or line.startswith(SYNTH) or line in whole:
            after_cut = "characters cut from this line" in line
            continue
        if after_cut:
            assert any(c.endswith(line) for c in cleaned), f"not the tail of a raw line: {line!r}"
        else:
            assert any(c.startswith(line) for c in cleaned), f"not from the raw output: {line!r}"
        after_cut = False


def body_lines(result: Compressed) -> list[str]:
    return [line for line in result.text.split("\n") if line and not line.startswith(SYNTH)]
