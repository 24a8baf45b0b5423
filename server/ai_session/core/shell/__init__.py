"""Session shells: a persistent shell per session in a real PTY, with command boundaries."""

from ai_session.core.shell.capture import DEFAULT_CAP, OutputCapture
from ai_session.core.shell.process import (
    ExecResult,
    ShellError,
    ShellExited,
    ShellProcess,
    ShellRun,
    ShellState,
    choose_shell,
)

__all__ = [
    "DEFAULT_CAP",
    "ExecResult",
    "OutputCapture",
    "ShellError",
    "ShellExited",
    "ShellProcess",
    "ShellRun",
    "ShellState",
    "choose_shell",
]
