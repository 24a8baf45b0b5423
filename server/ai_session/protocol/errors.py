"""JSON-RPC errors for the domain's errors: one table for the language server and the session host."""

from __future__ import annotations

from typing import Any

from ai_session.core.errors import AiSessionError

# Domain errors get codes in JSON-RPC's server range; `data.kind` names the error class.
ERROR_CODES = {"NotFound": -32001, "Ambiguous": -32002, "Conflict": -32003, "InvalidInput": -32602,
               "StoreError": -32004, "ProviderError": -32005, "Damaged": -32006, "NoProvider": -32007,
               "AccessDenied": -32008}  # fmt: skip


def error_object(exc: AiSessionError) -> dict[str, Any]:
    """The JSON-RPC error for a domain error; `data.exitCode` lets a CLI client exit as the CLI would."""
    kind = getattr(exc, "kind", "") or type(exc).__name__  # an error forwarded from the host keeps its kind
    return {"code": ERROR_CODES.get(kind, -32000), "message": str(exc), "data": {"kind": kind, "exitCode": exc.exit_code}}
