"""How a command is declared: its arguments and its target beside its handler.

As tmux's `cmd_entry`: each command module declares, for every command it holds, the
arguments it takes, what it works on (`target`: a session, optionally) and what it needs
to run (`needs`: the SessionManager, only the Config, or nothing). The package's table
(`ai_session.cli.COMMANDS`) says which module holds which command, so a module is imported
only when one of its commands runs.

Standard library only: this is on the path of `ai-session --help`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

# What a handler gets as its first argument: the SessionManager (most), the Config (store
# administration, which must work before the store is usable) or None (filters, the server).
Needs = Literal["manager", "config", "nothing"]
# What a command works on: one session (a required SESSION), maybe one (SESSION optional).
Target = Literal["session", "session?"] | None
TARGET_HELP = "session name, id, or unique id prefix"
FORMATS = ("table", "json")


@dataclass(frozen=True)
class Arg:
    flags: tuple[str, ...]
    options: dict[str, Any]

    def add_to(self, parser: argparse.ArgumentParser | Any) -> None:
        parser.add_argument(*self.flags, **self.options)


@dataclass(frozen=True)
class OneOf:
    """Mutually exclusive arguments."""

    args: tuple[Arg, ...]

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        group = parser.add_mutually_exclusive_group()
        for a in self.args:
            a.add_to(group)


def arg(*flags: str, **options: Any) -> Arg:
    return Arg(flags, options)


def one_of(*args: Arg) -> OneOf:
    return OneOf(args)


Handler = Callable[[Any, argparse.Namespace], Any]


@dataclass
class Command:
    name: str  # "create", or "template save" for an action of a command group
    handler: Handler
    args: Sequence[Arg | OneOf] = ()
    target: Target = None
    needs: Needs = "manager"
    formats: Sequence[str] = FORMATS  # () for a command that prints no report (a filter, the server)
    help: str | None = None  # an action's one line (a command's own is in the package's table)
    epilog: str | None = None
    # Positional words a command accepts after its flags (`add S --role assistant TEXT`).
    trailing: str | None = None

    @property
    def description(self) -> str | None:
        return self.handler.__doc__.strip() if self.handler.__doc__ else None

    def build(self, parser: argparse.ArgumentParser) -> None:
        if self.target:
            parser.add_argument("session", nargs="?" if self.target == "session?" else None, help=TARGET_HELP
                                if self.target == "session" else f"{TARGET_HELP} (default: all sessions)")  # fmt: skip
        for a in self.args:
            a.add_to(parser)
        if self.formats:
            parser.add_argument("--format", choices=self.formats, default="table",
                                help=f"{' | '.join(self.formats)} (default: table)")  # fmt: skip
        parser.set_defaults(_command=self)


# Every command of every imported command module, by name.
REGISTRY: dict[str, Command] = {}


def command(
    name: str,
    *args: Arg | OneOf,
    target: Target = None,
    needs: Needs = "manager",
    formats: Sequence[str] = FORMATS,
    help: str | None = None,
    epilog: str | None = None,
    trailing: str | None = None,
) -> Callable[[Handler], Handler]:
    """Declare a command: `@command("show", arg("--history", action="store_true"), target="session")`."""

    def register(fn: Handler) -> Handler:
        REGISTRY[name] = Command(name, fn, args, target, needs, formats, help, epilog, trailing)
        return fn

    return register
