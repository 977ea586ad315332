"""Exchanges that must answer, and answer right (issue 16, items 12-16): a locate-only request for a member not
on the FCR is answered (NDNH data or H01); FCR records rejected at validation get their own REJCT ack with an
error code; a never-issued SSN is said so (FCR ack warning, W-4 warning, R4 posted unverified); a W-4 with an
employee state that is no USPS code is rejected; a passport release caused by PAS exclusions says so with the
real arrears; the first cycle's history load does not make every employer a late reporter."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from pipeline.enforcement.employers import late_report
from pipeline.enforcement.offset import run_offset
from pipeline.enforcement.passport import passport_blocks, run_passport
from pipeline.files.decode import decode_file
from pipeline.files.layouts import load_layout
from tests.pipeline.cycle.builder import build_home, fcr_file, person, put, w4, w4_file
from tests.pipeline.cycle.conftest import query_store, run_home
from tests.pipeline.enforcement.make_cases import debtor_file
from tests.pipeline.enforcement.support import load, new_store

CYCLE = "20261102-01"


def _records(path, record: str) -> pl.DataFrame:
    return decode_file(path, load_layout("fcr_response" if "FCRRESP" in path.name else "ack"), record)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = build_home(tmp_path_factory.mktemp("answers") / "home", bad=False)
    cases = [
        {"action_type": "A", "case_id": "KSCASE7", "case_type": "F", "order_indicator": "Y"},
        {"action_type": "A", "case_id": "000000000000000", "case_type": "F", "order_indicator": "Y"},
    ]
    persons = [
        # locate-only requests for members the FCR does not hold (case KSCASE1 is added by fcr_ks_000001)
        person("L", "KSCASE1", "NP", "KSM9", "223456782", "JOHN", "DOE", "19800505", locate_request_type="CS"),
        person("L", "KSCASE1", "CP", "KSM8", "423456784", "PETER", "PAN", "19700707", locate_request_type="CS"),
        person("A", "KSCASE7", "NP", "KSM70", "000123456", "NEVER", "ISSUED", "19700101"),
        person("A", "KSCASE7", "ZZ", "KSM71", "123456781", "BAD", "ROLE", "19850102"),
    ]
    put(home, "KS", "fcr_ks_000002.dat", fcr_file("KS", cases, persons, batch="000002"))
    rows = [
        w4("123456781", "ANNA", "SMITH", "19850102", "20261025"),
        w4("000112222", "NO", "SUCHSSN", "19800101", "20261025"),
        {**w4("223456782", "JOHN", "DOE", "19800505", "20261026"), "state": "ZZ"},
    ]
    put(home, "SDNH-KS", "w4_ks_000012.dat", w4_file(rows=rows).replace(b"000007", b"000012", 1))
    proc = run_home(home)
    assert proc.returncode == 0, proc.stderr
    return home


def test_a_locate_only_request_for_a_member_not_on_the_fcr_is_answered(home):
    fn = _records(home / "outbound" / "KS" / CYCLE / f"FCRRESP.KS.{CYCLE}.dat", "FN")
    john = fn.filter(pl.col("member_id") == "KSM9")
    assert john.height and set(john["match_type"]) == {"L"} and {"H99", "H97"} <= set(john["agency_code"])
    peter = fn.filter(pl.col("member_id") == "KSM8")
    assert peter.select("match_type", "agency_code").rows() == [("L", "H01")]


def test_fcr_records_rejected_at_validation_get_a_rejct_ack_with_a_code(home):
    path = home / "outbound" / "KS" / CYCLE / f"FCRRESP.KS.{CYCLE}.dat"
    fd = _records(path, "FD").filter(pl.col("case_id") == "000000000000000")
    assert fd.select("ack_code").to_series().to_list() == ["REJCT"]
    assert fd["error_code_1"][0].startswith("TE")
    fs = _records(path, "FS").filter(pl.col("member_id") == "KSM71")
    assert fs.select("ack_code").to_series().to_list() == ["REJCT"] and fs["error_code_1"][0].startswith("TE")


def test_a_never_issued_ssn_is_held_with_a_warning_code(home):
    fs = _records(home / "outbound" / "KS" / CYCLE / f"FCRRESP.KS.{CYCLE}.dat", "FS")
    row = fs.filter(pl.col("member_id") == "KSM70").row(0, named=True)
    codes = {row[f"error_code_{i}"] for i in range(1, 6)}
    assert row["ack_code"] == "HOLDS" and "PW001" in codes, row


def test_w4_warnings_state_codes_and_r4(home):
    folder = home / "outbound" / "SDNH-KS" / CYCLE
    ae = decode_file(folder / f"ACK.SDNH-KS.{CYCLE}.dat", load_layout("ack"), "AE")
    assert (
        "SSN_NEVER_ISSUED" in set(ae["code"]) and "000112222" not in (folder / f"ACK.SDNH-KS.{CYCLE}.dat").read_text()
    )
    rejects = query_store(
        home,
        """SELECT r.field FROM rejects r JOIN file_ledger l USING (file_id)
        WHERE l.file_name = 'w4_ks_000012.dat' AND r.severity = 'E'""",
    )
    assert rejects["field"].to_list() == ["state"], "an employee state that is no USPS code must be rejected"
    r4 = decode_file(folder / f"R4.SDNH-KS.{CYCLE}.dat", load_layout("ndnh_w4_control"), "R4")
    mine = r4.filter(pl.col("file_name") == "w4_ks_000012.dat").row(0, named=True)
    assert (mine["received_count"], mine["rejected_count"], mine["posted_count"]) == (5, 1, 1)  # lines, as R4 counts
    assert mine["posted_unverified_count"] == 1  # the never-issued SSN


def test_a_passport_release_by_pas_exclusion_says_so_with_the_real_arrears(tmp_path):
    home = tmp_path / "pp"
    con = new_store(home)
    cycles = [
        [{"t": "A", "ssn": "123456781", "last": "SMITH", "amt": "45188"}],
        [{"t": "R", "ssn": "123456781", "last": "SMITH", "excl": "PAS"}],
    ]
    rows = []
    for i, records in enumerate(cycles, 1):
        cyc = f"202611{i:02d}-01"
        assert load(con, home, cyc, "KS", f"cycle{i}.dat", debtor_file(records)).status == "loaded"
        con.execute("BEGIN TRANSACTION")
        run_offset(con, cyc)
        run_passport(con, cyc)
        con.execute("COMMIT")
        rows.append(passport_blocks(con, cyc, date(2026, 11, i))[1][1])
    assert rows[0].select("action", "arrears").rows() == [("C", 45188)]
    released = rows[1].row(0, named=True)
    assert (released["action"], released["arrears"], released["reason"]) == ("R", 45188, "PAS EXCLUSION")


def test_the_history_load_does_not_make_employers_late(tmp_path):
    home = build_home(tmp_path / "home", bad=False)
    old = [w4("123456781", "ANNA", "SMITH", "19850102", f"2026{m:02d}05", fein=f"1000000{m:02d}") for m in range(1, 11)]
    put(home, "SDNH-KS", "w4_history.dat", w4_file(rows=old).replace(b"000007", b"000020", 1))
    assert run_home(home).returncode == 0
    from tests.pipeline.cycle.conftest import read_store

    with read_store(home) as con:
        first = late_report(con, "2026-11")
    assert first.filter(pl.col("status") == "LATE").is_empty(), first
    late = [w4("223456782", "JOHN", "DOE", "19800505", "20261001", fein="100000001")]
    put(home, "SDNH-KS", "w4_late.dat", w4_file(rows=late).replace(b"000007", b"000021", 1))
    assert run_home(home, None, "2026-11-09").returncode == 0
    with read_store(home) as con:
        second = late_report(con, "2026-11")
    assert second.filter(pl.col("status") == "LATE")["employer_fein"].to_list() == ["100000001"]
