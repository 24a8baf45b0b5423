"""Finding and killing the processes a command started (Linux /proc).

An interactive shell puts every pipeline and background job in its own process group, so
"kill the process group" misses `sleep 1000 & sleep 1000`. A command's processes are the
ones in the shell's session or below the shell, started at or after the command began
(start time in clock ticks since boot, which also guards against pid reuse).
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class ProcInfo:
    pid: int
    ppid: int
    pgrp: int
    sid: int
    state: str
    start_tick: int


@dataclass(frozen=True, slots=True)
class Mark:
    """A point in time to tell a command's processes from older ones.

    Start times have a resolution of one clock tick (10 ms), so for processes started in the
    same tick as the mark the last pid handed out before it decides (pids grow monotonically
    between wrap-arounds).
    """

    tick: int
    last_pid: int

    def before(self, p: ProcInfo) -> bool:
        return p.start_tick < self.tick or (p.start_tick == self.tick and 0 < p.pid <= self.last_pid)


def alive(pid: int) -> bool:
    """Whether a process exists (one of another user counts: it is not ours to judge)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # exited but not yet reaped (an orphan waits for init): nothing of it runs any more
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return not fh.read().rsplit(b") ", 1)[1].startswith(b"Z")
    except (OSError, IndexError):
        return True


def now_mark() -> Mark:
    try:
        with open("/proc/sys/kernel/ns_last_pid", "rb") as fh:
            last = int(fh.read())
    except (OSError, ValueError):
        last = 0
    return Mark(int(time.clock_gettime(time.CLOCK_BOOTTIME) * CLK_TCK), last)


def read_proc(pid: int) -> ProcInfo | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces or parentheses.
    rest = raw[raw.rindex(b")") + 2 :].split()
    return ProcInfo(pid, int(rest[1]), int(rest[2]), int(rest[3]), rest[0].decode(), int(rest[19]))


def all_procs() -> list[ProcInfo]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            info = read_proc(int(name))
            if info is not None:
                out.append(info)
    return out


def command_procs(shell_pid: int, since: Mark) -> list[ProcInfo]:
    """Live processes started by the shell's current command (the shell itself excluded)."""
    procs = all_procs()
    by_pid = {p.pid: p for p in procs}
    out = []
    for p in procs:
        if p.pid == shell_pid or since.before(p) or p.state == "Z":
            continue
        if p.sid == shell_pid or _descends(p, shell_pid, by_pid):
            out.append(p)
    return out


def session_procs(shell_pid: int) -> list[ProcInfo]:
    """Every live process of the shell's session or below the shell, the shell included."""
    procs = all_procs()
    by_pid = {p.pid: p for p in procs}
    return [
        p
        for p in procs
        if p.state != "Z" and (p.pid == shell_pid or p.sid == shell_pid or _descends(p, shell_pid, by_pid))
    ]


def _descends(p: ProcInfo, ancestor: int, by_pid: dict[int, ProcInfo]) -> bool:
    seen = 0
    while p.ppid > 1 and seen < 512:
        if p.ppid == ancestor:
            return True
        parent = by_pid.get(p.ppid)
        if parent is None:
            return False
        p = parent
        seen += 1
    return False


def kill_all(procs: list[ProcInfo], sig: int = signal.SIGKILL) -> int:
    """Signal each process unless its pid now belongs to a newer process. Returns how many."""
    n = 0
    for p in procs:
        now = read_proc(p.pid)
        if now is None or now.start_tick != p.start_tick:
            continue
        try:
            os.kill(p.pid, sig)
            n += 1
        except ProcessLookupError:
            pass
    return n
