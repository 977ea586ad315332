"""Offset / passport golden cases: one per transaction type, one per reject code, the $2,500 boundary.

Inputs: tests/cases/enforcement/offset/<case>/cycleN.dat (rendered from offset_cases.yaml by make_cases.py).
Goldens: tests/golden/enforcement/offset/<case>.offrej.dat (the last cycle's reject file) and
<case>.registry.csv (registry + passport status after it). FPLS_REGEN_GOLDEN=1 rewrites them.
"""

from __future__ import annotations

import os
from datetime import date

import polars as pl
import pytest

from pipeline.enforcement.offset import reject_blocks, run_offset
from pipeline.enforcement.passport import run_passport
from pipeline.files.layouts import load_layout
from pipeline.files.writer import fixed_bytes
from pipeline.store import frame
from tests.pipeline.enforcement.support import CASES, GOLDEN, cycle_id, load, new_store

CASE_DIRS = sorted(p.name for p in (CASES / "offset").iterdir() if p.is_dir())
EXPECTED_CODE = {name: name.split("_", 1)[1] for name in CASE_DIRS if name.startswith("rej_")}


def run_case(tmp_path, name: str):
    home = tmp_path / name
    con = new_store(home)
    files = sorted((CASES / "offset" / name).glob("cycle*.dat"))
    out = b""
    for i, path in enumerate(files, 1):
        cyc = cycle_id(i)
        outcome = load(con, home, cyc, "KS", path.name, path.read_bytes())
        assert outcome.status == "loaded", outcome.reasons
        con.execute("BEGIN TRANSACTION")
        run_offset(con, cyc)
        run_passport(con, cyc)
        con.execute("COMMIT")
        out = fixed_bytes(load_layout("offset_reject"), reject_blocks(con, cyc, date(2026, 11, i), "KS"))
    registry = frame(
        con,
        """SELECT d.state, d.ssn, d.case_type, d.case_id, d.local_code, d.last_name, d.first_name,
            d.arrearage, d.exclusions, d.address_line_1, d.transfer_state, d.transfer_local_code, d.status,
            p.status AS passport, p.arrears AS passport_arrears
        FROM debtors d LEFT JOIN passport_status p USING (state, ssn) ORDER BY d.state, d.ssn, d.case_type""",
    )
    return con, out, registry


def check_golden(name: str, suffix: str, data: bytes) -> None:
    path = GOLDEN / "offset" / f"{name}.{suffix}"
    if os.environ.get("FPLS_REGEN_GOLDEN") or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert data == path.read_bytes(), f"{name}.{suffix} differs from the golden file"


@pytest.mark.parametrize("name", CASE_DIRS)
def test_offset_case_golden(tmp_path, name):
    con, rej, registry = run_case(tmp_path, name)
    check_golden(name, "offrej.dat", rej)
    check_golden(name, "registry.csv", registry.write_csv().encode())
    lines = rej.decode().splitlines()
    assert lines[0][2:5] == "CTL" and all(len(line) == 245 for line in lines)
    if name in EXPECTED_CODE:
        codes = {line[123 + 2 * i : 125 + 2 * i].strip() for line in lines[1:] for i in range(6)}
        assert EXPECTED_CODE[name] in codes, (name, lines)
    elif name.startswith("txn_") or name.startswith("order"):
        assert len(lines) == 1, f"{name}: unexpected rejects {lines[1:]}"


def test_transaction_effects(tmp_path):
    reg = {
        n: run_case(tmp_path, n)[2].to_dicts()
        for n in ("txn_B", "txn_C", "txn_D", "txn_M", "txn_R", "txn_T", "txn_U", "txn_Z", "txn_L", "order_in_cycle")
    }
    assert {r["last_name"] for r in reg["txn_B"]} == {"SMITHE"} and len(reg["txn_B"]) == 2  # both case types
    assert reg["txn_C"][0]["case_id"] == "NEWCASE9"
    assert reg["txn_D"][0]["status"] == "deleted" and reg["txn_D"][0]["passport"] == "released"
    assert reg["txn_M"][0]["arrearage"] == 1500
    assert reg["txn_R"][0]["exclusions"] is None
    assert (reg["txn_T"][0]["transfer_state"], reg["txn_T"][0]["transfer_local_code"]) == ("MO", "001")
    assert (reg["txn_U"][0]["case_id"], reg["txn_U"][0]["arrearage"]) == ("UPD1", 4000)
    assert reg["txn_Z"][0]["address_line_1"] == "9 NEW RD"
    assert reg["txn_L"][0]["local_code"] == "123"
    assert (reg["order_in_cycle"][0]["arrearage"], reg["order_in_cycle"][0]["address_line_1"]) == (100, "5 LAST ST")


@pytest.mark.parametrize(
    "name,status,arrears",
    [
        ("passport_2500", None, None),
        ("passport_2501", "certified", 2501),
        ("passport_pas_excluded", None, None),
        ("passport_release", "released", 2500),
    ],
)
def test_passport_boundary(tmp_path, name, status, arrears):
    _, _, registry = run_case(tmp_path, name)
    row = registry.row(0, named=True)
    assert row["passport"] == status
    if arrears is not None:
        assert row["passport_arrears"] == arrears
    assert registry["arrearage"].dtype == pl.Int64  # whole dollars, never floats
