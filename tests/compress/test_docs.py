"""The command shown in docs/token-accounting.md runs and prints what the page says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import cli_env

DOC = Path(__file__).resolve().parents[2] / "docs" / "token-accounting.md"


def test_the_pipe_filter_example_prints_what_the_page_shows(home):
    block = re.search(r"```console\n\$ (.+?)\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert block, "the example is gone from the page"
    command, shown = block.group(1), block.group(2).splitlines()
    env = cli_env(home)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])  # the ai-session script
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env, timeout=120, check=True)
    assert done.stdout.splitlines() + done.stderr.splitlines() == shown
