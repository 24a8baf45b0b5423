"""`ai-session integrate claude`: merged with what is there, idempotent, removed exactly."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import CLI

THEIRS = {
    "model": "opus",
    "permissions": {"allow": ["Bash(make:*)"]},
    "hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./audit.sh"}]}],
        "Notification": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
    },
}


def test_install_merges_is_idempotent_and_uninstall_removes_exactly_ours(cli: CLI, repo: Path):
    settings = repo / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps(THEIRS, indent=2))
    first = cli.json("integrate", "claude", cwd=repo)
    assert first["changed"] and first["events"] == ["PreToolUse", "SessionStart", "Stop", "SessionEnd"]
    data = json.loads(settings.read_text())
    assert data["model"] == "opus" and data["permissions"] == THEIRS["permissions"]
    assert data["hooks"]["Notification"] == THEIRS["hooks"]["Notification"]
    pre = data["hooks"]["PreToolUse"]
    assert pre[0] == THEIRS["hooks"]["PreToolUse"][0] and pre[1]["matcher"] == "Bash"
    assert pre[1]["hooks"][0]["command"].endswith("-m ai_session.hooks pre-tool-use")
    for event, name in (("SessionStart", "session-start"), ("Stop", "stop"), ("SessionEnd", "session-end")):
        assert data["hooks"][event][0]["hooks"][0]["command"].endswith(f"-m ai_session.hooks {name}")
    text = settings.read_text()
    assert not cli.json("integrate", "claude", cwd=repo)["changed"]
    assert settings.read_text() == text
    gone = cli.json("integrate", "claude", "--uninstall", cwd=repo)
    assert gone["changed"] and gone["removed"]
    assert json.loads(settings.read_text()) == THEIRS


def test_a_file_of_only_our_hooks_goes_and_bad_json_is_left_alone(cli: CLI, repo: Path, tmp_path: Path):
    settings = repo / ".claude" / "settings.json"
    cli("integrate", "claude", "--project", cwd=repo)
    assert settings.exists()
    cli("integrate", "claude", "--uninstall", cwd=repo)
    assert not settings.exists()
    settings.write_text("{ not json")
    done = cli("integrate", "claude", cwd=repo, check=False)
    assert done.returncode == 2 and "not valid JSON" in done.stderr and settings.read_text() == "{ not json"
    outside = tmp_path / "nowhere"
    outside.mkdir()
    done = cli("integrate", "claude", cwd=outside, check=False)
    assert done.returncode == 2 and "--user" in done.stderr


def test_user_settings(cli: CLI, repo: Path, tmp_path: Path):
    home = tmp_path / "user"
    home.mkdir()
    out = cli.json("integrate", "claude", "--user", cwd=repo, env={"HOME": str(home)})
    assert out["path"] == str(home / ".claude" / "settings.json")
    assert "PreToolUse" in json.loads((home / ".claude" / "settings.json").read_text())["hooks"]
