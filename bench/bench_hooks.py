"""Claude Code's hooks: what they add to each Bash command, against running it directly.

Three medians over the same commands, in a throw-away git repository and store:

- **decide**: the PreToolUse hook process (`python -m ai_session.hooks pre-tool-use`, its
  JSON on stdin), which Claude Code starts before every Bash command; the target is 50 ms.
- **direct**: the command as Claude Code's Bash tool runs it without ai-session
  (`bash -c COMMAND`).
- **rewritten**: the command the hook rewrote it to (`bash -c REWRITTEN`: ai-session runs it
  in the worktree session's shell and prints the context form).

The added latency per command is decide + rewritten − direct. For scale, the same run also
times a bare `python -c pass` (the floor of any hook written in Python).

Then the runner alone (`python -m ai_session.hooks run true`, what every rewritten command
starts): through a warm session host (its client path is the standard library and the socket
client), and without a host (`AI_SESSION_HOST=off`: the store and a shell in the process), each
against `python -c pass` measured in the same run.

    python bench/bench_hooks.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ["true", "ls -la", "git status --short", "python3 -c 'print(\"x\" * 2000)'"]


def timed(argv: list[str], env: dict[str, str], cwd: Path, stdin: bytes = b"") -> tuple[float, bytes]:
    start = time.perf_counter()
    done = subprocess.run(argv, input=stdin, capture_output=True, env=env, cwd=cwd, check=False)
    return time.perf_counter() - start, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args(sys.argv[1:]).runs
    with tempfile.TemporaryDirectory() as tmp:
        repo, home = Path(tmp) / "repo", Path(tmp) / "home"
        repo.mkdir()
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        (home / ".claude").mkdir(parents=True)
        (home / ".claude" / "settings.json").write_text(json.dumps({"permissions": {"allow": ["Bash"]}}))
        env = {**os.environ, "HOME": str(home), "AI_SESSION_HOME": str(Path(tmp) / "store"),
               "AI_SESSION_CONFIG": str(Path(tmp) / "config.toml"),
               "PYTHONPATH": os.pathsep.join([str(ROOT / "server"), os.environ.get("PYTHONPATH", "")])}
        # As installed: pip compiles the modules to bytecode. Where bytecode is switched off, every
        # decision compiles the hook's modules again (about 20 ms more here).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        hook = [sys.executable, "-m", "ai_session.hooks", "pre-tool-use"]
        floor = statistics.median(timed([sys.executable, "-c", "pass"], env, repo)[0] for _ in range(runs)) * 1000
        print(f"python -c pass (reference): {floor:.1f} ms")
        print(f"{'command':<36} {'decide':>9} {'direct':>9} {'rewritten':>10} {'added':>9}")
        added_all, decide_all = [], []
        for command in COMMANDS:
            event = json.dumps({"session_id": "bench", "cwd": str(repo), "hook_event_name": "PreToolUse",
                                "permission_mode": "default", "tool_name": "Bash",
                                "tool_input": {"command": command}}).encode()
            _, answer = timed(hook, env, repo, event)
            rewritten = json.loads(answer)["hookSpecificOutput"]["updatedInput"]["command"]
            timed(["bash", "-c", rewritten], env, repo)  # the first run creates the session
            decide = [timed(hook, env, repo, event)[0] for _ in range(runs)]
            direct = [timed(["bash", "-c", command], env, repo)[0] for _ in range(runs)]
            through = [timed(["bash", "-c", rewritten], env, repo)[0] for _ in range(runs)]
            d, b, r = (statistics.median(x) * 1000 for x in (decide, direct, through))
            added_all.append(d + r - b)
            decide_all.append(d)
            print(f"{command[:36]:<36} {d:>7.1f}ms {b:>7.1f}ms {r:>8.1f}ms {d + r - b:>7.1f}ms")
        decided = statistics.median(decide_all)
        print(f"median decision: {decided:.0f} ms ({decided / floor:.2f}x python -c pass); "
              f"median added latency per command: {statistics.median(added_all):.0f} ms ({runs} runs each)")
        runner = [sys.executable, "-m", "ai_session.hooks", "run", "--cwd", str(repo), "--", "true"]
        try:
            timed(runner, env, repo)  # the host is up and the shell started
            modes = {"host": env, "in-process": {**env, "AI_SESSION_HOST": "off"}}
            times: dict[str, list[float]] = {name: [] for name in ("pass", *modes)}
            for _ in range(runs):  # interleaved: a busy moment of the machine weighs on each alike
                times["pass"].append(timed([sys.executable, "-c", "pass"], env, repo)[0])
                for name, mode_env in modes.items():
                    times[name].append(timed(runner, mode_env, repo)[0])
            base = statistics.median(times["pass"]) * 1000
            print(f"runner `hooks run true`: python -c pass {base:.1f} ms", end="")
            for name in modes:
                ms = statistics.median(times[name]) * 1000
                print(f"; {name} {ms:.1f} ms ({ms / base:.2f}x, +{ms - base:.0f} ms)", end="")
            print(f" ({runs} runs each)")
        finally:
            subprocess.run([sys.executable, "-c", "from ai_session.host.client import stop_host; stop_host()"],
                           env=env, check=False)  # fmt: skip


if __name__ == "__main__":
    main()
