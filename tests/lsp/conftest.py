"""The real `ai-session serve`, driven by pytest-lsp as VS Code and as Neovim would."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.conftest import cli_env

CLIENTS = ["visual_studio_code", "neovim"]


def server_config(home: Path) -> ClientServerConfig:
    return ClientServerConfig(server_command=[sys.executable, "-m", "ai_session", "serve"], server_env=cli_env(home))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    import subprocess

    root = tmp_path / "proj"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    return root


@pytest.fixture(params=CLIENTS)
async def client(request, home: Path, workspace: Path):
    config = server_config(home)
    lsp_client = await config.start()
    response = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(request.param),
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="proj")],
            process_id=None,
            initialization_options={"autoAttach": True},
        )
    )
    assert response.server_info.name == "ai-session"
    lsp_client.workspace_root = workspace
    yield lsp_client
    await lsp_client.shutdown_session()
    await lsp_client.stop()
