"""exec through a persistent PTY shell: state, exit codes, output edge cases, limits."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from ai_session.core.errors import InvalidInput
from ai_session.core.models import RunStatus
from ai_session.core.shell import ShellExited, ShellProcess

from tests.shell.shell_helpers import base_env, procs_matching, zombie_children


async def test_cd_and_export_persist(shell: ShellProcess) -> None:
    first = await shell.exec("cd /tmp && export X=1")
    assert first.exit_code == 0 and first.final_cwd == "/tmp"
    second = await shell.exec("pwd; echo $X")
    assert second.output == b"/tmp\n1\n"
    assert second.status is RunStatus.FINISHED


async def test_functions_and_aliases_persist(shell: ShellProcess) -> None:
    await shell.exec("greet() { echo hello \"$1\"; }; alias hi='echo alias-hi'")
    assert (await shell.exec("greet world")).output == b"hello world\n"
    assert (await shell.exec("hi")).output == b"alias-hi\n"


async def test_exit_codes(shell: ShellProcess, tmp_path: Path) -> None:
    script = tmp_path / "fail.py"
    script.write_text("import sys\nprint('boom', file=sys.stderr)\nsys.exit(4)\n")
    assert (await shell.exec("false")).exit_code == 1
    assert (await shell.exec("(exit 3)")).exit_code == 3
    assert (await shell.exec("true")).exit_code == 0
    failing = await shell.exec(f"{sys.executable} {script}")
    assert failing.exit_code == 4
    assert failing.output == b"boom\n"
    assert (await shell.exec("kill -9 $BASHPID 2>/dev/null || (sh -c 'kill -9 $$')")).exit_code == 137


async def test_failing_pytest_exit_code(shell: ShellProcess, tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("def test_ok():\n    assert 1\n\ndef test_bad():\n    assert 1 == 2\n")
    r = await shell.exec(f"{sys.executable} -m pytest -q --color=no -p no:cacheprovider test_x.py")
    assert r.exit_code == 1
    assert b"1 failed, 1 passed" in r.output


async def test_multiline_command_is_one_run(shell: ShellProcess) -> None:
    r = await shell.exec("echo one\nif true; then\n  echo two\nfi\n(exit 5)")
    assert r.output == b"one\ntwo\n"
    assert r.exit_code == 5


@pytest.mark.slow
async def test_no_newline_and_exit_code_1000_times(shell: ShellProcess) -> None:
    for i in range(1000):
        r = await shell.exec(f"(printf 'no-newline-{i}'; exit {i % 256})")
        assert r.output == f"no-newline-{i}".encode(), i
        assert r.exit_code == i % 256, i


async def test_fake_mark_does_not_end_command(shell: ShellProcess) -> None:
    r = await shell.exec(
        "printf '\\033]133;D;0\\007'; printf '\\033]133;D;0;aid=0000\\007'; printf '\\033]133;A'; echo still-running; (exit 7)"
    )
    assert r.exit_code == 7
    assert r.output == b"\x1b]133;D;0\x07\x1b]133;D;0;aid=0000\x07\x1b]133;Astill-running\n"


async def test_binary_and_invalid_utf8(shell: ShellProcess) -> None:
    r = await shell.exec("printf '\\377\\376\\000abc\\303'")
    assert r.output == b"\xff\xfe\x00abc\xc3"


async def test_carriage_return_progress_bar(shell: ShellProcess) -> None:
    r = await shell.exec("for i in 10 50 100; do printf '\\r%s%%' $i; done; echo; printf 'x\\r\\n'")
    assert r.output == b"\r10%\r50%\r100%\nx\r\n"


async def test_command_reading_stdin(shell: ShellProcess) -> None:
    # Default stdin is /dev/null: the command sees EOF instead of hanging.
    r = await shell.exec("cat; read x || echo eof")
    assert r.output == b"eof\n"
    r = await shell.exec("read a; read b; echo \"[$b][$a]\"; cat", stdin=b"one\ntwo\nthree")
    assert r.output == b"[two][one]\nthree"
    # The next command is unaffected (nothing left over in the terminal).
    assert (await shell.exec("echo next")).output == b"next\n"


async def test_timeout_stops_a_command_that_never_ends(shell: ShellProcess) -> None:
    r = await shell.exec("echo started; sleep 1000", timeout=0.5)
    assert r.status is RunStatus.TIMEOUT
    assert r.output.startswith(b"started\n")
    assert (await shell.exec("echo alive")).output == b"alive\n"


async def test_timeout_breaks_a_loop_inside_the_shell(shell: ShellProcess) -> None:
    r = await shell.exec("while :; do :; done", timeout=0.3)
    assert r.status is RunStatus.TIMEOUT
    assert (await shell.exec("echo alive")).output == b"alive\n"


async def test_cancel_kills_background_jobs_and_hup_ignoring_children(shell: ShellProcess) -> None:
    run = shell.exec(
        "sleep 1000101 & (trap '' HUP INT TERM; exec sleep 1000102) & trap '' HUP; sleep 1000103; echo never"
    )
    chunks = asyncio.ensure_future(_collect(run))
    for _ in range(200):
        if all(procs_matching(f"sleep {n}") for n in (1000101, 1000102, 1000103)):
            break
        await asyncio.sleep(0.02)
    assert all(procs_matching(f"sleep {n}") for n in (1000101, 1000102, 1000103))
    chunks.cancel()
    with pytest.raises(asyncio.CancelledError):
        await chunks
    result = await run.result()
    assert result.status is RunStatus.CANCELLED
    for n in (1000101, 1000102, 1000103):
        assert procs_matching(f"sleep {n}") == []
    assert zombie_children(os.getpid(), shell.pid) == []
    assert (await shell.exec("trap - HUP; echo alive")).output == b"alive\n"


async def test_cancel_leaves_earlier_background_jobs_alone(shell: ShellProcess) -> None:
    await shell.exec("sleep 1000201 >/dev/null 2>&1 &")
    run = shell.exec("sleep 1000202")
    task = asyncio.ensure_future(run.result())
    while not procs_matching("sleep 1000202"):
        await asyncio.sleep(0.02)
    run.cancel()
    assert (await task).status is RunStatus.CANCELLED
    assert procs_matching("sleep 1000202") == []
    assert procs_matching("sleep 1000201") != []
    await shell.exec("kill %1; wait")


async def _collect(run) -> bytes:  # type: ignore[no-untyped-def]
    out = b""
    async for chunk in run:
        out += chunk
    return out


async def test_streaming_gives_chunks_before_the_end(shell: ShellProcess) -> None:
    run = shell.exec("echo first; read -t 30 x < /dev/tty; echo second:$x", stdin="tty")
    it = aiter(run)
    first = await anext(it)
    assert first == b"first\n"
    assert not run.done
    shell.write(b"typed\n")
    rest = b""
    async for chunk in it:
        rest += chunk
    assert rest.endswith(b"second:typed\n")
    assert (await run).exit_code == 0


async def test_cwd_option_runs_there_and_keeps_shell_cwd(shell: ShellProcess, tmp_path: Path) -> None:
    sub = tmp_path / "sub dir"
    sub.mkdir()
    r = await shell.exec("pwd", cwd=sub)
    assert r.output == f"{sub}\n".encode()
    assert r.final_cwd == str(tmp_path)
    assert (await shell.exec("pwd")).output == f"{tmp_path}\n".encode()
    with pytest.raises(InvalidInput):
        shell.exec("pwd", cwd=tmp_path / "missing")


async def test_bad_input_is_rejected(shell: ShellProcess) -> None:
    for bad in ("", "   ", "echo a\0b"):
        with pytest.raises(InvalidInput):
            shell.exec(bad)
    with pytest.raises(InvalidInput):
        shell.exec("true", timeout=0)


async def test_shell_exit_keeps_state_for_the_next_shell(tmp_path: Path) -> None:
    env = base_env(tmp_path) | {"API_TOKEN": "tok-secret-value-123"}
    sh = await ShellProcess.start(tmp_path, env)
    await sh.exec("cd /tmp && export KEEP_ME=yes GITHUB_TOKEN=ghp_abc")
    r = await sh.exec("exit 3")
    assert r.exit_code == 3 and r.status is RunStatus.FINISHED
    await sh.wait_closed()
    assert not sh.alive
    with pytest.raises(ShellExited):
        await sh.exec("true")
    state = sh.final_state()
    assert state.cwd == "/tmp" and state.env["KEEP_ME"] == "yes"

    from ai_session.core.shell.env import restorable

    kept = {**base_env(tmp_path), **restorable(state.env)}
    assert "GITHUB_TOKEN" not in kept and "API_TOKEN" not in kept and kept["KEEP_ME"] == "yes"
    again = await ShellProcess.start(state.cwd, kept)
    try:
        assert (await again.exec('pwd; echo "$KEEP_ME:${API_TOKEN-unset}"')).output == b"/tmp\nyes:unset\n"
    finally:
        await again.close()


async def test_state_of_a_live_shell(shell: ShellProcess) -> None:
    await shell.exec("cd / && export FOO='a b\nc'")
    state = await shell.state()
    assert state.cwd == "/"
    assert state.env["FOO"] == "a b\nc"
    # The internal query is not a visible command.
    assert "env -0" not in (await shell.exec("history")).text


async def test_close_returns_state_and_kills_everything(tmp_path: Path) -> None:
    sh = await ShellProcess.start(tmp_path, base_env(tmp_path))
    await sh.exec("export LAST=1; (trap '' HUP; exec sleep 1000301) >/dev/null 2>&1 &")
    state = await sh.close()
    assert state.env.get("LAST") == "1"
    assert procs_matching("sleep 1000301") == []
    assert zombie_children(os.getpid()) == []


async def test_redacts_secret_env_values_and_patterns(tmp_path: Path) -> None:
    env = base_env(tmp_path) | {"SERVICE_API_KEY": "abc123secretvalue"}
    sh = await ShellProcess.start(tmp_path, env)
    try:
        r = await sh.exec('echo "key=$SERVICE_API_KEY"; echo ghp_' + "A" * 36)
        assert b"abc123secretvalue" not in r.output
        assert b"ghp_AAAA" not in r.output
        assert r.output == b"key=[REDACTED:SERVICE_API_KEY]\n[REDACTED:github-token]\n"
    finally:
        await sh.close()


async def test_output_over_the_cap_keeps_head_and_tail(tmp_path: Path) -> None:
    sh = await ShellProcess.start(tmp_path, base_env(tmp_path), cap=64 * 1024)
    try:
        r = await sh.exec("echo HEAD; seq 1 200000; echo TAIL")
        assert r.truncated and r.cap == 64 * 1024
        assert r.output.startswith(b"HEAD\n1\n2\n")
        assert r.output.endswith(b"199999\n200000\nTAIL\n")
        assert b"[ai-session] output truncated:" in r.output and b"cap of 65536 bytes" in r.output
        assert r.output_bytes == len(b"HEAD\nTAIL\n") + sum(len(str(i)) + 1 for i in range(1, 200001))
        assert len(r.output) < 64 * 1024 + 300
    finally:
        await sh.close()


async def test_flood_does_not_stall_another_shell(tmp_path: Path) -> None:
    a = await ShellProcess.start(tmp_path, base_env(tmp_path), cap=1024 * 1024)
    b = await ShellProcess.start(tmp_path, base_env(tmp_path))
    try:
        flood = asyncio.ensure_future(a.exec("head -c 50000000 /dev/zero | tr '\\0' x; echo; echo done").result())
        # While the flood runs, the other shell keeps answering.
        for i in range(20):
            assert (await b.exec(f"echo {i}")).output == f"{i}\n".encode()
        assert not flood.done()
        r = await flood
        assert r.output_bytes == 50_000_000 + len("\ndone\n") and r.output.endswith(b"x\ndone\n")
    finally:
        await a.close()
        await b.close()


async def test_streaming_consumer_back_pressure_bounds_the_queue(shell: ShellProcess) -> None:
    run = shell.exec("head -c 20000000 /dev/zero")
    total = 0
    biggest = 0
    async for chunk in run:
        total += len(chunk)
        biggest = max(biggest, run._queued)
        await asyncio.sleep(0)  # a consumer slower than the reader
    assert total == 20_000_000
    assert biggest < 4 * 1024 * 1024


async def test_no_fd_leak_and_no_zombies_over_many_commands(shell: ShellProcess) -> None:
    await shell.exec("true")
    before = len(os.listdir("/proc/self/fd"))
    for i in range(1000):
        r = await shell.exec("(echo $$) >/dev/null; /bin/true" if i % 2 else "true")
        assert r.exit_code == 0
    assert len(os.listdir("/proc/self/fd")) == before
    assert zombie_children(os.getpid(), shell.pid) == []


async def test_no_fd_leak_over_many_shells(tmp_path: Path) -> None:
    first = await ShellProcess.start(tmp_path, base_env(tmp_path))
    await first.close()
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(15):
        sh = await ShellProcess.start(tmp_path, base_env(tmp_path))
        await sh.exec("echo hi")
        await sh.close()
    assert len(os.listdir("/proc/self/fd")) == before
    assert zombie_children(os.getpid()) == []


async def test_shell_does_not_inherit_our_fds(tmp_path: Path) -> None:
    r_fd, w_fd = os.pipe()
    os.set_inheritable(r_fd, True)
    sh = await ShellProcess.start(tmp_path, base_env(tmp_path))
    try:
        r = await sh.exec("ls /proc/$$/fd")
        fds = sorted(int(x) for x in r.text.split())
        assert r_fd not in fds and w_fd not in fds
        assert all(fd in (0, 1, 2, 255) or fd >= 3 for fd in fds)
    finally:
        await sh.close()
        os.close(r_fd)
        os.close(w_fd)


async def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        await ShellProcess.start(tmp_path / "nope", base_env(tmp_path))


async def test_sh_fallback(tmp_path: Path) -> None:
    sh = await ShellProcess.start(tmp_path, base_env(tmp_path), shell="sh")
    try:
        assert sh.kind == "sh"
        await sh.exec("cd /tmp; export Y=2")
        r = await sh.exec("pwd; echo $Y; (printf tail; exit 4)")
        assert r.output == b"/tmp\n2\ntail" and r.exit_code == 4
    finally:
        await sh.close()
