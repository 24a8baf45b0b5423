"""Whole-history commands on a large store (10,000 sessions, one of 100,000 messages):
`export` of the big session (time and peak memory) beside the whole-document writer it
replaced (`json.dumps(indent=1)` of the entire document, run in the same way in the same
run), and `stats --show-savings` over every session beside `stats` and `python -c pass`."""

from __future__ import annotations

import sys
from pathlib import Path

from fixtures import large_store
from harness import Figure, at_most, bench_env, cli, run_once, time_command

# The writer `export` used before it streamed: the whole document in memory, then encoded
# by the pure-Python encoder that `indent` selects.
WHOLE_DOCUMENT = """
import json, sys
from ai_session.core.manager import SessionManager
from ai_session.core.models import utcnow
from ai_session.core.redact import redact_data
m = SessionManager()
session = m.resolve("big")
messages, runs, _ = m.sessions.store.contents(session.id)
dump = lambda x: x.model_dump(mode="json", by_alias=True)
doc = {"format": "ai-session", "version": 1, "exportedAt": utcnow().isoformat(), "session": dump(session),
       "messages": [dump(x) for x in messages], "runs": [{"run": dump(r), "output": raw} for r, raw in runs]}
open(sys.argv[1], "w").write(json.dumps(redact_data(doc), ensure_ascii=False, indent=1))
"""


def main() -> list[Figure]:
    home = large_store()
    env = bench_env(home)
    out = Path(home, "big.json")
    before = run_once([sys.executable, "-c", WHOLE_DOCUMENT, str(out)], env)
    runs = [run_once(cli("export", "big", "-o", str(out)), env) for _ in range(3)]
    export = sorted(runs, key=lambda t: t.wall_ms)[1]
    size = out.stat().st_size / 1e6
    ref = f"whole-document writer {before.wall_ms / 1e3:.2f} s, {before.peak_rss_mb:.0f} MB"
    python = time_command([sys.executable, "-c", "pass"], env, 5)
    stats = time_command(cli("stats"), env, 3)
    savings = time_command(cli("stats", "--show-savings"), env, 3)
    figures = [
        at_most("export, 100,000 messages (time)", export.wall_ms / 1e3, "s", 1.5, reference=ref,
                ratio=export.wall_ms / before.wall_ms, note=f"cpu {export.cpu_ms / 1e3:.2f} s, {size:.0f} MB file"),
        at_most("export, 100,000 messages (peak RSS)", max(t.peak_rss_mb for t in runs), "MB", 150, reference=ref,
                ratio=max(t.peak_rss_mb for t in runs) / before.peak_rss_mb),
        at_most("stats --show-savings, 10,000 sessions (CPU)", savings.cpu_ms / 1e3, "s", 0.3,
                reference=f"stats {stats.cpu_ms / 1e3:.2f} s, python -c pass {python.cpu_ms / 1e3:.2f} s",
                ratio=savings.cpu_ms / stats.cpu_ms, note=f"wall {savings.wall_ms / 1e3:.2f} s"),
    ]
    for f in figures:
        print(f"{f.name:<48} {f.shown():>10}  {f.target}  {f.reference}  {f.note}")
    return figures


if __name__ == "__main__":
    from harness import table

    print(table(main()))
