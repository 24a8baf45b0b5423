import subprocess
import sys

from ai_session.protocol.generate import render_all
from ai_session.protocol.methods import NOTIFICATIONS, REQUESTS
from tests.conftest import REPO, cli_env


def test_generated_bindings_and_docs_are_up_to_date(home):
    done = subprocess.run([sys.executable, "-m", "ai_session.protocol.generate", "--check"], cwd=REPO,
                          env=cli_env(home), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_generator_covers_every_method_and_detects_drift(tmp_path):
    files = {path.suffix: text for path, text in render_all().items()}
    ts, lua, md = files[".ts"], files[".lua"], files[".md"]
    for method in [*REQUESTS, *NOTIFICATIONS]:
        assert f"'{method}'" in ts and f'"{method}"' in lua and f"`{method}`" in md
    assert "maxTokens?: number | null;" in ts  # camelCase, optional where the model has a default
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "protocol.md").write_text("stale\n")
    from ai_session.protocol.generate import main

    assert main(["--check", "--root", str(tmp_path)]) == 1
