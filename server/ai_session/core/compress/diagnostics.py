"""Structured diagnostics (file, line, column, severity, message, tool) from output lines.

Parsed from the context form's lines, which keep every diagnostic line by design, so the
work is proportional to what the agent sees, not to the raw size. Paths are as printed
(relative to the command's cwd); the caller resolves them.
"""

from __future__ import annotations

import re

from ai_session.core.compress.patterns import lazy
from ai_session.core.models import Diagnostic

MAX_DIAGNOSTICS = 500

_SEV = {"fatal error": "error", "fatal": "error", "error": "error", "warning": "warning", "note": "info",
        "remark": "info", "info": "info", "information": "info", "hint": "hint", "message": "info",
        "internal compiler error": "error"}

TSC_RE = lazy(r"^(?P<file>\S.*?)\((?P<line>\d+),(?P<col>\d+)\): (?P<sev>error|warning|message) (?P<code>TS\d+): (?P<msg>.*)$")
TSC_PRETTY_RE = lazy(r"^(?P<file>\S.*?):(?P<line>\d+):(?P<col>\d+) - (?P<sev>error|warning|message) (?P<code>TS\d+): (?P<msg>.*)$")
PYRIGHT_RE = lazy(r"^\s+(?P<file>\S.*?):(?P<line>\d+):(?P<col>\d+) - (?P<sev>error|warning|information): (?P<msg>.*?)(?: \((?P<code>\w+)\))?$")
GCC_RE = lazy(
    r"^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?:(?P<col>\d+):)? (?P<sev>fatal error|internal compiler error|error|warning|note|remark|info|hint): (?P<msg>.*?)(?:  \[(?P<code>[\w-]+)\])?$"
)
RUFF_RE = lazy(r"^(?P<file>[^\s:][^:]*\.\w+):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) (?P<msg>.*)$")
GO_RE = lazy(r"^\s*(?P<file>[^\s:]+\.go):(?P<line>\d+)(?::(?P<col>\d+))?: (?P<msg>.*)$")
ESLINT_ROW_RE = lazy(r"^\s+(?P<line>\d+):(?P<col>\d+)\s+(?P<sev>error|warning)\s+(?P<msg>.*?)(?:\s{2,}(?P<code>\S+))?$")
RUST_HEAD_RE = lazy(r"^(?P<sev>error|warning)(?:\[(?P<code>[\w:-]+)\])?: (?P<msg>.*)$")
RUST_LOC_RE = lazy(r"^\s*--> (?P<file>[^\s:]+):(?P<line>\d+):(?P<col>\d+)")
RUST_PANIC_RE = lazy(r"panicked at (?P<file>[^\s:]+):(?P<line>\d+):(?P<col>\d+):?")
PYTEST_LOC_RE = lazy(r"^(?P<file>[^\s:]+\.py):(?P<line>\d+): (?P<msg>\S.*)$")
JEST_AT_RE = lazy(r"\((?P<file>[^()\s:]+\.[cm]?[jt]sx?):(?P<line>\d+):(?P<col>\d+)\)$|^\s*(?:at|❯) (?P<file2>[^()\s:]+\.[cm]?[jt]sx?):(?P<line2>\d+):(?P<col2>\d+)")
MAKE_RE = lazy(r"^\S*make(?:\[\d+\])?: \*\*\* \[(?P<file>[^:\]]+):(?P<line>\d+): (?P<target>[^\]]*)\] (?P<msg>.*)$")
CMAKE_RE = lazy(r"^CMake (?P<sev>Error|Warning)(?: \(dev\))? at (?P<file>\S+):(?P<line>\d+)")
EXT_PY = (".py",)


def _diag(file: str, line: str | int, col: str | None, sev: str, msg: str, source: str, code: str | None = None) -> Diagnostic:
    return Diagnostic(
        file=file, line=int(line), column=int(col) if col else None, severity=_SEV.get(sev.lower(), "error"),
        message=msg.strip(), source=source, code=code,
    )


def parse_diagnostics(lines: list[str], tool: str) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    seen: set[tuple[str, int, int | None, str]] = set()
    rust_head: re.Match[str] | None = None
    eslint_file: str | None = None
    jest_title: str | None = None
    last_e: str | None = None

    def add(d: Diagnostic) -> None:
        key = (d.file, d.line, d.column, d.message)
        if key not in seen and len(found) < MAX_DIAGNOSTICS:
            seen.add(key)
            found.append(d)

    for line in lines:
        if line.startswith("[ai-session]"):
            continue
        if tool == "cargo":
            h = RUST_HEAD_RE.match(line)
            if h:
                rust_head = h
                continue
            loc = RUST_LOC_RE.match(line)
            if loc and rust_head is not None:
                add(_diag(loc["file"], loc["line"], loc["col"], rust_head["sev"], rust_head["msg"], "rustc", rust_head["code"]))
                continue
            p = RUST_PANIC_RE.search(line)
            if p:
                add(_diag(p["file"], p["line"], p["col"], "error", line.strip(), "cargo test"))
            continue
        if tool == "js_tests":
            s = line.strip()
            if s.startswith("●") or re.match(r"^\s*FAIL\s+\S+ > ", line) or re.match(r"^\s+\d+\) ", line):
                jest_title = s.lstrip("● ")
                continue
            m = JEST_AT_RE.search(line)
            if m and jest_title:
                f, ln, c = (m["file"], m["line"], m["col"]) if m["file"] else (m["file2"], m["line2"], m["col2"])
                if "node_modules" not in f:
                    add(_diag(f, ln, c, "error", jest_title, "test"))
                    jest_title = None
            continue
        if tool == "pytest" or tool == "unittest":
            if line.startswith("E "):
                last_e = last_e or line[1:].strip()
            m = PYTEST_LOC_RE.match(line)
            if m:
                add(_diag(m["file"], m["line"], None, "error", f"{m['msg']}: {last_e}" if last_e else m["msg"], tool))
                last_e = None
                continue
            if line.startswith("_") and line.endswith("_"):
                last_e = None
            continue
        m = TSC_RE.match(line) or TSC_PRETTY_RE.match(line)
        if m:
            add(_diag(m["file"], m["line"], m["col"], m["sev"], m["msg"], "tsc", m["code"]))
            continue
        m = PYRIGHT_RE.match(line)
        if m:
            add(_diag(m["file"], m["line"], m["col"], m["sev"], m["msg"], "pyright", m["code"]))
            continue
        m = GCC_RE.match(line)
        if m:
            src = {"linter": "mypy" if m["code"] else "lint", "c_build": "cc"}.get(tool, tool)
            add(_diag(m["file"], m["line"], m["col"], m["sev"], m["msg"], src, m["code"]))
            continue
        m = RUFF_RE.match(line)
        if m:
            add(_diag(m["file"], m["line"], m["col"], "warning" if m["code"][0] in "WCN" else "error", m["msg"], "lint", m["code"]))
            continue
        m = GO_RE.match(line)
        if m:
            add(_diag(m["file"], m["line"], m["col"], "error", m["msg"], "go"))
            continue
        m = MAKE_RE.match(line)
        if m:
            add(_diag(m["file"], m["line"], None, "error", f"{m['target']}: {m['msg']}", "make"))
            continue
        m = CMAKE_RE.match(line)
        if m:
            add(_diag(m["file"], m["line"], None, m["sev"].lower(), line, "cmake"))
            continue
        m = ESLINT_ROW_RE.match(line)
        if m and eslint_file:
            add(_diag(eslint_file, m["line"], m["col"], m["sev"], m["msg"], "eslint", m["code"]))
            continue
        if line and not line[0].isspace() and re.match(r"^\S+\.\w+$", line):
            eslint_file = line
    return found
