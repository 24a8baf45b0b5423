"""Versions of what a store holds, readable without importing the rest of core (the CLI's
read-only listing checks them before it reads a store: core/listing.py)."""

from __future__ import annotations

# The SQLite store's schema: `PRAGMA user_version` once every migration has run
# (len(core/store/schema.py MIGRATIONS); a test keeps the two equal).
SQLITE_SCHEMA = 5

# Raised whenever the redaction rules find more than before: stores rewrite rows kept under
# older rules (core/redact.py, core/maintenance.py).
REDACTION_RULES = 2
