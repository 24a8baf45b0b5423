"""Type checkers and linters: tsc, eslint, ruff, mypy, pyright (and flake8/pylint alike).

Their output is already one diagnostic per line, so every diagnostic line is kept with
its location, plus up to a few indented continuation lines (tsc's elaborations, pyright's
detail), eslint's file headers, and the summary ("Found N errors", "✖ N problems",
"N errors, M warnings"). Dropped: code frames (`12 | code`, `~~~`/`^^^` markers), ruff's
`help:` lines, mypy's "See https://…" notes, duplicate lines, watch-mode chatter.
"""

from __future__ import annotations

import re

from ai_session.core.compress.base import Ctx, Out, keep_important
from ai_session.core.compress.generic import set_aside
from ai_session.core.compress.guard import scan
from ai_session.core.compress.patterns import lazy

DIAG_RES = [
    lazy(r"^\S.*?\(\d+,\d+\): (?:error|warning|message) TS\d+:"),  # tsc plain
    lazy(r"^\S.*?:\d+:\d+ - (?:error|warning|message) TS\d+:"),  # tsc pretty
    lazy(r"^\S.*?:\d+(?::\d+)?: (?:error|warning|note|fatal|info|hint)\b"),  # mypy, gcc-like
    lazy(r"^\s*\S.*?:\d+:\d+ - (?:error|warning|information):"),  # pyright
    lazy(r"^\s+\d+:\d+\s+(?:error|warning|✖|⚠)\s"),  # eslint stylish
    lazy(r"^\S.*?:\d+:\d+:? (?:[A-Z]+\d+|[a-z]+(?:-[a-z]+)*)\b"),  # ruff/flake8/eslint unix
    lazy(r"^\S.*?: line \d+, col \d+, (?:Error|Warning)"),  # eslint compact
    lazy(r"^(?:error|warning)(?:\[[\w-]+\])?: "),  # ruff full: "F401 ..." handled below
    lazy(r"^[A-Z]+\d+ (?:\[\*\] )?\S"),  # ruff full format headline "F401 [*] `os` ..."
    lazy(r"^\s*--> \S+:\d+"),  # ruff full format location
]
SUMMARY_RE = lazy(
    r"^(?:Found \d+ (?:error|problem)|Found 0 errors|Success: no issues|All checks passed|✖ \d+ problems?"
    r"|\s*\d+ errors?(?: and \d+ warnings?)? potentially fixable|\[\*\] \d+ fixable"
    r"|\d+ errors?, \d+ warnings?|\d+ (?:error|warning)s? found|No fixes available|Errors\s+Files"
    r"|Your code has been rated|\d+ files? (?:checked|would be|reformatted|left unchanged)|Checked \d+)"
)
FRAME_RE = lazy(r"^\s*\d*\s*\|(?:\s|$)|^\s*[~^]+[\s~^]*$|^\s*\|")
TSC_PRETTY_CODE_RE = lazy(r"^\d+\s{2,}\S|^\s+~+$")
TABLE_ROW_RE = lazy(r"^\s+\d+\s+\S+:\d+$")
PATH_HEADER_RE = lazy(r"^(?:/|[A-Za-z]:\\|\.{0,2}/?[\w@.-]+/)\S*\.\w+$")
CONT_CAP = 3
WATCH_RE = lazy(r"^\[?\d{1,2}:\d{2}:\d{2}(?: [AP]M)?\]? ")


def is_diagnostic(line: str) -> bool:
    return any(r.match(line) for r in DIAG_RES)


def reduce_linter(lines: list[str], ctx: Ctx) -> Out:
    out = Out(lines, facts=ctx.facts)
    seen: set[str] = set()
    cont = 0
    table = 0
    facts = ctx.facts if ctx.facts is not None else scan(lines)
    last = -1
    for i in set_aside(out, range(len(lines)), facts, vendored_and_repeats=False):
        line = lines[i]
        s = line.strip()
        if i != last + 1:  # lines were set aside: a continuation cannot run across them
            cont = 0
        last = i
        if not s:
            cont = 0
            continue
        if line in seen:
            out.drop("duplicate lines", i)
            continue
        if SUMMARY_RE.match(s) or (WATCH_RE.match(line) and "error" in line.lower()):
            out.keep(i)
            cont = 0
            table = 1 if s.startswith("Errors") else 0
            continue
        if table and TABLE_ROW_RE.match(line):
            table += 1
            if table <= 20:
                out.keep(i)
            else:
                out.drop("error table rows", i)
            continue
        if is_diagnostic(line):
            if "note:" in line and "https://" in line and ": note: See" in line:
                out.drop("see-docs notes", i)
                continue
            if "--> " in line or not line.startswith(" ") or re.match(r"^\s+\d+:\d+", line) or " - " in line:
                seen.add(line)
            out.keep(i)
            cont = CONT_CAP
            continue
        if PATH_HEADER_RE.match(s) and i + 1 < len(lines) and re.match(r"^\s+\d+:\d+\s", lines[i + 1]):
            out.keep(i)  # eslint stylish: the file the following l:c lines belong to
            continue
        if FRAME_RE.match(line) or TSC_PRETTY_CODE_RE.match(line):
            out.drop_code("code frame lines", i)
            continue
        if cont and line.startswith(" ") and not s.startswith(("= help", "help:", "= note")):
            out.keep(i)
            cont -= 1
            continue
        if s.startswith(("= help", "help:", "= note", "ℹ")):
            out.drop("help lines", i)
            continue
        if WATCH_RE.match(line):
            out.drop("watch-mode lines", i)
            continue
        keep_important(out, i, "other lines")
    return out
