"""initialize / initialized / shutdown: workspace root, options, parent-process watch."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

if TYPE_CHECKING:
    from ai_session.lsp.server import AiSessionServer


def register(server: AiSessionServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(params: types.InitializeParams) -> None:
        options = params.initialization_options if isinstance(params.initialization_options, dict) else {}
        server.auto_attach = bool(options.get("autoAttach", True))
        folders = params.workspace_folders or []
        uri = folders[0].uri if folders else params.root_uri
        path = to_fs_path(uri) if uri else params.root_path
        if path:
            server.root = Path(path)
        if params.process_id:
            server.spawn(server.watch_parent(params.process_id), "watch-parent")

    @server.feature(types.INITIALIZED)
    def initialized(_: types.InitializedParams) -> None:
        for hook in server.initialized_hooks:
            hook()

    @server.feature(types.SHUTDOWN)
    def shutdown(*_: object) -> None:
        server.close()
