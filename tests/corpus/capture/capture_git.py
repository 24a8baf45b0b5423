"""git plumbing (status, diff --stat, blame, grep) on a history synthesised from successive
boltons sdists, one commit per release, with a work tree an agent is in the middle of changing.

    python3 capture_git.py [CASE ...]     # no argument: every case of this script
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from common import (
    WORK,
    Case,
    capture,
    capture_all,
    fresh_dir,
    pypi_sdist,
    sh,
    structured,
)

HERE = __file__
RELEASES = ["23.0.0", "23.1.1", "24.0.0", "24.1.0"]
AUTHORS = ["Mahmoud Hashemi <mahmoud@example.com>", "Kurt Rose <kurt@example.com>",
           "Mark Williams <mark@example.com>", "Mahmoud Hashemi <mahmoud@example.com>"]


def boltons_history(name: str) -> Path:
    """A repository whose commits are boltons' releases, then an edit in progress."""
    repo = fresh_dir(name) / "boltons"
    repo.mkdir()
    sh("git init -q -b main && git config user.name dev && git config user.email dev@example.com", cwd=repo)
    for release, author in zip(RELEASES, AUTHORS, strict=True):
        src = pypi_sdist("boltons", release, f"{name}-sdist")
        for old in repo.iterdir():
            if old.name != ".git":
                shutil.rmtree(old) if old.is_dir() else old.unlink()
        for item in src.iterdir():
            if item.name not in ("PKG-INFO", "boltons.egg-info"):
                shutil.move(str(item), repo / item.name)
        date = {"23.0.0": "2023-02-19", "23.1.1": "2023-11-04", "24.0.0": "2024-04-19", "24.1.0": "2024-06-30"}[release]
        sh(f"git add -A && GIT_AUTHOR_DATE='{date}T12:00:00Z' GIT_COMMITTER_DATE='{date}T12:00:00Z' "
           f"git commit -q --author='{author}' -m 'Release {release}' && git tag v{release}", cwd=repo)
    shutil.rmtree(WORK / "src" / f"{name}-sdist")
    # The agent's unfinished work: edits, a deletion, new files, a rename, a staged change.
    (repo / "boltons/strutils.py").write_text((repo / "boltons/strutils.py").read_text().replace(
        "def camel2under(camel_string):", "def camel2under(camel_string: str) -> str:"))
    (repo / "boltons/iterutils.py").write_text((repo / "boltons/iterutils.py").read_text().replace(
        "def chunked(src, size, count=None, **kw):", "def chunked(src, size, count=None, *, fill=None, **kw):"))
    sh("git rm -q boltons/deprutils.py && git mv boltons/easterutils.py boltons/eggs.py", cwd=repo)
    (repo / "boltons/typeutils.py").write_text((repo / "boltons/typeutils.py").read_text() + "\n\ndef is_sentinel(obj):\n    return type(obj).__name__ == 'Sentinel'\n")
    sh("git add boltons/typeutils.py", cwd=repo)
    (repo / "tests/test_chunked_fill.py").write_text("from boltons.iterutils import chunked\n\n\ndef test_fill():\n    assert chunked([1, 2, 3], 2, fill=None) == [[1, 2], [3, None]]\n")
    (repo / "notes.txt").write_text("todo: typed signatures for strutils\n")
    for i in range(12):
        (repo / "docs" / f"draft_{i:02d}.rst").write_text(f"Draft {i}\n")
    return repo


def git_status() -> Case:
    name = "44-git-status-work-in-progress"
    repo = boltons_history(name)
    case = capture(
        name, "git status", repo, tool="git status", kind="git plumbing", pty=True,
        source="boltons 23.0.0..24.1.0 sdists as a 4-commit history", modification="edits, a deletion, a rename, new files",
        facts_from="git status --porcelain (2nd run): every changed path, located in raw", script=HERE,
    )
    for line in structured("git status --porcelain", repo).splitlines():
        path = line[3:].split(" -> ")[-1]
        case.line_fact(path.rstrip("/"), why=f"path with status {line[:2].strip()}")
    case.line_fact("Changes to be committed:", why="section header")
    case.line_fact("Changes not staged for commit:", why="section header")
    case.line_fact("Untracked files:", why="section header")
    return case


def git_diff_stat() -> Case:
    name = "45-git-diff-stat-releases"
    repo = boltons_history(name)
    case = capture(
        name, "git diff --stat v23.0.0 v24.1.0", repo, tool="git diff --stat", kind="git plumbing", pty=True,
        source="boltons 23.0.0..24.1.0 sdists as a 4-commit history", modification="n/a",
        facts_from="git diff --numstat (2nd run): every path, located in its stat line; summary", script=HERE,
    )
    for line in structured("git diff --numstat v23.0.0 v24.1.0", repo).splitlines():
        path = line.split("\t")[2]
        if "=>" in path:
            continue
        case.line_fact(path[-40:] + " ", "|", why="changed file")
    case.line_fact("files changed", why="diff summary")
    return case


def git_blame() -> Case:
    name = "46-git-blame-repeated-commits"
    repo = boltons_history(name)
    sh("git stash -q -u", cwd=repo)
    cmd = "git blame -L 1,400 boltons/iterutils.py"
    case = capture(
        name, cmd, repo, tool="git blame", kind="git plumbing, one commit per line repeated", pty=False,
        source="boltons 23.0.0..24.1.0 sdists as a 4-commit history", modification="n/a",
        facts_from="git blame --porcelain (2nd run): the first line of every run of lines owned by one commit, "
                   "located by its short sha and line number", script=HERE,
    )
    porcelain = structured("git blame --porcelain -L 1,400 boltons/iterutils.py", repo).splitlines()
    last = None
    for line in porcelain:
        parts = line.split()
        if len(parts) >= 3 and len(parts[0]) == 40 and parts[1].isdigit():
            sha, final = parts[0], parts[2]
            if sha != last:
                case.line_fact(sha[:7], f" {final})", why="first line of a run owned by one commit")
                last = sha
    return case


def git_grep() -> Case:
    name = "47-git-grep-function-uses"
    repo = boltons_history(name)
    cmd = "git grep -n -p 'remap('"
    case = capture(
        name, cmd, repo, tool="git grep", kind="search with function context", pty=True,
        source="boltons 23.0.0..24.1.0 sdists as a 4-commit history", modification="n/a",
        facts_from="git grep -n (2nd run, no function context): every hit, located in raw", script=HERE,
    )
    for hit in structured("git grep -n 'remap('", repo).splitlines():
        path, lineno, _ = hit.split(":", 2)
        case.line_fact(f"{path}:{lineno}:", why="hit")
    return case


CASES: dict[str, Callable[[], Case]] = {
    "status": git_status,
    "diffstat": git_diff_stat,
    "blame": git_blame,
    "grep": git_grep,
}


if __name__ == "__main__":
    capture_all(CASES, sys.argv[1:])
