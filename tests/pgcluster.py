"""A throw-away PostgreSQL cluster from the distribution's server binaries, for tests and benchmarks.

Unix-socket only (no TCP port to collide with), trust authentication, in a temporary
directory that is removed afterwards. initdb refuses to run as root, so as root the server
runs as the `postgres` system user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

ADMIN = "ai_admin"


def find_bindir() -> Path | None:
    """Directory with initdb and pg_ctl: $PG_BINDIR, the PATH, or Debian's versioned dirs."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    if shutil.which("initdb") and shutil.which("pg_ctl"):
        candidates.append(str(Path(shutil.which("initdb")).parent))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    for c in candidates:
        if c and (Path(c) / "initdb").is_file() and (Path(c) / "pg_ctl").is_file():
            return Path(c)
    return None


class Cluster:
    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="ai-session-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root
        self.log = self.root / "server.log"
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root needs a 'postgres' system user to run the server") from None
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-U", ADMIN, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
        # Tests want speed, not crash safety; the benchmark keeps fsync on, but, like the
        # embedded store's WAL mode with synchronous=NORMAL, does not wait for it at commit.
        settings = ["-c listen_addresses=''", f"-k {self.sockets}", "-c max_connections=200",
                    "-c synchronous_commit=off"]
        if not durable:
            settings += ["-c fsync=off", "-c full_page_writes=off"]
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                  "-o", " ".join(settings), "start")

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run([*self._as, str(self.bindir / tool), *args], capture_output=True, text=True)
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed: {done.stderr or done.stdout}\n{log}")

    def url(self, user: str = ADMIN, dbname: str = "postgres") -> str:
        return f"postgresql://{user}@/{dbname}?host={self.sockets}"

    def admin(self, dbname: str = "postgres"):  # -> psycopg.Connection
        import psycopg

        return psycopg.connect(self.url(ADMIN, dbname), autocommit=True)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
