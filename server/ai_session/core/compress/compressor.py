"""The entry point: raw output + command + exit code -> the context form.

Rules every result obeys (tests check them):
- every line is a line of the cleaned raw output (ANSI removed, `\\r` redraws resolved),
  or a prefix of one, or a synthetic line starting with `[ai-session]`;
- the body (everything before the trailer) is never longer than the cleaned output: when
  a reducer cannot make it shorter, or the output is short (<= PASS_THROUGH_CHARS), the
  cleaned output passes through unchanged;
- the trailer is always added: `[ai-session] exit N` when the exit code is known (it is a
  fact the agent needs), and, for a stored run, `[ai-session] full output: ai-session
  output RUN_ID [--raw|--lines A:B|--grep PATTERN]`. So a context is at most the input
  plus those two short lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ai_session.core.compress.base import SYNTHETIC, Ctx, Reducer
from ai_session.core.compress.c_build import reduce_c_build
from ai_session.core.compress.cargo import reduce_cargo
from ai_session.core.compress.detect import detect
from ai_session.core.compress.diagnostics import parse_diagnostics
from ai_session.core.compress.docker import reduce_docker
from ai_session.core.compress.files import reduce_files
from ai_session.core.compress.generic import reduce_generic
from ai_session.core.compress.git import reduce_git
from ai_session.core.compress.golang import reduce_go
from ai_session.core.compress.js_tests import reduce_js_tests
from ai_session.core.compress.linters import reduce_linter
from ai_session.core.compress.packages import reduce_packages
from ai_session.core.compress.python_tests import reduce_pytest, reduce_unittest
from ai_session.core.compress.text import clean_lines
from ai_session.core.models import Diagnostic

PASS_THROUGH_CHARS = 300

REDUCERS: dict[str, Reducer] = {
    "pytest": reduce_pytest,
    "unittest": reduce_unittest,
    "cargo": reduce_cargo,
    "go": reduce_go,
    "js_tests": reduce_js_tests,
    "linter": reduce_linter,
    "c_build": reduce_c_build,
    "packages": reduce_packages,
    "git": reduce_git,
    "files": reduce_files,
    "docker": reduce_docker,
    "generic": reduce_generic,
}


@dataclass
class Compressed:
    text: str  # the context form
    tool: str  # reducer used ("generic" when none fitted)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    raw_lines: int = 0
    kept_lines: int = 0  # non-synthetic lines in the body
    passthrough: bool = False  # body is the whole cleaned output


def trailer(exit_code: int | None, run_id: str | None) -> list[str]:
    out = []
    if exit_code is not None:
        out.append(f"{SYNTHETIC} exit {exit_code}")
    if run_id:
        out.append(f"{SYNTHETIC} full output: ai-session output {run_id} [--raw|--lines A:B|--grep PATTERN]")
    return out


def compress(raw: str, command: str | None, exit_code: int | None, *, run_id: str | None = None) -> Compressed:
    """Context form of one command's output."""
    return compress_lines(clean_lines(raw), command, exit_code, run_id=run_id)


def compress_lines(
    lines: list[str],
    command: str | None,
    exit_code: int | None,
    *,
    run_id: str | None = None,
    preamble: list[str] | None = None,
) -> Compressed:
    """Same as `compress` over already-cleaned lines (the streaming path uses it)."""
    tool, sub = detect(command, lines)
    ctx = Ctx(command=command or "", exit_code=exit_code, tool=tool, subcommand=sub)
    body = REDUCERS[tool](lines, ctx)
    if tool != "generic" and not any(l.strip() and not l.startswith(SYNTHETIC) for l in body):
        if any(l.strip() for l in lines):  # a reducer that kept nothing misread the output
            tool = "generic"
            body = reduce_generic(lines, ctx)
    cleaned_chars = sum(map(len, lines)) + len(lines)
    passthrough = False
    if cleaned_chars <= PASS_THROUGH_CHARS or sum(map(len, body)) + len(body) >= cleaned_chars:
        body = list(lines)
        while body and not body[-1].strip():
            body.pop()
        passthrough = True
    body = (preamble or []) + body
    text_lines = body + trailer(exit_code, run_id)
    return Compressed(
        text="\n".join(text_lines) + "\n" if text_lines else "",
        tool=tool,
        diagnostics=parse_diagnostics(body, tool),
        raw_lines=len(lines),
        kept_lines=sum(1 for l in body if not l.startswith(SYNTHETIC)),
        passthrough=passthrough,
    )
