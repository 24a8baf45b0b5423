"""gcc, clang, make, cmake, ninja (and linkers under them).

Kept: every `file:line:col: error|warning|fatal error:` line, a few `note:` lines per
error, `In function …`/`In file included from …` context, linker errors
(`undefined reference`, `collect2`, `ld:`), make's `***` lines, ninja's `FAILED:` and
`build stopped`, `CMake Error/Warning at …` blocks, clang's "N errors generated",
"all warnings being treated as errors". Dropped: compiler command lines, code frames and
caret lines, progress (`[ 42%] Building …`, `[12/300] …`, `-- Looking for …`),
make's Entering/Leaving directory, duplicate diagnostics.
"""

from __future__ import annotations

from ai_session.core.compress.base import Ctx, Out
from ai_session.core.compress.patterns import lazy

DIAG_RE = lazy(r"^(?:\S.*?):\d+(?::\d+)?: (fatal error|error|warning|note|remark|internal compiler error)\b")
CONTEXT_RE = lazy(
    r"^(?:\S.*?): (?:In (?:function|member function|static member function|constructor|destructor|instantiation"
    r"|lambda function|substitution)|At (?:global|top level))"
    r"|^In file included from |^\s{8,}from \S+:\d+[:,]"
)
FRAME_RE = lazy(r"^\s*\d*\s*\|(?:\s|$)|^\s*[~^]+[\s~^]*$")
MAKE_STAR_RE = lazy(r"^(?:g?make|mingw32-make)(?:\[\d+\])?: \*\*\*|^\S*make(?:\[\d+\])?: \*\*\*")
MAKE_DIR_RE = lazy(r"^\S*make(?:\[\d+\])?: (?:Entering|Leaving) directory")
COMPILER_CMD_RE = lazy(
    r"^\s*(?:\S*/)?(?:ccache |libtool: \w+: )?(?:\S+-)?(?:gcc|g\+\+|cc|c\+\+|clang|clang\+\+|ld|ar|ranlib|as|nvcc|cl\.exe|emcc)(?:-\d+(?:\.\d+)*)?\s+-"
)
PROGRESS_RE = lazy(r"^\[\s*\d+%\]\s|^\[\d+/\d+\]\s|^-- |^Scanning dependencies|^Consolidate compiler")
CMAKE_BLOCK_RE = lazy(r"^CMake (?:Error|Warning)(?: \(dev\))?(?: at .*)?:?$|^CMake (?:Error|Warning)\b")
NINJA_RE = lazy(r"^(?:FAILED: |ninja: (?:build stopped|error)|ninja: no work)")
GENERATED_RE = lazy(r"^\d+ (?:warnings?|errors?)(?: and \d+ (?:warnings?|errors?))? generated\.?$")
NOTE_CAP = 3
CMAKE_BLOCK_CAP = 12


def reduce_c_build(lines: list[str], ctx: Ctx) -> Out:
    out = Out(lines, facts=ctx.facts)
    seen: set[str] = set()
    notes = 0
    cmake_block = 0
    after_failed = False
    for i, line in enumerate(lines):
        s = line.strip()
        if not s:
            cmake_block = 0
            continue
        if cmake_block:
            if cmake_block <= CMAKE_BLOCK_CAP:
                out.keep(i)
            else:
                out.drop("cmake message lines", i)
            cmake_block += 1
            continue
        m = DIAG_RE.match(line)
        if m:
            sev = m.group(1)
            if line in seen:
                out.drop("duplicate diagnostics", i)
                continue
            seen.add(line)
            if sev in ("note", "remark"):
                notes += 1
                if notes <= NOTE_CAP:
                    out.keep(i)
                else:
                    out.drop("notes", i)
            else:
                notes = 0
                out.keep(i)
            continue
        if CONTEXT_RE.match(line):
            if line in seen:
                continue
            seen.add(line)
            out.keep(i)
            continue
        if FRAME_RE.match(line):
            out.drop_code("code frame lines", i)
            continue
        if MAKE_STAR_RE.match(line) or NINJA_RE.match(line) or GENERATED_RE.match(s):
            out.keep(i)
            after_failed = line.startswith("FAILED: ")
            continue
        if after_failed:  # ninja prints the failing command right after FAILED:
            after_failed = False
            out.drop("compiler commands", i)
            continue
        if MAKE_DIR_RE.match(line):
            continue
        if CMAKE_BLOCK_RE.match(line):
            out.keep(i)
            cmake_block = 1
            continue
        if COMPILER_CMD_RE.match(line):
            out.drop("compiler commands", i)
            continue
        if PROGRESS_RE.match(line) and not out.important(i):
            out.drop("progress lines", i)
            continue
        if out.important(i):
            if line in seen:
                out.drop("duplicate lines", i)
                continue
            seen.add(line)
            out.keep(i)
        else:
            out.drop("other lines", i)
    return out
