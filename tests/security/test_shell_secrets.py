"""Secrets a shell learns while it runs: assigned in a command, sourced from a file, exported
by anything; and the files that hand commands to the shell."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

from ai_session.core.shell import ShellProcess
from tests.security.fakes import rand, ALNUM
from tests.shell.shell_helpers import base_env


def secret() -> str:
    return rand(ALNUM, 20)


async def test_a_value_assigned_in_the_command_is_redacted_in_its_own_output(tmp_path: Path) -> None:
    sh = await ShellProcess.start(tmp_path, base_env(tmp_path))
    try:
        pw = secret()
        streamed = []
        run = sh.exec(f'export X_PASSWORD={pw}; echo "pw is $X_PASSWORD"; DB_PWD={pw[::-1]} env | grep DB_PWD')
        async for chunk in run:
            streamed.append(chunk)
        result = await run
        for out in (b"".join(streamed), result.output):
            assert pw.encode() not in out and pw[::-1].encode() not in out
            assert b"pw is [REDACTED:X_PASSWORD]" in out
        # Later commands are covered too, whatever prints the value.
        later = await sh.exec("printf '%s\\n' \"$X_PASSWORD\" | rev | rev")
        assert later.output == b"[REDACTED:X_PASSWORD]\n"
    finally:
        await sh.close()


async def test_values_from_a_sourced_file_and_from_anything_exported_are_learnt(tmp_path: Path) -> None:
    sh = await ShellProcess.start(tmp_path, base_env(tmp_path))
    try:
        from_file, hidden = secret(), secret()
        (tmp_path / "prod.env").write_text(f"SERVICE_TOKEN={from_file}\nPLAIN=1\n")
        sourced = await sh.exec("set -a; . ./prod.env; set +a; echo $SERVICE_TOKEN")
        assert sourced.output == b"[REDACTED:SERVICE_TOKEN]\n"
        # The value never appears in the command line: the shell integration reports it.
        encoded = base64.b64encode(hidden.encode()).decode()
        await sh.exec(f"export API_SECRET=$(echo {encoded} | base64 -d)")
        shown = await sh.exec('echo "secret: $API_SECRET"')
        assert shown.output == b"secret: [REDACTED:API_SECRET]\n"
        assert not (sh._dir / "secrets").exists()  # read and deleted at once
    finally:
        await sh.close()


async def test_hand_over_files_are_private_and_emptied(tmp_path: Path) -> None:
    sh = await ShellProcess.start(tmp_path, base_env(tmp_path))
    try:
        pw = secret()
        await sh.exec(f"true {pw}", stdin=b"input " + pw.encode())
        cmd = sh._dir / "cmd"
        assert stat.S_IMODE(cmd.stat().st_mode) == 0o600
        assert cmd.read_bytes() == b""  # the shell empties it as soon as it has read it
        assert not (sh._dir / "stdin").exists()
        assert stat.S_IMODE(sh._dir.stat().st_mode) == 0o700
    finally:
        await sh.close()
    assert not sh._dir.exists()
