"""What a shell command line is made of, as far as deciding whether to rewrite it needs.

Not a shell parser: a scanner that knows quotes, escapes and the control operators, and
is conservative where it is unsure (anything it cannot place makes the line "unsure").
Standard library only: this is on the path of every Bash command an agent runs.
"""

from __future__ import annotations

import re

# Control operators that separate simple commands, longest first.
OPERATORS = ("&&", "||", ";;", "|&", ";", "|", "&", "\n")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


class CommandLine:
    """A command line split at its top-level control operators. (A plain class: `dataclasses`
    costs this hot path more to import than all the scanning.)"""

    def __init__(self) -> None:
        self.segments: list[str] = []  # the simple commands (and pipelines' parts), stripped
        self.starts: list[int] = []  # where each segment begins in the line
        self.operators: list[str] = []  # the operators between them, in order
        self.substitution = False  # $( ), ` `, <( ) or >( ) outside single quotes
        self.heredoc = False
        self.unsure = False  # an unterminated quote, or a construct the scanner does not follow

    @property
    def background(self) -> bool:
        """A job put in the background with `&` (not `&&`, `>&`, `&>`)."""
        return "&" in self.operators

    def words(self, index: int) -> list[str]:
        return split_words(self.segments[index])


def scan(line: str) -> CommandLine:
    out = CommandLine()
    current: list[str] = []
    i, n, start = 0, len(line), 0
    depth = 0  # ( ) subshells and { } groups are kept whole inside one segment
    while i < n:
        ch = line[i]
        if ch == "\\" and i + 1 < n:
            current.append(line[i : i + 2])
            i += 2
            continue
        if ch == "'":
            end = line.find("'", i + 1)
            if end < 0:
                out.unsure = True
                end = n - 1
            current.append(line[i : end + 1])
            i = end + 1
            continue
        if ch == '"':
            j = i + 1
            while j < n and line[j] != '"':
                if line[j] == "\\":
                    j += 1
                elif line[j] == "`" or line.startswith("$(", j):
                    out.substitution = True
                j += 1
            if j >= n:
                out.unsure = True
            current.append(line[i : j + 1])
            i = j + 1
            continue
        if ch == "`" or line.startswith(("$(", "<(", ">("), i):
            out.substitution = True
        if line.startswith("<<", i) and not line.startswith("<<<", i):
            out.heredoc = True
        if ch == "#" and (not current or current[-1][-1:].isspace()) and depth == 0:
            end = line.find("\n", i)  # a comment runs to the end of the line
            i = n if end < 0 else end
            continue
        if ch in "({":
            depth += 1
        elif ch in ")}" and depth:
            depth -= 1
        if depth == 0 and not _redirect_amp(line, i):
            op = next((o for o in OPERATORS if line.startswith(o, i)), None)
            if op is not None:
                _flush(out, current, line, start)
                out.operators.append(op)
                i += len(op)
                start = i
                continue
        current.append(ch)
        i += 1
    if depth:
        out.unsure = True
    _flush(out, current, line, start)
    while out.operators and out.operators[-1] in (";", "\n") and len(out.operators) >= len(out.segments):
        out.operators.pop()  # a trailing `;` or newline ends the line, it starts nothing
    return out


def _redirect_amp(line: str, i: int) -> bool:
    """`&` that belongs to a redirection: `2>&1`, `>&2`, `&>file`, `&>>file`."""
    if line[i] != "&":
        return False
    return (i > 0 and line[i - 1] in "<>") or line.startswith(("&>",), i)


def _flush(out: CommandLine, current: list[str], line: str, start: int) -> None:
    text = "".join(current).strip()
    current.clear()
    if text:
        out.segments.append(text)
        out.starts.append(len(line) - len(line[start:].lstrip()))


def split_words(segment: str) -> list[str]:
    """The words of a simple command, quotes removed; [] when it does not split cleanly."""
    import shlex

    try:
        return shlex.split(segment, comments=False, posix=True)
    except ValueError:
        return []


def command_word(words: list[str]) -> tuple[str, list[str]]:
    """The program a simple command runs (leading VAR=value assignments skipped) and its arguments."""
    rest = list(words)
    while rest and ASSIGNMENT.match(rest[0]):
        rest.pop(0)
    if not rest:
        return "", []
    return rest[0].rsplit("/", 1)[-1], rest[1:]
