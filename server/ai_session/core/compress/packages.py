"""Package installs: pip, npm, pnpm, yarn (classic and berry), bun.

Kept: every error line (`npm error`/`npm ERR!`, `ERR_PNPM_*`, `error …`, pip `ERROR:`,
`×`/`╰─>` blocks and the tail of a failed build's output), conflict explanations
(`peer …`, `… requires …, but you have …`), the first few deprecation/warn lines, and
the outcome (`added N packages`, `found N vulnerabilities`, `Successfully installed`,
`Packages: +N`, `Done in`). Dropped: download/collect/progress chatter, `Requirement
already satisfied`, fund/notice nags, dependency trees of added packages, empty error
lines, repeated warnings beyond the first few.
"""

from __future__ import annotations

import re

from ai_session.core.compress.base import Ctx, Out, keep_important
from ai_session.core.compress.patterns import lazy

DROP_RE = lazy(
    r"^\s*(?:Collecting |Downloading |Obtaining |Using cached |Requirement already satisfied|Looking in indexes"
    r"|Installing build dependencies|Getting requirements to build|Preparing metadata|Building wheels? for"
    r"|Created wheel for|Stored in directory|Attempting uninstall|Found existing installation|Uninstalling "
    r"|Successfully uninstalled|Processing |Downloaded |Resolved \d+ packages|Prepared \d+ packages"
    r"|Audited \d+ packages|Installed \d+ packages)"
    r"|^npm (?:http|timing|verb|sill|info) |^npm notice|^Progress: resolved|^[+\-]{6,}$"
    r"|^\d+ packages? (?:is|are) looking for funding|^\s*run `npm fund`|^\[\d+/\d+\] "
    r"|^info |^➤ YN0000: |^\s*[━─█▏▎▍▌▋▊▉ ]+\s*[\d.]+/[\d.]+ [kMG]?B|^(?:dependencies|devDependencies|optionalDependencies):$"
    r"|^[+-] \S+ \S+$|^\s*(?:npm error|npm ERR!|npm warn|npm WARN)\s*$"
)
WARN_RE = lazy(r"^(?:npm warn|npm WARN|warning |\s*WARN\s|WARNING: |➤ YN0\d+: .*(?:deprecated|warn))", re.IGNORECASE)
KEEP_RE = lazy(
    r"^(?:npm error|npm ERR!|\s*ERR_PNPM|error |ERROR: |\s*×|\s*╰─>|Error: |Successfully installed|Installing collected packages"
    r"|added \d+|removed \d+|changed \d+|up to date|audited \d+|found \d+ vulnerabilit|\d+ (?:low|moderate|high|critical)"
    r"|Packages: |Done in |success |➤ YN\d{4}: |Failed to build|note: This error|hint: |npm warn ERESOLVE|\s*peer |.* requires .*, but you have)"
)
EMPTY_ERROR_RE = lazy(r"^(?:npm error|npm ERR!|npm warn|npm WARN)\s*$")
SUBPROCESS_RE = lazy(r"^\s*│")
WARN_CAP = 5
SUBPROCESS_TAIL = 12


def reduce_packages(lines: list[str], ctx: Ctx) -> Out:
    out = Out(lines, facts=ctx.facts)
    warns = 0
    seen: set[str] = set()
    block: list[int] = []
    boxed = False  # inside pip's "╰─> [N lines of output]" ... "[end of output]"
    for i, line in enumerate(lines):
        s = line.strip()
        if boxed:
            if s == "[end of output]":
                boxed = False
                _flush_block(out, block)
                block = []
                out.keep(i)
            else:
                block.append(i)
            continue
        if s.startswith("╰─> [") and "output" in s:
            out.keep(i)
            boxed = True
            continue
        if SUBPROCESS_RE.match(line):
            block.append(i)
            continue
        if block:
            _flush_block(out, block)
            block = []
        if not s:
            continue
        if EMPTY_ERROR_RE.match(line):
            continue
        if line in seen:
            out.drop("duplicate lines", i)
            continue
        seen.add(line)
        if KEEP_RE.match(line):
            out.keep(i)
            continue
        if WARN_RE.match(line):
            warns += 1
            if warns <= WARN_CAP:
                out.keep(i)
            else:
                out.drop("warnings", i)
            continue
        if DROP_RE.match(line):
            if out.important(i) and not line.startswith(("npm http", "npm timing", "npm sill", "npm verb")):
                out.keep(i)
            else:
                out.drop("progress/download lines", i)
            continue
        keep_important(out, i, "other lines")
    if block:
        _flush_block(out, block)
    return out


def _flush_block(out: Out, block: list[int]) -> None:
    """A failed build's output boxed by pip: its errors and its last lines."""
    tail = set(block[-SUBPROCESS_TAIL:])
    for i in block:
        if i in tail or out.important(i):
            out.keep(i)
        else:
            out.drop("build output lines", i)
