"""Identifiers: a type prefix and 12 random hex digits (`sess_3fa9c01b77de`)."""

import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(6)}"
