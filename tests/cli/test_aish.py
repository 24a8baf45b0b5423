"""aish's session lines (ask, save/restore through pipes, prune, the REPL), as its users type them."""

from __future__ import annotations

import json

from tests.cli.conftest import shell
from tests.context.conftest import write_config


def _default_openai(home, server):
    write_config(home.parent / "config.toml", server, '[providers]\ndefault = "openai"\n')


def test_piped_ask_get_id_prints_only_the_id(cli, home, configured):
    _default_openai(home, configured)
    done = shell('echo "Why is the build red?" | ai-session ask --get-id', home)
    assert done.returncode == 0, done.stderr
    session_id = done.stdout.strip()
    assert done.stdout == f"{session_id}\n" and session_id.startswith("sess_")
    history = cli.json("show", session_id, "--history")["messages"]
    assert [m["role"] for m in history] == ["user", "assistant"] and history[0]["content"] == "Why is the build red?\n"


def test_session_id_continues_the_session_or_creates_it_by_that_name(cli, configured):
    first = cli("ask", "--session-id", "project-refactor", "--provider", "openai", "Plan the refactor")
    assert first.stdout.startswith("Answer 1:") and "created session project-refactor" in first.stderr
    second = cli("ask", "--session-id", "project-refactor", "Next step?")
    assert second.stdout.startswith("Answer 2:") and "created" not in second.stderr
    assert [s["name"] for s in cli.json("list")] == ["project-refactor"]
    assert len(cli.json("show", "project-refactor", "--history")["messages"]) == 4
    sent = configured.requests[-1].body["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["Plan the refactor", "Next step?"]


def test_context_window_zero_sends_the_whole_history_within_the_models_window(cli, configured):
    cli("create", "long", "--provider", "openai", "--max-tokens", "600")
    for i in range(40):
        cli("add", "long", f"requirement {i}: " + "detail " * 15)
    cli("ask", "--session", "long", "--context-window", "3", "Summarize")  # the session's budget: few turns
    windowed = configured.requests[-1].body["messages"]
    cli("ask", "--session", "long", "--context-window", "0", "Summarize everything")
    everything = configured.requests[-1].body["messages"]
    assert len(windowed) < 10
    sent = [m["content"] for m in everything]
    assert all(any(c.startswith(f"requirement {i}:") for c in sent) for i in range(40))  # not one left out
    assert sent[-1] == "Summarize everything"
    cli("create", "local", "--provider", "openai", "--model", "qwen2.5-coder:7b")
    cli("add", "local", "hi")
    unknown = cli("ask", "--session", "local", "--context-window", "0", "x", check=False)
    assert unknown.returncode == 2 and "[context_windows]" in unknown.stderr and "qwen2.5-coder:7b" in unknown.stderr


def test_ask_with_a_template(cli, configured):
    cli("create", "--template", "code-review", "--preload", "You review code; list risks first.", "--provider", "openai")
    out = cli("ask", "--template", "code-review", "Review src/auth.py")
    assert out.stdout.startswith("Answer 1:") and "created session code-review" in out.stderr
    assert configured.requests[-1].body["messages"][0] == {"role": "system",
                                                          "content": "You review code; list risks first."}
    assert cli.json("list")[0]["template"] == "code-review"


def test_shared_sessions_tell_the_model_who_wrote_each_turn(cli, configured):
    cli("create", "team", "--provider", "openai")
    cli("ask", "--session", "team", "--shared", "--agent", "frontend", "CSS is broken")
    cli("ask", "--session", "team", "--shared", "--agent", "backend", "API returns 500")
    sent = configured.requests[-1].body["messages"]
    assert [(m["role"], m["content"][:20]) for m in sent] == [
        ("user", "[frontend] CSS is br"), ("assistant", "[frontend] Answer 1:"), ("user", "[backend] API return")]
    stored = cli.json("show", "team", "--history")["messages"]
    assert stored[0]["content"] == "CSS is broken"  # labels are for the model; the history stays as written


def test_export_and_import_through_pipes_and_all_sessions(cli, home, tmp_path):
    for name in ("one", "two"):
        cli("create", name)
        cli("add", name, f"hello from {name}")
    other = tmp_path / "other-home"
    done = shell(f"ai-session export one --output - | AI_SESSION_HOME={other} ai-session import --file -", home)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("imported one (sess_")
    original = cli.json("show", "one", "--history")
    copied = cli.json("show", "one", "--history", env={"AI_SESSION_HOME": str(other)})
    assert (copied["id"], copied["messages"], copied["totals"]) == (original["id"], original["messages"], original["totals"])
    assert copied["metadata"]["imported_format"] == "native"  # importing is activity (issue 14)
    everything = tmp_path / "all.json"
    cli("export", "--all", "--output", str(everything))
    bundle = json.loads(everything.read_text())
    assert bundle["format"] == "ai-session" and [d["session"]["name"] for d in bundle["sessions"]] == ["two", "one"]
    third = tmp_path / "third-home"
    restored = cli("import", "--file", str(everything), env={"AI_SESSION_HOME": str(third)}).stdout
    assert "imported two" in restored and "imported one" in restored
    streamed = shell(f"ai-session export --all -o - | AI_SESSION_HOME={tmp_path / 'fourth'} ai-session import "
                     "--file - --format json", home)  # fmt: skip
    assert sorted(s["name"] for s in json.loads(streamed.stdout)) == ["one", "two"]
    assert cli("export", check=False).returncode == 2


def test_prune_summarizes_by_default_and_deletes_only_when_asked(cli):
    cli("create", "p")
    cli("add", "p", "pinned fact", "--pin")
    for i in range(12):
        cli("add", "p", f"turn {i}")
    out = cli("prune", "p", "--keep-recent", "5").stdout
    assert "nothing deleted" in out and "the last 5 stay verbatim" in out
    history = cli.json("show", "p", "--history", "--limit", "0")["messages"]
    assert len(history) == 14 and history[-1]["kind"] == "summary"  # 13 kept + the summary
    refused = cli("prune", "p", "--keep-recent", "5", "--delete", check=False)
    assert refused.returncode == 1 and "needs --force" in refused.stderr
    assert len(cli.json("show", "p", "--history", "--limit", "0")["messages"]) == 14
    deleted = cli("prune", "p", "--keep-recent", "5", "--delete", "--force").stdout
    assert deleted.startswith("deleted 8 message(s)")
    left = [m["content"] for m in cli.json("show", "p", "--history", "--limit", "0")["messages"]]
    assert left[0] == "pinned fact" and left[1:5] == [f"turn {i}" for i in range(8, 12)] and len(left) == 6


def test_repl_save_keeps_a_checkpoint_and_clear_keeps_the_last(cli, configured):
    cli("create", "r", "--provider", "openai")
    script = "first question\nsave r-v1\nsecond question\nsave r-v1\nthird question\nclear --keep-last 5\nexit\n"
    out = cli("interactive", "--session", "r", input=script).stdout
    assert "saved checkpoint r-v1" in out and "updated checkpoint r-v1" in out
    assert "cleared 1 message(s); pinned messages and the last 5 were kept" in out
    names = {s["name"] for s in cli.json("list")}
    assert names == {"r", "r-v1"}  # the session kept its name; one checkpoint, updated
    assert len(cli.json("show", "r-v1", "--history")["messages"]) == 4
    left = cli.json("show", "r", "--history")["messages"]
    assert len(left) == 5 and left[0]["role"] == "assistant" and left[-1]["content"].startswith("Answer 3:")
