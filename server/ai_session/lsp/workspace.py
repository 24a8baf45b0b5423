"""The workspace's worktree, branch and current session; follows branch switches."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ai_session.core import worktree as git_worktree
from ai_session.core.errors import InvalidInput
from ai_session.lsp.context import send_stats
from ai_session.lsp.summaries import summary
from ai_session.lsp.wire import request
from ai_session.protocol import payloads as p

if TYPE_CHECKING:
    from ai_session.lsp.server import AiSessionServer

log = logging.getLogger(__name__)
HEAD_CHECK_SECONDS = 1.0


def _current(server: AiSessionServer) -> p.CurrentSessionResult:
    session = server.manager.find(server.current_session_id) if server.current_session_id else None
    tree = server.worktree
    return p.CurrentSessionResult(
        summary=summary(server, session) if session else None,
        worktree=tree.root if tree else None,
        branch=tree.label if tree else None,
    )


def attach(server: AiSessionServer, path: Path | str, agent: str | None = None) -> p.WorktreeAttachResult:
    session, created = server.manager.worktree_session(path, agent=agent)
    server.worktree = git_worktree.detect(path)
    server.current_session_id = session.id
    current = _current(server)
    server.send("aiSession/currentSessionChanged",
                p.CurrentSessionChanged(summary=current.summary, worktree=current.worktree, branch=current.branch))
    send_stats(server, session)
    return p.WorktreeAttachResult(summary=summary(server, session), created=created,
                                  worktree=session.worktree or "", branch=session.branch)


def _head_file(root: Path) -> Path | None:
    git_dir = git_worktree._git(root, "rev-parse", "--absolute-git-dir")
    return Path(git_dir) / "HEAD" if git_dir else None


def _read_head(head: Path) -> bytes:
    return head.read_bytes() if head.exists() else b""


async def follow_branch(server: AiSessionServer, root: Path, head: Path, last: bytes) -> None:
    """Re-attach when HEAD moves from `last` to another branch (checkout/switch in this worktree)."""
    while True:
        await asyncio.sleep(HEAD_CHECK_SECONDS)
        try:
            now = head.read_bytes()
        except OSError:
            continue
        if now != last:
            last = now
            log.info("HEAD of %s changed; switching the current session", root)
            try:
                attach(server, root)
            except Exception:
                log.exception("could not switch session after a branch change")


def register(server: AiSessionServer) -> None:
    def initialized() -> None:
        if server.root is None or git_worktree.detect(server.root) is None:
            return
        server.worktree = git_worktree.detect(server.root)
        if server.auto_attach:
            head = _head_file(server.root)
            last = _read_head(head) if head else b""  # before attaching: a switch right after it is seen
            try:
                attach(server, server.root)
            except Exception as exc:  # a broken store must not stop the editor from starting
                log.exception("auto-attach failed")
                server.warn_client(f"ai-session: could not attach this worktree's session: {exc}")
            if head is not None:
                server.spawn(follow_branch(server, server.root, head, last), "follow-branch")

    server.initialized_hooks.append(initialized)

    @request(server, "aiSession/worktree/attach")
    def worktree_attach(params: p.WorktreeAttachParams) -> p.WorktreeAttachResult:
        path = params.path or (str(server.root) if server.root else None)
        if path is None:
            raise InvalidInput("no path given and the workspace has no folder")
        return attach(server, path, params.agent)

    @request(server, "aiSession/worktree/current")
    def current(_: p.Empty) -> p.CurrentSessionResult:
        return _current(server)
