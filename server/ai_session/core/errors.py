"""Errors the user can act on. Every adapter (CLI, API, LSP) turns these into one clear message."""


class AiSessionError(Exception):
    """Base class; `exit_code` is what the CLI returns for it."""

    exit_code = 1


class NotFound(AiSessionError):
    exit_code = 3


class Ambiguous(AiSessionError):
    exit_code = 4


class Conflict(AiSessionError):
    """A name is taken, a session is in the wrong state for the operation."""

    exit_code = 5


class InvalidInput(AiSessionError):
    """Bad arguments, a malformed or hostile import file."""

    exit_code = 2


class NoProvider(InvalidInput):
    """A model was asked for, but neither the request nor the session names a provider."""


class StoreError(AiSessionError):
    """The store cannot be opened, is corrupt, or stayed locked past the retry budget."""

    exit_code = 6


class Damaged(StoreError):
    """A stored row does not read back as it was written (checksum, truncated or corrupt frame,
    bad JSON). Only that row is affected: `validate` lists it, `repair` quarantines it."""


class ProviderError(AiSessionError):
    exit_code = 7


class AccessDenied(AiSessionError):
    """The store refused: the user's role may not read or change that (team store sharing)."""

    exit_code = 8
