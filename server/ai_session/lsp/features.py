"""Every feature module registers its handlers here; the server itself knows none of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ai_session.lsp.server import AiSessionServer


def register_all(server: AiSessionServer) -> None:
    from ai_session.lsp import ask, changes, context, exec, lifecycle, runs, sessions, terminal, trash, workspace

    # changes before workspace: follow the store before the workspace attach writes to it
    for module in (lifecycle, changes, sessions, trash, workspace, runs, exec, terminal, context, ask):
        module.register(server)
