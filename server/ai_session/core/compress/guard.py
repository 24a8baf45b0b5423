"""The fact guard: the lines no reducer, known or generic, may drop or fold.

A line is a *fact* when it carries
- a location: `path.ext:line[:col]`, `File "…", line N`, `In FILE line N`, `--> file:line:col`,
  `at FILE line N`, `file(line,col)`, `file:[line,col]` outside vendored folders (a vendored
  location counts only when a severity follows it, as in a compiler diagnostic);
- a severity: error, warning, fail, fatal, panic, exception, traceback, conflict, denied,
  refused, not found, skipped (and crash words: aborted, killed, segmentation fault, …);
- a summary shape: counts of outcomes ("3 passed", "Found 2 errors", "Tests run: 5",
  "added 12 packages", "2 files would be reformatted"), final status words ("BUILD
  SUCCESS", "OK (1.2s)", "files have been written"), a package added or removed (`+ x 1.2`);
- a test id (`path::name`, TAP `not ok N`, a numbered failure `1) name`) that does not say
  the test passed, and an assertion's expected/got lines;
- a file the command emitted with its size, a row of a per-file table ending in percentages
  (coverage), a diff's file header (`diff --git`, `--- a/x`, `+++ b/x`);
- in an output that succeeded, what it did to each item by name and version ("Compiling
  regex v1.7.1", "Setting up meson (1.0.1-5)"); failing, those lines are progress.

Folding is allowed only for runs of consecutive facts that carry no location and are
identical once their numbers are normalised (a retry warning printed 500 times in a row):
the first and the last stay, and a count says how many more there were. The same message
under two failing tests is two facts. A located fact repeated exactly is shown once, and so is a
headline a reducer shows once with every location it applies to grouped under it.

Lines that are recognisably noise stay droppable whatever words they contain: passing
tests, test-start markers, code frames (the source drawn under a diagnostic with a `|`
gutter), the code inside a diff hunk, vendored locations without a severity. *Low* findings (info, style, convention,
refactor, note, hint levels) are facts only when the output has no error or warning
finding: next to errors they may be counted per rule instead of shown.

Structure comes with the facts (`structure`): a kept line's block header (the nearest
less-indented line above it when it looks like a header: `In FILE line N:`, a file path,
`Title:`), the message a location-only line (`--> x.rs:3:4`) belongs to, the source line
printed under a project traceback frame, the indented lines a failing header introduces
("The conflict is caused by:"), and the detail lines drawn in a box or tree under a finding.

Speed: a line is classified once per shape (its text with digits normalised), so a log of
many similar lines costs one classification per distinct shape; shapes are gathered in
batches with one translate over the joined text, and classification works on lower-cased
text with word sets and literal-led searches: Python's regular expressions are slow on
large case-insensitive alternations.
"""

from __future__ import annotations

import re

from ai_session.core.compress.patterns import lazy

# ---------------------------------------------------------------- vendored code
# Path parts whose files are somebody else's code: a location inside them is not a fact.
VENDORED_PARTS = (
    "node_modules/", "site-packages/", "dist-packages/", "bower_components/", "vendor/", ".venv/", "venv/",
    ".tox/", ".nox/", ".yarn/", ".pnpm/", "third_party/", "third-party/", "dist/", ".next/", ".nuxt/",
    ".cargo/registry/", "go/pkg/mod/", ".gradle/", ".m2/", "/usr/lib/", "/usr/local/lib/", "/usr/include/",
    "<frozen ", "node:internal", "(internal/", ".min.js", ".min.css", "/lib/python",
)


_VENDORED_RE = lazy("|".join(re.escape(v) for v in VENDORED_PARTS) + r"|^(?:\./)?(?:vendor|dist|build)/")


def is_vendored(path: str) -> bool:
    return bool(_VENDORED_RE.search(path.replace("\\", "/")))


# ---------------------------------------------------------------- locations
# Literal-led expressions a search over the whole output can jump to; group "end" is where
# the line number starts, the path is read backwards from the match.
LOCATION_RES = (
    lazy(r"\.[A-Za-z]\w{0,15}(?::\d|:\[\d)|\.[A-Za-z]{1,5}\(\d+(?:,\d+)?\):"),  # x.py:12  X.java:[12,5]  x.ts(12,3):
    lazy(r"\", line \d"),  # File "x.py", line 12
    lazy(r"\bIn \S+ line \d|\bat \S+ line \d"),  # shellcheck; perl
    lazy(r"-->\s*\S+:\d"),  # rustc, ruff
    lazy(r"\b(?:Makefile|Dockerfile|Containerfile|Rakefile|Gemfile|Jenkinsfile|Justfile|justfile|BUILD):\d"),
)
_PATH_STOP = " \t\"'(<[{=,;`"
HEADER_RE = lazy(r"^In \S+ line \d+:$")  # a location that heads the findings printed under it
_RULE_CODE_RE = lazy(r"\b[A-Z]{1,4}-?\d{3,5}\b")  # SC2086, C0114, E501, TS2322
PY_FRAME_RE = lazy(r'^(\s*)File "([^"]+)", line \d+')
LOCATION_ONLY_RE = lazy(r"^\s*-->\s*\S+(?::\d+)+:?\s*$")  # the message it belongs to is above
# Right after a location, a diagnostic's level: `x.c:1:2: error: …`, `x.py:3:4 - warning: …`.
_SEVERITY_AFTER_RE = lazy(r"[:\s\d,)\]-]*(?:fatal error|error|warning|fatal|panic)\b[:\s\[]", re.IGNORECASE)


def _path_before(line: str, end: int) -> str:
    start = end
    while start > 0 and line[start - 1] not in _PATH_STOP:
        start -= 1
    return line[start:end]


LOCATED, VENDORED_LINE = 1, -1


def locate(line: str) -> int:
    """LOCATED: a location outside vendored code, or a vendored one followed by a diagnostic's
    level; VENDORED_LINE: the line starts with a vendored location (a search hit, a listing
    entry): what follows is that file's content, whatever words it has; 0 otherwise."""
    for rx in LOCATION_RES:
        for m in rx.finditer(line):
            text = m.group(0)
            if text.startswith(("In ", "at ", "-->")):
                path = text.split()[1] if not text.startswith("-->") else text[3:].strip()
                start = m.start()
            elif text.startswith('"'):
                path = _path_before(line, m.start())
                start = m.start() - len(path)
            else:
                head = _path_before(line, m.start())
                path = head + text.split(":")[0].split("(")[0]
                start = m.start() - len(head)
            if not path or not is_vendored(path):
                return LOCATED
            if _SEVERITY_AFTER_RE.match(line, m.end() - 1 if text[-1].isdigit() else m.end()):
                return LOCATED
            if start <= 2:
                return VENDORED_LINE
    return 0


def location_fact(line: str) -> bool:
    return locate(line) == LOCATED


# ---------------------------------------------------------------- severities
# Lower-case substrings one of which every severity contains: found with str.find.
SEVERITY_HINTS = (
    "err", "warn", "fail", "fatal", "panic", "exception", "traceback", "conflict", "denied", "refused", "not found",
    "skipped", "critical", "abort", "segmentation fault", "core dumped", "cannot", "can't", "could not", "unable to",
    "undefined reference", "timed out", "killed", "not ok", "***", "✕", "✗", "✘", "×", "✖",
)
SEVERITY_WORDS = frozenset((
    "error", "errors", "err", "warning", "warnings", "warn", "fail", "fails", "failed", "failure", "failures",
    "failing", "fatal", "panic", "panicked", "exception", "exceptions", "traceback", "conflict", "conflicts",
    "conflicting", "denied", "refused", "skipped", "critical", "abort", "aborted", "aborting", "cannot", "killed",
))  # fmt: skip
SEVERITY_PHRASES = (
    "not found", "segmentation fault", "core dumped", "can't", "could not", "unable to", "undefined reference",
    "timed out", "not ok", "err!", "***", "✕", "✗", "✘", "×", "✖",
)
_WORD_RE = lazy(r"[a-z]+")
_CAMEL_SEVERITY_RE = lazy(r"[a-z](?:Error|Exception|Warning)\b")
HIGH_WORDS = frozenset(("error", "errors", "warning", "warnings", "fatal", "critical", "failed", "failure", "panic"))
# The level of a finding when it is a low one.
LOW_MARKS = (
    "(info)", "(style)", "(convention)", "(refactor)", "(note)", "(hint)", "(information)", "[info]", "[note]",
    "[hint]", "[style]", " info:", " note:", " hint:", " help:", " style:", " convention:", " refactor:",
    " info ", " hint ", " style ", "- information", "- hint", " information:", " performance:", " portability:",
)
LOW_STARTS = ("note:", "info:", "hint:", "help:", "style:", "convention:", "refactor:", "suggestion:")
_PYLINT_CODE_RE = lazy(r": ([CRIEWF])\d{4}: ")


# Paths and file names: a severity word inside one (`src/errors/x.ts`) names a file, not a problem.
_QUOTED_RE = lazy(r'"[^"]*"|`[^`]*`')
_PATH_TOKEN_RE = lazy(r"[^\s:'\"`(]*[/\\][^\s:'\"`)]*|[\w-]+\.(?:[a-z]{1,4}\.)?[a-z]{1,5}\b")


# What a failed assertion expected and got: `expected: "abc"`, `got: 1`, `Received: …`,
# `expected {"a"=>1} to be truthy, got false`.
ASSERTION_RE = lazy(r"^\s*(?:expected|actual|got|received|but was|but got)(?:\s*[:<]|\s+\S)", re.IGNORECASE)


def severity_fact(line: str, low: str) -> bool:
    if ASSERTION_RE.match(line):
        return True
    if '"' in line or "`" in line:  # quoted text is a value (`level = "warn"`), not the line's own word
        line = _QUOTED_RE.sub(" ", line)
        low = line.lower()
    if "/" in line or "\\" in line or "." in line:
        line = _PATH_TOKEN_RE.sub(" ", line)
        low = line.lower()
    if any(p in low for p in SEVERITY_PHRASES):
        return True
    if ("Error" in line or "Exception" in line or "Warning" in line) and _CAMEL_SEVERITY_RE.search(line):
        return True
    return not SEVERITY_WORDS.isdisjoint(_WORD_RE.findall(low))


def level(line: str, low: str) -> str:
    """"high" (error/warning level), "low" (info/style/note…), or "" when the line names no level."""
    m = _PYLINT_CODE_RE.search(line)
    if m:
        return "low" if m.group(1) in "CRI" else "high"
    words = set(_WORD_RE.findall(low))
    if not HIGH_WORDS.isdisjoint(words):
        return "high"
    if any(mark in low for mark in LOW_MARKS) or low.lstrip("= ").startswith(LOW_STARTS):
        return "low"
    return ""


# ---------------------------------------------------------------- summaries and outcomes
_OUTCOMES = (  # verdicts: a count of them is a summary ("3 passed", "2 errors")
    "passed|failed|failures?|errors?|warnings?|skipped|skips|xfailed|xpassed|deselected|pending|passing|failing"
    "|succeeded|successful|problems?|issues?|fixed|fixable|vulnerabilit(?:y|ies)|reformatted|unchanged|changed"
    "|ignored|todo|dubious|insertions?|deletions?|measured|filtered|upgraded|installed|uninstalled|removed|added"
    "|updated|deleted|created|newly|not upgraded|compiled|generated|emitted|written|uploaded|downloaded"
)
_NOUNS = (  # things counted: a count of them is a summary next to a verdict or a verb ("2 files would be …")
    "tests?|examples?|assertions?|runs?|checks?|targets?|packages?|files?|modules?|cases?|suites?|benchmarks?"
    "|crates?|dependencies|actionable tasks?|items|specs?|scenarios?|steps?|projects?|sessions?|environments?"
)
COUNT_RE = lazy(r"\d[\d,.]*%? {1,2}(?:" + _OUTCOMES + r")\b(?![.\w/-])")
NOUN_COUNT_RE = lazy(r"\d[\d,.]*%? {1,2}(?:" + _NOUNS + r")\b(?![.\w/-])")
VERDICT_WORDS = frozenset((
    "passed", "failed", "failures", "failure", "errors", "error", "warnings", "skipped", "added", "removed", "changed",
    "installed", "uninstalled", "updated", "upgraded", "audited", "checked", "would", "compiled", "built", "ran",
    "executed", "transformed", "generated", "found", "total", "collected", "selected", "ok", "succeeded", "fixed",
    "reformatted", "unchanged", "left", "processed", "analyzed", "analysed", "scanned", "linted", "formatted",
    "resolved", "prepared", "downloaded", "up", "cached", "done", "finished", "completed", "complete", "in",
))  # fmt: skip
VERB_COUNT_RE = lazy(
    r"(?:added|removed|changed|installed|uninstalled|updated|upgraded|downgraded|audited|reformatted|found|checked"
    r"|fixed|resolved|prepared|compiled|built)\s+\d"
)
LABEL_RE = lazy(
    r"(?:tests? run|failures|errors|skipped|tests|test suites|test files|files|result|total|passed|failed"
    r"|warnings|snapshots|ran|pass|fail)\s*[:=]\s*\S"
)
STATUS_RE = lazy(
    r"^\W*(?:build|tests?)\s+(?:success(?:ful)?|fail(?:ed|ure)?|passed|ok)\b"
    r"|^\s*(?:ok|pass(?:ed)?|fail(?:ed)?|success|done|error|finished)\b(?:\s*[(\[].*)?$"
    r"|^\s*[+-] [\w@./-]+(?: | ?==| ?@)v?\d[\w.+-]*(?: \S+)?$"  # "+ react 18.2.0", " - six==1.16"
    r"|^diff (?:--git )?\S+ \S+$"  # a file a diff changes: `diff a.go.orig a.go`, `diff --git a/x b/x`
    r"|^[a-z][\w ]*\b(?:" + _NOUNS + r")\b[\w ]*: \d+$"  # "build targets in project: 21"
)
# A file a build emitted, with its size: "dist/assets/index-B7npCMov.js  210.78 kB │ gzip: 73.00 kB".
EMITTED_RE = lazy(r"^\s*\S+\.[a-z0-9]{1,6}\s+[\d.,]+ ?(?:b|bytes|kb|kib|mb|mib|gb|gib)\b")
# A row of a per-file table that ends in a percentage (coverage: `src/app.py  20  2  90%
# 12-13`, and its TOTAL), and the header naming its columns.
TABLE_ROW_RE = lazy(r"^\s*(?:\S+\.\w+|\S+/|total)\s+\d+(?:\s+\d+)*\s+\d{1,3}(?:\.\d+)?%")
TABLE_HEADER_RE = lazy(r"^\s*name\s+stmts\s+miss\b")
# What a successful run did to each item, by name and version: "Compiling regex v1.7.1",
# "Setting up meson (1.0.1-5) ...". Facts only when the command succeeded (failing, they are progress).
ITEM_RE = lazy(
    r"^\s*(?:compiling|checking|documenting|setting up|installing|installed|building|built|packaging|packaged"
    r"|linking|linked|created|wrote|generated|removing|removed|upgrading|upgraded|adding|added|updated)"
    r"\s+\S+\s+\(?v?\d[\w.+~:-]*\)?"
)
# "done in 3s", "OK (3.2 seconds)", "failed after 2 min": an outcome with how long it took.
DURATION_RE = lazy(r"(?:\bin|\bafter|\btook|\() ?[\d.]+(?:=\S*)?\s*(?:s|ms|sec|secs|seconds|m|min|minutes)\b")
DURATION_WORDS = frozenset(("ok", "done", "fail", "failed", "error", "success", "successful", "passed", "finished",
                            "completed", "built", "compiled", "succeeded", "congratulations"))  # fmt: skip
SUMMARY_PHRASES = (
    "have been written", "has been written", "written to", "build succeeded", "build failed",
    "compiled successfully", "congratulations", "all checks passed", "all done", "no issues found",
    "nothing to commit", "nothing to be done", "up to date", "up-to-date", "no changes", "would reformat",
    "would be reformatted", "would be left unchanged", "would fix", "code style issues", "successfully",
    "built target", "build complete", "build finished",
)
# A short line that ends on its outcome: "-- Configuring done", "Build complete.", "All tests passed".
ENDS_WITH_OUTCOME_RE = lazy(r"\b(?:done|finished|complete|completed|succeeded|successful|passed|failed)\W{0,3}$")
# Lower-case substrings one of which a summary contains.
SUMMARY_HINTS = (
    " pass", " fail", " error", " warning", " skip", "xfail", "xpass", " deselected", " pending", " succe",
    " problem", " issue", " fixed", " fixable", "vulnerab", "reformat", " unchanged", " changed", " test", " example",
    " assertion", " run", " check", " target", " package", " file", " module", " insertion", " deletion", " ignored",
    "dubious", " actionable", " case", " suite", " benchmark", " measured", "filtered", " dependencies", " crate",
    "added ", "removed ", "installed ", "updated ", "upgraded ", "downgraded ", "audited ", "found ", "checked ",
    "resolved ", "prepared ", "compiled ", "built ", "result", "total", "ran", "snapshots", "build ", "ok", "pass",
    "fail", "success", "done", "error", "finished", "completed", "written", "congratulations", "all checks",
    "all done", "no issues", "nothing to", "up to date", "up-to-date", "no changes", "would ", "code style", "+ ", "- ",
    "complete",
)


def summary_fact(line: str, low: str) -> bool:
    if COUNT_RE.search(low) or STATUS_RE.search(low) or EMITTED_RE.match(low):
        return True
    if ("%" in low and TABLE_ROW_RE.match(low)) or TABLE_HEADER_RE.match(low):
        return True
    if NOUN_COUNT_RE.search(low) and not VERDICT_WORDS.isdisjoint(_WORD_RE.findall(low)):
        return True
    if ENDS_WITH_OUTCOME_RE.search(low) and len(low.split()) <= 4:  # a verdict, not a step's progress
        return True
    if any(p in low for p in SUMMARY_PHRASES):
        return True
    if VERB_COUNT_RE.search(low) or (("=" in low or ":" in low) and LABEL_RE.search(low)):
        return True
    return bool(DURATION_RE.search(low)) and not DURATION_WORDS.isdisjoint(_WORD_RE.findall(low))


# ---------------------------------------------------------------- test ids and noise
# tests/x.py::test_y; TAP's `not ok 3`; a runner's numbered failure (`1) Suite does x`,
# `8) testEncode(org.x.CodecTest)`: mocha, RSpec, JUnit, minitest number their failures).
TEST_ID_RE = lazy(r"\.[A-Za-z]\w{0,8}::\w|^\s*not ok \d+|^\s*\d{1,4}\) \S")
# Recognisably noise whatever words they contain: test-start markers, passing tests,
# code frames (a `|` gutter, a `^~~~` marker line), source lines annotated by a blame.
NOISE_START_RE = lazy(
    r"\d{1,6} {3,}\S|running \d+ tests?$|\w+ (?:error|ERR!|warn|WARN|warning)\s*$"  # line numbers; empty prefixes
    r"|\^?[0-9a-f]{7,40} (?:\S+ +)?\([^()]*\d\) "  # a source line annotated with its commit (blame)
    r"|\s*(?:=== (?:RUN|PAUSE|CONT|NAME)\s|--- PASS: |\[\s+(?:RUN|OK)\s+\]|RUNS\s|[✓✔√]\s|(?:ok|PASS|PASSED)\s+\S"
    r"|\d*\s*[|│](?:\s|$)|[~^]+[\s~^-]*$)"
)
_PROGRESS_TAIL_RE = lazy(r"\s*\[\s*\d+%\]$")
PASS_ENDINGS = (" PASSED", " PASS", " ... ok", " ok", " OK", " passed")


def is_noise(line: str) -> bool:
    if NOISE_START_RE.match(line):
        return True
    end = _PROGRESS_TAIL_RE.sub("", line) if line.endswith("]") else line
    return end.rstrip().endswith(PASS_ENDINGS) and not end.lstrip().startswith(("FAIL", "ERROR"))


# ---------------------------------------------------------------- the scan

FACT, LOW, HIGH, FRAME, LOCATION_ONLY, IN_PLACE, HEADER, LOCATION, ITEM = 1, 2, 4, 8, 16, 32, 64, 128, 256
# Cheap first test: a line none of whose words is in VOCABULARY, and with no location or
# test-id punctuation, is no fact (this test runs on every distinct line shape).
VOCABULARY = frozenset(
    SEVERITY_WORDS
    | {w for p in SEVERITY_PHRASES + SUMMARY_PHRASES for w in p.split()[:1]}
    | {"line", "not", "can", "could", "unable", "undefined", "timed", "segmentation", "core", "err", "up", "no",
       "all", "would", "have", "has", "written", "ok", "done", "built", "ran", "result", "total", "duration",
       "success", "successful", "successfully", "pass", "passed", "finished", "completed", "congratulations",
       "added", "removed", "changed", "installed", "uninstalled", "updated", "upgraded", "downgraded", "audited",
       "reformatted", "found", "checked", "fixed", "resolved", "prepared", "compiled", "snapshots", "skips",
       "complete", "succeeded", "target", "info", "information", "style", "convention", "refactor", "note",
       "hint", "help", "compiling", "checking", "documenting", "setting", "installing", "building", "packaging",
       "packaged", "linking", "linked", "created", "wrote", "generated", "removing", "upgrading", "adding",
       "kb", "kib", "mb", "mib", "gb", "gib", "bytes", "newly", "diff", "expected", "actual", "got", "received",
       "stmts"}
)
# Outcome nouns count only next to a number ("3 files"): alone they are common in paths.
COUNT_WORDS = frozenset((_OUTCOMES + "|" + _NOUNS).replace("?", "").replace("(", "").replace(")", "").replace(":", "").split("|")) | {
    "tests", "files", "modules", "packages", "vulnerabilities", "vulnerability", "issues", "problems", "examples",
    "assertions", "runs", "checks", "targets", "cases", "suites", "crates", "insertions", "deletions", "tasks",
}
_MARKS_RE = lazy("[✕✗✘×✖]")
_BYTES_NON_ALPHA = bytes(b if 97 <= b <= 122 else 32 for b in range(256))  # a-z stay, the rest is space
_QUICK_LOCATION_RE = lazy(r"\.[A-Za-z]\w{0,15}(?::\d|\(\d|:\[\d)|-->|file:\d|BUILD:\d")


_VOCABULARY_BYTES = frozenset(w.encode() for w in VOCABULARY)
_COUNT_WORDS_BYTES = frozenset(w.encode() for w in COUNT_WORDS)


def _may_be_fact(line: str, low: str, digits: bool) -> bool:
    if digits and "%" in line:  # a table row ending in a percentage
        return True
    words = low.encode("utf-8", "surrogatepass").translate(_BYTES_NON_ALPHA).split()
    if not _VOCABULARY_BYTES.isdisjoint(words) or (digits and not _COUNT_WORDS_BYTES.isdisjoint(words)):
        return True
    if "::" in line or "***" in line or ") " in line or _QUICK_LOCATION_RE.search(line) or _MARKS_RE.search(line):
        return True
    if "Error" in line or "Exception" in line or "Warning" in line:
        return True
    return line.lstrip().startswith(("+ ", "- "))


_BYTES_TO_HASH = bytes.maketrans(b"0123456789", b"##########")
_NUMBER_RE = lazy(r"\b\d+(?:[.,:]\d+)*\b")  # a number on its own, not part of a name (module_2.py)


def classify(line: str, digits: bool = True) -> int:
    """FACT or LOW, with HIGH / FRAME / LOCATION_ONLY flags; 0 for a line that is no fact."""
    low = line.lower()
    if not _may_be_fact(line, low, digits):
        return 0
    if is_noise(line):
        return 0
    where = locate(line)
    if where == VENDORED_LINE:  # somebody else's file: at most a low finding to count
        return LOW if level(line, low) == "low" else 0
    if HEADER_RE.match(line):  # `In x.sh line 3:`: kept with the findings under it
        return HEADER
    is_loc = where == LOCATED
    is_sev = severity_fact(line, low)
    is_test = bool(TEST_ID_RE.search(line))
    is_sum = not (is_loc or is_sev or is_test) and summary_fact(line, low)
    if not (is_loc or is_sev or is_test or is_sum):
        if ITEM_RE.match(low):
            return ITEM
        return LOW if _RULE_CODE_RE.search(line) and level(line, low) == "low" else 0
    lvl = level(line, low) if (is_loc or is_sev) else ""
    if lvl == "low" and not is_test:
        return LOW
    kind = FACT
    if lvl == "high" and not is_sum and not COUNT_RE.search(low):
        kind |= HIGH
    if is_loc or is_test:
        kind |= IN_PLACE
    if is_loc:
        kind |= LOCATION
        if PY_FRAME_RE.match(line):
            kind |= FRAME
        elif LOCATION_ONLY_RE.match(line):
            kind |= LOCATION_ONLY
    return kind


class Facts:
    """What the guard found in one output (indexes into its cleaned lines). A plain class, as
    the reducers' others (compress/base.py): no `dataclasses` on the filter's path."""

    def __init__(self) -> None:
        self.marked: set[int] = set()  # every line classified as a fact or a finding
        self.protected: set[int] = set()
        self.located: set[int] = set()  # protected for a location or a test id
        self.low: set[int] = set()  # low-level findings: facts only when `high` is False
        self.high = False  # the output has an error- or warning-level finding
        self.frames: set[int] = set()  # project traceback frames (their source line is kept)
        self.location_only: set[int] = set()  # `--> x.rs:3:4`: the message is above
        self.headers: set[int] = set()  # `In x.sh line 3:`: kept when a line under it is
        self.repeats: list[list[int]] = []  # runs of same-shape facts without a location
        self.folded: set[int] = set()  # the ones between the first and last of each

    def must_keep(self) -> set[int]:
        keep = self.protected if self.high else self.protected | self.low
        return keep - self.folded if self.folded else keep


FOLD_AT = 3  # a run of facts without a location this long, only their numbers differing, folds
SCAN_BATCH = 65_536  # lines normalised at a time: one translate and split per batch, bounded memory


def _kinds(lines: list[str]) -> list[tuple[int, int]]:
    """(index, kind) of the lines that are facts of some kind, in order.

    A line's class does not depend on its digits, so each digit-normalised shape is
    classified once (logs repeat a few shapes many times), and the normalising is done on
    joined batches of lines: a handful of C calls instead of one per line.
    """
    cache: dict[str, int] = {}
    found: list[tuple[int, int]] = []
    for start in range(0, len(lines), SCAN_BATCH):
        batch = lines[start : start + SCAN_BATCH]
        # Digits are ASCII: bytes.translate is ten times str.translate on non-ASCII text.
        keys = "\n".join(batch).encode("utf-8", "surrogatepass").translate(_BYTES_TO_HASH).decode(
            "utf-8", "surrogatepass").split("\n")
        for key, line in dict(zip(keys, batch, strict=False)).items():
            if key not in cache:
                cache[key] = classify(line, key != line) if line else 0
        found += [(start + k, kind) for k, key in enumerate(keys) if (kind := cache[key])]
    return found


def scan(lines: list[str], exit_code: int | None = None) -> Facts:
    """The facts of one output: what must be kept, low findings, headers, foldable runs.
    `exit_code` 0 makes a successful run's per-item records (`Compiling x v1.2`) facts."""
    facts = Facts()
    protected, low = facts.protected, facts.low
    shown: set[str] = set()  # located facts seen: an exact repeat adds nothing
    located_by_path: set[int] = set()
    run: list[int] = []  # consecutive facts without a location, one shape: a run may fold
    run_shape = ""
    for i, kind in _kinds(lines):
        line = lines[i]
        facts.marked.add(i)
        if kind & HEADER:
            facts.headers.add(i)
            continue
        if kind & ITEM:
            if exit_code == 0:
                protected.add(i)
            continue
        if kind & LOW:
            low.add(i)
            continue
        if kind & IN_PLACE:
            if line in shown:  # a located fact repeated exactly adds nothing: shown once
                continue
            shown.add(line)
        else:
            shape = _NUMBER_RE.sub("#", line)
            if run and shape == run_shape and not any(lines[k].strip() for k in range(run[-1] + 1, i)):
                run.append(i)
            else:
                if len(run) >= FOLD_AT:
                    facts.repeats.append(run)
                run, run_shape = [i], shape
        protected.add(i)
        if kind > FACT:
            if kind & HIGH:
                facts.high = True
            if kind & FRAME:
                facts.frames.add(i)
            if kind & LOCATION_ONLY:
                facts.location_only.add(i)
            if kind & IN_PLACE:
                facts.located.add(i)
            if kind & LOCATION:
                located_by_path.add(i)
    if len(run) >= FOLD_AT:
        facts.repeats.append(run)
    _not_in_hunks(lines, facts)
    facts.folded = {i for group in facts.repeats for i in group[1:-1]}
    _one_line_per_test(lines, facts, located_by_path)
    for i in list(facts.location_only):  # `--> x.rs:3:4` under a note is as low as the note
        j = _previous_text(lines, i)
        if j >= 0 and (j in low or level(lines[j], lines[j].lower()) == "low"):
            protected.discard(i)
            facts.location_only.discard(i)
            low.add(i)
    return facts


# A header a diff body follows: `@@ -3,10 +3,11 @@`, or a location alone on its line ending
# with a colon (`Diff in /src/lib.rs:54:`, as formatters print their diffs).
_HUNK_HEADER_RE = lazy(r"^@@ |^\S*\.\w+:\d+:$|^Diff in \S+:\d+:$")
_DIFF_BODY_PROBE = 12


def _diff_body_follows(lines: list[str], i: int) -> bool:
    """The lines after i look like a diff body: context, `-` and `+` lines, some of each kind."""
    probe = lines[i + 1 : i + 1 + _DIFF_BODY_PROBE]
    return bool(probe) and all(not x or x[0] in " +-" for x in probe[:3]) and any(x[:1] in "+-" for x in probe)


def _not_in_hunks(lines: list[str], facts: Facts) -> None:
    """Lines inside a diff's hunks are the code it changes: their words are not the tool's."""
    if not any(line.startswith(("@@ ", "Diff in ")) or line.endswith(":") for line in lines[:2000]):
        return
    inside = False
    for i, line in enumerate(lines):
        if _HUNK_HEADER_RE.match(line) and (line.startswith("@@ ") or _diff_body_follows(lines, i)):
            inside = True
        elif inside and (not line or line[0] in " +-\\"):
            facts.protected.discard(i)
            facts.located.discard(i)
            facts.low.discard(i)
            facts.marked.discard(i)
        else:
            inside = False


_TEST_ID_TOKEN_RE = lazy(r"[\w./\\-]+\.[A-Za-z]\w{0,8}::[^\s]+")


def _one_line_per_test(lines: list[str], facts: Facts, located_by_path: set[int]) -> None:
    """A test id named on several lines (progress, then the summary) is a fact once: on its
    last line, the verdict with the reason. Lines with a file:line location stay."""
    last: dict[str, int] = {}
    earlier: list[tuple[int, str]] = []
    for i in sorted(facts.located - located_by_path):
        m = _TEST_ID_TOKEN_RE.search(lines[i])
        if m:
            test = m.group(0).rstrip(",:;")
            if test in last:
                earlier.append((last[test], test))
            last[test] = i
    for i, _ in earlier:
        facts.protected.discard(i)
        facts.located.discard(i)


# ---------------------------------------------------------------- structure

EXPLANATION_CAP = 20
BOX_LEADS = frozenset("│┃├└╰┆┊")  # a fact's detail drawn as a tree or box under it
HEADER_SEARCH = 40
_PATH_ONLY_RE = lazy(r"^\s*(?:[\w.@~+-]*[/\\])*[\w.@~+-]+\.\w+\s*$|^\s*\S*[/\\]\S*\s*$")


def structure(lines: list[str], kept: set[int], facts: Facts) -> set[int]:
    """Lines to keep so the kept ones can be read: messages, sources, explanations, headers."""
    add: set[int] = set()
    n = len(lines)
    for i in facts.location_only & kept:  # `--> src/x.rs:3:4`: its message is the line above
        j = _previous_text(lines, i)
        if j >= 0:
            add.add(j)
    for i in facts.frames & kept:  # the source line printed under a project frame
        m = PY_FRAME_RE.match(lines[i])
        if m and i + 1 < n and not is_vendored(m.group(2)):
            nxt = lines[i + 1]
            if nxt.strip() and _indent(nxt) > len(m.group(1)) and not PY_FRAME_RE.match(nxt):
                add.add(i + 1)
    for i in facts.protected & kept:  # `× installing dependencies` / `╰─▶ Ignored build scripts: x`
        j = i + 1
        while j < n and j <= i + EXPLANATION_CAP and lines[j].lstrip()[:1] in BOX_LEADS:
            add.add(j)
            j += 1
    for i in facts.protected & kept:  # "The conflict is caused by:" and the lines it introduces
        line = lines[i]
        if line.endswith(":") and i + 1 < n and _indent(lines[i + 1]) > _indent(line) and "Traceback" not in line:
            ind = _indent(line)
            for j in range(i + 1, min(n, i + 1 + EXPLANATION_CAP)):
                if not lines[j].strip() or _indent(lines[j]) <= ind:
                    break
                add.add(j)
    for i in kept | add:
        h = block_header(lines, i)
        if h >= 0 and _header_like(lines[h]):
            add.add(h)
    if facts.headers:  # a location header above a paragraph of findings comes with them
        for i in kept | add:
            h = _paragraph_head(lines, i)
            if h in facts.headers:
                add.add(h)
    return add - kept


def _paragraph_head(lines: list[str], i: int) -> int:
    """The first line of the blank-separated paragraph line i is in (within HEADER_SEARCH)."""
    for j in range(i, max(-1, i - HEADER_SEARCH), -1):
        if j == 0 or not lines[j - 1].strip():
            return j
    return -1


def _previous_text(lines: list[str], i: int) -> int:
    for j in range(i - 1, max(-1, i - 4), -1):
        if lines[j].strip():
            return j
    return -1


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _header_like(line: str) -> bool:
    """A line that heads a block: `In FILE line N:`, a file path, `Title:`, a location."""
    s = line.rstrip()
    return s.endswith(":") or bool(_PATH_ONLY_RE.match(s)) or location_fact(s)


def block_header(lines: list[str], i: int) -> int:
    """The nearest less-indented non-blank line above line i (within HEADER_SEARCH), or -1."""
    line = lines[i]
    ind = _indent(line)
    if not ind or not line.strip():
        return -1
    for j in range(i - 1, max(-1, i - HEADER_SEARCH), -1):
        above = lines[j]
        if above.strip() and _indent(above) < ind:
            return j
    return -1
