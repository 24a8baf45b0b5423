"""Which git worktree and branch a directory belongs to (works for `git worktree add` trees)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from ai_session.core.errors import InvalidInput


@dataclass(frozen=True)
class Worktree:
    root: str  # the worktree's top-level directory (not the main repository's, for linked trees)
    branch: str | None  # None when HEAD is detached
    head: str | None  # short commit, for naming detached worktrees

    @property
    def label(self) -> str:
        return self.branch or (f"detached-{self.head}" if self.head else "detached")


def _git(path: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(path), *args],
            capture_output=True,
            text=True,
            timeout=10,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def detect(path: str | Path) -> Worktree | None:
    """The worktree containing `path`, or None when it is not inside one."""
    path = Path(path).resolve()
    if not path.is_dir():
        path = path.parent
    found = (_git(path, "rev-parse", "--show-toplevel", "--absolute-git-dir") or "").splitlines()
    if len(found) != 2:
        return None
    root, git_dir = found
    branch = _branch(Path(git_dir), path)
    head = None if branch else _git(path, "rev-parse", "--short", "HEAD")  # only a detached tree's name needs it
    return Worktree(root=str(Path(root).resolve()), branch=branch, head=head)


def _branch(git_dir: Path, path: Path) -> str | None:
    """The checked-out branch, None when HEAD is detached. Read from the worktree's HEAD file
    (agents' commands ask this for every command: one git process less); git says it itself
    when the file is not the plain kind (a reftable repository's placeholder, an odd ref)."""
    try:
        head = (git_dir / "HEAD").read_text().strip()
    except OSError:
        head = ""
    name = head.removeprefix("ref: refs/heads/")
    if name != head and name and name != ".invalid":
        return name
    if len(head) >= 40 and all(c in "0123456789abcdef" for c in head):
        return None  # detached at a commit
    return _git(path, "symbolic-ref", "--short", "-q", "HEAD") or None


def require(path: str | Path) -> Worktree:
    """The worktree containing `path`; a clear error when there is none."""
    tree = detect(path)
    if tree is None:
        raise InvalidInput(f"{Path(path).resolve()} is not inside a git worktree")
    return tree
