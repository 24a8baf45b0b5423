"""Shared fixtures: a private store per test, the CLI in a subprocess like a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ai_session.core.config import Config
from ai_session.core.manager import SessionManager
from ai_session.core.store import SessionStore, open_store
from tests.pgcluster import Cluster, find_bindir

REPO = Path(__file__).resolve().parents[1]
SERVER = REPO / "server"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "home"
    monkeypatch.setenv("AI_SESSION_HOME", str(path))
    monkeypatch.setenv("AI_SESSION_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.delenv("AI_SESSION_STORE", raising=False)
    monkeypatch.delenv("AI_SESSION_MAX_TOKENS", raising=False)
    monkeypatch.setenv("AI_SESSION_HOST_IDLE", "60")  # a host a test leaves behind does not linger
    yield path
    from ai_session.host.client import stop_host

    stop_host()  # the session host the test's commands started, if any


# ---------------------------------------------------------------------- PostgreSQL team store

PG_USERS = ("alice", "bob", "carol")  # login roles in the ai_session_users group
TEMPLATE_DB = "ai_session_template"


def _unavailable(why: str) -> None:
    """Skip on a developer machine without PostgreSQL; CI never skips these tests."""
    if os.environ.get("CI"):
        pytest.fail(f"{why} (CI must run the PostgreSQL tests; install Debian's postgresql package)")
    pytest.skip(f"{why}: the team-store tests need a real PostgreSQL server (Debian package: postgresql)")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """One throw-away cluster per test run, with a migrated template database and three users."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install 'ai-session[postgres]')")
    bindir = find_bindir()
    if bindir is None:
        _unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found")
    from ai_session.core.store.postgres import PostgresStore

    cluster = Cluster(bindir)
    try:
        with cluster.admin() as admin:
            admin.execute(f"CREATE DATABASE {TEMPLATE_DB}")
        PostgresStore.migrate(cluster.url(dbname=TEMPLATE_DB))
        with cluster.admin() as admin:
            for user in PG_USERS:
                admin.execute(f"CREATE ROLE {user} LOGIN IN ROLE ai_session_users")
        yield cluster
    finally:
        cluster.stop()


class PgDatabase:
    def __init__(self, cluster: Cluster, name: str) -> None:
        self.cluster, self.name = cluster, name

    def url(self, user: str = "alice") -> str:
        return self.cluster.url(user, self.name)

    def admin(self):  # a superuser connection, for what tests check behind the store's back
        return self.cluster.admin(self.name)


@pytest.fixture
def pg_db(pg_cluster: Cluster) -> Iterator[PgDatabase]:
    """A fresh migrated database per test (a file copy of the template: milliseconds)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with pg_cluster.admin() as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB} STRATEGY FILE_COPY")
    yield PgDatabase(pg_cluster, name)
    with pg_cluster.admin() as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'sessions.db'}"
    return request.getfixturevalue("pg_db").url()


@pytest.fixture
def open_test_store(store_url: str) -> Iterator[Callable[[], SessionStore]]:
    """Opens another handle on the same store, as another process would."""
    opened: list[SessionStore] = []

    def make() -> SessionStore:
        opened.append(open_store(store_url))
        return opened[-1]

    yield make
    for s in opened:
        s.close()


@pytest.fixture
def store(open_test_store: Callable[[], SessionStore]) -> SessionStore:
    return open_test_store()


@pytest.fixture(params=BACKENDS)
def manager(request: pytest.FixtureRequest, home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SessionManager]:
    if request.param == "postgres":
        monkeypatch.setenv("AI_SESSION_STORE", request.getfixturevalue("pg_db").url())
    m = SessionManager(Config.load())
    yield m
    m.close()


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SERVER), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["AI_SESSION_HOME"] = str(home)
    env["AI_SESSION_CONFIG"] = str(home.parent / "config.toml")
    env.update(extra)
    return env


class CLI:
    def __init__(self, home: Path) -> None:
        self.home = home

    def __call__(self, *args: str, input: str | None = None, check: bool = True, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "ai_session", *args],
            capture_output=True, text=True, input=input, cwd=cwd,
            env={**cli_env(self.home), **(env or {})}, timeout=120,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"ai-session {' '.join(args)} failed ({done.returncode}): {done.stderr}")
        return done

    def json(self, *args: str, **kw) -> object:
        return json.loads(self(*args, "--format", "json", **kw).stdout)


@pytest.fixture
def cli(home: Path) -> CLI:
    return CLI(home)
