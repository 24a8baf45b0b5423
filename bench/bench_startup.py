"""What a person feels on every command: start-up of `ai-session --version` and of `list`
at 1,000 sessions (without a session host, and answered by a running one), beside `python -c
pass` and `tmux ls` measured in the same run; `exec S true` through the session host against a
bare PTY and the in-process path (bench_host); and
which commands load the tokenizer (only those that count tokens may)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from fixtures import add_sessions, manager
from harness import Figure, at_most, bench_env, cli, time_command

RUNS = 15
# Commands that count no tokens: none of them may load the tokenizer.
NO_COUNTING = (("--version",), ("--help",), ("list",), ("list", "--format", "json"), ("show", "s00001"),
               ("exists", "s00001"), ("stats",))  # fmt: skip


def loads_tokenizer(args: tuple[str, ...], env: dict[str, str]) -> bool:
    probe = ("import sys; from ai_session.cli import main\n"
             "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             "sys.stderr.write('TOKENIZER=%s' % ('tiktoken' in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", probe, *args], env=env, capture_output=True, text=True).stderr
    return "TOKENIZER=True" in out


def main() -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        m = manager(home)
        add_sessions(m, 1000)
        m.close()
        env = bench_env(home)
        python = time_command([sys.executable, "-c", "pass"], env, RUNS)
        figures = [Figure("python -c pass", python.wall_ms, "ms", note=f"cpu {python.cpu_ms:.0f} ms")]
        tmux = shutil.which("tmux")
        if tmux:
            socket = str(home / "tmux-bench")
            subprocess.run([tmux, "-S", socket, "new-session", "-d", "-s", "bench"], env=env, check=True)
            try:
                t = time_command([tmux, "-S", socket, "ls"], env, RUNS)
            finally:
                subprocess.run([tmux, "-S", socket, "kill-server"], env=env)
            figures.append(Figure("tmux ls", t.wall_ms, "ms", note=f"cpu {t.cpu_ms:.0f} ms"))
        ref = f"python -c pass {python.wall_ms:.1f} ms"
        version = time_command(cli("--version"), env, RUNS)
        figures.append(at_most("ai-session --version", version.wall_ms, "ms", 40, reference=ref,
                               ratio=version.wall_ms / python.wall_ms,
                               note=f"cpu {version.cpu_ms:.0f} ms; target also <= 4x python -c pass"))
        for args, name in ((("list",), "ai-session list, 1,000 sessions"),
                           (("show", "s00500"), "ai-session show, 1,000 sessions")):
            t = time_command(cli(*args), env, RUNS)
            figures.append(Figure(name, t.wall_ms, "ms", reference=ref, ratio=t.wall_ms / python.wall_ms,
                                  note=f"cpu {t.cpu_ms:.0f} ms, peak RSS {t.peak_rss_mb:.0f} MB"))
        figures[-2].target, figures[-2].met = "<= 80 ms", figures[-2].value <= 80
        from ai_session.host.client import stop_host
        from bench_host import exec_figures, user_env

        exec_env = user_env(home)
        try:
            figures += exec_figures(exec_env, "s00001", RUNS, python)
            t = time_command(cli("list"), env, RUNS)  # the host exec started answers it
            figures.append(at_most("ai-session list, 1,000 sessions, host running", t.wall_ms, "ms", 80,
                                   reference=ref, ratio=t.wall_ms / python.wall_ms,
                                   note=f"cpu {t.cpu_ms:.0f} ms, peak RSS {t.peak_rss_mb:.0f} MB"))  # fmt: skip
        finally:
            stop_host({**os.environ, **exec_env})
        loading = [" ".join(a) for a in NO_COUNTING if loads_tokenizer(a, env)]
        figures.append(at_most("tokenizer loaded by commands counting nothing", len(loading), "commands", 0,
                               note=f"of {len(NO_COUNTING)} checked" + (f": {', '.join(loading)}" if loading else "")))
        for f in figures:
            print(f"{f.name:<48} {f.shown():>10}  {f.target}  {f.note}")
        return figures


if __name__ == "__main__":
    from harness import table

    print(table(main()))
