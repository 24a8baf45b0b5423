"""ai-session: persistent, per-worktree sessions for AI coding agents.

    from ai_session import session, Session
"""

__version__ = "0.1.0"
__all__ = ["Session", "SessionInfo", "__version__", "session"]


def __getattr__(name: str):
    # Lazy, so `ai_session.core` (used by the server and CLI) does not import the library API.
    if name in ("Session", "SessionInfo", "session"):
        from ai_session import api

        return getattr(api, name)
    raise AttributeError(name)
