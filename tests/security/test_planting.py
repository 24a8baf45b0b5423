"""The end-to-end planting test: fake secrets of every documented kind, planted through every
channel (exec output, command text, shell-exported variables, .env and JSON files printed,
ANSI-coloured output, typed terminal input, add, the library, each import format, system
prompts, templates, the language server), then searched for in the raw bytes of the
database, its -wal and -shm, the decompressed zstd bodies, exports, `show --history --format
json`, `output --raw`, the logs and everything the server sent: none may be found."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.security.probe import Probe, report


def test_no_planted_secret_is_found_anywhere(tmp_path: Path) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    probe = Probe(home, work)
    probe.plant_everything()
    results = probe.scan()

    channels = {c for c, _ in probe.planted}
    kinds = {f.kind for _, f in probe.planted}
    assert len(channels) == 13 and len(kinds) == 28 and len(probe.planted) > 300
    # The scan sees what is there: harmless words planted beside the secrets are found.
    for where in ("database file", "zstd bodies", "exports", "show --history --format json", "output --raw",
                  "server traffic"):
        assert probe.control_hits[where], f"the scan of {where} found not even the control words"
    assert (home / "logs" / "server.log").stat().st_size > 0
    leaks = {where: sorted({f"{c}: {f.kind}" for c, f in hits}) for where, hits in results.items() if hits}
    assert leaks == {}, report(probe, results)
