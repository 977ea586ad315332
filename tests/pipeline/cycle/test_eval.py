"""`fpls eval` on the committed sample home: every source present, metrics consistent with their counts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.pipeline.cycle.conftest import fpls, run_home

SAMPLES = Path(__file__).resolve().parents[3] / "sample_files"


def test_eval_scores_every_source_against_the_truth(tmp_path):
    home = tmp_path / "home"
    shutil.copytree(SAMPLES, home)
    assert run_home(home, None, "2026-11-02").returncode == 0
    out = fpls("eval", "--home", str(home), "--json", check=True)
    doc = json.loads(out.stdout)
    sources = doc["sources"]
    assert {"ssn_verification", "ndnh_locate", "msfidm", "insurance", "debt_inquiry"} <= set(sources)
    for name, m in sources.items():
        tp, fp, fn = m["tp"], m["fp"], m["fn"]
        if tp + fp:
            assert abs(m["precision"] - tp / (tp + fp)) < 1e-9, name
        if tp + fn:
            assert abs(m["recall"] - tp / (tp + fn)) < 1e-9, name
    verification = sources["ssn_verification"]
    assert sum(c["tp"] for c in verification["by_code"].values()) == verification["tp"]
    assert "V" in verification["by_code"] and verification["by_code"]["V"]["precision"] > 0.99
    assert sources["ndnh_locate"]["tp"] > 0 and sources["ndnh_locate"]["precision"] > 0.99
    routing, acks = sources["eiwo_routing"], sources["eiwo_acks"]
    assert routing["tp"] > 20 and routing["f1"] >= 0.995 and routing["sent_to_unknown_fein"] == 0
    assert routing["outcomes_agree"] == routing["orders"]
    assert acks["tp"] > 20 and (acks["lost"], acks["misrouted"], acks["unmatched_lines"]) == (0, 0, 0)
