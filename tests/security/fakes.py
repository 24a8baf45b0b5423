"""Fake secrets made at test time from the shapes of real ones (never a fixed list the
redactor could have been tuned on), and scanners that look for them in raw bytes."""

from __future__ import annotations

import base64
import json
import random
import secrets
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass

ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"


def rand(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Fake:
    """One planted secret: `text` is what is planted, `value` what must never be found."""

    kind: str
    text: str
    value: str


def _value() -> str:
    # A password as people make them: letters, digits and some punctuation, 12-28 long.
    return rand(ALNUM, 1) + rand(ALNUM + "%+-_.", random.randint(11, 27))


def _name(words: list[str]) -> str:
    prefix = random.choice(["", "APP_", "DB_", "PROD_", "MY_SERVICE_", "CI_"])
    suffix = random.choice(["", "_PROD", "_V2", "_MAIN"])
    return f"{prefix}{random.choice(words)}{suffix}"


def _assignment(kind: str, words: list[str]) -> Fake:
    value = _value()
    return Fake(kind, f"{_name(words)}={value}", value)


def _pem() -> Fake:
    body = "\n".join(base64.b64encode(secrets.token_bytes(48)).decode() for _ in range(6))
    kind = random.choice(["RSA ", "EC ", "OPENSSH ", ""])
    return Fake("pem", f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----", body.split("\n")[2])


def _jwt() -> Fake:
    head = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64url(json.dumps({"sub": rand(ALNUM, 12), "exp": random.randint(10**9, 2 * 10**9)}).encode())
    token = f"{head}.{body}.{_b64url(secrets.token_bytes(32))}"
    return Fake("jwt", token, token)


def _prefix() -> str:
    """A service's token prefix as services make them: letters, maybe a kind, a separator."""
    head = rand(string.ascii_lowercase, random.randint(2, 6))
    kind = random.choice(["", "_api", "_pat", ".st", "-live"])
    return head + kind + random.choice(["_", "-", "."])


def _token(token: str) -> Fake:
    return Fake("prefixed-token", f"using {token} now", token)


def _shape(kind: str, make: Callable[[], str]) -> Callable[[], Fake]:
    return _framed(kind, lambda token: token, make)


def _framed(kind: str, frame: Callable[[str], str], value: Callable[[], str]) -> Callable[[], Fake]:
    """A secret value inside the text that carries it (a URL, a JSON object, a header)."""

    def build() -> Fake:
        v = value()
        return Fake(kind, frame(v), v)

    return build


# kind -> maker. Names in assignments follow the documented rule: one of their words is key,
# pass, passwd, password, pwd, pat, secret, token, credential(s), auth, private.
MAKERS: dict[str, Callable[[], Fake]] = {
    "aws-access-key": _shape("aws-access-key", lambda: random.choice(["AKIA", "ASIA"]) + rand(UPPER_DIGITS, 16)),
    "github-pat-classic": _shape("github-pat-classic", lambda: "ghp_" + rand(ALNUM, 36)),
    "github-pat-fine": _shape("github-pat-fine", lambda: "github_pat_" + rand(ALNUM + "_", 82)),
    "openai-key": _shape("openai-key", lambda: "sk-" + rand(ALNUM, 48)),
    "openai-project-key": _shape("openai-project-key", lambda: "sk-proj-" + rand(ALNUM + "-_", 64)),
    "anthropic-key": _shape("anthropic-key", lambda: "sk-ant-api03-" + rand(ALNUM + "-_", 93) + "AA"),
    "slack-token": _shape("slack-token", lambda: f"xox{random.choice('bpa')}-{rand(string.digits, 12)}-{rand(ALNUM, 24)}"),
    "stripe-live": _shape("stripe-live", lambda: random.choice(["sk_live_", "rk_live_"]) + rand(ALNUM, 24)),
    "google-api-key": _shape("google-api-key", lambda: "AIza" + rand(ALNUM + "-_", 35)),
    "sendgrid-key": _shape("sendgrid-key", lambda: f"SG.{rand(ALNUM + '-_', 22)}.{rand(ALNUM + '-_', 43)}"),
    "npm-token": _shape("npm-token", lambda: "npm_" + rand(ALNUM, 36)),
    "jwt": _jwt,
    "pem": _pem,
    "url-password": _framed("url-password", lambda v: f"postgres://app:{v}@db.internal:5432/main", lambda: rand(ALNUM, 18)),
    "env-secret-key": lambda: _assignment("env-secret-key", ["SECRET_KEY", "DJANGO_SECRET_KEY", "ENCRYPTION_KEY"]),
    "env-password": lambda: _assignment("env-password", ["PASSWORD", "ADMIN_PASS", "REDIS_PWD", "DB_PASSWD"]),
    "env-token": lambda: _assignment("env-token", ["TOKEN", "AUTH_TOKEN", "GH_PAT", "API_TOKEN"]),
    "env-credential": lambda: _assignment("env-credential", ["CREDENTIALS", "SERVICE_CREDENTIAL", "PRIVATE_KEY"]),
    "json-pair": _framed("json-pair", lambda v: json.dumps({random.choice(["SecretAccessKey", "client_secret", "apiKey",
                                                                          "password"]): v}), _value),
    "auth-header": _framed("auth-header", lambda v: f"Authorization: Bearer {v}", lambda: rand(ALNUM, 40)),
    "api-key-header": _framed("api-key-header", lambda v: f"x-api-key: {v}", lambda: rand(ALNUM, 32)),
    # Kinds with no fixed shape: a made-up service's prefixed token, secrets given as a command's
    # options, after a name and a blank, under a lone ambiguous key, in a cookie.
    "prefixed-token": lambda: _token(_prefix() + rand(ALNUM, random.randint(24, 48))),
    "option-value": _framed("option-value", lambda v: f"{random.choice(['deploy', 'docker login -u ci', 'psql-admin'])} "
                            f"--{random.choice(['password', 'api-key', 'token', 'client-secret'])} {v} --verbose", _value),
    "curl-user": _framed("curl-user", lambda v: f"curl -fsS -u {rand(string.ascii_lowercase, 6)}:{v} https://api.example.com/x",
                         lambda: rand(ALNUM, 16)),
    "spaced-name": _framed("spaced-name", lambda v: f"{_name(['TOKEN', 'API_KEY', 'SECRET'])} {v}", lambda: rand(ALNUM, 32)),
    "lone-key": _framed("lone-key", lambda v: json.dumps({"auths": {"registry.example.com": {"auth": v}}}),
                        lambda: base64.b64encode(secrets.token_bytes(24)).decode()),
    "cli-password": _framed("cli-password", lambda v: random.choice([f"mysql -u app -p{v} shop", f"sshpass -p {v} ssh ci@host",
                                                                      f"redis-cli -h cache -a {v} ping",
                                                                      f"openssl enc -aes256 -pass pass:{v} -in f"]), _value),
    "cookie": _framed("cookie", lambda v: f"< Set-Cookie: {rand(string.ascii_lowercase, 7)}={v}; Path=/; HttpOnly",
                      lambda: rand(ALNUM, 32)),
}


def plant(kinds: Iterable[str] | None = None, copies: int = 1) -> list[Fake]:
    """Fresh fakes: `copies` of each kind."""
    return [MAKERS[k]() for k in (kinds or MAKERS) for _ in range(copies)]


def found(data: bytes | str, fakes: Iterable[Fake]) -> list[Fake]:
    """The fakes whose secret value occurs in data (as UTF-8, or JSON-escaped)."""
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    hits = []
    for f in fakes:
        forms = {f.value.encode(), json.dumps(f.value)[1:-1].encode()}
        if any(form in raw for form in forms):
            hits.append(f)
    return hits
