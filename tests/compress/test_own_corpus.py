"""The compressor on the project's own corpus of real outputs from tools it has no reducer for
(tests/corpus, see its README), scored with the shared scorer's functions over our Python API
against the targets of the compression work: every fact and the exit code kept on every case,
and a faithfulness of at least 0.99 on each."""

from __future__ import annotations

import pytest
from ai_session.core.compress import compress

from tests.compress.own_corpus import cases, needs_scorer, scorer

pytestmark = needs_scorer


@pytest.fixture(scope="module")
def results() -> dict[str, tuple[list[str], float]]:
    score = scorer()
    out = {}
    for case in cases():
        raw_bytes, cmd, code, facts = score.load_case(str(case))
        raw = raw_bytes.decode("utf-8", "replace")
        stripped = score.strip_ansi(compress(raw, cmd, code).text)
        lost = [f for f in facts["must_keep"] if f not in stripped]
        if not score.exit_code_kept(stripped.split("\n"), code):
            lost.append(f"exit code {code}")
        faith, _, _ = score.faithfulness(score.strip_ansi(raw), stripped)
        out[case.name] = (lost, faith)
    return out


def test_every_fact_and_the_exit_code_kept_on_every_case(results: dict[str, tuple[list[str], float]]) -> None:
    lost = {name: facts for name, (facts, _) in results.items() if facts}
    assert not lost, lost


def test_faithfulness_on_every_case(results: dict[str, tuple[list[str], float]]) -> None:
    unfaithful = {name: round(faith, 3) for name, (_, faith) in results.items() if faith < 0.99}
    assert not unfaithful, unfaithful
