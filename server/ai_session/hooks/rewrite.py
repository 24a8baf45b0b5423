"""Which Bash commands of an agent run in the worktree session, and how they are rewritten.

A command is rewritten to `PYTHON -m ai_session.hooks run … -- 'COMMAND'`, which runs it
in the worktree session's shell and prints the context form. It is left untouched (runs
in the agent's own shell, exactly as without ai-session) when it is any of:

- run in the background: `run_in_background`, a job started with `&`, `nohup`, `setsid`,
  `disown` (the session's shell runs one command at a time and waits for it);
- interactive: an editor, pager, REPL, `ssh`, `sudo`, `git … -i/-p/-e`, `top`, `watch` …
  (it would wait for input the agent cannot give);
- already going through ai-session (`ai-session …`, `… | ai-session compress`), or
  `claude` itself;
- a directory change that must outlast the command: a `cd`/`pushd`/`popd` that is not a
  leading `cd DIR &&` (leading ones run in the agent's shell, before the rewritten rest,
  so the agent's working directory moves as it expects);
- naming a path outside the project (Claude Code guards those itself; it cannot see
  inside a rewritten command);
- not allowed outright by the agent's permission rules (see permissions.py), or outside a
  git worktree, or when `AI_SESSION_HOOKS=off`.

Standard library only: this runs before every Bash command.
"""

from __future__ import annotations

import os
import shlex
from typing import TYPE_CHECKING, NamedTuple

from ai_session.hooks.shellwords import command_word, scan, split_words

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ai_session.hooks.shellwords import CommandLine

EDITORS_PAGERS = {"vi", "vim", "nvim", "view", "nano", "pico", "emacs", "micro", "ed", "less", "more", "most",
                  "man", "info", "top", "htop", "btop", "watch", "tmux", "screen", "ssh", "mosh", "telnet", "ftp",
                  "sftp", "su", "sudo", "doas", "passwd", "visudo", "vipe", "fzf", "tig", "ranger", "mc", "claude"}
REPLS = {"python", "python3", "ipython", "node", "irb", "ghci", "bash", "sh", "zsh", "fish", "psql", "mysql",
         "sqlite3", "redis-cli", "mongosh", "lua", "R", "julia", "php", "scala", "clj", "erl", "iex"}
BACKGROUND = {"nohup", "setsid", "disown", "bg"}
DIRECTORY = {"cd", "pushd", "popd"}
GIT_INTERACTIVE = {"-i", "--interactive", "-p", "--patch", "-e", "--edit"}
SAFE_PATHS = ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty")


class Plan(NamedTuple):
    """What to do with one command: `command` is None when it passes through, with `reason`."""

    command: str | None
    reason: str


def passthrough(reason: str) -> Plan:
    return Plan(None, reason)


def git_root(start: str) -> str | None:
    """The top of the git worktree holding `start` (a `.git` dir or file), without running git."""
    folder = os.path.abspath(start)
    while not os.path.exists(os.path.join(folder, ".git")):
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
    return folder


def interactive(program: str, args: list[str]) -> bool:
    if program in EDITORS_PAGERS:
        return True
    if program in REPLS:
        return not [a for a in args if a not in ("-i", "-q", "--quiet")] or "-i" in args
    if program == "git":
        return any(a in GIT_INTERACTIVE for a in args)
    if program == "crontab":
        return "-e" in args
    return False


def invokes_ai_session(program: str, args: list[str]) -> bool:
    if program in ("ai-session", "ai_session"):
        return True
    return program.startswith("python") and any(a.startswith("ai_session") for a in args[:3])


def outside(words: list[str], root: str, cwd: str) -> str | None:
    """The first word naming a path outside `root` (redirection marks stripped), if any."""
    for word in words:
        path = word.lstrip("<>&|0123456789") if word[:1] in "<>0123456789&" else word
        if path.startswith("~"):
            path = os.path.expanduser(path)
        if not path.startswith("/") and ".." not in path.split("/"):
            continue
        if path.startswith(SAFE_PATHS):
            continue
        full = os.path.normpath(os.path.join(cwd, path))
        if full != root and not full.startswith(root.rstrip("/") + "/"):
            return word
    return None


def plan(tool_input: Mapping[str, object], *, cwd: str, python: str, agent: str,
         project_dir: str | None = None) -> Plan:
    """Whether and how to rewrite one Bash tool call (the permission check is the caller's)."""
    command = tool_input.get("command")
    if not isinstance(command, str) or not command.strip():
        return passthrough("no command")
    if tool_input.get("run_in_background"):
        return passthrough("run in the background")
    root = git_root(cwd)
    if root is None:
        return passthrough("not in a git worktree")
    line = scan(command)
    if line.unsure:
        return passthrough("a quote or bracket the scanner cannot follow")
    if line.background:
        return passthrough("a background job (&)")
    leading: list[str] = []
    for index, segment in enumerate(line.segments):
        words = split_words(segment)
        program, args = command_word(words)
        if not words or (not program and index == 0):
            return passthrough("a command the scanner cannot split into words")
        if program in BACKGROUND:
            return passthrough(f"a background job ({program})")
        if interactive(program, args):
            return passthrough(f"interactive ({program})")
        if invokes_ai_session(program, args):
            return passthrough("already goes through ai-session")
        if program in DIRECTORY:
            if index == len(leading) and program == "cd" and index < len(line.operators) and line.operators[index] == "&&":
                leading.append(segment)
                continue
            return passthrough(f"changes the directory for the next command ({program})")
        if (where := outside(words, os.path.abspath(project_dir or root), cwd)) is not None:
            return passthrough(f"names a path outside the project ({where})")
    rest = _rest(command, line, len(leading))
    if rest is None:
        return passthrough("only changes directory")
    runner = [shlex.quote(python), "-m", "ai_session.hooks", "run", "--agent", agent]
    timeout = tool_input.get("timeout")
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout >= 3000:
        runner += ["--timeout", f"{timeout / 1000 - 2:g}"]  # stop it ourselves first, and say so
    runner += ['--cwd "$PWD"', "--", shlex.quote(rest)]
    return Plan(" && ".join([*leading, " ".join(runner)]), "rewritten")


def _rest(command: str, line: CommandLine, skip: int) -> str | None:
    """The command line from its segment `skip` on (after leading `cd DIR &&`), byte for byte."""
    if skip >= len(line.segments):
        return None
    return command[line.starts[skip]:].strip()
