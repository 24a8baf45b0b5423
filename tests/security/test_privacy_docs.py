"""The commands docs/configuration.md#privacy shows, run as a user would, print what it says."""

from __future__ import annotations

import re
import shlex

from tests.conftest import REPO


def _console_blocks(text: str) -> list[tuple[str, str]]:
    """(command, expected output) pairs from ```console blocks."""
    pairs = []
    for block in re.findall(r"```console\n(.*?)```", text, re.DOTALL):
        command, expected = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command:
                    pairs.append((command, "\n".join(expected)))
                command, expected = line[2:], []
            else:
                expected.append(line)
        if command:
            pairs.append((command, "\n".join(expected)))
    return pairs


def _shape(text: str) -> str:
    return re.sub(r"\d[\d,]*", "N", text.strip())


def test_privacy_section_commands(cli) -> None:
    doc = (REPO / "docs" / "configuration.md").read_text()
    section = doc[doc.index("## Privacy") :]
    pairs = _console_blocks(section)
    assert pairs
    cli("create", "docs")
    for command, expected in pairs:
        args = shlex.split(command)
        assert args[0] == "ai-session"
        assert _shape(cli(*args[1:]).stdout) == _shape(expected), command
