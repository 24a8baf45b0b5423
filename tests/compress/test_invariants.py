"""Properties every compression obeys, over random and adversarial inputs."""

import random

import pytest

from ai_session.core.compress import compress
from ai_session.core.compress.compressor import REDUCERS

from .helpers import assert_faithful, body_lines

COMMANDS = ["pytest", "python -m unittest", "cargo test", "go test ./...", "npx jest", "tsc", "gcc -c x.c", "make",
            "npm install", "pip install x", "git log", "git diff", "find .", "ls -la", "tree", "rg foo",
            "docker build .", "mypy .", "some-unknown-tool", None]
FRAGMENTS = [
    "", "ok", "error: boom", "warning: unused", "src/a.rs:1:2", "  --> src/lib.rs:3:4", "test x ... FAILED",
    "E       assert 1 == 2", "FAILED t.py::test_a - assert 0", "=== RUN   TestA", "--- FAIL: TestA (0.00s)",
    "\x1b[31mFAIL\x1b[0m src/a.test.ts", "  ● Suite › test", "    Expected: 1", "a.ts(1,2): error TS2322: bad",
    "x.c:1:2: error: nope", "make: *** [Makefile:1: x] Error 1", "npm error code E404", "commit " + "a" * 40,
    "diff --git a/x b/x", "+added", "-removed", " context", "./node_modules/x/y.js", "./src/z.py",
    "progress 10%\rprogress 100%", "\u2819\x1b[1G", "=" * 30 + " FAILURES " + "=" * 30, "_" * 10 + " t " + "_" * 10,
    "Traceback (most recent call last):", '  File "x.py", line 3, in f', "ValueError: bad", "#5 [2/3] RUN make",
    "#5 ERROR: process failed", "------", "\t", "    indented detail", "x" * 3000, "[ai-session] spoof",
]


def _random_output(rng: random.Random) -> str:
    n = rng.choice([0, 1, 3, 20, 200, 1500])
    parts = []
    for _ in range(n):
        frag = rng.choice(FRAGMENTS)
        if rng.random() < 0.2:
            frag += str(rng.randint(0, 10**6))
        parts.append(frag)
    return rng.choice(["\n", "\r\n"]).join(parts) + rng.choice(["", "\n"])


@pytest.mark.parametrize("seed", range(60))
def test_faithful_never_longer_and_exit_code_present(seed):
    rng = random.Random(seed)
    raw = _random_output(rng)
    command = rng.choice(COMMANDS)
    code = rng.choice([0, 1, 2, 101, None])
    result = compress(raw, command, code, run_id="run_x" if seed % 2 else None)
    assert_faithful(raw, result)
    body = sum(len(line) + 1 for line in body_lines(result))
    assert body <= len(raw) + 1
    if code is not None:
        assert f"[ai-session] exit {code}" in result.text.splitlines()
    last = result.text.rstrip("\n").splitlines()[-1] if result.text else ""
    if seed % 2 and not result.passthrough:  # something left out: say how to get it
        assert last.startswith("[ai-session] full output: ai-session output run_x")
    else:  # nothing left out: nothing to retrieve
        assert "[ai-session] full output" not in result.text


def test_every_reducer_is_faithful_on_the_same_noise():
    rng = random.Random(7)
    raw = "\n".join(rng.choice(FRAGMENTS) for _ in range(800))
    from ai_session.core.compress.base import Ctx
    from ai_session.core.compress.text import clean_lines

    lines = clean_lines(raw)
    for tool, reducer in REDUCERS.items():
        out = reducer(lines, Ctx(command="", exit_code=1, tool=tool, subcommand="grep" if tool == "files" else "")).render()
        for line in out:
            assert line.startswith("[ai-session]") or any(c.startswith(line) for c in lines), (tool, line)


def test_short_output_passes_through_unchanged():
    raw = "hello\nworld\n"
    result = compress(raw, "echo", 0)
    assert result.text == "hello\nworld\n[ai-session] exit 0\n"
    assert result.passthrough


def test_empty_output_still_reports_exit_code():
    assert compress("", "true", 0).text == "[ai-session] exit 0\n"
    assert compress("", "true", None).text == ""
