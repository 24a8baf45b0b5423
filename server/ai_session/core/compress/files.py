"""Listings and searches: find/fd, ls (incl. -l, -R), tree, grep/rg/ag/git grep.

Kept: every entry and every match outside dependency/cache/build folders (they are what was
asked for: the context's overall bound cuts a listing too long for one prompt, saying so),
errors (`find: …: Permission denied`, first few), tree's "N directories, M files". Folded:
entries and matches under node_modules, .git, __pycache__, .venv/venv, site-packages,
target, dist, build, vendor, .tox and other caches become one note per folder with a count
(unless the whole listing is inside such a folder). ripgrep's heading mode (a file's path on
its own line, its matches under it as `N:text`) is read as groups, so a file's matches go
with its path.
"""

from __future__ import annotations

import re
from collections import Counter

from ai_session.core.compress.base import Ctx, Out
from ai_session.core.compress.patterns import lazy

VENDOR = {
    "node_modules", ".git", "__pycache__", ".venv", "venv", "site-packages", ".tox", ".nox", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", "target", "dist", "build", ".next", ".nuxt", "vendor", "bower_components",
    ".cache", ".gradle", ".idea", "coverage", ".eggs", ".terraform", "Pods", "DerivedData", ".svelte-kit",
}
ERRORS_KEPT = 5
TREE_RE = lazy(r"^((?:[│|] {2,3}|    )*)(?:[├└|`]── |[├└]─ |[|`]-- )(.*)$")
TREE_SUMMARY_RE = lazy(r"^\d+ director(?:y|ies)(?:, \d+ files?)?$")
LS_DIR_RE = lazy(r"^(\S.*):$")
ERROR_RE = lazy(r"^(?:find|ls|tree|grep|rg|fd|ag): ")


GREP_LINE_RE = lazy(r"^([^:\s][^:]*?)(?::\d+)?[:-]")
HEADING_MATCH_RE = lazy(r"^\d+[:-]")  # rg --heading: `12:text` under the file's own line


def _paths(lines: list[str], entries: list[int], mode: str) -> list[str]:
    """The path each entry is about: its own, or (a heading-mode match) its heading's."""
    paths: list[str] = []
    heading = ""
    for i in entries:
        line = lines[i]
        if mode == "grep":
            if heading and HEADING_MATCH_RE.match(line):
                paths.append(heading)
                continue
            m = GREP_LINE_RE.match(line)
            if m and not HEADING_MATCH_RE.match(line):
                paths.append(m.group(1))
                continue
            heading = line  # a path alone on its line: the matches under it are its own
            paths.append(line)
        elif mode == "ls" and re.match(r"^[dlcbps-][rwxsStT-]{9}", line):
            paths.append(line.split()[-1])
        else:
            paths.append(line)
    return paths


def _vendor_root(path: str) -> str | None:
    parts = path.split("/")
    for k, part in enumerate(parts):
        if part in VENDOR:
            return "/".join(parts[: k + 1])
    return None


def reduce_files(lines: list[str], ctx: Ctx) -> Out:
    mode = ctx.subcommand or "find"
    if mode == "tree":
        return _reduce_tree(lines)
    out = Out(lines, facts=ctx.facts)
    entries: list[int] = []
    errors = 0
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if ERROR_RE.match(line):
            errors += 1
            if errors <= ERRORS_KEPT:
                out.keep(i)
            else:
                out.drop("errors like the above", i)
            continue
        entries.append(i)
    roots = [_vendor_root(path) for path in _paths(lines, entries, mode)]
    fold_vendor = any(r is None for r in roots)  # a listing all inside node_modules is the point
    folded: Counter[str] = Counter()
    first_at: dict[str, int] = {}
    ls_section_vendor = False
    for i, root in zip(entries, roots, strict=False):
        line = lines[i]
        if mode == "ls":
            d = LS_DIR_RE.match(line)
            if d:
                ls_section_vendor = fold_vendor and _vendor_root(d.group(1)) is not None
                if ls_section_vendor:
                    key = _vendor_root(d.group(1)) or d.group(1)
                    folded[key] += 1
                    first_at.setdefault(key, i)
                    continue
            elif ls_section_vendor:
                continue
        if fold_vendor and root is not None:
            folded[root] += 1
            first_at.setdefault(root, i)
            continue
        out.keep(i)
    for root, n in folded.items():
        out.note(first_at[root], f"{n} entries under {root}/ not shown")
    out.keep_last = not folded
    return out


def _reduce_tree(lines: list[str]) -> Out:
    out = Out(lines)
    skip_depth: int | None = None
    skipped = 0
    skip_at = -1
    skip_name = ""
    for i, line in enumerate(lines):
        if TREE_SUMMARY_RE.match(line.strip()):
            out.keep(i)
            continue
        m = TREE_RE.match(line)
        if not m:
            if line.strip():
                out.keep(i)
            continue
        depth = len(m.group(1))
        name = m.group(2).split(" -> ")[0].strip()
        if skip_depth is not None:
            if depth > skip_depth:
                skipped += 1
                continue
            out.note(skip_at, f"{skipped} entries under {skip_name}/ not shown")
            skip_depth = None
        out.keep(i)
        if name in VENDOR:
            skip_depth, skipped, skip_at, skip_name = depth, 0, i, name
    if skip_depth is not None and skipped:
        out.note(skip_at, f"{skipped} entries under {skip_name}/ not shown")
    out.keep_last = False
    return out
