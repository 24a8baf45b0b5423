"""How a command is declared: its arguments and its target beside its handler.

As tmux's `cmd_entry`: each command module declares, for every command it holds, the
arguments it takes, what it works on (`target`: a session, optionally) and what it needs
to run (`needs`: the SessionManager, only the Config, or nothing). The package's table
(`ai_session.cli.COMMANDS`) says which module holds which command, so a module is imported
only when one of its commands runs.

Standard library only, and no `dataclasses` or `typing` at run time: this is on the path of
`ai-session --help` and of every `exec` through the session host.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence
    from typing import Any, Literal

    # What a handler gets as its first argument: the SessionManager (most), the Config (store
    # administration, which must work before the store is usable) or None (filters, the server).
    Needs = Literal["manager", "config", "nothing"]
    # What a command works on: one session (a required SESSION), maybe one (SESSION optional).
    Target = Literal["session", "session?"] | None
    Handler = Callable[[Any, argparse.Namespace], Any]

TARGET_HELP = "session name, id, or unique id prefix"
FORMATS = ("table", "json")


class Arg:
    def __init__(self, flags: tuple[str, ...], options: dict[str, Any]) -> None:
        self.flags = flags
        self.options = options

    def add_to(self, parser: argparse.ArgumentParser | Any) -> None:
        parser.add_argument(*self.flags, **self.options)


class OneOf:
    """Mutually exclusive arguments."""

    def __init__(self, args: tuple[Arg, ...]) -> None:
        self.args = args

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        group = parser.add_mutually_exclusive_group()
        for a in self.args:
            a.add_to(group)


def arg(*flags: str, **options: Any) -> Arg:
    return Arg(flags, options)


def one_of(*args: Arg) -> OneOf:
    return OneOf(args)


class Command:
    def __init__(self, name: str, handler: Handler, args: Sequence[Arg | OneOf] = (), target: Target = None,
                 needs: Needs = "manager", formats: Sequence[str] = FORMATS, help: str | None = None,
                 epilog: str | None = None, trailing: str | None = None) -> None:  # fmt: skip
        self.name = name  # "create", or "template save" for an action of a command group
        self.handler = handler
        self.args = args
        self.target = target
        self.needs = needs
        self.formats = formats  # () for a command that prints no report (a filter, the server)
        self.help = help  # an action's one line (a command's own is in the package's table)
        self.epilog = epilog
        # Positional words a command accepts after its flags (`add S --role assistant TEXT`).
        self.trailing = trailing

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

    def parse_plain(self, words: Sequence[str]) -> Any:
        """The command's words parsed as argparse parses them, when the line is plain: its
        positionals, and its long options each given once as `--opt V`, `--opt=V` or `--flag`.
        None for anything else (help, abbreviations, short options, `--`, a bad value, a command
        declaring more than stores and flags): argparse then parses the line and says what is
        wrong. Saves the start of an `exec` importing and building argparse (about 10 ms)."""
        shape = self._plain_shape()
        if shape is None:
            return None
        positionals, options = shape
        values: dict[str, Any] = {dest: default for dest, (_, default, _) in options.items()}
        given: list[str] = []
        seen: set[str] = set()  # destinations given, each once; at most one of a mutually exclusive group
        rest = iter(words)
        for word in rest:
            if not word.startswith("-"):
                given.append(word)
                continue
            flag, eq, value = word.partition("=")
            dest = flag[2:].replace("-", "_") if flag.startswith("--") else ""
            if dest not in options or dest in seen:
                return None
            kind, _, choices = options[dest]
            if kind == "flag":
                if eq:
                    return None
                values[dest] = True
            else:
                if not eq:
                    value = next(rest, "-")
                converted = _INVALID if value.startswith("-") else _convert(value, kind, choices)
                if converted is _INVALID:
                    return None
                values[dest] = converted
            seen.add(dest)
        if len(given) != len(positionals) or any(len(group & seen) > 1 for group in self._exclusive()):
            return None
        for (dest, kind, choices), word in zip(positionals, given, strict=True):
            values[dest] = _convert(word, kind, choices)
            if values[dest] is _INVALID:
                return None
        from types import SimpleNamespace

        return SimpleNamespace(command=self.name, **values, _command=self)

    def _plain_shape(self) -> tuple[list[tuple[str, Any, Any]], dict[str, tuple[Any, Any, Any]]] | None:
        """Positionals (name, type, choices) and, by destination, each option's kind (a type, or
        "flag"), default and choices; None when an argument is more than `parse_plain` reads."""
        if self.trailing or self.target == "session?":
            return None
        positionals: list[tuple[str, Any, Any]] = [("session", str, None)] if self.target else []
        options: dict[str, tuple[Any, Any, Any]] = {"format": (str, "table", self.formats)} if self.formats else {}
        for a in [x for item in self.args for x in (item.args if isinstance(item, OneOf) else (item,))]:
            extra = set(a.options) - {"help", "metavar", "type", "choices", "default", "action"}
            action = a.options.get("action", "store")
            if extra or action not in ("store", "store_true"):
                return None
            if not a.flags[0].startswith("-"):
                if action != "store" or "default" in a.options:
                    return None
                positionals.append((a.flags[0], a.options.get("type", str), a.options.get("choices")))
                continue
            long = [f for f in a.flags if f.startswith("--")]
            if len(long) != 1 or len(a.flags) > 2:  # one long option (its short form is left to argparse)
                return None
            dest = _dest(a)
            kind = a.options.get("type", str)
            default = a.options.get("default", False if action == "store_true" else None)
            if isinstance(default, str) and action == "store":
                default = kind(default)  # as argparse does with a string default
            options[dest] = ("flag" if action == "store_true" else kind, default, a.options.get("choices"))
        return positionals, options

    def _exclusive(self) -> list[set[str]]:
        return [{_dest(a) for a in item.args} for item in self.args if isinstance(item, OneOf)]


_INVALID = object()  # a value argparse would refuse (then argparse parses the line, and says so)


def _dest(a: Arg) -> str:
    """An option's destination, as argparse names it: its long flag, dashes as underscores."""
    return next(f for f in a.flags if f.startswith("--"))[2:].replace("-", "_")


def _convert(word: str, kind: Any, choices: Any) -> Any:
    try:
        value = kind(word)
    except (TypeError, ValueError):
        return _INVALID
    return _INVALID if choices is not None and value not in choices else value


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
