"""An omitted session means "the workspace's current one", decided by the server for every method
that takes a session (clients never resolve it themselves): with no current session, each such
method answers the server's one error; with one, it acts on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from ai_session.protocol import payloads as p
from ai_session.protocol.methods import REQUESTS
from tests.lsp.conftest import start_client, wait_note
from tests.lsp.test_sessions import call

# The fields each method needs besides the session (the smallest valid request).
REQUIRED: dict[str, dict[str, object]] = {
    "aiSession/sessions/rename": {"newName": "renamed"},
    "aiSession/sessions/shareTerminal": {"share": True},
    "aiSession/sessions/addMessage": {"content": "hello"},
    "aiSession/templates/save": {"name": "tpl"},
    "aiSession/exec": {"command": "true"},
    "aiSession/ask": {"prompt": "why?"},
}

# Methods whose `session` names something else than "the current one" when given.
OTHER_MEANING = {"aiSession/trash/restore"}

SESSION_METHODS = sorted(
    method for method, r in REQUESTS.items()
    if issubclass(r.params, p.SessionRef) and method not in OTHER_MEANING
)  # fmt: skip


def test_every_method_about_a_session_takes_an_optional_session() -> None:
    """The rule is written once, on `SessionRef`: a new method about a session inherits it."""
    assert len(SESSION_METHODS) >= 15
    for method in SESSION_METHODS:
        assert not REQUESTS[method].params.model_fields["session"].is_required(), method
    assert set(REQUIRED) <= set(SESSION_METHODS)


@pytest.fixture
def plain_folder(tmp_path: Path) -> Path:
    """A folder that is no git worktree: the server attaches no session, none is current."""
    folder = tmp_path / "plain"
    folder.mkdir()
    return folder


async def test_without_a_current_session_every_method_answers_the_servers_error(home: Path, plain_folder: Path) -> None:
    client = await start_client(home, plain_folder)
    try:
        await call(client, "aiSession/sessions/create", {"name": "not-current"})
        for method in SESSION_METHODS:
            with pytest.raises(JsonRpcException) as err:
                await call(client, method, REQUIRED.get(method, {}))
            assert "no session given and this workspace has no current session" in str(err.value), method
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_an_omitted_session_is_the_current_one(home: Path, workspace: Path) -> None:
    client = await start_client(home, workspace)
    try:
        current = (
            await wait_note(client, "aiSession/currentSessionChanged", lambda n: n.summary is not None)
        ).summary.session.id
        await call(client, "aiSession/sessions/create", {"name": "other"})
        assert (await call(client, "aiSession/sessions/get", {})).summary.session.id == current
        assert (await call(client, "aiSession/context/get", {})).sessionId == current
        await call(client, "aiSession/sessions/addMessage", {"content": "to the current one"})
        detail = await call(client, "aiSession/sessions/get", {"session": current, "history": True})
        assert [m.content for m in detail.messages] == ["to the current one"]
    finally:
        await client.shutdown_session()
        await client.stop()
