"""DRA versions (byte-identical store + delivery), State Plan statuses, Self-Assessment copy-from-prior,
A&V reporting window; golden receipts for accept and reject; QUICK + CLI isolation through subprocess."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date
from pathlib import Path

from pipeline.portal import submissions
from pipeline.portal.submissions import change_plan_status
from tests.pipeline.portal.harness import csv, home_with_store, receipt, run, sha
from tests.support import FPLS, ROOT

GOLDEN = ROOT / "tests" / "golden" / "portal"
SA = "report_year,assessment_section,copy_from_prior,cases_reviewed,cases_compliant,narrative"
AV = "grant_year,grantee_name,grantee_kind,service_type,parents_served,noncustodial_parents,custodial_parents,grant_amount,state_details"
SP = "plan_section,page_title,plan_action,transmittal_number,effective_date,attachment_file,attachment_sha256,page_text"


def dra_bytes(state: str, n: int, declared: int | None = None) -> bytes:
    lines = [f"DHDRA{state}202520251015".ljust(80)]
    lines += [f"DD01{f'CASE{i:04d}':<15}OY{50000:011d}{45000:011d}Y".ljust(80) for i in range(n)]
    lines.append(f"DT{declared if declared is not None else n:09d}".ljust(80))
    return ("\r\n".join(lines) + "\r\n").encode()


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("FPLS_UPDATE_GOLDEN") or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"receipt differs from {path}"


def test_dra_versions_stored_and_delivered_byte_identical(tmp_path):
    con = home_with_store(tmp_path)
    first, second = dra_bytes("KS", 3), dra_bytes("KS", 4)
    cyc1, res1, _ = run(con, tmp_path, date(2026, 11, 2), {"KS": {"DRA2025.dat": first}})
    cyc2, res2, _ = run(con, tmp_path, date(2026, 11, 3), {"KS": {"DRA2025.dat": second}})
    assert res1.dra_stored == res2.dra_stored == 1
    rows = con.execute("SELECT version, sha256, records FROM dra_uploads ORDER BY version").fetchall()
    assert rows == [(1, sha(first), 3), (2, sha(second), 4)]
    assert (tmp_path / "portal/dra/KS/2025/v1/DRA2025.dat").read_bytes() == first
    assert (tmp_path / f"outbound/OCSE/{cyc2}/DRA.KS.2025.v2.DRA2025.dat").read_bytes() == second
    _golden("dra_accept.KS.csv", receipt(tmp_path, "KS", cyc2))
    cyc3, res3, outs = run(
        con,
        tmp_path,
        date(2026, 11, 4),
        {"MO": {"DRA.dat": dra_bytes("KS", 2, declared=5)}, "OK": {"DRA.dat": dra_bytes("KS", 1)}},
    )
    assert res3.dra_stored == 0
    assert [o.status for o in outs] == ["rejected", "loaded"]  # MO: control mismatch → ACK says so
    _golden("dra_reject.OK.csv", receipt(tmp_path, "OK", cyc3))  # OK: header names KS


def test_state_plan_statuses_and_operator_decision(tmp_path):
    con = home_with_store(tmp_path)
    pdf = b"%PDF plan page"
    form = csv(SP, f"2.12,INTERSTATE PROCESSING,SUBMIT,26-001,20270101,PAGE212.PDF,{sha(pdf).upper()},NEW TEXT")
    cyc, _, _ = run(con, tmp_path, date(2026, 11, 2), {"KS": {"SP.csv": form, "page212.pdf": pdf}})
    assert submissions.plan_pages(con, "KS")["status"].to_list() == ["submitted"]
    change_plan_status(con, "KS", "2.12/26-001", "returned", "CITE THE STATUTE", "analyst", date(2026, 11, 5))
    again = csv(SP, "2.12,INTERSTATE PROCESSING,SUBMIT,26-001,20270101,,,NEW TEXT WITH CITATION")
    run(con, tmp_path, date(2026, 11, 6), {"KS": {"SP.csv": again}})
    change_plan_status(con, "KS", "2.12/26-001", "approved", "OK", "analyst", date(2026, 11, 7))
    hist = submissions.history(con, "KS", "STATE_PLAN_PAGE")["to_status"].to_list()
    assert hist == ["initiated", "submitted", "returned", "submitted", "approved"]
    dup = csv(SP, "2.12,INTERSTATE PROCESSING,INITIATE,26-001,20270101,,,X")
    cyc3, _, _ = run(con, tmp_path, date(2026, 11, 8), {"KS": {"SP.csv": dup}})
    assert "PLAN_EXISTS" in receipt(tmp_path, "KS", cyc3)


def test_self_assessment_copy_from_prior_and_av_window(tmp_path):
    con = home_with_store(tmp_path)
    run(con, tmp_path, date(2025, 11, 2), {"KS": {"SA.csv": csv(SA, "2024,CASE_CLOSURE,N,100,95,ALL GOOD")}})
    cyc, _, _ = run(
        con, tmp_path, date(2026, 11, 2), {"KS": {"SA.csv": csv(SA, "2025,CASE_CLOSURE,Y,,,", "2025,ENFORCEMENT,Y,,,")}}
    )
    assert "SA_NO_PRIOR_YEAR" in receipt(tmp_path, "KS", cyc)
    cyc, _, _ = run(con, tmp_path, date(2026, 11, 3), {"KS": {"SA.csv": csv(SA, "2025,CASE_CLOSURE,Y,,,")}}, seq=1)
    item = con.execute(
        "SELECT data_json FROM submission_items WHERE kind = 'SELF_ASSESSMENT' AND period = '2025'"
    ).fetchone()
    assert json.loads(item[0])["narrative"] == "ALL GOOD"
    survey = csv(
        AV,
        "2026,FAMILY CENTER,GRANTEE,MEDIATION,10,6,4,2500000,STATE DETAILS",
        "2026,FAMILY CENTER,SUBGRANTEE,EDUCATION,3,3,4,100,",
    )
    cyc, _, _ = run(con, tmp_path, date(2026, 12, 31), {"MO": {"AV.csv": survey}})
    _golden("av_reject.MO.csv", receipt(tmp_path, "MO", cyc))  # window closed + AV_COUNTS on line 3
    ok = csv(AV, "2026,FAMILY CENTER,GRANTEE,MEDIATION,10,6,4,2500000,STATE DETAILS")
    cyc, _, _ = run(con, tmp_path, date(2026, 10, 1), {"MO": {"AV.csv": ok}}, seq=2)
    _golden("av_accept.MO.csv", receipt(tmp_path, "MO", cyc))
    assert sorted(submissions.listing(con, "MO")["status"].to_list()) == ["accepted", "rejected"]


def _fpls(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*FPLS, *args, "--home", str(home)], capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_quick_and_cli_isolation(tmp_path):
    con = home_with_store(tmp_path)
    con.execute("INSERT INTO fcr_cases VALUES ('KS', 'KS0001', 'F', 'Y', '20177', 'active', 'c1', NULL)")
    con.execute("""INSERT INTO fcr_persons (state, case_id, member_id, participant_type, family_violence, ssn, verified_ssn,
        first_name, last_name, status) VALUES ('KS', 'KS0001', 'M1', 'NP', NULL, '123456789', '123456789', 'JOHN', 'DOE', 'active'),
        ('KS', 'KS0001', 'M2', 'CP', 'FV', '223456789', '223456789', 'MARY', 'DOE', 'active')""")
    con.execute("""INSERT INTO case_financial (state, case_id, member_id, case_type, monthly_obligation, arrears,
        last_payment_date, last_payment_amount, as_of_date, file_id, line_no) VALUES
        ('KS', 'KS0001', 'M1', 'N', 30000, 120000, '2026-09-15', 30000, '2026-09-30', 1, 2),
        ('KS', 'KS0001', 'M1', 'N', 30000, 90000, '2026-10-15', 30000, '2026-10-31', 2, 2)""")
    run(con, tmp_path, date(2026, 11, 2), {"KS": {"SA.csv": csv(SA, "2025,CASE_CLOSURE,N,10,9,FINE")}})
    con.close()
    out = _fpls(
        tmp_path, "query", "case", "--state", "KS", "--case", "KS0001", "--as", "MO", "--as-of", "2026-11-05", "--json"
    )
    assert out.returncode == 0, out.stderr
    view = json.loads(out.stdout)
    assert view["financial"]["arrears_cents"] == 90000 and view["financial"]["payments_received_cents"] == 60000
    withheld = [p for p in view["participants"] if p["data_withheld"]]
    assert len(withheld) == 1 and withheld[0]["first_name"] is None
    assert "123456789" not in out.stdout + out.stderr
    missing = _fpls(tmp_path, "query", "case", "--state", "KS", "--case", "NOPE", "--as", "MO")
    assert missing.returncode == 66
    assert _fpls(tmp_path, "submissions", "list", "--state", "KS", "--as", "MO").returncode == 77
    assert _fpls(tmp_path, "ede", "list", "--state", "KS", "--as", "MO").returncode == 77
    mine = _fpls(tmp_path, "submissions", "list", "--as", "MO", "--json")
    assert json.loads(mine.stdout)["submissions"] == []
    ks = _fpls(tmp_path, "submissions", "list", "--as", "KS", "--json")
    assert [s["kind"] for s in json.loads(ks.stdout)["submissions"]] == ["SELF_ASSESSMENT"]
    import duckdb

    db = duckdb.connect(str(tmp_path / "fpls.duckdb"), read_only=True)
    logged = db.execute("SELECT recipient, count(*) FROM disclosures WHERE layout = 'quick_case' GROUP BY 1").fetchall()
    queries = db.execute("SELECT querying_state, found FROM quick_queries ORDER BY seq").fetchall()
    assert logged == [("MO", 2)] and queries == [("MO", True), ("MO", False)]
