"""pytest (every reporting style) and unittest.

Kept: failing test ids, each failure's `>` statement, `E` lines, `file:line: Error`
locations, Python tracebacks' `File` lines and exception lines, doctest `Expected:`/`Got:`
blocks with the failing example, warnings (location + message), the short summary's
FAILED/ERROR lines, the final counts. Dropped: passing/skipped progress, session header,
source context, captured output that is not an error, PASSES sections.
"""

from __future__ import annotations

import re

from ai_session.core.compress.base import Ctx, Out, keep_important
from ai_session.core.compress.patterns import lazy

SECTION_RE = lazy(r"^=+ (.+?) =+$")
ENTRY_RE = lazy(r"^_{3,} (.+?) _{3,}$")
SUBSECTION_RE = lazy(r"^-{3,} (.+?) -{3,}$")
COUNTS_RE = lazy(
    r"\b\d+ (?:passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?|rerun)\b|no tests ran"
)
SUMMARY_RE = lazy(r"(?:\b\d+ (?:passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?|rerun)\b|no tests ran).* in \d+(?:\.\d+)?s\b")
STATUS_RE = lazy(r"\b(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b")
PROGRESS_RE = lazy(r"^(?:\S+\.py )?[.FEsxXpR]+\s*(?:\[\s*\d+%\])?$")
PCT_RE = lazy(r"\s*\[\s*\d+%\]$")
LOCATION_LINE_RE = lazy(r"^[^\s>].*?:\d+:(?: |$)")
NUMBERED_EXAMPLE_RE = lazy(r"^\d+\s+(?:>>>|\.\.\.)")
FILE_FRAME_RE = lazy(r'^\s+File "[^"]*", line \d+')
LIBRARY_FRAME_RE = lazy(r'File "(?:[^"]*/(?:site-packages|dist-packages|lib/python\d[\d.]*)/|<frozen )')
CARET_RE = lazy(r"^\s*[~^]+\s*$")
HEADER_DROP_RE = lazy(
    r"^(platform |cachedir|rootdir|configfile|plugins|testpaths|inifile|Using --randomly-seed"
    r"|hypothesis profile|benchmark:|django: |asyncio: |timeout: |sensitiveurl|metadata: |Test order randomisation"
    r"|collecting \.\.\.|created: \d+/\d+ workers|\d+ workers \[)"
)
E_CAP = 40
CAPTURED_CAP = 5


def _pytest_short_summary_present(lines: list[str]) -> bool:
    return any(line.startswith("=") and "short test summary info" in line for line in lines)


def reduce_pytest(lines: list[str], ctx: Ctx) -> Out:
    out = Out(lines, facts=ctx.facts)
    has_short = _pytest_short_summary_present(lines)
    section = "progress"
    e_count = 0
    captured = 0
    last_example = -1
    doctest_block = False
    in_tb = False
    last_frame = -1
    exc_tail = 0
    warn_kept = 0
    for i, line in enumerate(lines):
        if not line.strip():
            doctest_block = False
            exc_tail = 0
            continue
        m = SECTION_RE.match(line)
        if m:
            title = m.group(1).lower()
            in_tb = False
            if SUMMARY_RE.search(line) or COUNTS_RE.search(title):
                out.keep(i)
                section = "end"
            elif "test session starts" in title:
                section = "progress"
            elif title in ("failures", "errors") or title.startswith("error"):
                out.keep(i)
                section = "failures"
            elif "warnings summary" in title:
                out.keep(i)
                section = "warnings"
            elif "short test summary" in title:
                out.keep(i)
                section = "short"
            elif title in ("passes", "xfailures", "xpasses") or "slowest" in title or "durations" in title:
                section = "skip"
            else:
                section = "other"
            continue
        if " in " in line and not line.startswith(" ") and SUMMARY_RE.search(line):  # cheap tests first
            out.keep(i)
            continue
        if section == "progress":
            _progress_line(out, i, line, has_short)
        elif section == "failures":
            if ENTRY_RE.match(line):
                out.keep(i)
                e_count = captured = exc_tail = 0
                last_example = -1
                in_tb = doctest_block = False
                continue
            sub = SUBSECTION_RE.match(line)
            if sub:
                if sub.group(1).startswith("Captured"):
                    out.keep(i)
                    captured = 1
                else:
                    captured = 0
                continue
            if captured:
                if out.important(i) or captured <= CAPTURED_CAP:
                    out.keep(i)
                else:
                    out.drop("captured output lines", i)
                captured += 1
                continue
            # Python traceback (doctest UNEXPECTED EXCEPTION, --tb=native).
            if line.startswith("Traceback (most recent call last)") or line.startswith(
                "During handling of the above exception"
            ) or line.startswith("The above exception was the direct cause"):
                out.keep(i)
                in_tb = True
                continue
            if in_tb:
                if FILE_FRAME_RE.match(line):
                    if not LIBRARY_FRAME_RE.search(line):
                        out.keep(i)
                    else:
                        out.drop("library frames", i)
                    last_frame = i
                    continue
                if line.startswith(" "):
                    out.drop("traceback source lines", i)
                    continue
                in_tb = False
                if last_frame >= 0:
                    out.keep(last_frame)  # the innermost frame, library or not
                if last_frame >= 0 and last_frame + 1 < i and not CARET_RE.match(lines[last_frame + 1]):
                    out.keep(last_frame + 1)  # the statement that raised
                out.keep(i)
                exc_tail = 10
                continue
            if NUMBERED_EXAMPLE_RE.match(line):
                if ">>>" in line[:12]:
                    last_example = i
                out.drop_code("source lines", i)
                continue
            if line in ("Expected:", "Got:", "Got nothing") or line.startswith("UNEXPECTED EXCEPTION:"):
                if last_example >= 0:
                    out.keep_range(last_example, i)
                    last_example = -1
                out.keep(i)
                doctest_block = True
                continue
            if doctest_block and line.startswith(" "):
                out.keep(i)
                continue
            doctest_block = False
            if line.startswith("E ") or line == "E":
                e_count += 1
                if e_count <= E_CAP:
                    prev = i - 1
                    first_e = e_count == 1 or not lines[prev].startswith("E")
                    if first_e and prev >= 0 and lines[prev].strip() and not out.kept(prev):
                        out.keep(prev)  # the statement the E lines explain
                    out.keep(i)
                else:
                    out.drop("E lines", i)
                continue
            if line.startswith(">"):
                out.keep(i)
                continue
            if LOCATION_LINE_RE.match(line):
                out.keep(i)
                exc_tail = 0
                continue
            if exc_tail and not line.startswith(" "):
                out.keep(i)
                exc_tail -= 1
                continue
            if out.important(i) and not line.startswith("    "):
                out.keep(i)
            else:
                out.drop_code("source lines", i)
        elif section == "warnings":
            if line.startswith("-- Docs:"):
                continue
            if warn_kept < 30 and (not line.startswith(" ") or ("Warning" in line and line.startswith("  ") and not line.startswith("    "))):
                out.keep(i)
                warn_kept += 1
            else:
                out.drop("warning detail lines", i)
        elif section == "short":
            if line.startswith(("FAILED", "ERROR", "XPASS")):
                out.keep(i)
            elif line.startswith("PASSED"):
                out.drop("passed tests", i)
            else:
                out.drop("skipped/xfailed tests", i)
        elif section in ("skip",):
            out.drop("passes/durations lines", i)
        else:
            if out.important(i) or line.startswith("TOTAL"):
                out.keep(i)
            else:
                out.drop("other lines", i)
    return out


def _progress_line(out: Out, i: int, line: str, has_short: bool) -> None:
    if " PASSED" in line and "::" in line:  # the bulk of a -v run, decided without a regex
        out.drop("passed tests", i)
        return
    if HEADER_DROP_RE.match(line):
        return
    if line.startswith("collected ") or (line.startswith("collecting ") and "collected" in line):
        out.keep(i)
        return
    st = STATUS_RE.search(line)
    if st and ("::" in line or line.startswith("[gw")):
        status = st.group(1)
        if status in ("FAILED", "ERROR", "XPASS") and not has_short:
            out.keep(i)
        elif status in ("PASSED", "XPASS"):
            out.drop("passed tests", i)
        elif status in ("FAILED", "ERROR"):
            out.drop("failed-test progress lines (listed below)", i)
        else:
            out.drop("skipped/xfailed tests", i)
        return
    if PROGRESS_RE.match(line):
        if not has_short and ("F" in line.split("[")[0] or "E" in line.split("[")[0]):
            out.keep(i)
        else:
            out.drop("progress lines", i)
        return
    if out.important(i) or LOCATION_LINE_RE.match(line):
        out.keep(i)
    else:
        out.drop("other lines", i)


UT_RESULT_RE = lazy(r"^(\S.*?) \.\.\. (ok|FAIL|ERROR|skipped.*|expected failure|unexpected success)$")
UT_HEADER_RE = lazy(r"^(FAIL|ERROR|UNEXPECTED SUCCESS): \S")
UT_SUMMARY_RE = lazy(r"^(Ran \d+ tests? in |OK\b|FAILED \()")


def reduce_unittest(lines: list[str], ctx: Ctx) -> Out:
    out = Out(lines, facts=ctx.facts)
    in_tb = False
    last_frame = -1
    exc_tail = 0
    for i, line in enumerate(lines):
        if not line.strip():
            exc_tail = 0
            continue
        if UT_SUMMARY_RE.match(line) or UT_HEADER_RE.match(line):
            out.keep(i)
            in_tb = False
            continue
        m = UT_RESULT_RE.match(line)
        if m:
            if m.group(2) in ("FAIL", "ERROR", "unexpected success"):
                out.keep(i)
            else:
                out.drop("passed/skipped tests", i)
            continue
        if re.match(r"^[=-]{20,}$", line) or re.match(r"^[.FEsxu]+$", line):
            continue
        if line.startswith("Traceback (most recent call last)") or line.startswith("During handling"):
            out.keep(i)
            in_tb = True
            continue
        if in_tb:
            if FILE_FRAME_RE.match(line):
                out.keep(i)
                last_frame = i
                continue
            if line.startswith(" "):
                out.drop("traceback source lines", i)
                continue
            in_tb = False
            if last_frame >= 0 and last_frame + 1 < i and not CARET_RE.match(lines[last_frame + 1]):
                out.keep(last_frame + 1)
            out.keep(i)
            exc_tail = 20
            continue
        if exc_tail:
            out.keep(i)
            exc_tail -= 1
            continue
        keep_important(out, i, "other lines")
    return out
