"""`ai-session compress`: the filter on a pipe. Its own module, so that a person's
`pytest | ai-session compress` imports what it uses and nothing of the session host's client
or the store (start-up is most of a filter's time on a small output)."""

from __future__ import annotations

import sys

from ai_session.cli.render import Result
from ai_session.cli.spec import arg, command

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


@command(
    "compress",
    arg("--cmd", default=None, help="the command line that produced the output (picks the reducer)"),
    arg("--exit-code", type=int, default=None, help="its exit status (printed as [ai-session] exit N)"),
    arg("--stats", action="store_true", help="print raw and context token counts to stderr"),
    needs="nothing",
    formats=(),
)
def compress(_: None, a: argparse.Namespace) -> Result:
    """Read raw command output on stdin and print the compact context form (every failing test,
    error and location kept). Example: pytest 2>&1 | ai-session compress --cmd pytest --exit-code $?"""
    from ai_session.core.compress import StreamCompressor

    # Reads stdin in chunks: memory stays bounded however much a tool prints.
    sc = StreamCompressor(a.cmd)
    stdin = sys.stdin.buffer
    while chunk := stdin.read1(1 << 16) if hasattr(stdin, "read1") else stdin.read(1 << 16):
        sc.feed(chunk)
    result = sc.finish(a.exit_code)
    sys.stdout.write(result.text)
    sys.stdout.flush()
    if not a.stats:
        return Result()
    from ai_session.cli.views import percent
    from ai_session.core.tokens import count_tokens

    raw, ctx = sc.raw_tokens(), count_tokens(result.text)
    return Result(notes=[f"ai-session: {result.tool}: raw {raw} tokens, context {ctx} tokens, saved {percent(raw, ctx, 1)}"])
