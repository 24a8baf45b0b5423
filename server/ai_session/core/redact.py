"""Secret redaction: the one function every text entering the store or leaving to a client passes.

Three sources of secrets:

* well-known token shapes (cloud and SaaS keys with a fixed prefix, PEM private keys, JWTs,
  passwords in URLs), absorbed from the public rule sets of gitleaks and detect-secrets;
* assignments to secret-looking names, in any syntax a shell, a `.env` file, JSON, YAML or
  an HTTP header uses (`DB_PASSWORD=…`, `"SecretAccessKey": "…"`, `Authorization: Bearer …`);
  a name is secret-looking when one of its words (split at `_ - .` and camelCase) is
  key, pass, passwd, password, pwd, pat, secret, token, credential(s), auth, private, …
  and no later word says it is only about one (`TOKEN_COUNT`, `KEY_PATH`);
* literal values this process knows to be secret: the values of secret-named variables in
  its environment and in the session shells' environments, and values assigned to secret
  names in commands those shells ran (`remember`).

Text is searched as it is and with ANSI escapes removed (a colour code must not hide a
token), and matches are mapped back. Redaction is idempotent: a `[REDACTED:…]` label is
never matched again, so re-redacting stored text changes nothing.

A name of one ambiguous word is not enough (`--- PASS: TestX` is a test result), and code
that only looks like an assignment is left alone: a call, an index, an attribute, another
name, a template, a `::` path.

The engine works on bytes (PTY output need not be UTF-8; `str` is encoded losslessly). Speed
comes from doing the per-byte work in C: linear-time RE2 scans find the few places where a
token shape or a secret-looking name could start, and Python only looks at those places.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import re2

LABEL = "[REDACTED"  # every replacement starts with this and names what it hid: [REDACTED:kind]
_LABEL_B = LABEL.encode()

# Shorter values would redact ordinary words and numbers all over the output.
MIN_SECRET_VALUE_LEN = 8
# Texts a redactor remembers finding clean, so the same text is scanned once: how many, how long.
CLEAN_MEMO_SIZE = 256
CLEAN_MEMO_MAX_LEN = 16_384
# How many literal values the process remembers (oldest forgotten first).
MAX_KNOWN_VALUES = 4096

# Words of an identifier that make it secret-looking ...
_SECRET_WORDS = frozenset({
    "key", "keys", "pass", "passwd", "password", "passwords", "pwd", "pat", "secret", "secrets", "token",
    "credential", "credentials", "creds", "auth", "authorization", "private", "passphrase", "apikey",
    "privatekey", "secretkey", "accesskey", "authtoken", "accesstoken", "refreshtoken", "clientsecret", "signature",
})  # fmt: skip
# ... unless a later word says the value only describes one.
_QUALIFIERS = frozenset({
    "count", "counts", "type", "types", "id", "ids", "name", "names", "file", "files", "path", "paths",
    "dir", "url", "uri", "endpoint", "len", "length", "size", "limit", "max", "min", "ttl", "timeout",
    "expiry", "expires", "expiration", "mode", "method", "usage", "used", "sock", "socket", "format",
    "prefix", "hint", "policy", "rotation", "env", "var", "field", "fingerprint", "algorithm", "alg",
    "version", "index", "enabled", "required", "store", "manager", "stdin", "prompt", "helper",
    # a file name, not a variable: test_auth.py::test_token, auth.ts:12
    "py", "pyi", "js", "jsx", "ts", "tsx", "mjs", "go", "rs", "rb", "java", "kt", "c", "h", "cc", "cpp", "hpp", "cs",
    "php", "swift", "scala", "sh", "json", "yml", "yaml", "toml", "ini", "cfg", "conf", "md", "txt", "html", "css",
    "lock", "log", "xml", "sql",
})  # fmt: skip
# A name of one word is secret only when the word is unambiguous ("PASS: test_x" is a result).
_SECRET_ALONE = frozenset({
    "password", "passwd", "passphrase", "secret", "token", "credentials", "apikey", "privatekey", "authorization",
    "secretkey", "accesskey", "authtoken", "accesstoken", "refreshtoken", "clientsecret",
})  # fmt: skip
# Words that, before a secret word, make it a description (PUBLIC_KEY, sort_key, max_tokens).
_NOT_SECRET_BEFORE = frozenset({"public", "primary", "foreign", "sort", "partition", "max", "min", "num"})
# Whole names that look secret but are shell or desktop bookkeeping.
_NOT_SECRET_NAMES = frozenset({"PWD", "OLDPWD", "SSH_AUTH_SOCK", "GPG_AGENT_INFO", "XAUTHORITY", "KEYTIMEOUT"})

# name -> (pattern, RE2 anchor, must start a word). The anchor finds where the pattern could
# start (a superset); the pattern then decides, on that line only. None of these spans lines.
_SHAPES: dict[str, tuple[str, str, bool]] = {
    "aws-access-key": (r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])",
                       r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}", True),
    "github-token": (r"gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}",
                     r"gh[pousr]_[A-Za-z0-9]{36}|github_pat_", True),
    "gitlab-token": (r"glpat-[A-Za-z0-9_\-]{20,}", r"glpat-", True),
    "api-key": (r"sk-(?:ant-|proj-|svcacct-|admin-|live-|test-)?[A-Za-z0-9_\-]{20,}", r"sk-[A-Za-z0-9_\-]{20}", True),
    "stripe-key": (r"(?:[rs]k_(?:live|test|prod)|whsec)_[A-Za-z0-9]{10,}", r"k_(?:live|test|prod)_|whsec_", True),
    "google-api-key": (r"AIza[A-Za-z0-9_\-]{35}", r"AIza", True),
    "google-oauth": (r"GOCSPX-[A-Za-z0-9_\-]{20,}|ya29\.[A-Za-z0-9_\-]{20,}", r"GOCSPX-|ya29\.", True),
    "huggingface-token": (r"hf_[A-Za-z0-9]{30,}", r"hf_[A-Za-z0-9]{30}", True),
    "slack-token": (r"xox[abposre]-[A-Za-z0-9\-]{10,}|xapp-[0-9]-[A-Za-z0-9\-]{10,}", r"xox[abposre]-|xapp-", True),
    "slack-webhook": (r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_\-]{20,}",
                      r"hooks\.slack\.com/", False),
    "sendgrid-key": (r"SG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}", r"SG\.[A-Za-z0-9_\-]{16}", True),
    "npm-token": (r"npm_[A-Za-z0-9]{30,}", r"npm_[A-Za-z0-9]{30}", True),
    "pypi-token": (r"pypi-[A-Za-z0-9_\-]{50,}", r"pypi-", True),
    "shopify-token": (r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}", r"shp(?:at|ca|pa|ss)_", True),
    "digitalocean-token": (r"do[por]_v1_[a-f0-9]{64}", r"do[por]_v1_", True),
    "vault-token": (r"hv[sb]\.[A-Za-z0-9_\-]{24,}", r"hv[sb]\.[A-Za-z0-9_\-]{24}", True),
    "databricks-token": (r"dapi[a-f0-9]{32}", r"dapi[a-f0-9]{32}", True),
    "age-secret-key": (r"AGE-SECRET-KEY-1[0-9A-Z]{58}", r"AGE-SECRET-KEY-1", True),
    "telegram-bot-token": (r"[0-9]{8,10}:AA[A-Za-z0-9_\-]{32,33}(?![A-Za-z0-9_\-])", r"[0-9]{8}:AA[A-Za-z0-9_\-]{32}", True),
    "twilio-key": (r"SK[0-9a-f]{32}(?![A-Za-z0-9])", r"SK[0-9a-f]{32}", True),
    "jwt": (r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", r"eyJ[A-Za-z0-9_\-]{8}", True),
    # curl -u user:PASSWORD (and --user, --proxy-user): keep the user; a uid:gid (-u 1000:1000) is no password.
    "user-password": (r"(?P<keep>(?:-u|--user|--proxy-user)[ \t=]+[\"']?[^\s:\"'@]{1,128}:)(?![0-9]+(?![0-9A-Za-z]))[^\s\"']{3,256}",
                      r"(?:-u|--user|--proxy-user)[ \t=]+[\"']?[^\s:\"'@]{1,128}:", False),
    # Command lines whose tools take a password in a short flag: mysql -pPASSWORD (attached; a
    # bare -p asks for it), sshpass -p, redis-cli -a, zip/unzip -P, 7z -pPASSWORD, openssl pass:.
    "cli-password": (r"(?P<keep>\b(?:(?:mysql|mariadb)[a-z]*\b[^\n|;&]{0,200}?\s-p|7z[az]?\b[^\n|;&]{0,200}?\s-p"
                     r"|sshpass\b[^\n|;&]{0,200}?\s-p\s+|redis-cli\b[^\n|;&]{0,200}?\s-a\s+"
                     r"|(?:un)?zip\b[^\n|;&]{0,200}?\s-P\s+|\bpass:))(?:'[^'\n]{1,256}'|\"[^\"\n]{1,256}\"|[^\s\"']{3,256})",
                     r"(?:mysql|mariadb|7z|sshpass|redis-cli|zip)[^\n|;&]{0,200}\s-[paP]|pass:", False),
    # scheme://user:PASSWORD@host -- keep the user, drop the password (group "keep" is kept).
    "url-password": (r"(?P<keep>://[^\s:/@\"'<>]{0,128}:)[^\s@/\"'<>]{3,256}(?=@)", r"://[^\s/@]*:[^\s/@]*@", False),
}  # fmt: skip
# A PEM private key spans lines; it is searched for on its own.
_PEM = re.compile(
    rb"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
    rb"(?:[\s\S]{0,16384}?-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|[\s\S]{0,16384}\Z)"
)
_PEM_LABEL = b"[REDACTED:private-key]"

_MAX_NAME = 64
# After a secret-looking name: a closing quote, an operator, maybe an auth scheme, a value.
# Quotes may be escaped: JSON inside a JSON string (a tool call's input) reads \"password\": \"…\".
_ASSIGN_TAIL = (
    rb"\\?[\"'`]?[ \t]*(?::=|=>|=|:)[ \t]*"
    rb"(?:(?P<scheme>(?i:bearer|basic|token|digest|bot|apikey|negotiate)[ \t]+))?"
    rb"(?:(?P<q>\\?[\"'`])(?P<quoted>[^\"'`\n]{1,1024}?)(?P=q)"
    rb"|(?P<bare>(?:[^\s\"'`,;(){}\[\]<>\\]|\\(?![\"'`])){1,1024}))"
)
# A name as code writes it: snake_case or camelCase (each capital starts a lowercase hump,
# digits only end one), not a random run of letters and digits.
_MAX_IDENT = 24  # longer runs of letters are keys more often than names
_CODE_IDENT = re.compile(rb"[_$]*(?:[a-z]+|[A-Z][a-z]+)[0-9]*(?:(?:_+[a-z]+|_*[A-Z][a-z]+)[0-9]*)*_*")
_DOTTED = re.compile(rb"[A-Za-z_]+(?:\.[A-Za-z_]+)+")  # self.token, os.environ: letters only, no digits
_NAME_REST = re.compile(rb"(?P<rest>[A-Za-z0-9_.\-]{0,%d})" % _MAX_NAME + _ASSIGN_TAIL)
_IDENT = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."
_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
# A value that starts so is a reference or a placeholder, or no value at all (`a::b` is a path).
_NOT_VALUES = tuple(v.encode() for v in ("$", LABEL, "<", "{{", "%(", ":"))
_PLACEHOLDER = re.compile(rb"[xX*.#_\-]+")  # xxxxxxxx, ****, XXXX-XXXX: a value left out on purpose
_ASSIGNMENT = b"[REDACTED:assignment]"

# A line that ends in a secret-looking name, an operator and maybe the start of a value.
_OPEN_ASSIGNMENT = re.compile(
    rb"(?P<name>[A-Za-z0-9_.\-]{1,%d})[\"'`]?[ \t]*(?::=|=>|=|:)[ \t]*"
    rb"(?:(?i:bearer|basic|token)[ \t]+)?(?P<value>[\"'`]?[^\s\"'`]*)\Z" % _MAX_NAME
)

# CSI, OSC (to BEL or ST), DCS/SOS/PM/APC strings, charset selection and 2-byte escapes; and a
# colour code as a command line writes it (`printf '\033[31mAKIA…'`), which hides a token the same way.
_ESCAPE_NOTATION = rb"\\(?:0?33|[eE]|x1[bB]|u001[bB])\[[0-?]*[ -/]*[@-~]"
_ANSI = re.compile(
    rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[()*+][0-9A-Za-z]|[@-Z\\-_])"
    rb"|" + _ESCAPE_NOTATION
)
_NOTATION = re.compile(_ESCAPE_NOTATION)
_LABELS = re.compile(rb"\[REDACTED(?::[^\]\s]{1,128})?\]")

# Longest stretch a single match can span: the stream redactor keeps this much back.
STREAM_HOLDBACK = 17_000

# A span to replace: (start, end, label, kept prefix length)
_Span = tuple[int, int, bytes, int]


def _re2(pattern: str | bytes) -> Any:
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1  # bytes as they are
    options.log_errors = False
    options.max_mem = 64 << 20
    return re2.compile(pattern.encode() if isinstance(pattern, str) else pattern, options)


_SHAPE_RX = [(f"[REDACTED:{name}]".encode(), re.compile(p.encode()), word) for name, (p, _, word) in _SHAPES.items()]
_ANCHORS = _re2("|".join(f"(?:{anchor})" for _, anchor, _ in _SHAPES.values()))
_WINDOW_BEFORE, _WINDOW_AFTER = 1024, 8192  # around an anchor, within its line
# Where an assignment to a secret-looking name could be: part of a name, then an operator.
# A lone ambiguous word ("PASS: test_x") is no name of a secret: only the unambiguous words, or
# an ambiguous one joined to another word, start a candidate.
_NAME_START = (
    r"(?:(?i:password|passwd|passphrase|secret|token|credential|apikey|authorization|signature)"
    r"|[A-Za-z0-9][_.\-]?(?i:key|pass|pwd|pat|auth|cred|private)"
    r"|(?i:key|pass|pwd|pat|auth|cred|private)(?:[_.\-]?[A-Z0-9]|[_.\-][a-z]))"
    r"[A-Za-z0-9_.\-]*"
)
_NAME_ANCHORS = _re2(_NAME_START + r"\\?[\"'`]?[ \t]*[:=]")
# Most services now mint tokens as a short prefix naming the service and kind, a separator and a
# long random body (lin_api_…, glsa_…, NRAK-…, dp.st.…, key-<hex>); a secret is also often given
# as a command-line option's next word (`--password X`, `--api-key X`), after a secret word and a
# space (`CIRCLE_TOKEN 9f…`), after a lone ambiguous word (`"auth": "Ym9i…"`), or in a cookie.
# None of these has a fixed shape: what tells a secret from an identifier is that its body is
# random (letters and digits mixed, not the humps of a name), which each finder checks.

_TOKEN_PREFIX = r"[A-Za-z][A-Za-z0-9]{1,11}(?:[_.\-][A-Za-z0-9]{1,11}){0,2}[_.\-]"
_PREFIXED = re.compile(rb"(?P<prefix>" + _TOKEN_PREFIX.encode() + rb")(?P<body>[A-Za-z0-9]{20,256})(?![A-Za-z0-9])")
# Where a word starts with such a prefix and a long run of letters and digits follows.
_PREFIXED_ANCHOR = r"(?:^|[^A-Za-z0-9_.\-])" + _TOKEN_PREFIX + r"[A-Za-z0-9]{20}"
# Digests and content addresses are facts, not secrets: a hash algorithm's name before any body
# (sha512-<base64> in a lock file), a word for a hashed thing before a hex one (commit-<sha>).
_HASH_NAMES = frozenset({b"sha1", b"sha224", b"sha256", b"sha384", b"sha512", b"sha3", b"md5", b"blake2b", b"blake3",
                         b"crc32", b"xxh64", b"h1"})  # fmt: skip
_HASHED = frozenset({b"git", b"commit", b"rev", b"revision", b"digest", b"checksum", b"hash", b"build"})
_SEPARATORS = re.compile(rb"[_.\-]")
_HEX = b"0123456789abcdefABCDEF"
_DIGIT_BYTES = b"0123456789"
_LOWER_BYTES = b"abcdefghijklmnopqrstuvwxyz"
_UPPER_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# A secret-looking option or name, then blanks, then its value (the value's checks are below).
_SPACED_NAME = (
    r"(?:--?|\b)(?:(?i:password|passwd|passphrase|secret|token|credentials?|apikey|authorization)"
    r"|[A-Za-z0-9]+(?:[_.\-][A-Za-z0-9]+)*?[_.\-](?i:key|pass|pwd|pat|auth|cred|private|secret|token|password|signature))"
    r"[A-Za-z0-9_.\-]*[ \t]+"
)
_SPACED = re.compile(
    rb"(?P<name>-{0,2}[A-Za-z0-9_.\-]{1,64})[ \t]+(?:(?P<q>[\"'])(?P<quoted>[^\"'\n]{1,1024}?)(?P=q)|(?P<bare>[^\s\"'`;|&<>()]{1,1024}))"
)
# A lone ambiguous word (auth, key, pwd) before an operator: a secret's name only when the value is
# random (not "pass": `--- PASS: TestSIWithDigits` is a test result).
_LONE_WORDS = r"(?i:auth|key|pwd|pat|cred|token)"
_LONE_WORD = _LONE_WORDS + r"\\?[\"'`]?[ \t]*[:=]"
_COOKIE = re.compile(rb"(?i)(?:set-)?cookie[ \t]*:[ \t]*(?P<pairs>[^\r\n\"']+)")
_COOKIE_VALUE = re.compile(rb"(?:^|;)[ \t]*[^=;\s]{1,128}=(?P<value>[^;\s]{8,4096})")
# One scan for the finders of values without a fixed shape; the group that matched says which.
_UNSHAPED = _re2(f"(?P<token>{_PREFIXED_ANCHOR})|(?P<spaced>{_SPACED_NAME}[^\\s\\-])"
                 f"|(?P<lone>(?:^|[^A-Za-z0-9_.\\-]){_LONE_WORD})|(?P<cookie>(?i:(?:set-)?cookie)[ \\t]*:)")
_RANDOM_CHARS = _DIGIT_BYTES + _LOWER_BYTES + _UPPER_BYTES + b"+/=_-.~"  # base64 and URL-safe ones too
_BASE64_MARKS = frozenset(b"+/=")
_DIGIT_RUNS = re.compile(rb"[0-9]+")
_VOWELS = b"aeiouAEIOU"
_HUMPS = re.compile(rb"(?:[A-Z]{2,}(?=[A-Z][a-z]|$)|[A-Z]?[a-z]{2,})+")


# Where, in JSON text, any rule above could find something (a superset): the same anchors, with
# the escapes JSON adds (\" \\ \t) allowed wherever they could stand in a match; an escape
# character or a written colour code (the stripped text is searched too); a PEM header; and an
# object key that may be a secret name (a secret word that no lowercase letter continues, as
# the word split ends it; or one of the words that count anywhere in a word).
_JSON_SUSPECTS = _re2("|".join([
    *(f"(?:{anchor})" for _, anchor, _ in _SHAPES.values()),
    _NAME_START + r"(?:\\[\\\"t]|['` \t])*[:=]",  # a bare " ends a JSON string: no text of it
    r"PRIVATE KEY", r"\\u001[bB]", r"\\(?:0?33|[eE]|x1[bB]|u001[bB])\[",
    r"(?i:password|passwd|secret|credential)(?:[^\"\\]|\\.)*\":",
    r"(?i:" + "|".join(sorted(_SECRET_WORDS)) + r")(?:(?:[^a-z\"\\]|\\.)(?:[^\"\\]|\\.)*)?\":",
]))  # fmt: skip
# The same for the finders of values without a fixed shape: a scan of its own, as one alternation
# with the above makes RE2's automaton three times slower than the two scans together.
_JSON_UNSHAPED = _re2("|".join([
    _PREFIXED_ANCHOR, _SPACED_NAME.replace(r"[ \t]+", r"(?:[ \t]|\\t)+"), r"(?i:cookie)",
    _LONE_WORDS + r"(?:\\[\\\"t]|['` \t])*[:=]",
]))  # fmt: skip


# ---------------------------------------------------------------------- names


_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def _words(name: str) -> list[str]:
    return [w.lower() for part in re.split(r"[_\-.\s]+", name) for w in _CAMEL.findall(part)]


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a variable, key or header name says its value is secret (see the module doc)."""
    if not name or len(name) > _MAX_NAME or name.upper() in _NOT_SECRET_NAMES:
        return False
    words = _words(name)
    if len(words) == 1:
        return words[0] in _SECRET_ALONE
    for i, word in enumerate(words):
        secret = word in _SECRET_WORDS or any(s in word for s in ("password", "passwd", "secret", "credential"))
        if secret and not (i and words[i - 1] in _NOT_SECRET_BEFORE) and not _QUALIFIERS.intersection(words[i + 1 :]):
            return True
    return False


# ---------------------------------------------------------------------- known values


class _Known:
    """The process's literal secret values (value -> label), copied on write so a reader
    (maybe on another thread) always sees one consistent list."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._labels: dict[bytes, bytes] = {}
        self.items: tuple[tuple[bytes, bytes], ...] = ()  # longest first

    def add(self, pairs: Iterable[tuple[str, str]]) -> bool:
        """Remember (value, name) pairs; True when any was new."""
        with self._lock:
            new = {_b(v): _b(f"[REDACTED:{name}]") for v, name in pairs if _worth_remembering(v)}
            new = {v: label for v, label in new.items() if v not in self._labels}
            if not new:
                return False
            self._labels.update(new)
            while len(self._labels) > MAX_KNOWN_VALUES:
                del self._labels[next(iter(self._labels))]
            self.items = _longest_first(self._labels.items())
            return True


def _worth_remembering(value: str) -> bool:
    return len(value) >= MIN_SECRET_VALUE_LEN and "\n" not in value and LABEL not in value and value.strip() == value


def _longest_first(pairs: Iterable[tuple[bytes, bytes]]) -> tuple[tuple[bytes, bytes], ...]:
    # Longest first so a value that contains another is replaced whole.
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


_KNOWN = _Known()


def remember(values: Mapping[str, str]) -> bool:
    """Add name -> value pairs whose names look secret to the values redacted everywhere in
    this process (a shell exported them, a command assigned them). True when any was new."""
    return _KNOWN.add((v, k) for k, v in values.items() if isinstance(v, str) and is_secret_name(k))


def secret_items(env: Mapping[str, str]) -> dict[str, str]:
    """name -> value for the values worth redacting literally: secret-named, long enough to be specific."""
    return {k: v for k, v in env.items() if is_secret_name(k) and _worth_remembering(v)}


# ---------------------------------------------------------------------- finding


def _b(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _assignment_matches(data: bytes) -> list[tuple[bytes, int, int]]:
    """(name, value start, value end) of each value assigned to a secret-looking name, in any
    of the usual syntaxes."""
    found = []
    for hit in _NAME_ANCHORS.finditer(data):
        m = _NAME_REST.match(data, hit.start())
        if m is None:
            continue
        group = "quoted" if m.start("quoted") >= 0 else "bare"
        start, end = m.span(group)
        if _no_value(data[start:end]):
            continue
        head = data[max(0, hit.start() - _MAX_NAME) : hit.start()]
        name = (head[len(head.rstrip(_IDENT)) :] + m.group("rest")).strip(b"-.")
        if not _is_secret_name_b(name):
            continue
        if group == "bare" and (data[end : end + 1] in (b"(", b"[") or (
                (_DOTTED.fullmatch(data, start, end) or (end - start <= _MAX_IDENT and _CODE_IDENT.fullmatch(
                    data, start, end))) and _code_name(name))):
            continue  # code, not a value: a call (`token = make_token(`), an index, or, after a name
            # spelled as code, an attribute (`token = self.token`) or another name (`cacheKey = elementType`)
        if b"${" in data[start:end]:
            continue  # a template (`key = \`animation-${mode}\``): made from other values, not one
        found.append((name, start, end))
    return found


def _no_value(value: bytes) -> bool:
    """Too short for a secret, a reference (`$X`), a placeholder (`xxxx`) or no value at all."""
    return len(value) < MIN_SECRET_VALUE_LEN or value.startswith(_NOT_VALUES) or bool(_PLACEHOLDER.fullmatch(value))


@lru_cache(maxsize=4096)
def _is_secret_name_b(name: bytes) -> bool:
    return is_secret_name(name.decode("latin-1"))


@lru_cache(maxsize=4096)
def _code_name(name: bytes) -> bool:
    """A name as code spells it (not ALL_CAPS, as environments and .env files do) whose secret
    word is an ambiguous one (cacheKey, auth_token): bound to another bare name, it holds a
    reference, not a secret."""
    text = name.decode("latin-1")
    return (not text.isupper() and "-" not in text  # a header or a flag (x-api-key) is no variable
            and not any(w in _SECRET_ALONE for w in _words(text) if w != "token"))


# ---------------------------------------------------------------------- tokens without a known shape


def _random(value: bytes, least: int = 16) -> bool:
    """Whether a value looks random (a key, not a word, a name, a number or a path)."""
    if len(value) < least or value.startswith(b"http") or value.translate(None, _RANDOM_CHARS) or _path(value):
        return False  # (counting below by what deleting a class of bytes leaves: done in C)
    n = len(value)
    digits = n - len(value.translate(None, _DIGIT_BYTES))
    lower = n - len(value.translate(None, _LOWER_BYTES))
    upper = n - len(value.translate(None, _UPPER_BYTES))
    digit_runs = len(_DIGIT_RUNS.findall(value))
    if digit_runs <= 1 and _CODE_IDENT.fullmatch(value) and (
            n < 16 or b"_" in value or n - len(value.translate(None, _VOWELS)) >= 0.28 * (lower + upper)):
        return False  # a name in humps (Base64InputStream): words have vowels; random letters a fifth
    if digits and not value.translate(None, _HEX):
        return n >= 32  # a hex secret is long; shorter hex is an id or an abbreviated hash
    if lower and upper:
        if digits >= 2 or any(c in _BASE64_MARKS for c in value):
            return True  # both cases and digits, yet not the humps of a name
        # Letters (and a digit at most): random, unless words in humps, acronyms among them
        # (TestSIWithDigits, TestHTTPServerHandlesJSON), which random letters hardly ever make.
        return not _HUMPS.fullmatch(value)
    return digit_runs >= 3 and lower + upper >= 4  # one case, digits all over (NRAK-3JGL26HBZ…, not x86_64)


def _path(value: bytes) -> bool:
    """A file's path (`~/.ssh/id_ed25519`), not a base64 value that starts with a slash."""
    return (value.startswith((b"/", b"~", b"./", b"../")) and b"+" not in value and b"=" not in value
            and not any(_random(part, 8) for part in value.split(b"/")))  # fmt: skip


def _token_at(data: bytes, at: int) -> list[_Span]:
    """A prefixed token (lin_api_…) whose word starts at `at` or just after it."""
    start = at + (data[at] not in _IDENT)  # past the character before the word
    m = _PREFIXED.match(data, start)
    if m is None or not _random(body := m.group("body"), 20):
        return []
    name = _SEPARATORS.split(m.group("prefix"))[0].lower()
    if name in _HASH_NAMES or (name in _HASHED and not body.translate(None, _HEX)):
        return []
    return [(start, m.end(), b"[REDACTED:token]", 0)]


def _spaced_at(data: bytes, at: int) -> list[_Span]:
    """A secret option's or name's value after blanks: an option's (`--password X`) when it is
    no reference, path or placeholder; a bare name's (`TOKEN X`) only when it looks random."""
    m = _SPACED.match(data, at)
    if m is None:
        return []
    name = m.group("name")
    option = name.startswith(b"-")
    if not _is_secret_name_b(name.lstrip(b"-")):
        return []
    start, end = m.span("quoted" if m.start("quoted") >= 0 else "bare")
    value = data[start:end]
    if _no_value(value):
        return []
    if option and (_path(value) or value.startswith((b"@", b"-")) or b"${" in value):
        return []  # a file to read it from, or no value
    if not option and not _random(value):
        return []  # prose: "the token expired"
    return [(start, end, _ASSIGNMENT, 0)]


def _lone_word_at(data: bytes, at: int) -> list[_Span]:
    """`auth: Ym9i…`, `"key": "9f2…"`: a lone ambiguous word's value when it looks random."""
    m = _NAME_REST.match(data, at + (data[at] not in _WORD and data[at] not in b"-."))
    if m is None:
        return []
    group = "quoted" if m.start("quoted") >= 0 else "bare"
    start, end = m.span(group)
    if group == "bare" and (data[end : end + 1] in (b"(", b"[") or _DOTTED.fullmatch(data, start, end)):
        return []  # code: `const key = folder.uri.toString()`
    return [(start, end, _ASSIGNMENT, 0)] if _random(data[start:end]) else []


def _cookie_at(data: bytes, at: int) -> list[_Span]:
    """Each value of a Cookie or Set-Cookie header (the cookies' names stay)."""
    line = _COOKIE.match(data, at)
    if line is None or (at and data[at - 1] in _IDENT):
        return []
    pairs = line.start("pairs")
    return [(pairs + v.start("value"), pairs + v.end("value"), b"[REDACTED:cookie]", 0)
            for v in _COOKIE_VALUE.finditer(line.group("pairs"))]  # fmt: skip


_UNSHAPED_AT = {b"token": _token_at, b"spaced": _spaced_at, b"lone": _lone_word_at, b"cookie": _cookie_at}


def _unshaped_spans(data: bytes) -> list[_Span]:
    """The finders above, where one scan for all of them says which could match."""
    spans: list[_Span] = []
    for hit in _UNSHAPED.finditer(data):
        spans += _UNSHAPED_AT[hit.lastgroup](data, hit.start())
    return spans


def _shape_spans(data: bytes) -> list[_Span]:
    spans: list[_Span] = []
    windows: list[list[int]] = []
    for m in _ANCHORS.finditer(data):
        at = m.start()
        if windows and at < windows[-1][1]:
            continue
        start = max(data.rfind(b"\n", 0, at) + 1, at - _WINDOW_BEFORE)
        end = data.find(b"\n", at)
        end = min(len(data) if end < 0 else end, at + _WINDOW_AFTER)
        if windows and start <= windows[-1][1]:
            windows[-1][1] = end
        else:
            windows.append([start, end])
    for start, end in windows:
        for label, rx, word_start in _SHAPE_RX:
            for m in rx.finditer(data, start, end):
                # Token shapes must start a word ("task-..." holds no "sk-" key). Checked here,
                # not with a look-behind, which would cost the regex its fast literal scan.
                if word_start and m.start() > 0 and data[m.start() - 1] in _WORD:
                    continue
                keep = m.end("keep") - m.start() if "keep" in rx.groupindex else 0
                spans.append((m.start(), m.end(), label, keep))
    return spans


class _Literals:
    """Known secret values (longest first) and their labels, searched together: a handful with
    substring searches, more with one RE2 alternation (a search per value would make every
    byte cost as many scans as there are values)."""

    FEW = 4

    def __init__(self, pairs: tuple[tuple[bytes, bytes], ...]) -> None:
        self.pairs = pairs
        self.longest = len(pairs[0][0]) if pairs else 0
        self._labels = dict(pairs)
        self._rx = _re2(b"|".join(re.escape(v) for v, _ in pairs)) if len(pairs) > self.FEW else None
        self._as_json: dict[bool, _Literals] = {}

    def as_json(self, ensure_ascii: bool) -> _Literals:
        """The values also as JSON writes them inside a string (a quote or a tab escaped)."""
        found = self._as_json.get(ensure_ascii)
        if found is None:
            forms = {_b(json.dumps(v.decode("utf-8", "surrogatepass"), ensure_ascii=ensure_ascii)[1:-1]): label
                     for v, label in self.pairs}  # fmt: skip
            found = self._as_json[ensure_ascii] = _Literals(_longest_first({**dict(self.pairs), **forms}.items()))
        return found

    def spans(self, data: bytes) -> list[_Span]:
        if self._rx is not None:
            return [(m.start(), m.end(), self._labels[m.group()], 0) for m in self._rx.finditer(data)]
        spans: list[_Span] = []
        for value, label in self.pairs:
            i = data.find(value)
            while i >= 0:
                spans.append((i, i + len(value), label, 0))
                i = data.find(value, i + len(value))
        return spans


def _plain_spans(data: bytes, values: _Literals) -> list[_Span]:
    spans = values.spans(data)
    if b"PRIVATE KEY" in data:
        spans += [(m.start(), m.end(), _PEM_LABEL, 0) for m in _PEM.finditer(data)]
    spans += _shape_spans(data)
    spans += [(a, b, _ASSIGNMENT, 0) for _, a, b in _assignment_matches(data)]
    spans += _unshaped_spans(data)
    return spans


def _found_verbatim(data: bytes, stripped: bytes, hidden: list[_Span]) -> list[_Span] | None:
    """The hidden spans where they stand in the original, when no escape sits inside them (the
    usual case: a colour around a token); None when one does. Cheaper than a full map of a
    text with thousands of escapes."""
    out: list[_Span] = []
    last_data = last_stripped = 0
    for start, end, label, keep in sorted(hidden):
        piece = stripped[start:end]
        at = data.find(piece, last_data)
        if start < last_stripped or at < 0 or len(_ANSI.sub(b"", data[last_data:at])) != start - last_stripped:
            return None
        out.append((at, at + len(piece), label, keep))
        last_data, last_stripped = at + len(piece), end
    return out


def _mapped(data: bytes, hidden: list[_Span]) -> list[_Span]:
    at, removed = _ansi_map(data)

    def orig(i: int) -> int:  # original index of stripped byte i
        k = bisect.bisect_right(at, i)
        return i + (removed[k - 1] if k else 0)

    return [(orig(start + keep) - keep, orig(end - 1) + 1, label, keep) for start, end, label, keep in hidden]


def _ansi_map(data: bytes) -> tuple[list[int], list[int]]:
    """Where each escape was removed (in stripped positions) and the total removed up to and
    including it, to map positions in the stripped data back."""
    at: list[int] = []
    removed: list[int] = []
    total = 0
    for m in _ANSI.finditer(data):
        at.append(m.start() - total)
        total += m.end() - m.start()
        removed.append(total)
    return at, removed


def _find(data: bytes, values: _Literals) -> list[_Span]:
    """All secret spans in data, sorted, without overlaps (the earliest, then longest, wins)."""
    if len(data) < MIN_SECRET_VALUE_LEN:
        return []  # shorter than any secret the rules hide
    spans = _plain_spans(data, values)
    # Also look at the text as a terminal shows it, and map back.
    if b"\x1b" in data or (b"\\" in data and _NOTATION.search(data)):
        stripped = _ANSI.sub(b"", data)
        hidden = _plain_spans(stripped, values)
        if hidden:
            spans += _found_verbatim(data, stripped, hidden) or _mapped(data, hidden)
    if not spans:
        return spans
    if _LABEL_B in data:  # never redact inside an existing label: redaction is idempotent
        labels = [(m.start(), m.end()) for m in _LABELS.finditer(data)]
        spans = [s for s in spans if not any(a < s[1] and s[0] + s[3] < b for a, b in labels)]
    if len(spans) > 1:
        spans.sort(key=lambda s: (s[0], -s[1]))
        merged = [spans[0]]
        for s in spans[1:]:
            if s[0] >= merged[-1][1]:
                merged.append(s)
        spans = merged
    # A length-capped match may stop inside a UTF-8 character: hide that character whole.
    n = len(data)
    for k, (start, end, label, keep) in enumerate(spans):
        if end < n and 0x80 <= data[end] < 0xC0:
            while end < n and 0x80 <= data[end] < 0xC0:
                end += 1
            spans[k] = (start, end, label, keep)
    return spans


def _apply(data: bytes, spans: list[_Span], upto: int | None = None) -> bytes:
    if not spans:
        return data if upto is None else data[:upto]
    out = []
    pos = 0
    for start, end, label, keep in spans:
        out.append(data[pos : start + keep])
        out.append(label)
        pos = end
    out.append(data[pos:upto])
    return b"".join(out)


# ---------------------------------------------------------------------- redacting


class Redactor:
    """Redacts known token shapes, assignments to secret names, the process's known secret
    values and its own: the secret-named values of `env` and `extra_values`."""

    def __init__(self, env: Mapping[str, str] | None = None, extra_values: Iterable[str] = ()) -> None:
        own = {_b(v): _b(f"[REDACTED:{k}]") for k, v in secret_items(env or {}).items()}
        for i, v in enumerate(extra_values):
            if _worth_remembering(v):
                own.setdefault(_b(v), _b(f"[REDACTED:secret{i}]"))
        self._own = tuple(own.items())
        self._cache: tuple[object, _Literals, dict[str, None], dict[str, None]] = (None, _Literals(()), {}, {})

    def _state(self) -> tuple[object, _Literals, dict[str, None], dict[str, None]]:
        """The known values, and the texts and JSON texts found clean against them (renewed
        with them: a text clean before a value became known may hold it). One tuple, read at
        once, so a thread never pairs a memo with values it was not made against."""
        known = _KNOWN.items
        if self._cache[0] is not known:
            pairs = _longest_first({**dict(known), **dict(self._own)}.items()) if self._own else known
            self._cache = (known, _Literals(pairs), {}, {})
        return self._cache

    def _values(self) -> _Literals:
        return self._state()[1]

    @property
    def max_value_len(self) -> int:
        return self._values().longest

    def text(self, text: str) -> str:
        _, values, clean, _ = self._state()
        if text in clean:  # the same text again (a session id, a body redacted before it is stored)
            return text
        data = _b(text)
        spans = _find(data, values)
        if spans:
            return _apply(data, spans).decode("utf-8", "surrogatepass")
        _remember_clean(clean, text)
        return text

    def json_is_clean(self, text: str, ensure_ascii: bool = False) -> bool:
        """Whether no rule could find anything in this JSON text, nor in any string it holds (one
        search for a superset of what the rules match: False says only "look closer")."""
        _, values, _, clean = self._state()
        memo = not ensure_ascii  # one encoding's texts in the memo: a secret's escapes differ in the other
        if memo and text in clean:  # the same record again (a message checked before it is stored)
            return True
        data = _b(text)
        if (_JSON_SUSPECTS.search(data) is not None or _JSON_UNSHAPED.search(data) is not None
                or values.as_json(ensure_ascii).spans(data)):
            return False
        if memo:
            _remember_clean(clean, text)
        return True

    def spans(self, data: bytes) -> list[_Span]:
        return _find(data, self._values())

    def bytes(self, data: bytes) -> bytes:
        return _apply(data, self.spans(data))


def _remember_clean(clean: dict[str, None], text: str) -> None:
    if len(text) <= CLEAN_MEMO_MAX_LEN:
        if len(clean) >= CLEAN_MEMO_SIZE:
            clean.clear()
        clean[text] = None


_PROCESS = Redactor()
remember(os.environ)  # this process's own secrets, once (rescanning per call would dominate)


def redact(text: str, extra_values: Iterable[str] | None = None, *, env: Mapping[str, str] | None = None) -> str:
    """The redaction function: secret shapes, assignments to secret names, this process's known
    secret values, `extra_values` and the secret-named values of `env`, in `text`."""
    if extra_values is None and env is None:
        return _PROCESS.text(text)
    return Redactor(env, extra_values or ()).text(text)


def redact_bytes(data: bytes, extra_values: Iterable[str] | None = None, *, env: Mapping[str, str] | None = None) -> bytes:
    if extra_values is None and env is None:
        return _PROCESS.bytes(data)
    return Redactor(env, extra_values or ()).bytes(data)


def redact_data(value: Any, *, by_key: bool = True, own_keys: bool = False) -> Any:
    """`redact` over every string of a JSON-like value (keys too, unless `own_keys` says the
    top-level keys are the caller's own names, a model's fields). With `by_key`, a string
    under a secret-looking key is hidden whole, whatever its shape. Returns `value` itself
    when nothing changed, so a caller can tell cheaply."""
    if isinstance(value, str):
        return _PROCESS.text(value)
    if isinstance(value, dict):
        changed = False
        out: dict[Any, Any] = {}
        for k, v in value.items():
            new_k = _PROCESS.text(k) if isinstance(k, str) and not own_keys else k
            if by_key and isinstance(v, str) and isinstance(k, str) and _hidden_by_key(k, v):
                new_v: Any = f"[REDACTED:{k}]"
            else:
                new_v = redact_data(v, by_key=by_key)
            changed = changed or new_k is not k or new_v is not v
            out[new_k] = new_v
        return out if changed else value
    if isinstance(value, (list, tuple)):
        items = [redact_data(v, by_key=by_key) for v in value]
        if any(a is not b for a, b in zip(items, value, strict=True)):
            return type(value)(items) if isinstance(value, tuple) else items
        return value
    return value


# json.dumps with an option builds an encoder per call: one each, made once.
_JSON_ENCODERS = {ascii_only: json.JSONEncoder(ensure_ascii=ascii_only).encode for ascii_only in (False, True)}


def redact_json(value: Any, *, by_key: bool = True, ensure_ascii: bool = False) -> str:
    """`json.dumps(redact_data(value, by_key=by_key), ensure_ascii=ensure_ascii)`, fast on
    ordinary data (see `redact_json_rows`)."""
    return redact_json_rows([value], by_key=by_key, ensure_ascii=ensure_ascii)[0]


def redact_json_rows(values: Sequence[Any], *, by_key: bool = True, ensure_ascii: bool = False) -> list[str]:
    """`redact_json` of each value, found fast: the JSON texts are searched at once for
    anything a rule could match (`_JSON_SUSPECTS`, `_JSON_UNSHAPED`, and the known values as JSON writes them),
    and only where something could is a value redacted string by string. A search per string
    (or per row) costs more than encoding the row; most rows hold nothing."""
    encode = _JSON_ENCODERS[ensure_ascii]
    texts = [encode(v) for v in values]
    if json_is_clean("\n".join(texts), ensure_ascii=ensure_ascii):
        return texts
    if len(texts) > 1:  # look at each row on its own: most still hold nothing
        return [redact_json(v, by_key=by_key, ensure_ascii=ensure_ascii) for v in values]
    return [encode(redact_data(values[0], by_key=by_key))]


def json_is_clean(text: str, *, ensure_ascii: bool = False) -> bool:
    """Whether no rule could find anything in this JSON text, nor in any string it holds."""
    return _PROCESS.json_is_clean(text, ensure_ascii)


def _hidden_by_key(key: str, value: str) -> bool:
    data = _b(value)
    return (len(value) >= MIN_SECRET_VALUE_LEN and not data.startswith(_NOT_VALUES) and not _PLACEHOLDER.fullmatch(data)
            and is_secret_name(key))  # fmt: skip


def secret_assignments(text: str) -> dict[str, str]:
    """name -> value of the assignments to secret-looking names in `text` (a command line,
    a .env file): what a shell is about to hold, so its output can be redacted at once."""
    data = _b(text)
    return {
        name.decode("latin-1"): data[a:b].decode("utf-8", "replace")
        for name, a, b in _assignment_matches(data)
    }


class StreamRedactor:
    """Redacts a byte stream fed in arbitrary pieces.

    Keeps back the last `holdback` bytes (and any match reaching into them) until more data,
    `drain()` or `flush()` arrives, so a token split across two reads is seen whole. The
    concatenated output equals `Redactor.bytes` over the concatenated input for every secret
    shorter than the holdback (all the shapes above are) when only `feed` and `flush` are
    used. `drain()` gives out what is held back now (a reader calls it when the writer has
    paused, so a live view never waits), except what may still become a secret: an
    unfinished private key block, and a value being written after a secret-looking name.
    The last bytes given out stay as context, so a match that began in them still hides
    the rest of the secret.
    """

    CONTEXT = 1024

    def __init__(self, redactor: Redactor | None = None, holdback: int | None = None, batch: int = 256 * 1024) -> None:
        self._r = redactor or _PROCESS
        self._hold = holdback if holdback is not None else max(STREAM_HOLDBACK, self._r.max_value_len * 2)
        # Work in batches: each pass rescans the held-back part, so tiny reads (a PTY gives
        # 4 KiB at a time) would otherwise rescan it over and over.
        self._batch = batch
        self._buf = b""
        self._ctx = b""  # the end of what was given out, as it came in

    def feed(self, data: bytes) -> bytes:
        buf = self._buf + data if self._buf else data
        if len(buf) <= self._hold + self._batch:
            self._buf = buf
            return b""
        return self._emit(buf, len(buf) - self._hold)

    def drain(self, *, lines_only: bool = False) -> bytes:
        """What is held back, redacted as far as it can be seen now (see the class doc). With
        `lines_only` an unfinished last line stays too (its end may be a token's end)."""
        buf = self._buf
        if not buf:
            return b""
        cut = buf.rfind(b"\n") + 1 if lines_only else len(buf)
        seen = self._ctx + buf
        tail = _OPEN_ASSIGNMENT.search(seen, max(0, len(seen) - 4096))
        if tail and _is_secret_name_b(tail.group("name").strip(b"-.")):
            cut = min(cut, max(0, tail.start("value") - len(self._ctx)))  # a value is being written (or typed)
        return self._emit(buf, cut, private_key_open=True)

    @property
    def holding(self) -> bool:
        return bool(self._buf)

    def flush(self) -> bytes:
        return self._emit(self._buf, len(self._buf)) if self._buf else b""

    def _emit(self, buf: bytes, cut: int, *, private_key_open: bool = False) -> bytes:
        offset = len(self._ctx)
        spans = self._r.spans(self._ctx + buf)
        last = spans[-1] if spans else None
        if (private_key_open and last and last[2] == _PEM_LABEL and last[1] == offset + len(buf)
                and b"-----END" not in buf[max(0, last[0] - offset) :]):  # fmt: skip
            cut = min(cut, max(0, last[0] - offset))  # the key's end has not come yet
        done = []
        for start, end, label, keep in spans:
            if end <= offset:
                continue  # given out already
            if start + keep < offset:  # began in what was given out: hide the rest of it
                start, keep = offset, 0
            start, end = start - offset, end - offset
            if end >= cut and cut < len(buf):  # reaches the kept-back part: it may still grow, decide later
                cut = min(cut, start)
                break
            done.append((start, end, label, keep))
        self._buf = buf[cut:]
        self._ctx = (self._ctx + buf[:cut])[-self.CONTEXT :]
        return _apply(buf, done, cut)
