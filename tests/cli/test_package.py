"""The CLI package's shape: a fast start, commands loaded on demand, adapters that never touch the store."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SERVER, cli_env

PACKAGE = SERVER / "ai_session"
HEAVY = ("pydantic", "asyncio", "zstandard", "tiktoken", "ai_session.core.manager", "ai_session.core.models",
         "ai_session.core.compress")  # fmt: skip


def modules_after(home: Path, *argv: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules a fresh interpreter has loaded once `ai-session ARGV` has run."""
    probe = (
        "import sys, json\n"
        "from ai_session.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "sys.stdout.flush()\n"
        "sys.stderr.write('\\n' + json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True,
                          env=cli_env(home, **(env or {})), timeout=60, check=False)  # fmt: skip
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("argv", [["--version"], ["--help"]])
def test_version_and_help_import_nothing_heavy(home, argv):
    loaded = modules_after(home, *argv)
    assert not [m for m in loaded for heavy in HEAVY if m == heavy or m.startswith(heavy + ".")]


def test_version_answers_as_the_parser_would(home):
    from ai_session import __version__
    from ai_session.cli import build_parser

    done = subprocess.run([sys.executable, "-m", "ai_session", "--version"], capture_output=True, text=True,
                          env=cli_env(home), timeout=60, check=True)  # fmt: skip
    assert done.stdout == f"ai-session {__version__}\n" and done.stderr == ""
    assert build_parser()._actions[1].version == done.stdout.strip()  # the --version the parser declares


def test_a_command_imports_only_its_own_module(home):
    loaded = {m for m in modules_after(home, "list") if m.startswith("ai_session.cli.")}
    assert loaded == {"ai_session.cli.listing", "ai_session.cli.spec", "ai_session.cli.render", "ai_session.cli.views"}


# Each with the module that shows it ran: `list` reads the store read-only, with no manager.
RAN = "ai_session.core.manager"


@pytest.mark.parametrize(("argv", "ran"), [(["list"], "ai_session.core.listing"), (["show", "s"], RAN),
                                           (["exists", "s"], RAN), (["stats"], RAN), (["pin", "s", "1"], RAN)])
def test_commands_that_count_nothing_load_neither_tokenizer_nor_compressor(cli, home, argv, ran):
    """The tokenizer is loaded by the first count in a process, the compressor by the first
    output compressed, the shells by the first command run: a listing pays for none of them."""
    cli("create", "s")
    cli("add", "s", "a message: its tokens are counted here, when it is written")
    loaded = modules_after(home, *argv)
    assert ran in loaded  # the command did run
    for heavy in ("tiktoken", "asyncio", "ai_session.core.compress", "ai_session.core.shell", "httpx"):
        assert not [m for m in loaded if m == heavy or m.startswith(heavy + ".")], heavy


# An attribute access to a store: the manager's (private) or the sessions service's; not an import.
STORE_ACCESS = re.compile(r"(?<!ai_session\.core)\._?store\b(?!_)")


def test_adapters_never_reach_into_the_store():
    """CLI, library API and language server go through SessionManager; only core touches the store."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] == "core":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if STORE_ACCESS.search(line):
                offenders.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_layering_test_would_see_a_store_access():
    assert STORE_ACCESS.search("runs = m.store.list_runs(s.id)")
    assert STORE_ACCESS.search("store = server.manager.store")
    assert STORE_ACCESS.search("run = m._store.get_run(run_id)")
    assert STORE_ACCESS.search("m.sessions.store.save_run(run)")
    assert not STORE_ACCESS.search("from ai_session.core.store import Totals")
    assert not STORE_ACCESS.search("url = m.store_url")


def test_worktree_binding_is_resolved_in_core_for_every_adapter(cli, tmp_path):
    import subprocess as sp

    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    sp.run(["git", "init", "-q", "-b", "feature/x", str(repo)], check=True)
    bound = cli.json("create", "bound", "--worktree", str(repo / "src"))
    assert (bound["worktree"], bound["branch"]) == (str(repo.resolve()), "feature/x")
    plain = tmp_path / "plain"
    plain.mkdir()
    refused = cli("create", "loose", "--worktree", str(plain), check=False)
    assert refused.returncode == 2 and "is not inside a git worktree" in refused.stderr
    assert cli("exists", "loose", check=False).returncode == 1
