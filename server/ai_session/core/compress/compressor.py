"""The entry point: raw output + command + exit code -> the context form.

Rules every result obeys (tests check them):
- every line is a line of the cleaned raw output (ANSI removed, `\\r` redraws resolved), or
  a prefix of one, or the head and tail of an over-long one around a note, or a synthetic
  line starting with `[ai-session]`;
- every line the fact guard marks (locations, severities, summaries, test ids; see
  guard.py) is kept, whatever the reducer decided;
- binary lines (NULs, runs of invalid UTF-8) are never shown: a note gives their size and
  a guess at their type;
- the body (everything before the trailer) is never longer than the cleaned output: when
  a reducer cannot make it shorter, or the output is short (<= PASS_THROUGH_CHARS), the
  cleaned output passes through unchanged;
- the trailer: `[ai-session] exit N` when the exit code is known (a fact the agent needs),
  and, for a stored run of which something was left out, `[ai-session] full output:
  ai-session output RUN_ID [--raw|--lines A:B|--grep PATTERN]`. When nothing was left out
  there is nothing to retrieve: the context is the output plus the exit line.
"""

from __future__ import annotations

from functools import cached_property

from ai_session.core.compress.base import HALF_LINE, MAX_LINE, SYNTHETIC, Ctx, Out, Reducer
from ai_session.core.compress.binary import binary_note, byte_size, find_binary
from ai_session.core.compress.c_build import reduce_c_build
from ai_session.core.compress.cargo import reduce_cargo
from ai_session.core.compress.detect import detect
from ai_session.core.compress.docker import reduce_docker
from ai_session.core.compress.files import reduce_files
from ai_session.core.compress.generic import reduce_generic
from ai_session.core.compress.git import reduce_git
from ai_session.core.compress.golang import reduce_go
from ai_session.core.compress.guard import Facts, scan, structure
from ai_session.core.compress.js_tests import reduce_js_tests
from ai_session.core.compress.linters import reduce_linter
from ai_session.core.compress.packages import reduce_packages
from ai_session.core.compress.python_tests import reduce_pytest, reduce_unittest
from ai_session.core.compress.text import clean_lines

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from ai_session.core.models import Diagnostic

PASS_THROUGH_CHARS = 300
RAW_HEAD = 512  # enough of the raw output to recognise a file type
MAX_BODY_CHARS = 60_000  # a context longer than this is cut in the middle, with a note (see `bounded`)

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


class Compressed:
    """A plain class (no `dataclasses` on the filter's path, see compress/base.py)."""

    def __init__(self, text: str, tool: str, raw_lines: int = 0, kept_lines: int = 0, passthrough: bool = False,
                 body: list[str] | None = None) -> None:  # fmt: skip
        self.text = text  # the context form
        self.tool = tool  # reducer used ("generic" when none fitted)
        self.raw_lines = raw_lines
        self.kept_lines = kept_lines  # non-synthetic lines in the body
        self.passthrough = passthrough  # body is the whole cleaned output
        self.body = body if body is not None else []

    def __repr__(self) -> str:
        return (f"Compressed(tool={self.tool!r}, raw_lines={self.raw_lines}, kept_lines={self.kept_lines}, "
                f"passthrough={self.passthrough}, text={self.text!r})")  # fmt: skip

    @cached_property
    def diagnostics(self) -> list[Diagnostic]:
        """Structured diagnostics of the body (parsed on first use: a pipe filter never needs them)."""
        from ai_session.core.compress.diagnostics import parse_diagnostics

        return parse_diagnostics(self.body, self.tool)


def exit_line(exit_code: int | None) -> list[str]:
    return [] if exit_code is None else [f"{SYNTHETIC} exit {exit_code}"]


def footer(run_id: str) -> str:
    return f"{SYNTHETIC} full output: ai-session output {run_id} [--raw|--lines A:B|--grep PATTERN]"


def compress(raw: str, command: str | None, exit_code: int | None, *, run_id: str | None = None) -> Compressed:
    """Context form of one command's output."""
    lines = clean_lines(raw)
    cut: dict[int, int] = {}
    for i, line in enumerate(lines):
        if len(line) > MAX_LINE:
            lines[i], cut[i] = clip(line)
    raw_bytes = byte_size(raw) if "\x00" in raw or "\ufffd" in raw else None  # only binary output needs it
    return compress_lines(lines, command, exit_code, run_id=run_id, cut=cut or None, raw_head=raw[:RAW_HEAD],
                          raw_bytes=raw_bytes)


def clip(line: str) -> tuple[str, int]:
    """An over-long line as its head and tail joined, and how many characters fell out."""
    return line[:HALF_LINE] + line[-HALF_LINE:], len(line) - 2 * HALF_LINE


def compress_lines(
    lines: list[str],
    command: str | None,
    exit_code: int | None,
    *,
    run_id: str | None = None,
    preamble: list[str] | None = None,
    cut: dict[int, int] | None = None,
    raw_head: str = "",
    raw_bytes: int | None = None,
) -> Compressed:
    """Same as `compress` over already-cleaned lines (the streaming path uses it).

    `preamble`: notes about what the caller did not pass on (the stream's unseen middle);
    `cut`: characters already removed from over-long lines, by index;
    `raw_head`: the start of the raw output (magic numbers say what binary output is);
    `raw_bytes`: the raw output's size in bytes, when known (what a binary output's note gives).
    """
    binary = find_binary(lines)
    seen = [("" if i in binary else line) for i, line in enumerate(lines)] if binary else lines
    tool, sub = detect(command, seen)
    facts = scan(seen, exit_code)
    ctx = Ctx(command=command or "", exit_code=exit_code, tool=tool, subcommand=sub, facts=facts)
    out = REDUCERS[tool](seen, ctx)
    if tool != "generic" and not out.kept_indexes() and any(line.strip() for line in seen):
        tool = "generic"  # a reducer that kept nothing misread the output
        out = reduce_generic(seen, ctx)
    enforce(out, facts)
    if cut:
        out.cut.update(cut)
    if binary:
        first = min(binary)
        out.note(first, binary_note(lines, binary, raw_head, raw_bytes), sub=-1)
    body = out.render()
    cleaned_chars = sum(map(len, lines)) + len(lines)
    footer_chars = len(footer(run_id)) + 1 if run_id else 0
    passthrough = not binary and not cut and not preamble and (
        cleaned_chars <= PASS_THROUGH_CHARS or sum(map(len, body)) + len(body) + footer_chars >= cleaned_chars
    )
    if passthrough:  # nothing worth leaving out: the output itself, and nothing to retrieve
        body = list(lines)
        while body and not body[-1].strip():
            body.pop()
    if sum(map(len, body)) + len(body) > MAX_BODY_CHARS:
        body, passthrough = bounded(body, run_id), False
    body = (preamble or []) + body
    text_lines = body + exit_line(exit_code) + ([footer(run_id)] if run_id and not passthrough else [])
    return Compressed(
        text="\n".join(text_lines) + "\n" if text_lines else "",
        tool=tool,
        body=body,
        raw_lines=len(lines),
        kept_lines=sum(1 for line in body if not line.startswith(SYNTHETIC)),
        passthrough=passthrough,
    )


def bounded(body: list[str], run_id: str | None) -> list[str]:
    """The last resort for an output with more facts than a context can hold (a huge log of
    distinct failures): its first and last MAX_BODY_CHARS, and a note saying what is not shown."""
    head: list[str] = []
    size = 0
    for line in body:
        if size + len(line) + 1 > MAX_BODY_CHARS * 2 // 3:
            break
        head.append(line)
        size += len(line) + 1
    tail: list[str] = []
    size = 0
    for line in reversed(body[len(head) :]):
        if size + len(line) + 1 > MAX_BODY_CHARS // 3:
            break
        tail.append(line)
        size += len(line) + 1
    tail.reverse()
    hidden = body[len(head) : len(body) - len(tail)]
    where = f"ai-session output {run_id} --grep PATTERN" if run_id else "a search of the full output"
    note = (f"{SYNTHETIC} {len(hidden)} more lines of this context not shown ({sum(map(len, hidden)):,} characters: "
            f"more facts than one context holds); find them with {where}")  # fmt: skip
    return [*head, note, *tail]


def enforce(out: Out, facts: Facts) -> None:
    """The fact guard's word is final: every fact is kept, with what it needs to be read."""
    shown = {out.lines[i] for i in out.kept_indexes()} if out.repeats else set()
    for i in facts.must_keep():
        if out.kept(i) or i in out.passed or (i in out.code and i not in facts.located):
            continue
        if i in out.repeats and out.lines[i] in shown:
            continue
        out.keep(i)
    for group in facts.repeats:  # a run of facts without a location, only numbers differing: first, count, last
        hidden = [i for i in group[1:-1] if not out.kept(i) and i not in out.repeats]  # repeats: counted already
        if hidden:
            out.note(hidden[0], f"{len(hidden)} more like this (only numbers differ) until line {group[-1] + 1}",
                     sub=-1)  # where the hidden ones begin
    for i in structure(out.lines, out.kept_in_place(), facts):  # lines a reducer moved have their context
        out.keep(i)
