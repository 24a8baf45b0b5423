"""Which reducer fits: from the command line first, from the output when that is unclear.

A command that names a tool (pytest, cargo, tsc…) decides. A runner (make, npm test,
tox, a shell script, an unknown program) does not: its output is sniffed for the
signatures of the tools it may have run, and make falls back to the C build reducer.
"""

from __future__ import annotations

import os
import re
import shlex

from ai_session.core.compress.patterns import lazy

WRAPPERS = {
    "sudo", "time", "env", "nice", "nohup", "command", "exec", "npx", "bunx", "pnpx", "stdbuf", "unbuffer",
    "xvfb-run", "dotenv", "ionice", "chronic", "caffeinate", "doas",
}
RUNNER_PREFIXES = [("poetry", "run"), ("uv", "run"), ("pipenv", "run"), ("hatch", "run"), ("pdm", "run"),
                   ("pnpm", "exec"), ("yarn", "exec"), ("npm", "exec"), ("bundle", "exec"), ("rye", "run")]
RUNNERS = {"make", "gmake", "npm", "pnpm", "yarn", "bun", "tox", "nox", "just", "task", "sh", "bash", "zsh",
           "nx", "turbo", "lerna", "invoke", "rake", "mvn", "gradle", "./gradlew", "bazel", "earthly"}

DIRECT = {
    "pytest": "pytest", "py.test": "pytest",
    "cargo": "cargo", "rustc": "cargo", "cargo-nextest": "cargo", "clippy-driver": "cargo",
    "go": "go", "gotestsum": "go",
    "jest": "js_tests", "vitest": "js_tests", "mocha": "js_tests", "ava": "js_tests",
    "tsc": "linter", "vue-tsc": "linter", "eslint": "linter", "ruff": "linter", "mypy": "linter", "dmypy": "linter",
    "pyright": "linter", "basedpyright": "linter", "flake8": "linter", "pylint": "linter", "biome": "linter",
    "oxlint": "linter", "tslint": "linter", "stylelint": "linter", "shellcheck": "linter", "golangci-lint": "linter",
    "gcc": "c_build", "g++": "c_build", "cc": "c_build", "c++": "c_build", "clang": "c_build", "clang++": "c_build",
    "cmake": "c_build", "ninja": "c_build", "meson": "c_build", "ctest": "generic",
    "pip": "packages", "pip3": "packages",
    "git": "git",
    "find": "files", "fd": "files", "fdfind": "files", "ls": "files", "tree": "files", "grep": "files", "egrep": "files",
    "rg": "files", "ag": "files", "ack": "files", "locate": "files",
    "docker": "docker", "podman": "docker", "buildah": "docker",
}
FILES_MODE = {"find": "find", "fd": "find", "fdfind": "find", "locate": "find", "ls": "ls", "tree": "tree",
              "grep": "grep", "egrep": "grep", "rg": "grep", "ag": "grep", "ack": "grep"}
GIT_REDUCED = {"log", "show", "diff", "status", "fetch", "pull", "push", "clone", "whatchanged", "reflog", "stash",
               "merge", "rebase", "cherry-pick", "checkout", "switch", "commit", "am", "apply", ""}
PKG_VERBS = {"install", "i", "ci", "add", "update", "upgrade", "remove", "uninstall", "rm", "audit", "dedupe", "sync"}

SNIFFERS: list[tuple[str, re.Pattern[str]]] = [
    ("pytest", lazy(r"^=+ test session starts =+$|^=+ .*\b(?:passed|failed)\b.* in [\d.]+s.* =+$|^(?:FAILED|ERROR) \S+::\S")),
    ("js_tests", lazy(r"^\s*(?:PASS|FAIL)\s+\S+\.(?:[cm]?[jt]sx?)\b|^Tests:\s+\d|^\s*Test Files\s+\d|^\s+\d+ passing \(")),
    ("cargo", lazy(r"^\s+(?:Compiling|Finished|Checking) \S|^test result: |^error\[E\d{4}\]")),
    ("go", lazy(r"^=== RUN\s|^--- (?:FAIL|PASS): |^(?:ok|FAIL)\s+\S+\s+[\d.]+s$")),
    ("unittest", lazy(r"^Ran \d+ tests? in [\d.]+s$")),
    ("linter", lazy(r"error TS\d+:|^\S+:\d+: error: .*\[[\w-]+\]$|^Found \d+ errors? in \d+ files?|^✖ \d+ problems?")),
    ("c_build", lazy(r"^\S+:\d+:\d+: (?:fatal error|error|warning): |^\S*make(?:\[\d+\])?: \*\*\*")),
    ("packages", lazy(r"^npm (?:error|ERR!|warn)|^ERR_PNPM|^Successfully installed |^Collecting \S")),
    ("docker", lazy(r"^#\d+ \[.*\d+/\d+\]|^Step \d+/\d+ : ")),
]
SNIFF_HEAD = 400
SNIFF_TAIL = 200


def _words(command: str) -> list[str]:
    try:
        return shlex.split(command)
    except ValueError:
        return command.split()


def _main_segment(command: str) -> list[str]:
    """Words of the command whose output this is: the last of `a && b; c`, the first of a pipe."""
    segment = re.split(r"&&|\|\||;", command)[-1] if command else ""
    segment = re.split(r"(?<![|>&])\|(?!\|)", segment)[0]
    words = _words(segment.strip())
    while words:
        w = os.path.basename(words[0])
        if "=" in words[0] and not words[0].startswith("-"):
            words = words[1:]
        elif w in WRAPPERS:
            words = words[1:]
            while words and words[0].startswith("-"):
                words = words[1:]
        elif w == "timeout" and len(words) > 1:
            words = words[2:]
        elif len(words) > 1 and (w, words[1]) in RUNNER_PREFIXES:
            words = words[2:]
        elif re.fullmatch(r"python[\d.]*|pypy[\d.]*", w) and len(words) > 2 and words[1] == "-m":
            words = words[2:]
        else:
            break
    return words


def detect(command: str | None, lines: list[str]) -> tuple[str, str]:
    """(tool, subcommand) for the reducer registry."""
    words = _main_segment(command or "")
    prog = os.path.basename(words[0]) if words else ""
    sub = next((w for w in words[1:] if not w.startswith("-")), "")
    tool = DIRECT.get(prog)
    if prog in ("unittest",) or (prog == "manage.py" and sub == "test"):
        tool = "unittest"
    if prog in ("npm", "pnpm", "yarn", "bun") and (sub in PKG_VERBS or (prog == "yarn" and not sub)):
        tool = "packages"
    if prog in ("uv", "poetry", "pipx", "pdm") and sub in PKG_VERBS | {"pip", "lock"}:
        tool = "packages"
    if prog == "pip" and sub and sub not in PKG_VERBS:
        tool = "generic"
    if tool == "docker" and not any(w in ("build", "buildx") for w in words[1:3]) and "compose" not in words[1:2]:
        tool = "generic"
    if prog == "go" and sub not in ("test", "build", "vet", "run", "install", "generate", ""):
        tool = "generic"
    if tool == "files":
        return "files", FILES_MODE.get(prog, "find")
    if prog == "git" and sub == "grep":
        return "files", "grep"
    if prog == "git" and sub == "ls-files":
        return "files", "find"
    if prog == "git" and sub not in GIT_REDUCED:
        tool = "generic"  # blame, rev-list, for-each-ref, …: shapes the generic reducer knows
    if tool and tool != "generic":
        return tool, sub
    sniffed = sniff(lines)
    if sniffed:
        return sniffed, sub
    if prog in ("make", "gmake"):
        return "c_build", sub
    return "generic", sub


def sniff(lines: list[str]) -> str | None:
    sample = lines[:SNIFF_HEAD] + lines[-SNIFF_TAIL:] if len(lines) > SNIFF_HEAD + SNIFF_TAIL else lines
    for tool, pattern in SNIFFERS:
        for line in sample:
            if pattern.search(line):
                return tool
    return None
