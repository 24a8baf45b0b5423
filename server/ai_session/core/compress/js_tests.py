"""jest (default and --verbose), vitest, mocha.

Kept: FAIL suite lines, each failure's title (`●`, vitest `FAIL … >`, mocha `1) …`),
its message, `Expected:`/`Received:` and the changed (+/-) lines of its diff, the `>`
line of the code frame, the first stack frames outside node_modules/node internals,
failed-test marks (✕ × ✖), and the summary (Test Suites/Tests/Snapshots/Time, vitest
Test Files/Tests/Duration, mocha passing/failing/pending). Dropped: RUNS redraws, PASS
suites, passing/skipped tests, diff context, code frames, internal stack frames,
console.log blocks, and the "Summary of all failing tests" repeat.
"""

from __future__ import annotations

import re

from ai_session.core.compress.base import Ctx, Out, keep_important
from ai_session.core.compress.patterns import lazy

SUITE_RE = lazy(r"^\s*(PASS|FAIL|RUNS)\s+\S")
BULLET_RE = lazy(r"^\s*● (.*)$")
MOCHA_FAIL_RE = lazy(r"^\s+\d+\) \S")
PASS_MARK_RE = lazy(r"^\s*[✓✔√]\s")
SKIP_MARK_RE = lazy(r"^\s*(?:[○↓]|-\s)\s*\S")
FAIL_MARK_RE = lazy(r"^\s*[✕×✖]\s")
VITEST_FILE_RE = lazy(r"^\s*[❯✓×↓]\s+\S+\.(?:[cm]?[jt]sx?|vue|svelte)\b")
SUMMARY_RE = lazy(
    r"^\s*(?:Test Suites:|Tests:|Snapshots:|Time:|Ran all test suites|Test Files\s|Tests\s+\d|Duration\s"
    r"|\d+ (?:passing|failing|pending)\b|Errors\s+\d|Type Errors\s)"
)
CODE_FRAME_RE = lazy(r"^\s*>?\s*\d+\s*\|")
CARET_FRAME_RE = lazy(r"^\s*\|")
STACK_RE = lazy(r"^\s*(?:at |❯ )")
INTERNAL_RE = lazy(r"node_modules|node:internal|\(internal/|<anonymous>\)$|\(native\)")
DIFF_HEAD_RE = lazy(r"^\s*(?:- Expected|\+ Received|\+ expected - actual|- expected \+ actual)")
SEPARATOR_RE = lazy(r"^\s*⎯{3,}")
MESSAGE_CAP = 15
DIFF_CAP = 24
FRAMES_KEPT = 2


def reduce_js_tests(lines: list[str], ctx: Ctx) -> Out:
    out = Out(lines, facts=ctx.facts)
    in_block = False
    in_console = False
    skipping_repeat = False
    in_diff = False
    msg = diff = frames = 0
    seen_titles: set[str] = set()
    for i, line in enumerate(lines):
        s = line.strip()
        if not s:
            continue
        if SUMMARY_RE.match(line):
            out.keep(i)
            in_block = in_console = skipping_repeat = False
            continue
        m = SUITE_RE.match(line)
        if m:
            kind = m.group(1)
            if kind == "FAIL":
                out.keep(i)
                title = s
                skipping_repeat = title in seen_titles and " > " in title
                seen_titles.add(title)
                in_block, in_console, in_diff = True, False, False
                msg = diff = frames = 0
            elif kind == "PASS":
                out.drop("passed suites", i)
                in_block = False
            else:
                in_block = False
            continue
        if s.startswith("Summary of all failing tests"):
            out.keep(i)
            continue
        b = BULLET_RE.match(line)
        if b or MOCHA_FAIL_RE.match(line):
            title = b.group(1) if b else s
            if b and title.startswith("Console"):
                in_console, in_block = True, False
                continue
            in_console = False
            if title in seen_titles:
                skipping_repeat = True
                out.drop("repeated failure lines", i)
                continue
            seen_titles.add(title)
            skipping_repeat = False
            out.keep(i)
            in_block, in_diff = True, False
            msg = diff = frames = 0
            continue
        if skipping_repeat:
            out.drop("repeated failure lines", i)
            continue
        if PASS_MARK_RE.match(line) or (VITEST_FILE_RE.match(line) and not FAIL_MARK_RE.match(line) and "❯" not in s[:2]):
            out.drop("passed tests", i)
            continue
        if FAIL_MARK_RE.match(line):
            out.keep(i)
            continue
        if SKIP_MARK_RE.match(line) and not in_block:
            out.drop("skipped tests", i)
            continue
        if SEPARATOR_RE.match(line):
            if re.search(r"Failed|Error|Unhandled", s):
                out.keep(i)
            continue
        if in_console:
            if s.startswith(("console.error", "console.warn")):
                out.keep(i)
                if i + 1 < len(lines) and lines[i + 1].strip():
                    out.keep(i + 1)
            else:
                out.drop("console output lines", i)
            continue
        if in_block:
            if STACK_RE.match(line):
                if frames < FRAMES_KEPT and not INTERNAL_RE.search(s):
                    out.keep(i)
                    frames += 1
                else:
                    out.drop("stack frames", i)
                continue
            if CODE_FRAME_RE.match(line):
                out.drop_code("code frame lines", i)  # the stack frame below gives file:line:col
                continue
            if CARET_FRAME_RE.match(line):
                out.drop_code("code frame lines", i)
                continue
            if DIFF_HEAD_RE.match(line):
                out.keep(i)
                in_diff = True
                continue
            if in_diff:
                if s[0] in "+-" and not s.startswith(("+ Received", "- Expected")):
                    diff += 1
                    if diff <= DIFF_CAP:
                        out.keep(i)
                    else:
                        out.drop("diff lines", i)
                elif s.startswith(("Expected", "Received")):
                    out.keep(i)
                else:
                    out.drop("diff context lines", i)
                continue
            msg += 1
            if msg <= MESSAGE_CAP or s.startswith(("Expected", "Received")) or out.important(i):
                out.keep(i)
            else:
                out.drop("message lines", i)
            continue
        keep_important(out, i, "other lines")
    out.keep_last = False
    return out
