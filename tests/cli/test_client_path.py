"""The CLI's fast client path: `exec`, `attach` and `output` through the session host import the
standard library and the socket client only, and a plain command line is parsed as argparse
parses it without building argparse's parser."""

from __future__ import annotations

import contextlib
import io
import re
import sys
from pathlib import Path
from typing import Any

import platformdirs
import pytest
from ai_session.cli import COMMANDS, build_parser
from ai_session.cli.spec import REGISTRY
from ai_session.core.location import user_dir

from tests.cli.test_package import modules_after
from tests.conftest import CLI

# What the client path leaves out; each was measured at several ms of an exec's start.
NOT_ON_THE_CLIENT_PATH = ("argparse", "dataclasses", "inspect", "typing", "pathlib", "platformdirs", "pydantic",
                          "asyncio", "sqlite3", "ai_session.core.manager", "ai_session.core.store")  # fmt: skip


def by_argparse(argv: list[str]) -> dict[str, Any] | None:
    """What argparse makes of a line (None when it refuses it or prints help)."""
    name = argv[0]
    parser = build_parser([name], only_loaded=True)
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            args, extra = parser.parse_known_args(argv)
        except SystemExit:
            return None
    return None if extra else vars(args)


def plainly(argv: list[str]) -> dict[str, Any] | None:
    import ai_session.cli as cli

    args = cli._parse_plain(argv[0], argv)
    return None if args is None else vars(args)


PLAIN = [
    ["exec", "s", "true"],
    ["exec", "s", "pytest -q", "--timeout", "2.5"],
    ["exec", "--capture", "s", "echo hi", "--format=json"],
    ["exec", "s", "make", "--cwd", "/tmp", "--timeout=3"],
    ["exec", "s", ""],
    ["output", "run_1", "--raw"],
    ["output", "run_1", "--grep", "error", "--context", "2"],
    ["output", "run_1", "--lines", "3:9", "--format", "json"],
    ["attach", "s", "--no-terminal"],
    ["list"],
    ["list", "--all", "--agent", "claude", "--format", "json"],
    ["exists", "s"],
]
# Left to argparse: help, abbreviations, short options, `--`, bad values, repeats, conflicts, words missing or extra.
NOT_PLAIN = [
    ["exec", "s", "true", "-h"],
    ["exec", "s", "true", "--help"],
    ["exec", "s", "true", "--time", "5"],
    ["exec", "s", "--", "ls -la"],
    ["exec", "s", "-1"],
    ["exec", "s", "true", "--timeout", "soon"],
    ["exec", "s", "true", "--timeout"],
    ["exec", "s", "true", "--timeout", "-1"],
    ["exec", "s", "true", "--format", "csv"],
    ["exec", "s", "true", "--capture=yes"],
    ["exec", "s", "true", "--capture", "--capture"],
    ["exec", "s"],
    ["exec", "s", "true", "extra"],
    ["output", "run_1", "--raw", "--grep", "x"],
    ["output", "run_1", "-C", "2", "--grep", "x"],
    ["list", "stray"],
]


@pytest.mark.parametrize("argv", PLAIN, ids=" ".join)
def test_a_plain_line_is_parsed_as_argparse_parses_it(argv: list[str]) -> None:
    got = plainly(argv)
    assert got is not None, "this line is plain: it needs no argparse"
    assert got == by_argparse(argv)


@pytest.mark.parametrize("argv", NOT_PLAIN, ids=" ".join)
def test_anything_else_is_left_to_argparse(argv: list[str]) -> None:
    assert plainly(argv) is None


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_parses_plain_lines_as_argparse_does(name: str) -> None:
    """A line of each command, with the session and every option its declaration makes plain."""
    __import__(f"ai_session.cli.{COMMANDS[name][0]}")
    entry = REGISTRY.get(name)
    if entry is None or any(key.startswith(name + " ") for key in REGISTRY):
        assert plainly([name]) is None  # a command group: its actions always go to argparse
        return
    shape = entry._plain_shape()
    if shape is None:
        assert plainly([name]) is None
        return
    positionals, options = shape
    words = [name, *(f"w{i}" if kind is str else "1" for i, (_, kind, _) in enumerate(positionals))]
    for dest, (kind, _, choices) in options.items():
        flag = f"--{dest.replace('_', '-')}"
        if kind == "flag":
            words.append(flag)
        elif choices:
            words += [flag, str(list(choices)[-1])]
        else:
            words += [flag, "2" if kind in (int, float) else "v"]
    for exclusive in entry._exclusive():  # one of each mutually exclusive group only
        for dest in sorted(exclusive)[1:]:
            flag = f"--{dest.replace('_', '-')}"
            i = words.index(flag)
            del words[i: i + (1 if options[dest][0] == "flag" else 2)]
    assert plainly(words) == by_argparse(words)


@pytest.mark.parametrize("env", [
    {"HOME": "/home/u"},
    {"HOME": "/home/u/", "XDG_DATA_HOME": "/data/x", "XDG_CONFIG_HOME": "/conf/y"},
    {"HOME": "/home/u", "XDG_DATA_HOME": "relative/x", "XDG_CONFIG_HOME": ""},
    {"HOME": "/", "XDG_CONFIG_HOME": "/c"},
])  # fmt: skip
def test_the_user_dirs_are_platformdirs_own(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for var in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert user_dir("data") == platformdirs.user_data_dir("ai-session")
    assert user_dir("config") == platformdirs.user_config_dir("ai-session")


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG rule is computed here on Linux only")
def test_exec_through_the_host_imports_only_the_client(cli: CLI, home: Path) -> None:
    cli("create", "s")
    cli("exec", "s", "true")  # the host is up
    # The config file found as a user's is (XDG), not named by AI_SESSION_CONFIG: no platformdirs either.
    as_a_user = {"AI_SESSION_CONFIG": "", "XDG_CONFIG_HOME": str(home.parent / "xdg")}
    for argv in (("exec", "s", "echo hi"), ("output", "run_none", "--raw")):
        loaded = modules_after(home, *argv, env=as_a_user)
        assert "ai_session.host.client" in loaded
        assert not [m for m in loaded for heavy in NOT_ON_THE_CLIENT_PATH if m == heavy or m.startswith(heavy + ".")]


def test_list_is_answered_by_a_running_host_and_never_starts_one(cli: CLI, home: Path) -> None:
    from ai_session.host.client import HostUnavailable, connect

    cli("create", "a", "--agent", "claude")
    cli("create", "b", "--role", "Backend")
    cli("pause", "b")
    lines = [("list",), ("list", "--paused"), ("list", "--all", "--agent", "claude"), ("list", "--role", "nobody")]
    for argv in lines:
        cli(*argv)
    with pytest.raises(HostUnavailable):
        connect(start=False)  # listing started no host
    # Without a host, the table is read from the store opened read-only: no models, no store classes.
    loaded = modules_after(home, "list")
    assert "ai_session.core.listing" in loaded
    assert not [m for m in loaded for heavy in ("pydantic", "tiktoken", "asyncio", "ai_session.core.manager",
                                                "ai_session.core.store", "ai_session.core.models") if m == heavy or m.startswith(heavy + ".")]  # fmt: skip
    cli("exec", "a", "echo hi")  # now one runs
    for argv in lines:
        via_host, here = cli(*argv).stdout, cli(*argv, env={"AI_SESSION_HOST": "off"}).stdout
        assert _ago(via_host) == _ago(here), argv
    assert re.search(r"^a +active +claude +- +1 ", cli("list").stdout, re.M)  # its run's message is counted
    loaded = modules_after(home, "list")  # the table came from the host: nothing of the store was imported here
    assert "ai_session.host.client" in loaded
    assert not [m for m in loaded for heavy in NOT_ON_THE_CLIENT_PATH if m == heavy or m.startswith(heavy + ".")]


def _ago(table: str) -> str:
    """The table without the seconds that pass between two listings."""
    return re.sub(r"\d+[smhd] ago", "ago", table)
