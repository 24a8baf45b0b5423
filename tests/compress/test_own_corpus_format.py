"""The project's own corpus is wide and well formed: at least 30 cases from at least 20 tools,
every fact verbatim in its case's ANSI-stripped raw output with a reason, and one manifest
entry per case that agrees with the case folder."""

from __future__ import annotations

import json

from tests.compress.own_corpus import OWN, cases, needs_scorer, scorer

pytestmark = needs_scorer


def test_corpus_is_wide() -> None:
    manifest = json.loads((OWN / "manifest.json").read_text())
    assert len(cases()) >= 30
    assert len({e["tool"] for e in manifest}) >= 20


def test_manifest_agrees_with_the_case_folders() -> None:
    score = scorer()
    manifest = {e["case"]: e for e in json.loads((OWN / "manifest.json").read_text())}
    assert sorted(manifest) == [c.name for c in cases()]
    for case in cases():
        raw_bytes, cmd, code, facts = score.load_case(str(case))
        entry = manifest[case.name]
        assert cmd and entry["cmd"] == cmd, case.name
        assert entry["exit_code"] == code == facts["exit_code"], case.name
        assert entry["raw_bytes"] == len(raw_bytes), case.name
        assert entry["must_keep"] == len(facts["must_keep"]), case.name
        assert (OWN / entry["captured_by"]).is_file(), case.name


def test_every_fact_is_in_its_raw_output_with_a_reason() -> None:
    score = scorer()
    for case in cases():
        raw_bytes, _, _, facts = score.load_case(str(case))
        raw = score.strip_ansi(raw_bytes.decode("utf-8", "replace"))
        assert facts["must_keep"], case.name
        for fact in facts["must_keep"]:
            assert fact in raw, (case.name, fact)
            assert facts["why"][fact], (case.name, fact)
