"""docker/podman build logs (BuildKit plain/tty progress and the legacy builder).

Kept: build steps (`#N [stage x/y] RUN …`, `Step x/y : …`), every ERROR/error/warning
line, the failing step's output box (`------ … ------`, capped to its last lines), the
`Dockerfile:N` excerpt's `>>>` line, `failed to solve`, `Successfully built/tagged`,
`naming to …`. Dropped: `#N DONE/CACHED`, transfer/`sha256` lines, `[internal]` steps,
step output with timestamps (`#N 0.532 …`) unless it is an error, legacy `---> Running
in`/`Removing intermediate container` lines.
"""

from __future__ import annotations

import re

from ai_session.core.compress.base import Ctx, Out, is_important, keep_important
from ai_session.core.compress.patterns import lazy

STEP_RE = lazy(r"^#\d+ \[(?!internal\])[^\]]*\d+/\d+\] |^Step \d+/\d+ : ")
DROP_RE = lazy(
    r"^#\d+ (?:DONE|CACHED|sha256:|resolve |extracting |transferring |\[internal\]|load |naming to \S+ (?:done|\d))"
    r"|^#\d+ \d+\.\d+ |^ ---> |^Removing intermediate container|^#\d+ writing image|^#\d+ exporting"
)
KEEP_RE = lazy(
    r"^(?:ERROR|error|failed to solve|Successfully built|Successfully tagged|#\d+ naming to|Dockerfile:\d+|\s*\d+ \| >>>"
    r"|#\d+ ERROR|WARNING|\s*> \[)"
)
BOX_CAP = 20


def reduce_docker(lines: list[str], ctx: Ctx) -> Out:
    out = Out(lines, facts=ctx.facts)
    in_box = False
    box: list[int] = []
    for i, line in enumerate(lines):
        s = line.strip()
        if not s:
            continue
        if s == "------":
            if in_box:
                for k, j in enumerate(box):  # the end of a failing step's output says why
                    if k >= len(box) - BOX_CAP or out.important(j):
                        out.keep(j)
                    else:
                        out.drop("step output lines", i)
                box = []
            in_box = not in_box
            continue
        if in_box:
            if s.startswith(">") and "|" not in s[:6]:
                out.keep(i)
            else:
                box.append(i)
            continue
        if s.startswith("--------------------"):
            continue
        if STEP_RE.match(line) or KEEP_RE.match(line):
            out.keep(i)
            continue
        if DROP_RE.match(line):
            body = re.sub(r"^#\d+ \d+\.\d+ ", "", line)
            if body != line and is_important(body):
                out.keep(i)
            else:
                out.drop("build progress lines", i)
            continue
        keep_important(out, i, "other lines")
    for j in box:
        out.keep(j)
    return out
