"""The real `ai-session serve`, driven by pytest-lsp as VS Code and as Neovim would."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from ai_session.protocol.methods import NOTIFICATIONS
from tests.conftest import cli_env

CLIENTS = ["visual_studio_code", "neovim"]


def server_config(home: Path, **env: str) -> ClientServerConfig:
    return ClientServerConfig(server_command=[sys.executable, "-m", "ai_session", "serve"], server_env=cli_env(home, **env))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    import subprocess

    root = tmp_path / "proj"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    return root


def record_notifications(client: LanguageClient) -> None:
    """Keep every aiSession notification, so a test can wait for one that came before it looked."""
    client.notes = {method: [] for method in NOTIFICATIONS}
    for method in NOTIFICATIONS:
        client.feature(method)(lambda params, method=method: client.notes[method].append(params))


async def wait_note(client: LanguageClient, method: str, predicate=lambda n: True, *, after: int = 0, timeout: float = 10):
    """The first `method` notification (from index `after`) matching `predicate`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        for note in client.notes[method][after:]:
            if predicate(note):
                return note
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no {method} notification matched within {timeout}s: {client.notes[method][after:]}")
        await asyncio.sleep(0.05)


async def start_client(home: Path, workspace: Path, capabilities: str = "visual_studio_code", **env: str) -> LanguageClient:
    lsp_client = await server_config(home, **env).start()
    record_notifications(lsp_client)
    response = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(capabilities),
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name=workspace.name)],
            process_id=None,
            initialization_options={"autoAttach": True},
        )
    )
    assert response.server_info.name == "ai-session"
    lsp_client.workspace_root = workspace
    return lsp_client


@pytest.fixture(params=CLIENTS)
async def client(request, home: Path, workspace: Path):
    lsp_client = await start_client(home, workspace, request.param)
    yield lsp_client
    await lsp_client.shutdown_session()
    await lsp_client.stop()
