"""What differs between bash, zsh and sh, in one place: how a shell is started with the
integration (its rc file and environment), and how a command is handed over to it.

The integration scripts (integration_<kind>.*) emit the same OSC 133 marks for all three;
bash and zsh read one NUL-separated file per command (cwd, stdin, history flag, command),
sh a small prelude it sources plus the command text.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

ShellKind = Literal["bash", "zsh", "sh"]


def integration(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text()


def has_integration(name: str) -> bool:
    return resources.files(__package__).joinpath(name).is_file()


def write_private(path: Path, data: bytes) -> None:
    """A hand-over file only its owner can read (the integration empties it once read)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


@dataclass(frozen=True)
class Handover:
    """One command for the shell: where, with which stdin, whether it goes to the history."""

    command: str
    cwd: str  # "" for the shell's own directory
    stdin_path: str
    history: bool


class Dialect:
    kind: ShellKind

    def prepare(self, path: str, workdir: Path, env: dict[str, str], user_rc: bool) -> list[str]:
        """Write the integration into `workdir`, set what it needs in `env`; the argv to spawn."""
        raise NotImplementedError

    def hand_over(self, workdir: Path, cmd: Handover) -> None:
        """Leave the command where the integration's `__ais_x` reads it."""
        payload = b"\0".join(s.encode("utf-8", "surrogateescape") for s in
                             (cmd.cwd, cmd.stdin_path, "1" if cmd.history else "0", cmd.command)) + b"\0"  # fmt: skip
        write_private(workdir / "cmd", payload)


class Bash(Dialect):
    kind: ShellKind = "bash"

    def prepare(self, path: str, workdir: Path, env: dict[str, str], user_rc: bool) -> list[str]:
        rc = workdir / "rc.bash"
        rc.write_text(integration("integration_bash.sh"))
        return [path, "--noprofile", "--rcfile", str(rc), "-i"]


class Zsh(Dialect):
    kind: ShellKind = "zsh"

    def prepare(self, path: str, workdir: Path, env: dict[str, str], user_rc: bool) -> list[str]:
        (workdir / ".zshrc").write_text(integration("integration_zsh.zsh"))
        if user_rc:
            env["__AIS_ZDOTDIR"] = env.get("ZDOTDIR", os.path.expanduser("~"))
        env["ZDOTDIR"] = str(workdir)
        return [path, "-i"]


class Sh(Dialect):
    kind: ShellKind = "sh"

    def prepare(self, path: str, workdir: Path, env: dict[str, str], user_rc: bool) -> list[str]:
        rc = workdir / "rc.sh"
        rc.write_text(integration("integration_sh.sh"))
        env["ENV"] = str(rc)
        return [path, "-i"]

    def hand_over(self, workdir: Path, cmd: Handover) -> None:
        # No `read -d ''` in POSIX sh: a prelude it sources sets cwd and stdin, then the C mark.
        back = 'if [ -n "$__ais_cwd" ]; then __ais_back=$PWD; cd -- "$__ais_cwd" || __ais_in=/dev/null; fi\n'
        pre = (
            f"__ais_cwd={shlex.quote(cmd.cwd)}; __ais_in={shlex.quote(cmd.stdin_path)}\n{back}"
            f"printf '\\033]133;C;aid=%s\\007' \"$__ais_nonce\"\n"
        )
        write_private(workdir / "pre.sh", pre.encode())
        write_private(workdir / "run", cmd.command.encode("utf-8", "surrogateescape") + b"\n")


DIALECTS: dict[ShellKind, Dialect] = {"bash": Bash(), "zsh": Zsh(), "sh": Sh()}
