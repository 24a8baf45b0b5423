"""go build / go vet / go test (plain and -v).

Kept: `# pkg` headers and `file.go:line:col:` diagnostics, `--- FAIL:` lines with the
log lines their test printed (in -v mode those come before the result line, so each
test's output is held until its result is known), panics with their goroutine trace
(capped), FAIL and ok package lines, coverage and benchmark results. Dropped: `=== RUN/
PAUSE/CONT` markers, passing and skipped tests with their output, `?  pkg [no test
files]`, `go: downloading …`.
"""

from __future__ import annotations

from ai_session.core.compress.base import Ctx, Out
from ai_session.core.compress.patterns import lazy

MARK_RE = lazy(r"^\s*=== (?:RUN|PAUSE|CONT|NAME)\s+(\S+)")
RESULT_RE = lazy(r"^\s*--- (PASS|FAIL|SKIP): (\S+)")
PKG_OK_RE = lazy(r"^ok\s+\S+")
PKG_FAIL_RE = lazy(r"^FAIL(?:\s|$)")
NO_TESTS_RE = lazy(r"^\?\s+\S+\s+\[no test files\]")
DIAG_RE = lazy(r"^\s*\S+\.go:\d+(?::\d+)?: ")
DROP_RE = lazy(r"^go: (?:downloading|finding|extracting) |^PASS$")
KEEP_RE = lazy(r"^# \S|^Benchmark\S+\s+\d+|coverage: |^panic: |^fatal error: |^goroutine \d+ \[|^exit status \d+")
LOG_CAP = 60
PANIC_CAP = 40
OK_CAP = 30


def reduce_go(lines: list[str], ctx: Ctx) -> Out:
    out = Out(lines, facts=ctx.facts)
    logs: dict[str, list[int]] = {}
    current: str | None = None
    panic_budget = 0
    oks = 0
    for i, line in enumerate(lines):
        s = line.strip()
        if not s:
            continue
        if panic_budget:
            if PKG_FAIL_RE.match(line) or PKG_OK_RE.match(line):
                panic_budget = 0
            else:
                out.keep(i)
                panic_budget -= 1
                if not panic_budget:
                    out.note(i, "panic trace cut here")
                continue
        m = MARK_RE.match(line)
        if m:
            current = m.group(1)
            continue
        r = RESULT_RE.match(line)
        if r:
            status, name = r.groups()
            held = logs.pop(name, [])
            if status == "FAIL":
                _emit_logs(out, held)
                out.keep(i)
            else:
                out.drop("passed/skipped tests", i)
                for j in held:
                    out.drop_passed("their output lines", j)
            if current == name:
                current = None
            continue
        if line.startswith(("panic: ", "fatal error: ")):
            for name in list(logs):  # the crashing test's output explains the crash
                _emit_logs(out, logs.pop(name))
            out.keep(i)
            panic_budget = PANIC_CAP
            continue
        if PKG_OK_RE.match(line):
            oks += 1
            if oks <= OK_CAP:
                out.keep(i)
            else:
                out.drop("ok packages", i)
            current = None
            continue
        if PKG_FAIL_RE.match(line):
            out.keep(i)
            current = None
            continue
        if NO_TESTS_RE.match(line):
            out.drop("packages without tests", i)
            continue
        if DROP_RE.match(line):
            continue
        if (DIAG_RE.match(line) and current is None) or KEEP_RE.search(line):
            out.keep(i)
            continue
        if current is not None:
            logs.setdefault(current, []).append(i)
            continue
        # Plain (non -v) mode prints only failing tests' logs, after their --- FAIL line.
        if line.startswith((" ", "\t")) or out.important(i):
            out.keep(i)
        else:
            out.drop("other lines", i)
    for held in logs.values():  # tests that never reported (crash, timeout)
        _emit_logs(out, held)
    return out


def _emit_logs(out: Out, held: list[int]) -> None:
    for k, i in enumerate(held):
        if k < LOG_CAP:
            out.keep(i)
        else:
            out.drop("test log lines", i)
