"""MSFIDM, insurance, Debt Inquiry, eTermination end to end: one cycle over the cycle builder's home plus
enforcement files (stage wired in-process until the lead wires it), then the CLI through a subprocess."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import yaml

from pipeline import store
from pipeline.files.decode import decode_file
from pipeline.files.layouts import load_layout
from pipeline.files.writer import csv_bytes, fixed_bytes
from tests.pipeline.cycle.builder import PARTNERS, build_home, put
from tests.pipeline.cycle.conftest import fpls
from tests.pipeline.enforcement.make_cases import debtor_file

CYCLE = "20261102-01"
GOOD_FI, BAD_FI = "FI-111111111", "FI-222222222"


def msfidm_file(tin: str, accounts: list[dict], total_delta: int = 0) -> bytes:
    a = pl.DataFrame(
        {
            "file_period": ["20263"],
            "institution_tin": [tin],
            "institution_name": ["FIRST PRAIRIE BANK"],
            "institution_address": ["1 BANK ST WICHITA KS 67202"],
            "transmitter_tin": [tin],
        }
    )
    b = pl.DataFrame(accounts, schema={k: pl.Utf8 for k in accounts[0]})
    total = sum(int(r["account_balance"]) for r in accounts) + total_delta
    t = pl.DataFrame({"record_count": [str(len(accounts))], "balance_total": [str(total)]})
    return fixed_bytes(load_layout("msfidm_match"), [("A", a), ("B", b), ("T", t)])


def account(ssn: str, holder: str, balance: str, number: str = "1234567890") -> dict:
    return {
        "account_type": "04",
        "trust_fund_indicator": "0",
        "balance_indicator": "2",
        "payee_indicator": "0",
        "account_status": "0",
        "match_flag": "1",
        "matched_ssn": ssn,
        "account_number": number,
        "account_holder_name": holder,
        "state_passback": "KS",
        "account_balance": balance,
    }


def csv_file(layout: str, rows: list[dict]) -> bytes:
    return csv_bytes(load_layout(layout), pl.DataFrame(rows, schema={k: pl.Utf8 for k in rows[0]}))


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = build_home(tmp_path_factory.mktemp("enf") / "home", bad=False)
    partners = PARTNERS["partners"] + [
        {"id": GOOD_FI, "kind": "fi", "file_types": ["msfidm_match"]},
        {"id": "INS-999888777", "kind": "insurer", "file_types": ["insurance_claim_csv", "debt_inquiry"]},
        {"id": "EMP-123456789", "kind": "employer", "file_types": ["etermination", "debt_inquiry"]},
    ]
    (home / "partners.yaml").write_text(yaml.safe_dump({"partners": partners}, sort_keys=False))
    put(
        home,
        "KS",
        "offset_ks.dat",
        debtor_file(
            [
                {"t": "A", "ssn": "123456781", "last": "SMITH", "amt": "3000"},
                {"t": "A", "ssn": "223456782", "last": "DOE", "first": "JOHN", "amt": "800", "type": "N"},
            ]
        ),
    )
    put(home, GOOD_FI, "fidm_good.dat", msfidm_file("111111111", [account("123456781", "SMITH ANNA", "1234")]))
    put(
        home,
        GOOD_FI,
        "fidm_bad_totals.dat",
        msfidm_file("111111111", [account("223456782", "DOE JOHN", "50", "999")], total_delta=7),
    )
    put(home, BAD_FI, "fidm_unregistered.dat", msfidm_file("222222222", [account("123456781", "SMITH ANNA", "9")]))
    claim = {
        "processing_date": "20261030",
        "insurer_id": "999888777",
        "insurer_name": "PRAIRIE MUTUAL",
        "claim_type": "BI",
        "loss_date": "20261001",
    }
    put(
        home,
        "INS-999888777",
        "claims.csv",
        csv_file(
            "insurance_claim_csv",
            [
                {
                    **claim,
                    "claimant_ssn": "223456782",
                    "claimant_first_name": "JOHN",
                    "claimant_last_name": "DOE",
                    "claim_number": "C1",
                },
                {
                    **claim,
                    "claimant_ssn": None,
                    "claimant_first_name": "PETER",
                    "claimant_last_name": "PAN",
                    "claimant_dob": "19700707",
                    "claim_number": "C2",
                },
            ],
        ),
    )
    put(
        home,
        "EMP-123456789",
        "lump.csv",
        csv_file(
            "debt_inquiry",
            [
                {
                    "payer_type": "EMP",
                    "payer_id": "123456789",
                    "payer_name": "ACME WIDGETS",
                    "contact_name": "PAT LEE",
                    "contact_phone": "3165551234",
                    "ssn": "123456781",
                    "first_name": "ANNA",
                    "last_name": "SMITH",
                    "payment_type": "BON",
                    "amount": "250075",
                    "payout_date": "20261116",
                }
            ],
        ),
    )
    put(
        home,
        "EMP-123456789",
        "eterm.csv",
        csv_file(
            "etermination",
            [
                {
                    "employer_fein": "123456789",
                    "employer_name": "ACME WIDGETS",
                    "contact_name": "PAT LEE",
                    "contact_phone": "3165551234",
                    "ssn": "123456781",
                    "first_name": "ANNA",
                    "last_name": "SMITH",
                    "termination_reason": "T",
                    "termination_date": "20261025",
                    "notice_date": "20261101",
                }
            ],
        ),
    )
    from pipeline.cycle import run as cycle

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cycle, "POLL_SECONDS", 0)
        assert cycle.run_cycle(home, date(2026, 11, 2)) is not None
    return home


def out(home: Path, recipient: str, name: str) -> Path:
    return home / "outbound" / recipient / CYCLE / name


def test_bad_totals_rejected_whole_with_ack(home):
    con = store.connect(home, read_only=True)
    try:
        status = dict(
            con.execute("SELECT file_name, status FROM file_ledger WHERE submitter = ?", [GOOD_FI]).fetchall()
        )
        codes = con.execute("SELECT reason_codes FROM file_ledger WHERE file_name = 'fidm_bad_totals.dat'").fetchone()[
            0
        ]
        n = con.execute(
            "SELECT count(*) FROM msfidm_accounts a JOIN file_ledger l USING (file_id) "
            "WHERE l.file_name = 'fidm_bad_totals.dat'"
        ).fetchone()[0]
    finally:
        con.close()
    assert status == {"fidm_good.dat": "loaded", "fidm_bad_totals.dat": "rejected"}
    assert "CONTROL_MISMATCH" in codes and n == 0
    af = decode_file(out(home, GOOD_FI, f"ACK.{GOOD_FI}.{CYCLE}.dat"), record_id="AF")
    assert dict(zip(af["file_name"], af["file_status"]))["fidm_bad_totals.dat"] == "REJECTED"


def test_inquiry_only_to_registered_institutions(home):
    inq = decode_file(out(home, GOOD_FI, f"MSFIDMINQ.{GOOD_FI}.{CYCLE}.dat"), record_id="I")
    assert sorted(inq["ssn"]) == ["123456781", "223456782"] and set(inq["cycle_id"]) == {CYCLE}
    assert not list((home / "outbound").glob(f"{BAD_FI}/**/MSFIDMINQ*"))
    manifest = json.loads(out(home, GOOD_FI, "manifest.json").read_text())
    assert {f["name"] for f in manifest["files"]} >= {f"ACK.{GOOD_FI}.{CYCLE}.dat", f"MSFIDMINQ.{GOOD_FI}.{CYCLE}.dat"}


def test_msfidm_response(home):
    mr = decode_file(out(home, "KS", f"MSFIDM.KS.{CYCLE}.dat"), record_id="MR")
    assert mr.height == 1 and mr["ssn"][0] == "123456781" and mr["account_balance"][0] == 1234
    assert mr["institution_tin"][0] == "111111111" and mr["name_check"][0] == "1" and mr["cycle_id"][0] == CYCLE


def test_insurance_response_and_review(home):
    ir = decode_file(out(home, "KS", f"INSMATCH.KS.{CYCLE}.dat"), record_id="IR")
    assert list(ir["claim_number"]) == ["C1"] and ir["rule"][0] == "ssn_exact_name"  # PETER PAN is no debtor


def test_notices_and_family_violence(home):
    ks = out(home, "KS", f"NOTICES.KS.{CYCLE}.dat")
    di = decode_file(ks, record_id="DI")
    assert di.row(0, named=True)["amount"] == 250075 and di["payment_type"][0] == "BON"
    et_ks = decode_file(ks, record_id="ET").row(0, named=True)
    assert et_ks["data_withheld"] == "Y" and et_ks["employer_name"] is None  # ANNA is FV in MO
    et_mo = decode_file(out(home, "MO", f"NOTICES.MO.{CYCLE}.dat"), record_id="ET").row(0, named=True)
    assert et_mo["data_withheld"] is None and et_mo["employer_name"] == "ACME WIDGETS"


def test_cli_passport_and_misidentified(home):
    listed = fpls("passport", "list", "--home", str(home), "--json", check=True)
    rows = json.loads(listed.stdout)["passports"]
    assert [(r["state"], r["ssn"], r["status"]) for r in rows] == [("KS", "***-**-6781", "certified")]
    rel = fpls(
        "passport",
        "release",
        "--home",
        str(home),
        "--state",
        "KS",
        "--ssn",
        "123456781",
        "--reason",
        "COURT ORDER",
        "--operator",
        "tester",
        check=True,
    )
    again = fpls("passport", "release", "--home", str(home), "--state", "KS", "--ssn", "123456781", "--reason", "X")
    assert again.returncode == 65
    add = fpls(
        "misidentified",
        "add",
        "--home",
        str(home),
        "--state",
        "KS",
        "--member",
        "KSM1",
        "--ssn",
        "123456781",
        "--json",
        check=True,
    )
    assert json.loads(add.stdout)["reverify"] == 1
    fpls(
        "misidentified",
        "remove",
        "--home",
        str(home),
        "--state",
        "KS",
        "--member",
        "KSM1",
        "--ssn",
        "123456781",
        check=True,
    )
    audit = json.loads(fpls("misidentified", "list", "--home", str(home), "--audit", "--json", check=True).stdout)
    emp = fpls("query", "employer", "--home", str(home), "--fein", "123456789", check=True)
    assert "ACME WIDGETS" in emp.stdout
    for proc in (listed, rel, add):
        assert "123456781" not in proc.stdout + proc.stderr
    con = store.connect(home, read_only=True)
    try:
        status = con.execute("SELECT status FROM passport_status WHERE state = 'KS'").fetchone()[0]
        actions = con.execute("SELECT action, operator FROM passport_actions ORDER BY seq").fetchall()
        current = con.execute("SELECT count(*) FROM misidentified WHERE member_id = 'KSM1'").fetchone()[0]
    finally:
        con.close()
    assert status == "emergency_released" and actions[-1] == ("emergency_release", "tester")
    assert [a["action"] for a in audit["misidentified"] if a["member_id"] == "KSM1"] == ["add", "remove"]
    assert current == 0
