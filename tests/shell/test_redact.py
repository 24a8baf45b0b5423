"""Secret redaction: shapes, secret env values, and secrets split across reads."""

from __future__ import annotations

import json

import pytest

from ai_session.core.redact import Redactor, StreamRedactor, is_secret_name, redact, redact_bytes, remember
from ai_session.core.shell.env import restorable

GH = "ghp_" + "a1B2" * 9
SAMPLES = {
    "aws-access-key": "AKIAIOSFODNN7EXAMPLE",
    "github-token": GH,
    "github-token-pat": "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    "api-key": "sk-proj-" + "x" * 40,
    "anthropic": "sk-ant-api03-" + "Z9" * 20,
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "slack-token": "xoxb-123456789012-abcdefghijkl",
}
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabc==\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_known_shapes(name: str) -> None:
    secret = SAMPLES[name]
    out = redact(f"before {secret} after")
    assert secret not in out and out.startswith("before [REDACTED:") and out.endswith(" after")


def test_pem_block_and_unterminated_pem() -> None:
    out = redact(f"key:\n{PEM}\nnext line")
    assert out == "key:\n[REDACTED:private-key]\nnext line"
    assert "MIIE" not in redact("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg")


def test_assignments_and_url_passwords_keep_their_names() -> None:
    assert redact("DB_PASSWORD=hunter2hunter2") == "DB_PASSWORD=[REDACTED:assignment]"
    assert redact('{"api_key": "abcdefgh12345"}') == '{"api_key": "[REDACTED:assignment]"}'
    assert redact("postgres://bob:s3cretpw@db:5432/x") == "postgres://bob:[REDACTED:url-password]@db:5432/x"


def test_ordinary_output_is_untouched() -> None:
    text = (
        "tests/test_x.py:12: AssertionError\nmax_tokens: 4096\ntoken_count = 123456789\n"
        "task-runner-abcdefghijklmnopqrstuv https://example.com/a:b KEYBOARD=us\n"
    )
    assert redact(text) == text


def test_secret_env_values() -> None:
    env = {"MY_SERVICE_TOKEN": "v4lue-of-the-token", "PATH": "/usr/bin", "SHORT_KEY": "abc"}
    r = Redactor(env)
    assert r.text("got v4lue-of-the-token and abc") == "got [REDACTED:MY_SERVICE_TOKEN] and abc"
    assert r.bytes(b"\xffv4lue-of-the-token") == b"\xff[REDACTED:MY_SERVICE_TOKEN]"


def test_secret_names_and_filter_env() -> None:
    for name in ("GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "OPENAI_API_KEY", "PASSWORD", "DB_PASSWORD", "NPM_AUTH"):
        assert is_secret_name(name), name
    for name in ("PATH", "PWD", "OLDPWD", "TOKENIZERS_PARALLELISM", "KEYMAP", "SSH_AUTH_SOCK", "HOME"):
        assert not is_secret_name(name), name
    env = {"PATH": "/bin", "GITHUB_TOKEN": "x", "PWD": "/", "SHLVL": "2", "KEEP": "1"}
    assert restorable(env) == {"KEEP": "1"}


def test_bytes_with_invalid_utf8() -> None:
    data = b"\xff\xfe " + SAMPLES["aws-access-key"].encode() + b" \xc3"
    assert redact_bytes(data) == b"\xff\xfe [REDACTED:aws-access-key] \xc3"


@pytest.mark.parametrize("holdback", [64, 20_000])
def test_secret_split_across_two_reads(holdback: int) -> None:
    env = {"DEPLOY_TOKEN": "literal-secret-value-42"}
    text = ("x" * 100 + f" {GH} " + "y" * 70 + " literal-secret-value-42 " + "z" * 90 + f"\n{PEM}\n").encode()
    expected = Redactor(env).bytes(text)
    assert GH.encode() not in expected and b"literal-secret" not in expected
    for cut in range(len(text) + 1):
        s = StreamRedactor(Redactor(env), holdback=holdback, batch=holdback)
        out = s.feed(text[:cut]) + s.feed(text[cut:]) + s.flush()
        assert out == expected, cut


def test_stream_of_many_small_reads() -> None:
    text = ("noise " * 50 + GH + " ") * 40
    s = StreamRedactor(holdback=300, batch=50)
    out = b"".join(s.feed(text[i : i + 7].encode()) for i in range(0, len(text), 7)) + s.flush()
    assert out == redact(text).encode()


def test_extra_values_and_process_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert redact("pw is correct-horse-battery", ["correct-horse-battery"]) == "pw is [REDACTED:secret0]"
    assert redact("x=abcdefgh999", env={"SOME_SECRET": "abcdefgh999"}) == "x=[REDACTED:SOME_SECRET]"
    assert all(r.startswith("[REDACTED") for r in (redact(GH), redact(PEM)))


def test_names_follow_the_words_of_an_identifier() -> None:
    for name in ("DJANGO_SECRET_KEY", "ENCRYPTION_KEY", "ADMIN_PASS", "REDIS_PWD", "GH_PAT", "DB_PASSWORD_PROD",
                 "SecretAccessKey", "apiKey", "client_secret", "x-api-key", "Authorization", "TOKEN", "PRIVATE_KEY"):
        assert is_secret_name(name), name
    for name in ("PASS", "KEY", "TOKEN_COUNT", "KEY_PATH", "AUTH_TYPE", "PUBLIC_KEY", "max_tokens", "test_auth.py",
                 "KEYBOARD", "AUTHOR", "PATTERN", "COMPATIBLE"):
        assert not is_secret_name(name), name


def test_assignments_in_every_usual_syntax() -> None:
    value = "Vb72NcXe19aaQ"
    for text in (f"export X_PASSWORD={value}", f"DB_PWD={value} ./run", f'{{"SecretAccessKey": "{value}"}}',
                 f"client_secret: {value}", f"--password={value}", f"Authorization: Bearer {value}",
                 f"x-api-key: {value}", f"declare -x GH_PAT='{value}'",
                 json.dumps({"command": f"curl -d '{json.dumps({'password': value})}' x"})):  # JSON in a JSON string
        out = redact(text)
        assert value not in out and "[REDACTED:assignment]" in out, text
        assert redact(out) == out


def test_output_and_code_that_only_look_like_assignments_are_kept() -> None:
    text = (
        "--- PASS: TestBigByteParsing (0.00s)\n"
        "FAILED tests/test_auth.py::test_token_expiry - assert 3600 == 60\n"
        "src/auth.ts:12:5 error TS2345\n"
        "token = make_token(user)\n"
        "api_key = os.environ['API_KEY']\n"
        "auth_token = self.auth_token_value\n"
        "PASS_RE = re.compile(r'x')\n"
        "std::string token_value;\n"
        "password: $DB_PASSWORD\n"
    )
    assert redact(text) == text


def test_ansi_escapes_do_not_hide_a_token() -> None:
    for text in (f"\x1b[31m{SAMPLES['aws-access-key']}\x1b[0m", f"c.yml:token: \x1b[01;31m\x1b[Kghp_\x1b[m\x1b[K{'a1B2' * 9}"):
        out = redact(text)
        assert "AKIA" not in out and "a1B2a1B2" not in out and "[REDACTED:" in out, repr(out)
        assert redact(out) == out


def test_a_colour_code_written_in_a_command_line_does_not_hide_a_token() -> None:
    key = SAMPLES["aws-access-key"]
    for command in (f'printf "\\033[31m{key}\\033[0m\\n"', f"echo -e '\\e[1;32m{key}\\e[m'",
                    f"print('\\x1b[31m{key}')", f'console.log("\\u001b[31m{key}")'):
        out = redact(command)
        assert key not in out and "[REDACTED:aws-access-key]" in out, repr(out)
        assert command.replace(key, "[REDACTED:aws-access-key]") == out  # the rest of the line stays as written


def test_a_live_stream_hides_a_value_typed_after_a_secret_name() -> None:
    s = StreamRedactor()
    shown = b""
    for piece in (b"$ export MY_TOKEN", b"=", b"Vb72Nc", b"Xe19aaQ", b"\r\n$ "):
        shown += s.feed(piece) + s.drain()
    shown += s.flush()
    assert b"Vb72Nc" not in shown and shown.endswith(b"MY_TOKEN=[REDACTED:assignment]\r\n$ ")


def test_the_corpus_of_real_outputs_is_left_alone_but_for_its_one_real_token() -> None:
    from pathlib import Path

    changed = {}
    for raw in sorted((Path(__file__).resolve().parents[1] / "corpus").glob("*/raw.txt")):
        data = raw.read_bytes()
        if (out := redact_bytes(data)) != data:
            changed[raw.parent.name] = out.count(b"[REDACTED:")
    # vite prints its dev server's websocket token (webSocketToken: '...'): that one is a secret.
    assert changed == {"27-vite-build-success-verbose": 1}


def test_a_text_found_clean_is_redacted_once_its_secret_becomes_known() -> None:
    # The redactor remembers texts it found clean; a value learnt later must still be hidden in them.
    value = "plain-looking-value-7f3a9c2e"
    text = f"deploying with {value} now"
    assert redact(text) == text
    assert redact(text) == text  # remembered
    remember({"DEPLOY_TOKEN": value})
    assert value not in redact(text)
    assert "[REDACTED:DEPLOY_TOKEN]" in redact(text)


def test_a_record_found_clean_as_json_is_looked_at_again_once_its_secret_becomes_known() -> None:
    # The store checks each record's text as one JSON text, twice per append (the second time
    # from a memo); a value learnt in between must still be found in the remembered text.
    from ai_session.core.models import Message
    from ai_session.core.store.codec import scrubbed

    value = "plain-looking-value-0c41d7b9"
    message = Message(role="user", content=f"deploying with {value} now", metadata={"note": value})
    assert scrubbed(message) is message
    assert scrubbed(message) is message  # remembered
    remember({"RELEASE_TOKEN": value})
    clean = scrubbed(message)
    assert value not in clean.content and value not in json.dumps(clean.metadata)
    assert "[REDACTED:RELEASE_TOKEN]" in clean.content


def test_json_of_redacted_data_is_the_same_by_the_fast_path() -> None:
    # redact_json skips the per-string work when one search of the JSON text finds nothing a
    # rule could match: that search must see everything the rules see, JSON's escapes included.
    from pathlib import Path

    from ai_session.core.redact import redact_data, redact_json
    from tests.security.fakes import plant

    remember({"TRICKY_TOKEN": 'q"uo\tted-value', "SHORT_PASSWORD": "plainvalue123"})
    texts = ["tests/test_x.py:12: AssertionError", "max_tokens: 4096", "a path: /x", 'q"uo\tted-value',
             "plainvalue123", "password\t= hunter2hunter2", 'args: {\\"password\\": \\"abcdefghijk\\"}',
             "AKIA\x1b[0mIOSFODNN7EXAMPLE", "AKIA\x1b(BIOSFODNN7EXAMPLE", "printf '\\033[31mAKIAIOSFODNN7EXAMPLE'",
             PEM, *SAMPLES.values()]
    texts += [f.text for f in plant()] + [f"\x1b[1m{f.text}\x1b[0m, then" for f in plant()]
    for raw in sorted((Path(__file__).resolve().parents[1] / "corpus").glob("*/raw.txt"))[:20]:
        texts += raw.read_text(errors="replace").splitlines()[:10]
    keys = ["content", "password", "apiKey", "api key", "api__key", "TOKENCount", "token\n", "creds", "tokens", "path"]
    fast = 0
    for text in texts:
        values = [[text, {"a": [text]}], {text: 1}, {"content": text, "metadata": {key: text for key in keys}}]
        for value in values:
            for ascii_only in (False, True):
                for by_key in (True, False):
                    plain = json.dumps(value, ensure_ascii=ascii_only)
                    expected = json.dumps(redact_data(value, by_key=by_key), ensure_ascii=ascii_only)
                    assert redact_json(value, by_key=by_key, ensure_ascii=ascii_only) == expected, text
                    fast += expected == plain
    assert fast > len(texts)  # ordinary rows are common enough that the comparison means something


def test_secrets_without_a_fixed_shape_are_found_by_how_they_are_given() -> None:
    # Made-up services' tokens (a prefix, a separator, a random body), an option's next word,
    # a name and a blank, a lone ambiguous key with a random value, cookies, curl's user:password.
    body = "kB4Plb458YXOHGqMp3qczjSvsGX"
    for text, hidden in ((f"using zqx_api_{body} now", f"zqx_api_{body}"), ("NRAK-3JGL26HBZ5K3BFFHITRC64RM373", "3JGL26HBZ"),
                         (f"docker login -u ci --password {body} registry.io", body),
                         (f"deploy --client-secret '{body}'", body), (f"CIRCLE_TOKEN {body}", body),
                         ('{"auths": {"r.example.com": {"auth": "Ym9iOmdmNkM3UGU4OFBoN1o5"}}}', "Ym9iOmdm"),
                         (f"< Set-Cookie: sid={body}; HttpOnly", body), (f"curl -u bob:{body} https://x", body)):
        out = redact(text)
        assert hidden not in out and "[REDACTED" in out, text
        assert redact(out) == out


def test_ids_names_paths_and_digests_beside_such_secrets_are_kept() -> None:
    text = (
        "--- PASS: TestSIWithDigits (0.00s)\n"
        "java.lang.ExceptionInInitializerError at Base64InputStreamTest.java:12\n"
        "docker run -u 1000:1000 img; git push -u origin main\n"
        "the token expired after 3600s; Tokens used: +14 (14 total)\n"
        "docker login --password-stdin registry.example.com\n"
        "ssh --private-key ~/.ssh/id_ed25519 --password-file /run/secrets/db\n"
        "integrity sha512-AbCdEf1234567890abcdefGHIJKLmnopqrstuvWXYZ0123456789+/AbCdEf==\n"
        "commit 3f2a9c1b8e7d6f5a4b3c2d1e0f9a8b7c6d5e4f3a; run_3f296601a41d sess_109ccc6a7449\n"
        "const key = folder.uri.toString(); cache key: node-modules-abc123\n"
    )
    assert redact(text) == text

