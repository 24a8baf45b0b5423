"""Where the project's own corpus of real tool outputs lives (tests/corpus, see its README) and
how its cases are read: with the shared corpus scorer's own functions, so a case means here
exactly what it means to the scorer."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

OWN = Path(__file__).resolve().parents[1] / "corpus"
SCORER = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "score.py"
# A developer without the shared scorer skips; CI, which always has it beside the clone, must not.
needs_scorer = pytest.mark.skipif(
    not SCORER.is_file() and not os.environ.get("CI"), reason="shared corpus scorer not present beside the repository"
)


def scorer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("corpus_score", SCORER)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def cases() -> list[Path]:
    return sorted(p for p in OWN.iterdir() if (p / "raw.txt").is_file())
