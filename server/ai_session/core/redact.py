"""Secret redaction for everything ai-session stores (command output, messages, exports).

Two sources of secrets:

* well-known token shapes (AWS key ids, GitHub/Slack/OpenAI/Anthropic tokens, PEM private
  keys, JWTs, passwords in URLs, `PASSWORD=...`-style assignments), and
* the values of environment variables whose *names* look secret (`*_KEY`, `*_TOKEN`,
  `*_SECRET`, `PASSWORD`...), which can have any shape.

Pure standard library and one pass of one compiled regex per call, because the session
manager runs `redact` on every message it stores. Works on `str` and on `bytes` (PTY output
is not always valid UTF-8). `StreamRedactor` redacts a byte stream read in arbitrary pieces
and still catches a secret split across two reads.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import AnyStr

MASK = "[REDACTED]"  # every replacement starts with "[REDACTED" and names what it hid

# Last `_`-separated word of a variable name that marks it secret (GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY).
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|PWD|PASS|CREDENTIALS?|APIKEY|AUTH|COOKIE|SESSION_ID|PAT)$"
    r"|SECRET|PASSWORD|PASSWD|PRIVATE_KEY|ACCESS_KEY|API_KEY|AUTH_TOKEN",
    re.IGNORECASE,
)
# Names that match the rule above but are not secret.
_NOT_SECRET_NAMES = frozenset({"PWD", "OLDPWD", "SSH_AUTH_SOCK", "GPG_AGENT_INFO", "XAUTHORITY"})
# Shell bookkeeping that must not be carried into a new shell.
_SHELL_INTERNAL = frozenset({"PWD", "OLDPWD", "SHLVL", "_", "COLUMNS", "LINES", "PS1", "PS2", "PS0", "PROMPT_COMMAND"})

# Shorter values would redact ordinary words and numbers all over the output.
MIN_SECRET_VALUE_LEN = 8

# name -> (pattern, literal triggers). A pattern only runs when one of its triggers occurs in
# the text: a plain substring search is ~100x faster than a regex scan, and most output has
# no trigger at all. Patterns start with their trigger so the regex engine can skip ahead too.
_PATTERNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "private-key": (
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:[\s\S]{0,16384}?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|[\s\S]{0,16384}\Z)",
        ("PRIVATE KEY",),
    ),
    "aws-access-key": (r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])", ("AKIA", "ASIA", "ABIA", "ACCA")),
    "github-token": (
        r"(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    "gitlab-token": (r"glpat-[A-Za-z0-9_\-]{20,}", ("glpat-",)),
    "api-key": (r"sk-(?:ant-|proj-|live-|test-)?[A-Za-z0-9_\-]{20,}", ("sk-",)),
    "stripe-key": (r"[rs]k_(?:live|test)_[A-Za-z0-9]{16,}", ("k_live_", "k_test_")),
    "google-api-key": (r"AIza[A-Za-z0-9_\-]{35}", ("AIza",)),
    "huggingface-token": (r"hf_[A-Za-z0-9]{30,}", ("hf_",)),
    "slack-token": (r"xox[abposr]-[A-Za-z0-9\-]{10,}", ("xox",)),
    "slack-webhook": (r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]{20,}", ("hooks.slack.com",)),
    "jwt": (r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", ("eyJ",)),
    # scheme://user:PASSWORD@host -- keep the user, drop the password (group "keep" is kept).
    "url-password": (r"(?P<keep>://[^\s:/@]{1,128}:)[^\s@/]{3,256}(?=@)", ("://",)),
}
# NAME_TOKEN=value, "password": "value", api_key: value -- found via the lower-cased keyword.
_ASSIGN_KEYWORDS = (
    "token", "secret", "password", "passwd", "passphrase", "api_key", "apikey", "access_key", "private_key",
)
_ASSIGN_TAIL = r"[\"']?[ \t]*[:=][ \t]*[\"']?(?P<value>[^\s\"',;]{%d,})" % MIN_SECRET_VALUE_LEN

# Longest stretch a single pattern match can span: the stream redactor keeps this much back.
STREAM_HOLDBACK = 17_000


class _Pattern:
    __slots__ = ("label", "rx", "rxb", "triggers", "triggers_b", "word_start")

    def __init__(self, name: str, pattern: str, triggers: tuple[str, ...]) -> None:
        self.label = f"[REDACTED:{name}]"
        self.rx = re.compile(pattern)
        self.rxb = re.compile(pattern.encode())
        self.triggers = triggers
        self.triggers_b = tuple(t.encode() for t in triggers)
        self.word_start = name not in ("private-key", "url-password", "slack-webhook")


_COMPILED = [_Pattern(n, p, t) for n, (p, t) in _PATTERNS.items()]
_TAIL = re.compile(_ASSIGN_TAIL)
_TAIL_B = re.compile(_ASSIGN_TAIL.encode())
_KW_B = tuple(k.encode() for k in _ASSIGN_KEYWORDS)
_WORD_B = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")

_ASCII_LOWER = {c: c + 32 for c in range(65, 91)}

# A span to replace: (start, end, label, kept prefix length)
_Span = tuple[int, int, str, int]


def _find(data: AnyStr, values: list[tuple[AnyStr, str]]) -> list[_Span]:
    """All secret spans in data, sorted, without overlaps (the earliest, then longest, wins)."""
    is_bytes = isinstance(data, bytes)
    spans: list[_Span] = []
    for value, label in values:
        i = data.find(value)
        while i >= 0:
            spans.append((i, i + len(value), label, 0))
            i = data.find(value, i + len(value))
    word = _WORD_B if is_bytes else _WORD
    for p in _COMPILED:
        if any(t in data for t in (p.triggers_b if is_bytes else p.triggers)):
            for m in (p.rxb if is_bytes else p.rx).finditer(data):
                # Token shapes must start a word ("task-..." holds no "sk-" key). Checked here,
                # not with a look-behind, which would cost the regex its fast literal scan.
                if p.word_start and m.start() > 0 and data[m.start() - 1] in word:
                    continue
                keep = (m.end("keep") - m.start()) if "keep" in p.rx.groupindex else 0
                spans.append((m.start(), m.end(), p.label, keep))
    low = data.lower()
    if len(low) != len(data):  # a few Unicode letters change length when lower-cased
        low = data.translate(_ASCII_LOWER) if not is_bytes else low
    tail = _TAIL_B if is_bytes else _TAIL
    for kw in (_KW_B if is_bytes else _ASSIGN_KEYWORDS):
        i = low.find(kw)
        while i >= 0:
            j = i + len(kw)
            if j >= len(data) or data[j] not in word:
                m = tail.match(data, j)
                if m:
                    spans.append((m.start("value"), m.end(), "[REDACTED:assignment]", 0))
            i = low.find(kw, j)
    if len(spans) > 1:
        spans.sort(key=lambda s: (s[0], -s[1]))
        merged = [spans[0]]
        for s in spans[1:]:
            if s[0] >= merged[-1][1]:
                merged.append(s)
        spans = merged
    return spans


def _apply(data: AnyStr, spans: list[_Span], upto: int | None = None) -> AnyStr:
    if not spans:
        return data if upto is None else data[:upto]
    is_bytes = isinstance(data, bytes)
    out = []
    pos = 0
    for start, end, label, keep in spans:
        out.append(data[pos : start + keep])
        out.append(label.encode() if is_bytes else label)
        pos = end
    out.append(data[pos:upto])
    return (b"" if is_bytes else "").join(out)


def is_secret_name(name: str) -> bool:
    return name.upper() not in _NOT_SECRET_NAMES and bool(_SECRET_NAME.search(name))


def secret_items(env: Mapping[str, str]) -> dict[str, str]:
    """name -> value for the values worth redacting literally: secret-named, long enough to be specific."""
    return {k: v for k, v in env.items() if is_secret_name(k) and len(v) >= MIN_SECRET_VALUE_LEN}


def secret_env_values(env: Mapping[str, str]) -> list[str]:
    return sorted(secret_items(env).values(), key=len, reverse=True)


def filter_env(env: Mapping[str, str]) -> dict[str, str]:
    """The env to persist for a later shell: no secrets, no shell bookkeeping."""
    return {
        k: v
        for k, v in env.items()
        if k not in _SHELL_INTERNAL and not k.startswith("__AIS") and not is_secret_name(k)
    }


class Redactor:
    """Redacts known token shapes plus the literal values of the given secret env vars."""

    def __init__(self, env: Mapping[str, str] | None = None, extra_values: Iterable[str] = ()) -> None:
        values = dict(secret_items(env or {}))
        for i, v in enumerate(extra_values):
            if len(v) >= MIN_SECRET_VALUE_LEN:
                values[f"secret{i}"] = v
        # Longest first so a value that contains another is replaced whole.
        self._values = sorted(((v, f"[REDACTED:{n}]") for n, v in values.items()), key=lambda p: -len(p[0]))
        self._values_b = [(v.encode(), label) for v, label in self._values]
        self.max_value_len = max((len(v) for v, _ in self._values_b), default=0)

    def text(self, text: str) -> str:
        return _apply(text, _find(text, self._values))

    def bytes(self, data: bytes) -> bytes:
        return _apply(data, _find(data, self._values_b))

    def spans(self, data: bytes) -> list[_Span]:
        return _find(data, self._values_b)


@lru_cache(maxsize=1)
def _process_redactor() -> Redactor:
    # This process's own secret env values, read once: rescanning the env per call would
    # dominate the cost of storing a message.
    return Redactor(dict(os.environ))


def redact(text: str, extra_values: Iterable[str] | None = None, *, env: Mapping[str, str] | None = None) -> str:
    """Redact well-known secret shapes, this process's secret env values, `extra_values`
    and the secret-named values of `env` from text."""
    if extra_values is None and env is None:
        return _process_redactor().text(text)
    return Redactor({**os.environ, **(env or {})}, extra_values or ()).text(text)


def redact_bytes(data: bytes, extra_values: Iterable[str] | None = None, *, env: Mapping[str, str] | None = None) -> bytes:
    if extra_values is None and env is None:
        return _process_redactor().bytes(data)
    return Redactor({**os.environ, **(env or {})}, extra_values or ()).bytes(data)


class StreamRedactor:
    """Redacts a byte stream fed in arbitrary pieces.

    Keeps back the last `holdback` bytes (and any match reaching into them) until more data
    or `flush()` arrives, so a token split across two reads is seen whole. The concatenated
    output equals `Redactor.bytes` over the concatenated input for every secret shorter than
    the holdback (all the shapes above are).
    """

    def __init__(self, redactor: Redactor | None = None, holdback: int | None = None, batch: int = 65536) -> None:
        self._r = redactor or _process_redactor()
        self._hold = holdback if holdback is not None else max(STREAM_HOLDBACK, self._r.max_value_len * 2)
        # Work in batches: each pass rescans the held-back part, so tiny reads (a PTY gives
        # 4 KiB at a time) would otherwise rescan it over and over.
        self._batch = batch
        self._buf = b""

    def feed(self, data: bytes) -> bytes:
        buf = self._buf + data if self._buf else data
        if len(buf) <= self._hold + self._batch:
            self._buf = buf
            return b""
        cut = len(buf) - self._hold
        spans = self._r.spans(buf)
        done = []
        for span in spans:
            if span[1] >= cut:  # reaches the kept-back part: it may still grow, decide later
                cut = min(cut, span[0])
                break
            done.append(span)
        self._buf = buf[cut:]
        return _apply(buf, done, cut)

    def flush(self) -> bytes:
        buf, self._buf = self._buf, b""
        return self._r.bytes(buf) if buf else b""
