"""The definitions behind every "raw vs context" figure, in one place.

- **raw** (a command's output): the tokens an agent would have received without
  ai-session. That is what its pipe would carry, not the coloured stream of our PTY:
  ANSI and cursor controls removed, `\\r` redraws collapsed (`clean_lines`), and cut at
  the agent's own truncation limit (`[context] agent_output_cap`, 30,000 characters:
  Claude Code's Bash tool keeps that much), so a 2 MB log does not count as 2 MB saved.
- **context**: the tokens of what it received, the context form.
- **saving** = 1 − context/raw. Positive means fewer tokens; undefined (None) when there
  was nothing raw. Every command, method and notification reports this one figure.
- A chat message costs its cl100k tokens plus `MESSAGE_OVERHEAD` (the role and framing
  tokens chat formats add); budgets and totals include it.
- Storage compression (zstd) never enters: every figure is a token count of text.
"""

from __future__ import annotations

from ai_session.core.errors import InvalidInput

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (`list` through the host)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

MESSAGE_OVERHEAD = 4
DEFAULT_AGENT_OUTPUT_CAP = 30_000  # characters, Claude Code's Bash tool limit
RAW_SCAN_FACTOR = 16


def agent_output_cap(sections: Mapping[str, Any] | None) -> int:
    """The configured cap (`[context] agent_output_cap`), validated."""
    raw = ((sections or {}).get("context") or {}).get("agent_output_cap", DEFAULT_AGENT_OUTPUT_CAP)
    if isinstance(raw, bool) or not isinstance(raw, int) or raw <= 0:
        raise InvalidInput(f"context.agent_output_cap must be a positive number of characters (got {raw!r})")
    return raw


def saving(raw: int, context: int) -> float | None:
    """1 − context/raw: positive means fewer tokens; None when there was nothing raw."""
    return 1 - context / raw if raw > 0 else None


def saving_text(raw: int, context: int, digits: int = 0) -> str:
    """The saving as people read it: "87%", "-4%" (more tokens), "-" when undefined."""
    value = saving(raw, context)
    return "-" if value is None else f"{value * 100:.{digits}f}%"


def pipe_text(lines: Sequence[str], cap: int = DEFAULT_AGENT_OUTPUT_CAP) -> str:
    """What an agent's pipe would have carried of these cleaned lines, cut at its limit."""
    size, end = 0, 0
    while end < len(lines) and size < cap:  # join only what the cap lets through
        size += len(lines[end]) + 1
        end += 1
    text = "\n".join(lines[:end]) + ("\n" if end else "")
    return text[:cap]


def raw_tokens(lines: Sequence[str], cap: int = DEFAULT_AGENT_OUTPUT_CAP) -> int:
    """The raw figure of an output, from its cleaned lines (see the module doc)."""
    from ai_session.core.tokens import (
        count_tokens,  # tiktoken: loaded only when counting
    )

    return count_tokens(pipe_text(lines, cap))


def output_raw_tokens(output: str, cap: int = DEFAULT_AGENT_OUTPUT_CAP) -> int:
    """The raw figure of an output as the PTY gave it (cleaned here)."""
    from ai_session.core.compress.text import clean_lines

    # Cleaning only removes text: the cleaned cap is within the first few caps of raw text
    # (colours, redraws). Beyond that the figure errs low, never inflating a saving.
    return raw_tokens(clean_lines(output[: cap * RAW_SCAN_FACTOR]), cap)


def recount(run_json: str, output: str | None, cap: int = DEFAULT_AGENT_OUTPUT_CAP) -> tuple[str, int] | None:
    """A stored run (its JSON) with its raw figure counted by today's definition, and that
    figure; None when the row cannot be read (it is left as it is, for validate to report).

    For stores written before raw was counted on the cleaned text: the upgrade step. Without
    a readable output the run keeps its stored figure (capped, if it recorded a capped one).
    """
    from ai_session.core.models import CommandRun

    try:
        run = CommandRun.model_validate_json(run_json)
    except ValueError:
        return None
    if output is not None:
        run = run.model_copy(update={"raw_tokens": output_raw_tokens(output, cap)})
    return run.model_dump_json(exclude={"savings"}), run.raw_tokens


def recount_runs(execute: Callable[[str, Sequence[Any]], Any], mark: str, *, raw_tokens_column: bool = False) -> None:
    """The upgrade both stores run (`execute` is the migrating transaction's, `mark` its
    placeholder): every stored run's raw figure counted again from its stored output, by
    today's definition. A run whose output does not read back keeps its stored figure."""
    from ai_session.core import blob
    from ai_session.core.errors import StoreError

    last = ""
    while rows := execute(
        f"SELECT id, data, raw, zstd FROM runs WHERE id > {mark} ORDER BY id LIMIT 500", (last,)
    ).fetchall():
        for run_id, data, raw, packed in rows:
            try:
                output = None if raw is None else blob.unpack(bytes(raw), bool(packed))
            except StoreError:  # damaged: validate reports it, repair quarantines it
                output = None
            counted = recount(data, output)
            if counted is None or counted[0] == data:
                continue
            if raw_tokens_column:  # the team store keeps the figure in a column its totals sum
                execute(f"UPDATE runs SET data = {mark}, raw_tokens = {mark} WHERE id = {mark}", (*counted, run_id))
            else:
                execute(f"UPDATE runs SET data = {mark} WHERE id = {mark}", (counted[0], run_id))
        last = rows[-1][0]
