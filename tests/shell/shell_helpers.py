"""Helpers for the shell tests (imported by name: tests/ is not a package)."""

from __future__ import annotations

import os
from pathlib import Path


def base_env(home: Path) -> dict[str, str]:
    """A small deterministic environment: no user rc, no inherited secrets."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"}


def procs_matching(needle: str) -> list[int]:
    """Live pids whose whole command line is `needle` (e.g. "sleep 1000101")."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{name}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if cmd.strip() == needle and state != b"Z":
            out.append(int(name))
    return out


def zombie_children(*parents: int) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == b"Z" and int(fields[1]) in parents:
            out.append(int(name))
    return out
