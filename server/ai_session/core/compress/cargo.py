"""cargo build/check/clippy/test and rustc.

Kept: the first error in full; every other error/warning headline with its `-->`
location (repeats of the same headline are grouped: the headline once, then each
location); "generated N warnings", "could not compile"; failing tests (`test x ...
FAILED`), their `---- x stdout ----` output (panic location and message), the failures
list, every non-empty `test result:` line, `error: test failed, to rerun …`,
`error: N targets failed:` with its list. Dropped: Compiling/Checking/Building/Running
status lines, code snippets, `= help`/`= note`/`help:` sub-diagnostics (after the first
error), passing tests, RUST_BACKTRACE hints, duplicated warnings.
"""

from __future__ import annotations

import re

from ai_session.core.compress.base import Ctx, Out, keep_important
from ai_session.core.compress.patterns import lazy

STATUS_RE = lazy(
    r"^\s+(?:Compiling|Checking|Downloaded|Downloading|Updating|Locking|Adding|Fresh|Blocking|Building"
    r"|Finished|Running|Doc-tests|Documenting|Packaging|Verifying|Installing|Installed|Replacing|Removed"
    r"|Fetch|Unpacking|Migrating|Fixed|Dirty|Scraping|Removing|Packaged|Uploading|Waiting|Generated"
    r"|Starting|Summary|PASS|SKIP|Ignored|Locked|Upgrading|Blocking)\b"
)
HEADLINE_RE = lazy(r"^(error|warning)(\[[\w:-]+\])?: (.*)$")
LOC_RE = lazy(r"^\s*--> \S")
SUMMARY_DIAG_RE = lazy(
    r"^(?:warning: `[^`]+` \(.*\) generated \d+|error: could not compile|error: test failed|error: \d+ targets? failed"
    r"|warning: build failed|error: aborting|error: Recipe|error: no matching package|error: failed to)"
)
TEST_LINE_RE = lazy(r"^test (.+?) \.\.\. (.*)$")
STDOUT_RE = lazy(r"^---- .+ std(?:out|err) ----$")
RESULT_RE = lazy(r"^test result: ")
EMPTY_RESULT_RE = lazy(r"^test result: ok\. 0 passed; 0 failed; 0 ignored")
STDOUT_CAP = 30
CARGO_LEADS = frozenset(" \tewtrf-")  # the first characters of every line the patterns above match
FIRST_ERROR_CAP = 40


def reduce_cargo(lines: list[str], ctx: Ctx) -> Out:
    out = Out(lines, facts=ctx.facts)
    first_error_done = False
    groups: dict[str, tuple[int, int]] = {}  # headline -> (key index, next sub-key)
    seen_pairs: set[tuple[str, str]] = set()
    mode = ""  # "diag", "stdout", "failures", "targets"
    budget = 0
    n = len(lines)
    for i, line in enumerate(lines):
        s = line.strip()
        if not s:
            if mode in ("diag", "targets", "failures"):
                mode = ""
            continue
        if mode in ("diag", "first", "dup") and (line[0] in " \t|=" or line[0].isdigit()):
            if mode == "diag":  # snippet, `|` gutter, `= help`; the `-->` line was taken with the headline
                out.drop("snippet/help lines", i)
            continue
        if not mode and line[0] not in CARGO_LEADS:  # none of cargo's own lines: no pattern can match
            keep_important(out, i, "other lines")
            continue
        if STATUS_RE.match(line):
            out.drop("status lines", i)
            continue
        if SUMMARY_DIAG_RE.match(line):
            out.keep(i)
            mode = "targets" if "targets failed" in line or "target failed" in line else ""
            continue
        if mode == "targets" and line.startswith(" "):
            out.keep(i)
            continue
        h = HEADLINE_RE.match(line)
        if h:
            mode = "diag"
            if h.group(1) == "error" and not first_error_done:
                first_error_done = True
                # The first error in full: its whole block up to the blank line.
                j = i
                while j < n and lines[j].strip() and j - i < FIRST_ERROR_CAP:
                    out.keep(j)
                    j += 1
                loc = _location(lines, i)
                seen_pairs.add((line, lines[loc] if loc >= 0 else ""))
                groups.setdefault(line, (j - 1, 100))
                mode = "first"
                continue
            loc = _location(lines, i)
            loc_line = lines[loc].strip() if loc >= 0 else ""
            if (line, loc_line) in seen_pairs:
                out.drop_repeat("duplicate diagnostics", i)
                mode = "dup"
                continue
            seen_pairs.add((line, loc_line))
            if line in groups:
                key, sub = groups[line]
                if loc >= 0:
                    out.keep_at((key, sub), loc)
                groups[line] = (key, sub + 1)
                out.drop_repeat("repeated headlines", i)
            else:
                out.keep(i)
                if loc >= 0:
                    out.keep_at((i, 1), loc)
                groups[line] = (i, 100)
            continue
        if mode in ("first", "dup"):
            continue
        if mode == "diag":
            out.drop("snippet/help lines", i)
            continue
        t = TEST_LINE_RE.match(line)
        if t:
            if "FAILED" in t.group(2):
                out.keep(i)
            else:
                out.drop("passed/ignored tests", i)
            continue
        if re.match(r"^running \d+ tests?$", line):
            continue
        if STDOUT_RE.match(line):
            out.keep(i)
            mode, budget = "stdout", STDOUT_CAP
            continue
        if line == "failures:":
            out.keep(i)
            mode = "failures"
            continue
        if RESULT_RE.match(line):
            if EMPTY_RESULT_RE.match(line):
                out.drop("empty test targets", i)
            else:
                out.keep(i)
            mode = ""
            continue
        if mode == "stdout":
            if s.startswith("note: run with `RUST_BACKTRACE"):
                continue
            if budget > 0:
                out.keep(i)
                budget -= 1
            else:
                out.drop("test output lines", i)
            continue
        if mode == "failures" and line.startswith("    "):
            out.keep(i)
            continue
        keep_important(out, i, "other lines")
    return out


def _location(lines: list[str], i: int) -> int:
    for j in range(i + 1, min(i + 4, len(lines))):
        if LOC_RE.match(lines[j]):
            return j
    return -1
