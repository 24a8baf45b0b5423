"""The `ai-session` crate's CLI lines, as its users type them."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.cli.conftest import backdate


def test_create_with_the_crate_flags_and_no_compression(cli):
    cli("create", "--template", "react-dev", "--preload", "You write React.")
    dev = cli.json("create", "--name", "dev", "--ai-context", "--compression", "--max-tokens", "8192",
                   "--template", "react-dev")  # fmt: skip
    assert (dev["maxTokens"], dev["systemPrompt"], dev["metadata"]["compression"]) == (8192, "You write React.", True)
    cli("create", "raw", "--no-compression")
    noisy = "".join(f"line {i}: all good\n" for i in range(300))
    for name in ("dev", "raw"):
        cli("exec", name, f"printf '{noisy}'")
    dev_run, raw_run = (cli.json("show", n, "--history")["runs"][0] for n in ("dev", "raw"))
    assert dev_run["contextTokens"] < dev_run["rawTokens"] / 3  # compressed for the agent
    raw_context = cli.json("output", raw_run["id"])["text"]
    assert raw_context.startswith("line 0: all good\n") and "line 299: all good" in raw_context  # as printed


def test_list_detailed_shows_usage_against_the_budget(cli):
    cli("create", "dev", "--max-tokens", "4096")
    for i in range(5):
        cli("add", "dev", f"turn {i} " + "words " * 40)
    cli("exec", "dev", "seq 1 300")
    data = cli.json("list", "--detailed")[0]["details"]
    text = cli("list", "--detailed").stdout
    assert text.startswith("dev\n")
    used = f"{data['contextTokens']:,} / 4,096 ({data['contextTokens'] / 4096 * 100:.0f}%)"
    assert re.search(rf"Token Usage  {re.escape(used)}", text)
    assert "Compressions  1 command output(s), 0 summary(ies)" in text
    for label in ("Status  active", "Messages  6", "Created", "Last Activity"):
        assert label in text


def test_exec_capture_prints_the_run_id_and_tokens_used(cli):
    cli("create", "dev")
    cli("add", "dev", "context before the run")
    done = cli("exec", "dev", "printf 'ok 1\\nok 2\\n'", "--capture")
    assert done.stdout == "ok 1\nok 2\n"
    footer = re.fullmatch(r"\[ai-session\] run (run_[0-9a-f]+) · Tokens used: \+(\d+) \(([\d,]+) total\)\n", done.stderr)
    assert footer, done.stderr
    run_id, added, total = footer.group(1), int(footer.group(2)), int(footer.group(3).replace(",", ""))
    shown = cli.json("show", "dev", "--history")
    assert total == shown["totals"]["messageTokens"]
    assert added == next(m["tokens"] for m in shown["messages"] if m["runId"] == run_id)
    assert cli("output", run_id).stdout.startswith("ok 1\nok 2")  # the id is all `output` needs


def test_context_lines(cli):
    cli("create", "dev")
    for i in range(30):
        cli("add", "dev", f"line a{i}\nline b{i}")
    body = cli("context", "dev", "--lines", "50").stdout.split("--- ", 1)[1]
    assert len(body.splitlines()) == 51 and "more line(s); --lines 0 shows all" in body.splitlines()[-1]


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux (Debian package) is required")
def test_migrate_with_ai_features_and_replace(cli, tmp_path):
    import secrets

    sock = f"ais-crate-{secrets.token_hex(4)}"
    subprocess.run(["tmux", "-L", sock, "new-session", "-d", "-s", "tmux-dev", "-c", str(tmp_path)], check=True)
    try:
        out = cli("migrate", "--session", "tmux-dev", "--ai-features", "--replace", "-L", sock).stdout
        assert "migrated tmux session tmux-dev" in out and "tmux session killed" in out
        gone = subprocess.run(["tmux", "-L", sock, "has-session", "-t", "tmux-dev"], capture_output=True, check=False)
        assert gone.returncode != 0
        assert cli.json("show", "tmux-tmux-dev")["shellCwd"] == str(tmp_path)
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True, check=False)


def test_stats_global_measures_every_figure(cli, home):
    cli("create", "dev")
    cli("create", "old")
    cli("end", "old")
    cli("add", "dev", "some text " * 300)  # over 1 KiB: stored zstd-compressed
    cli("exec", "dev", "seq 1 2000")
    backdate(home, "dev", days=0)
    g = cli.json("stats", "--global")
    assert g["sessions"] == 2 and g["messages"] == 2 and g["commands"] == 1
    assert g["raw_tokens"] > g["context_tokens"] > 0 and g["saved_tokens"] == g["raw_tokens"] - g["context_tokens"]
    for figure in ("session_create", "exec_overhead", "context_assembly"):
        assert g[figure]["value"] > 0 and g[figure]["samples"] >= 1 and g[figure]["how"]
    assert g["session_create"]["samples"] == 10 and g["exec_overhead"]["samples"] == 1
    assert g["bytes_on_disk"] > 0 and g["bytes_per_session"] == round(g["bytes_on_disk"] / 2, 1)
    assert g["zstd_bodies"] >= 2 and g["zstd_ratio"] > 1
    assert g["by_status"]["ended"] == 1 and g["by_status"]["active"] + g["by_status"]["idle"] == 1
    text = cli("stats", "--global").stdout
    for block in ("Token efficiency", "Performance", "Resources", "Activity"):
        assert f"\n{block}\n" in f"\n{text}"
    assert "median of 10; timed now: 10 creates in a scratch store" in text and "median of 1; recorded by each exec" in text
    assert [p.name for p in home.iterdir() if p.name.startswith(".probe-")] == []  # the scratch store is gone
    assert "never counted as savings" in text
