"""The commands docs/storage.md shows, run as written: the embedded store's backup and
restore, and the pg_dump / pg_restore guidance for the team store."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ai_session.core.store.postgres import PostgresStore
from tests.conftest import REPO, cli_env

DOC = REPO / "docs" / "storage.md"


def _blocks() -> list[list[str]]:
    """The doc's shell blocks, as lists of command lines."""
    return [block.strip().splitlines() for block in re.findall(r"```sh\n(.*?)```", DOC.read_text(), re.DOTALL)]


def _run(line: str, cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(["sh", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{line!r} failed ({done.returncode}): {done.stderr}"


def _shell_env(home: Path, **extra: str) -> dict[str, str]:
    env = cli_env(home, **extra)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def test_the_backup_and_restore_lines_work_as_written(cli, home, tmp_path):
    (block,) = [b for b in _blocks() if b[0].startswith("ai-session backup")]
    cli("create", "dev")
    cli("add", "dev", "in the backup")
    env = _shell_env(home)
    _run(block[0], tmp_path, env)
    cli("delete", "dev", "--force")
    cli("create", "after")
    _run(block[1], tmp_path, env)
    assert [s["name"] for s in cli.json("list")] == ["dev"]
    assert cli.json("show", "dev", "--history")["messages"][0]["content"] == "in the backup"


@pytest.mark.postgres
def test_the_team_store_dump_and_restore_lines_work_as_written(pg_db, home, tmp_path):
    (block,) = [b for b in _blocks() if b[0].startswith("pg_dump")]
    store = PostgresStore(pg_db.url("alice"))
    try:
        from ai_session.core.models import Message, Session

        kept = store.create_session(Session(name="kept"))
        store.append_messages(kept.id, [Message(role="user", content="in the dump", tokens=3)])
        env = _shell_env(home, TEAM_STORE=pg_db.cluster.url(dbname=pg_db.name))
        _run(block[0], tmp_path, env)
        store.delete_session(kept.id)
        store.create_session(Session(name="after"))
        _run(block[1], tmp_path, env)
        assert [s.name for s in store.list_sessions()] == ["kept"]
        assert [m.content for m in store.list_messages(kept.id)] == ["in the dump"]
        store.append_messages(kept.id, [Message(role="user", content="still writable", tokens=2)])  # grants and RLS back
    finally:
        store.close()
