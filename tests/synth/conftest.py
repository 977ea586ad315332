from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from synth.home import generate

# The exact arguments of `make samples` (Makefile).
SAMPLE_ARGS = dict(n=2000, states=["KS", "MO", "OK"], seed=7, as_of=date(2026, 11, 2), samples=True)


@pytest.fixture(scope="session")
def sample_home(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    generate(out=out, **SAMPLE_ARGS)
    return out
