"""`ai-session compress` as an agent's pipe filter, in a subprocess."""

import os
import subprocess
import sys
from pathlib import Path

SERVER = Path(__file__).resolve().parents[2] / "server"

PYTEST_OUT = (
    "============================= test session starts ==============================\n"
    + "".join(f"tests/test_m.py::test_{k} PASSED{' ' * 40}[ {k:>2}%]\n" for k in range(60))
    + "tests/test_m.py::test_bad FAILED                                        [100%]\n\n"
    "=================================== FAILURES ===================================\n"
    "___________________________________ test_bad ___________________________________\n\n"
    "    def test_bad():\n>       assert add(1, 1) == 3\nE       assert 2 == 3\n\ntests/test_m.py:9: AssertionError\n"
    "=========================== short test summary info ============================\n"
    "FAILED tests/test_m.py::test_bad - assert 2 == 3\n"
    "========================= 1 failed, 60 passed in 0.12s =========================\n"
)


def run(args, data: bytes, home: Path) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, PYTHONPATH=str(SERVER), AI_SESSION_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "ai_session", "compress", *args], input=data,
                          capture_output=True, env=env, timeout=120)


def test_compress_filters_stdin_and_reports_stats_on_stderr(tmp_path):
    done = run(["--cmd", "pytest -v", "--exit-code", "1", "--stats"], PYTEST_OUT.encode(), tmp_path / "home")
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert "FAILED tests/test_m.py::test_bad - assert 2 == 3" in out and "E       assert 2 == 3" in out
    assert "tests/test_m.py:9: AssertionError" in out and "1 failed, 60 passed in 0.12s" in out
    assert "test_3 PASSED" not in out
    assert out.rstrip("\n").splitlines()[-1] == "[ai-session] exit 1"
    err = done.stderr.decode()
    assert err.startswith("ai-session: pytest: raw ") and "context" in err and "saved" in err
    assert not (tmp_path / "home").exists()  # a pure filter: the store is never opened


def test_compress_without_command_or_exit_code_and_with_bad_bytes(tmp_path):
    done = run([], b"\xff\xfe binary-ish\nplain line\n", tmp_path / "home")
    assert done.returncode == 0
    assert done.stdout.decode() == "\ufffd\ufffd binary-ish\nplain line\n"
    bad = run(["--exit-code", "x"], b"", tmp_path / "home")
    assert bad.returncode == 2 and b"invalid int value" in bad.stderr
