"""initialize / initialized / shutdown: workspace root, options, parent-process watch."""

from __future__ import annotations

from pathlib import Path
import logging
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from ai_session import __version__
from ai_session.core.location import config_path
from ai_session.core.tokens import count_tokens, encoding_for_model
from ai_session.lsp.wire import request
from ai_session.protocol import payloads as p

if TYPE_CHECKING:
    from ai_session.lsp.server import AiSessionServer


log = logging.getLogger(__name__)


def _mode(path: Path) -> str:
    try:
        return f"{path.stat().st_mode & 0o777:04o}"
    except OSError:
        return "missing"


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
            try:
                hook()
            except Exception as exc:  # one failing feature must not keep the others from starting
                log.exception("start-up of %s failed", getattr(hook, "__qualname__", hook))
                server.warn_client(f"ai-session: {exc}")

    @request(server, "aiSession/server/info")
    def info(_: p.Empty) -> p.ServerInfo:
        config = server.manager.config
        store_file = server.manager.store_file
        try:
            encoding_ok = count_tokens("health check") > 0
        except Exception:
            encoding_ok = False
        return p.ServerInfo(
            version=__version__,
            config_file=str(config.config_file or config_path()),
            store_url=server.manager.store_url,
            data_dir=str(config.home),
            data_dir_mode=_mode(config.home),
            store_file_mode=_mode(store_file) if store_file else None,
            encoding=encoding_for_model(None),
            encoding_ok=encoding_ok,
            workspace=str(server.root) if server.root else None,
            worktree=server.worktree.root if server.worktree else None,
            branch=server.worktree.label if server.worktree else None,
        )

    @server.feature(types.SHUTDOWN)
    async def shutdown(*_: object) -> None:
        await server.aclose()
