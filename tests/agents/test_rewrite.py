"""Which Bash commands the PreToolUse hook rewrites, and what it answers Claude Code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ai_session.hooks.claude import pre_tool_use
from ai_session.hooks.permissions import Rules, decide, load_rules, rule_matches
from ai_session.hooks.rewrite import plan
from ai_session.hooks.shellwords import scan

PY = "/venv/bin/python"


def rewritten(command: str, cwd: Path, **tool: object) -> str | None:
    return plan({"command": command, **tool}, cwd=str(cwd), python=PY, agent="claude-code").command


@pytest.mark.parametrize("command", [
    "python -m pytest -q", "make 2>&1 | tail -5", "npm test && npm run lint", "FOO=1 cargo build",
    "git status", "python -c 'print(1)'", "grep -rn 'a && b' src", "cat <<EOF\nhi\nEOF",
])
def test_ordinary_commands_are_rewritten_verbatim(repo: Path, command: str):
    out = rewritten(command, repo)
    assert out is not None and out.startswith(f"{PY} -m ai_session.hooks run --agent claude-code --cwd \"$PWD\" -- ")
    # The original is one shell word of the rewritten command, byte for byte.
    assert subprocess.run(["bash", "-c", f"printf %s {out.rsplit(' -- ', 1)[1]}"], capture_output=True,
                          text=True, check=False).stdout == command


@pytest.mark.parametrize(("command", "why"), [
    ("npm run dev &", "background"), ("sleep 5 & wait", "background"), ("nohup ./server", "background"),
    ("vim notes.txt", "interactive"), ("less log", "interactive"), ("python", "interactive"),
    ("git rebase -i HEAD~3", "interactive"), ("sudo apt-get install x", "interactive"), ("ssh host", "interactive"),
    ("ai-session output run_1234 --raw", "ai-session"), ("pytest 2>&1 | ai-session compress", "ai-session"),
    ("cd src", "directory"), ("make && cd build", "directory"), ("pushd x", "directory"),
    ("cat /etc/passwd", "outside"), ("ls ../..", "outside"), ("echo hi > ~/x", "outside"),
    ("echo 'unterminated", "quote"),
])
def test_what_passes_through_and_why(repo: Path, command: str, why: str):
    chosen = plan({"command": command}, cwd=str(repo), python=PY, agent="claude-code")
    assert chosen.command is None
    assert why in chosen.reason


def test_leading_cds_stay_in_the_agents_shell(repo: Path):
    (repo / "sub").mkdir()
    out = rewritten("cd sub && python -m pytest -q", repo)
    assert out is not None and out.startswith(f"cd sub && {PY} -m ai_session.hooks run")
    assert out.endswith("-- 'python -m pytest -q'")


def test_background_tool_calls_non_worktrees_and_timeouts(repo: Path, tmp_path: Path):
    assert rewritten("make", repo, run_in_background=True) is None
    outside = tmp_path / "plain"
    outside.mkdir()
    assert rewritten("make", outside) is None
    assert "--timeout 118" in (rewritten("make", repo, timeout=120000) or "")
    assert "--timeout" not in (rewritten("make", repo, timeout=1000) or "")


def test_the_scanner_keeps_quoted_operators_and_redirections():
    line = scan("echo \"a && b\" 2>&1 | grep -c x; make &> log")
    assert line.segments == ['echo "a && b" 2>&1', "grep -c x", "make &> log"]
    assert line.operators == ["|", ";"] and not line.background
    assert scan("x=$(ls) && echo $x").substitution


@pytest.mark.parametrize(("rule", "command", "matches"), [
    ("*", "anything at all", True), ("npm test", "npm test", True), ("npm test", "npm test --watch", False),
    ("npm run test:*", "npm run test", True), ("npm run test:*", "npm run test -- -u", True),
    ("npm run test:*", "npm run testing", False), ("git log *", "git log --stat", True), ("git log *", "git push", False),
])
def test_rule_specifiers(rule: str, command: str, matches: bool):
    assert rule_matches(rule, command) is matches


def test_decisions_follow_the_rules_part_by_part():
    rules = Rules(allow=["Bash(python -m pytest:*)", "Bash(make:*)", "Read"], ask=["Bash(make deploy)"], deny=["Bash(rm:*)"])
    assert decide(scan("python -m pytest -q"), rules, "default") == "allow"
    assert decide(scan("cd src && make"), rules, "default") == "allow"
    assert decide(scan("make && curl x | sh"), rules, "default") == "none"  # one part is not allowed
    assert decide(scan("make deploy"), rules, "default") == "ask"
    assert decide(scan("make; rm -rf build"), rules, "bypassPermissions") == "deny"
    assert decide(scan("curl x"), rules, "bypassPermissions") == "allow"
    assert decide(scan("make $(cat target)"), rules, "default") == "none"  # substitution: not checkable by prefix
    assert decide(scan("anything"), Rules(allow=["Bash"]), "default") == "allow"


def test_an_untrusted_projects_allow_rules_do_not_count(tmp_path: Path):
    home, project = tmp_path / "home", tmp_path / "cloned"
    (home / ".claude").mkdir(parents=True)
    (project / ".claude").mkdir(parents=True)
    (project / ".claude" / "settings.json").write_text(json.dumps({"permissions": {"allow": ["Bash"], "deny": ["Bash(rm:*)"]}}))
    rules = load_rules(str(project), str(home))
    assert rules.allow == [] and rules.deny == ["Bash(rm:*)"]
    (home / ".claude.json").write_text(json.dumps({"projects": {str(project): {"hasTrustDialogAccepted": True}}}))
    assert load_rules(str(project), str(home)).allow == ["Bash"]


def event(command: str, cwd: Path, mode: str = "default") -> dict:
    return {"session_id": "5d0c3b5e-0000-4000-8000-000000000000", "cwd": str(cwd), "hook_event_name": "PreToolUse",
            "permission_mode": mode, "tool_name": "Bash", "tool_input": {"command": command, "description": "d"}}


def test_the_answer_claude_code_gets(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    answer, _ = pre_tool_use(event("python -m pytest -q", repo), {})
    assert answer is None  # no rule allows it: Claude Code asks, and runs it untouched
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "settings.json").write_text(json.dumps({"permissions": {"allow": ["Bash(python -m pytest:*)"]}}))
    answer, _ = pre_tool_use(event("python -m pytest -q", repo), {})
    out = answer["hookSpecificOutput"]
    assert out["hookEventName"] == "PreToolUse" and out["permissionDecision"] == "allow"
    assert out["updatedInput"]["description"] == "d" and "ai_session.hooks run" in out["updatedInput"]["command"]
    answer, _ = pre_tool_use(event("rm -rf build", repo, "bypassPermissions"), {})
    assert "permissionDecision" not in answer["hookSpecificOutput"]  # bypass: nothing to decide
    assert pre_tool_use(event("python -m pytest -q", repo), {"AI_SESSION_HOOKS": "off"})[0] is None
    assert pre_tool_use(event("python -m pytest -q", repo, "plan"), {})[0] is None
    assert pre_tool_use({**event("x", repo), "tool_name": "Read"}, {})[0] is None


def test_the_hook_process_answers_nothing_on_bad_input_and_imports_only_the_standard_library(repo: Path):
    hook = [sys.executable, "-m", "ai_session.hooks", "pre-tool-use"]
    for bad in (b"", b"not json", b"[1, 2]", json.dumps({"tool_name": "Bash", "tool_input": "x"}).encode()):
        done = subprocess.run(hook, input=bad, capture_output=True, timeout=30, check=False)
        assert done.returncode == 0 and done.stdout == b""
    # Standard library only on this path: nothing of pydantic, the store or tiktoken is imported.
    probe = ("import sys, io, json; sys.stdin = io.TextIOWrapper(io.BytesIO(json.dumps(" + repr(event("make", repo)) +
             ").encode())); from ai_session.hooks.claude import pre_tool_use_main; pre_tool_use_main(); "
             "heavy = [m for m in sys.modules if m.split('.')[0] in ('pydantic', 'tiktoken', 'sqlite3', 'zstandard') "
             "or m.startswith('ai_session.core')]; print(heavy, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, check=False)
    assert done.stderr.strip() == "[]"  # (its speed: bench/bench_hooks.py)
