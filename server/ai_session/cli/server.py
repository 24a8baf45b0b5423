"""`ai-session serve`: the JSON-RPC server editors start."""

from __future__ import annotations

import argparse
import sys

from ai_session.cli.render import Result
from ai_session.cli.spec import arg, command


@command(
    "serve",
    arg("--tcp", action="store_true",
        help="listen on TCP instead of stdio (for debugging); clients must present the token it prints"),
    arg("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1; loopback only unless you ask)"),
    arg("--port", type=int, default=7658, help="TCP port (default 7658)"),
    arg("--verbose", "-v", action="store_true", help="debug logging"),
    needs="nothing",
    formats=(),
)
def serve(_: None, a: argparse.Namespace) -> Result:
    """Run the JSON-RPC server editors start (stdio by default). Logs go to stderr and the user
    log dir; stdout carries only the protocol."""
    from ai_session.lsp.server import create_server, serve_stdio, serve_tcp, setup_logging, token_file

    log_file = setup_logging(a.verbose)
    print(f"ai-session serve: logging to {log_file}", file=sys.stderr)
    server = create_server()  # it opens its own store
    if a.tcp:
        if a.host not in ("127.0.0.1", "::1", "localhost"):
            print(f"ai-session serve: listening on {a.host}, beyond loopback", file=sys.stderr)

        def announce(token: str) -> None:
            print(f"ai-session serve: listening on {a.host}:{a.port}; clients send initializationOptions.token = "
                  f"{token} (also in {token_file()}, 0600)", file=sys.stderr, flush=True)

        serve_tcp(server, a.host, a.port, announce)
    else:
        serve_stdio(server)
    return Result()


@command("host", needs="nothing", formats=())
def host(_: None, a: argparse.Namespace) -> Result:
    """Run the session host: the one process per user and store that owns the live shells and
    serves every client (editors' servers, the CLI, agents) on a Unix socket in the data dir.
    Clients start it when they need a shell and it exits when idle: not started by hand."""
    from ai_session.host.server import main

    return Result(status=main())
