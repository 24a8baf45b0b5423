"""Secret redaction before anything is stored or exported."""

from __future__ import annotations

import os
import re
from functools import lru_cache

MASK = "[REDACTED]"

_PATTERNS = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}\b"),
    re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}\b"),
    re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}\b"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b"),
]
_ANY_PATTERN = re.compile("|".join(f"(?:{p.pattern})" for p in _PATTERNS))  # one pass over the text
_SECRET_NAME = re.compile(r"(?i)(?:^|_)(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|CREDENTIALS?|API_?KEY)$")


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


@lru_cache(maxsize=1)
def _process_secrets() -> tuple[str, ...]:
    # The process env is read once: scanning it on every message would dominate append cost.
    return tuple(secret_env_values(dict(os.environ)))


def secret_env_values(env: dict[str, str]) -> list[str]:
    return sorted((v for k, v in env.items() if is_secret_name(k) and len(v) >= 6), key=len, reverse=True)


def redact(text: str, extra_values: list[str] | None = None) -> str:
    for value in (*_process_secrets(), *(extra_values or [])):
        if value in text:
            text = text.replace(value, MASK)
    return _ANY_PATTERN.sub(MASK, text)
