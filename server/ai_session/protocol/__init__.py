"""The wire protocol between `ai-session serve` and editor clients: the one source of truth.

Every method is declared once in `methods.py` with its params and result models; the
TypeScript bindings, the Lua method table and docs/protocol.md are generated from it
(`python -m ai_session.protocol.generate`).
"""

from ai_session.protocol.methods import NOTIFICATIONS, REQUESTS, Notification, Request

__all__ = ["NOTIFICATIONS", "REQUESTS", "Notification", "Request"]
