"""Docs that run: docs/cli.md is the parser's own reference; getting-started runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from ai_session.cli import COMMANDS, EXIT_CODES
from ai_session.cli.reference import TARGET, main, render
from ai_session.core import errors

from tests.conftest import REPO, cli_env
from tests.context.conftest import write_config


def test_cli_reference_is_generated_from_the_parser(tmp_path):
    assert (REPO / TARGET).read_text(encoding="utf-8") == render(), "run: python -m ai_session.cli.reference"
    (tmp_path / "docs").mkdir()
    (tmp_path / TARGET).write_text("stale\n")
    assert main(["--check", "--root", str(tmp_path)]) == 1
    assert main(["--root", str(tmp_path)]) == 0 and main(["--check", "--root", str(tmp_path)]) == 0


def test_the_reference_lists_every_command_flag_and_exit_code():
    text = render()
    for name in COMMANDS:
        assert f"### `ai-session {name}`" in text
    for flag in ("--count", "--preload", "--from-template", "--all", "--detailed", "--session-id", "--keep-recent",
                 "--show-efficiency", "--global", "--ai-features", "--no-compression", "--older-than"):
        assert f"`{flag}" in text, flag
    codes = {cls.exit_code for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.AiSessionError)}
    assert codes <= set(EXIT_CODES) and {0, 124, 130} <= set(EXIT_CODES)
    for code in EXIT_CODES:
        assert f"\n| {code} | " in text


def _runnable_blocks(markdown: str) -> list[str]:
    """The ```sh blocks, except those a `<!-- not run: why -->` comment marks."""
    blocks = []
    for match in re.finditer(r"(<!-- not run[^>]*-->\n)?```sh\n(.*?)```", markdown, re.DOTALL):
        if not match.group(1):
            blocks.append(match.group(2))
    return blocks


def test_getting_started_runs_as_written_in_a_fresh_store_and_repo(tmp_path, configured):
    repo = tmp_path / "checkout"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    home = tmp_path / "fresh-home"
    write_config(home.parent / "config.toml", configured, '[providers]\ndefault = "openai"\n')
    blocks = _runnable_blocks((REPO / "docs" / "getting-started.md").read_text())
    assert len(blocks) >= 5
    env = cli_env(home)
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(blocks)], cwd=repo, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "created session checkout-main" in out and "created session dev (" in out
    assert "hello from server\n" in out and "49:49\n" in out and "490:490\n" in out
    assert re.search(r"\[ai-session\] run run_[0-9a-f]+ · Tokens used: \+\d+ \([\d,]+ total\)", done.stderr)
    assert "merged 2 sessions into dev-all" in out and "imported dev-copy" in out
    assert out.count("Answer ") == 2 and "context for sess_" in out


def test_library_examples_run_as_written(home, configured, capsys):
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "docs" / "library.md").read_text(), re.DOTALL)
    assert len(blocks) == 4
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "docs/library.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "Answer 2:" in out and re.search(r"sess_[0-9a-f]+ 5\n", out)
    assert "auth-debug-v1 6" in out  # the copy, updated by the second save
    assert "['currentSessionId', 'messages', 'metadata', 'sessionChain']" in out
    assert "['Remember the schema change']" in out
    assert out.rstrip().splitlines()[-1] == "6 ['(none)']"  # auth-debug's 6; their merged copies count once
