"""Safeguard tests run real cycles through the CLI on the samples (generated) or the tiny builder home."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.pipeline.cycle.conftest import fpls, reference_home, run_home  # noqa: F401  (re-exported for the tests)

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "sample_files"
SAMPLES_AS_OF = "2026-11-02"


@pytest.fixture(scope="session")
def sample_cycle(tmp_path_factory) -> dict:
    """sample_files/ after one `fpls run` + `fpls report`, with every command's stdout and stderr kept."""
    home = tmp_path_factory.mktemp("samples") / "home"
    shutil.copytree(SAMPLES, home)
    outputs = [
        run_home(home, None, SAMPLES_AS_OF, "--json"),
        fpls("report", "--home", str(home)),
        fpls("query", "person", "--home", str(home), "--name", "SMITH"),
        fpls("validate", str(next((home / "archive").rglob("*.dat")))),
        fpls("audit", "disclosures", "--home", str(home), "--recipient", "KS"),
    ]
    assert outputs[0].returncode == 0, outputs[0].stderr
    return {"home": home, "outputs": outputs}
