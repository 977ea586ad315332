"""ASAP letters (one per parent, enforcement actions listed) and the `fpls report` command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.reports.storekit import build_small_store
from tests.support import FPLS, ROOT


def test_one_letter_per_delinquent_parent_with_enforcement_actions(small):
    _, _, result = small
    ks = (Path(result.directory) / "KS_asap_letters.txt").read_text().split("\f\n")
    assert len(ks) == 2  # KSM4's letter (two cases), then the list of parents with no address (KSM5)
    drew = ks[0]
    assert "KSC2, KSC4" in drew and "$4,200.00" in drew and "***-**-4444" in drew
    for action in ("income withholding", "tax refund offset", "passport denial", "licenses", "credit reporting"):
        assert action in drew
    # the state's own office and toll-free number; the address with its source and date; call within 10 days
    assert "1-888-555-0120" in drew and "KS Child Support Services" in drew and "1-800-555-0100" not in drew
    assert "12 ELM ST\nWICHITA, KS 67202" in drew and "W-4 new hire (NDNH), 2026-01-12" in drew
    assert "by 2026-02-12 (within 10 days" in drew
    assert ks[1].startswith("KS: no address, locate requested (1)") and "KSM5" in ks[1]
    mo = (Path(result.directory) / "MO_asap_letters.txt").read_text()
    assert "99 OAK AVE" not in mo and "address withheld (family violence)" in mo  # the FV-protected address
    assert result.letters == 1


def test_fpls_report_prints_the_index(tmp_path):
    build_small_store(tmp_path).close()
    run = subprocess.run(
        [*FPLS, "report", "--home", str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert run.returncode == 0, run.stderr
    index = Path(run.stdout.strip())
    assert index == tmp_path / "reports" / "20260202-01" / "index.html" and index.is_file()
    again = subprocess.run(
        [*FPLS, "report", "--home", str(tmp_path), "--cycle", "20260105-01", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    payload = json.loads(again.stdout)
    assert payload["cycle_id"] == "20260105-01" and "KS.html" in payload["pages"]
    missing = subprocess.run(
        [*FPLS, "report", "--home", str(tmp_path), "--cycle", "19990101-01"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert missing.returncode == 66 and "no cycle" in missing.stderr
