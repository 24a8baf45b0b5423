"""The corpus of real tool outputs (kept beside the repository, not in it), scored with its
own scorer's functions over our Python API. Skips only when the corpus is not there, and
never under CI."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from ai_session.core.compress import compress
from ai_session.core.tokens import count_tokens

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
# A developer without the corpus skips; CI, which always has it beside the clone, must not.
pytestmark = pytest.mark.skipif(
    not (CORPUS / "score.py").is_file() and not os.environ.get("CI"), reason="corpus not present beside the repository"
)


def _scorer():
    spec = importlib.util.spec_from_file_location("corpus_score", CORPUS / "score.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _cases() -> list[Path]:
    d = CORPUS / "dev"
    return sorted(p for p in d.iterdir() if (p / "raw.txt").is_file()) if d.is_dir() else []


@pytest.fixture(scope="module")
def results():
    score = _scorer()
    out = {}
    for case in _cases():
        raw_bytes, cmd, code, facts = score.load_case(str(case))
        raw = raw_bytes.decode("utf-8", "replace")
        text = compress(raw, cmd, code).text
        stripped = score.strip_ansi(text)
        missing = [f for f in facts.get("must_keep", []) if f not in stripped]
        exit_ok = score.exit_code_kept(stripped.split("\n"), code)
        faith, _, _ = score.faithfulness(score.strip_ansi(raw), stripped)
        out[case.name] = (missing, exit_ok, faith, count_tokens(raw), count_tokens(text))
    return out


def test_corpus_has_cases():
    assert len(_cases()) >= 10


def test_every_fact_and_exit_code_kept_on_every_case(results):
    for name, (missing, exit_ok, _, _, _) in results.items():
        assert not missing, (name, missing)
        assert exit_ok, name


def test_faithfulness_and_total_reduction(results):
    for name, (_, _, faith, _, _) in results.items():
        assert faith >= 0.99, (name, faith)
    raw = sum(r[3] for r in results.values())
    ctx = sum(r[4] for r in results.values())
    assert 1 - ctx / raw >= 0.85, (raw, ctx)


def test_beats_truncation_baselines_on_reduction(results):
    ctx = sum(r[4] for r in results.values())
    limit = int(os.environ.get("ROO_CHAR_LIMIT", "2000"))
    roo = 0
    for case in _cases():
        text = (case / "raw.txt").read_bytes().decode("utf-8", "replace")
        roo += count_tokens(text if len(text) <= limit else text[: limit // 5] + "\n[...]\n" + text[-(limit - limit // 5) :])
    assert ctx < roo, (ctx, roo)
