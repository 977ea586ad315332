"""e-IWO end to end over two cycles (tests/pipeline/enforcement/eiwo_home.py says who is who): orders routed by
FEIN or refused back to the state with a reason, acknowledgments routed back or refused back to the employer, the
ties (R/N, eTermination, new employer, lump sum), family violence, conservation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from pipeline import store
from pipeline.enforcement.employers import late_report
from pipeline.files.decode import decode_file
from tests.pipeline.cycle.conftest import fpls, query_store, run_home
from tests.pipeline.enforcement.eiwo_home import ACME, BOLTS, CYCLE1, CYCLE2, PROCESSOR, UNKNOWN, cycle_one, cycle_two

C1, C2 = "20261102-01", "20261109-01"


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = cycle_one(tmp_path_factory.mktemp("eiwo") / "home")
    assert run_home(home, None, CYCLE1).returncode == 0
    cycle_two(home)
    proc = run_home(home, None, CYCLE2)
    assert proc.returncode == 0, proc.stderr
    return home


def out(home: Path, recipient: str, cycle: str, name: str) -> Path:
    return home / "outbound" / recipient / cycle / name


def records(path: Path, record: str) -> pl.DataFrame:
    return decode_file(path, None, record)


def by_tracking(frame: pl.DataFrame) -> dict:
    return {r["document_tracking_id"] or f"line{r['source_line']}": r for r in frame.iter_rows(named=True)}


def test_every_order_line_gets_a_result_back_to_its_state(home):
    res = records(out(home, "KS", C1, f"EIWORES.KS.{C1}.dat"), "RES")
    got = [(r["document_tracking_id"], r["result"], r["reason_code"]) for r in res.iter_rows(named=True)]
    assert got == [
        ("KS-T1", "SENT", None),
        ("KS-T2", "REFUSED", "DUPLICATE_IWO"),
        ("KS-T5", "SENT", None),
        (None, "REJECTED", "BAD_NUMBER"),  # the malformed total amount
        ("KS-T3", "SENT", None),
        ("KS-T4", "REFUSED", "UNKNOWN_FEIN"),
        ("KS-T1", "REFUSED", "DUPLICATE_TRACKING_ID"),
        ("KS-T6", "REFUSED", "BATCH_CONTROL"),
    ]
    assert all(r["reason_message"] for r in res.iter_rows(named=True) if r["result"] != "SENT")
    # conservation: every DTL line the state sent has exactly one RES record
    dtl = sum(
        1
        for line in (home / "archive" / C1 / "KS" / "EIWO.KS.20261101.001.dat").read_text().splitlines()
        if line.startswith("DTL")
    )
    assert res.height == dtl == 8
    mo = by_tracking(records(out(home, "MO", C1, f"EIWORES.MO.{C1}.dat"), "RES"))
    assert (mo["MO-T1"]["result"], mo["MO-T2"]["reason_code"]) == ("SENT", "STATE_MISMATCH")


def test_orders_go_to_their_employer_and_never_to_an_unknown_fein(home):
    assert not list((home / "outbound").glob(f"EMP-{UNKNOWN}/*/*"))
    acme = records(out(home, f"EMP-{ACME}", C1, f"EIWO.EMP-{ACME}.{C1}.dat"), "DTL")
    assert sorted(acme["document_tracking_id"]) == ["KS-T1", "KS-T5", "MO-T1"]
    assert (
        set(acme["employer_fein"]) == {ACME}
        and acme.filter(pl.col("document_tracking_id") == "KS-T1")["monthly_amount"][0] == 40000
    )
    # BOLTS registered payroll processor 555666777 as the primary EIN for its orders (MSER), system to system
    proc = out(home, f"EMP-{PROCESSOR}", C1, f"EIWO.EMP-{PROCESSOR}.{C1}.dat")
    assert records(proc, "DTL")["document_tracking_id"].to_list() == ["KS-T3"]
    batch = records(proc, "BHI").row(0, named=True)
    assert (batch["ein"], batch["primary_ein"], batch["state_fips"]) == (BOLTS, PROCESSOR, "20")
    assert not out(home, f"EMP-{PROCESSOR}", C1, f"EIWO.EMP-{PROCESSOR}.{C1}.html").exists()
    ks = by_tracking(records(out(home, "KS", C1, f"EIWORES.KS.{C1}.dat"), "RES").filter(pl.col("result") == "SENT"))
    assert (ks["KS-T3"]["routed_fein"], ks["KS-T3"]["delivery"], ks["KS-T3"]["iwo_addr_from"]) == (
        PROCESSOR,
        "SYS",
        "MSER",
    )


def test_no_programming_option_gets_a_readable_page_and_a_prefilled_spreadsheet(home):
    html = out(home, f"EMP-{ACME}", C1, f"EIWO.EMP-{ACME}.{C1}.html").read_text()
    assert html.count("<section>") == 3 and "KS-T5" in html and "$400.00 per month" in html
    sheet = decode_file(out(home, f"EMP-{ACME}", C1, f"EIWOACK.EMP-{ACME}.{C1}.csv"), None, "ACK")
    assert (
        sorted(sheet["document_tracking_id"]) == ["KS-T1", "KS-T5", "MO-T1"]
        and sheet["disposition_status"].null_count() == 3
    )
    manifest = json.loads(out(home, f"EMP-{ACME}", C1, "manifest.json").read_text())
    assert {f["layout"] for f in manifest["files"]} >= {"eiwo_employer", "eiwo_npo_html", "eiwo_ack_csv"}


def test_acknowledgments_reach_the_issuing_state_or_go_back_with_a_reason(home):
    ars = {
        (r["document_tracking_id"], r["result"], r["reason_code"], r["routed_state"])
        for sub in (ACME, PROCESSOR)
        for r in records(out(home, f"EMP-{sub}", C2, f"EIWOACKRES.EMP-{sub}.{C2}.dat"), "ARS").iter_rows(named=True)
    }
    assert ars == {
        ("KS-T1", "ROUTED", None, "KS"),
        ("MO-T1", "ROUTED", None, "MO"),
        ("KS-T3", "REFUSED", "NOT_RECIPIENT", None),  # ACME answering an order sent to the processor
        ("KS-T3", "ROUTED", None, "KS"),
        ("KS-T99", "REFUSED", "ORDER_NOT_FOUND", None),  # an order never sent
    }
    ks = by_tracking(records(out(home, "KS", C2, f"EIWORES.KS.{C2}.dat"), "ACK"))
    assert (ks["KS-T3"]["disposition_status"], ks["KS-T3"]["disposition_reason"], ks["KS-T3"]["days_to_ack"]) == (
        "R",
        "N",
        7,
    )
    mo = by_tracking(records(out(home, "MO", C2, f"EIWORES.MO.{C2}.dat"), "ACK"))
    assert (mo["MO-T1"]["disposition_reason"], mo["MO-T1"]["other_state"]) == ("M", "KS")
    status = query_store(
        home, "SELECT document_tracking_id, is_open, closed_reason FROM eiwo_orders WHERE status = 'sent'"
    )
    assert {r[0]: (r[1], r[2]) for r in status.iter_rows()} == {
        "KS-T1": (True, None),
        "KS-T3": (False, "ACK R/N"),
        "KS-T5": (False, "ETERM"),
        "MO-T1": (False, "ACK R/M"),
    }


def test_ties_rn_etermination_new_employer_and_lump_sum(home):
    et = records(out(home, "KS", C2, f"NOTICES.KS.{C2}.dat"), "ET")
    assert {(r["case_id"], r["termination_reason"], r["rule"]) for r in et.iter_rows(named=True)} == {
        ("KSCASE3", "N", "iwo_eterm"),  # PETER "never employed": no W-4, so no notice before e-IWO
        ("KSCASE2", "T", "iwo_ack_rn"),
    }
    di = records(out(home, "KS", C2, f"NOTICES.KS.{C2}.dat"), "DI").row(0, named=True)
    assert (di["iwo_open"], di["iwo_case_id"]) == ("Y", "KSCASE1")
    new_mo = records(out(home, "MO", C2, f"EIWORES.MO.{C2}.dat"), "NEW").row(0, named=True)
    assert (new_mo["new_employer_fein"], new_mo["document_tracking_id"], new_mo["data_withheld"]) == (
        BOLTS,
        "MO-T1",
        None,
    )


def test_family_violence_withholds_employer_data_from_other_states(home):
    """ANNA is flagged FV by MO: KS gets its results, acknowledgments and notices without employer data."""
    res = records(out(home, "KS", C1, f"EIWORES.KS.{C1}.dat"), "RES").filter(pl.col("result") == "SENT")
    assert (by_tracking(res)["KS-T1"]["data_withheld"], by_tracking(res)["KS-T1"]["routed_fein"]) == ("Y", None)
    ack = by_tracking(records(out(home, "KS", C2, f"EIWORES.KS.{C2}.dat"), "ACK"))["KS-T1"]
    assert ack["data_withheld"] == "Y" and ack["employer_fein"] is None and ack["employer_name"] is None
    new = records(out(home, "KS", C2, f"EIWORES.KS.{C2}.dat"), "NEW").row(0, named=True)
    assert new["data_withheld"] == "Y" and new["new_employer_fein"] is None and new["new_employer_name"] is None
    log = query_store(
        home,
        """SELECT recipient, categories FROM disclosures WHERE layout LIKE 'eiwo%' AND person_key = '123456781'
        AND recipient = 'KS'""",
    )
    assert log.height and not any({"employer", "address"} & set(c) for c in log["categories"])


def test_conservation_in_the_ledger(home):
    rows = query_store(home, "SELECT layout, records, accepted, rejected FROM file_ledger WHERE layout LIKE 'eiwo%'")
    assert rows.height >= 5 and all(r + 0 == a + j for _, r, a, j in rows.iter_rows())
    orders = query_store(home, "SELECT count(*) AS n FROM eiwo_orders")["n"][0]
    accepted = query_store(home, "SELECT count(*) AS n FROM eiwo_order_input")["n"][0]
    assert orders == accepted == 9


def test_eemployer_shows_participation_mser_and_ack_timeliness(home, tmp_path):
    def employer(fein: str) -> dict:
        doc = fpls("query", "employer", "--home", str(home), "--fein", fein, "--json", check=True).stdout
        return json.loads(doc)["employers"][0]

    bolts, acme = employer(BOLTS), employer(ACME)
    assert (bolts["eiwo"], bolts["debt_inquiry"], bolts["medical_insurance"]) == ("SYS", "Y", "Y")
    assert (bolts["mser_reporting_state"], bolts["iwo_recipient_fein"], bolts["iwo_city"]) == (
        "KS",
        PROCESSOR,
        "DALLAS",
    )
    assert (acme["eiwo"], acme["debt_inquiry"], acme["medical_insurance"], acme["iwo_received"]) == (
        "NPO",
        "Y",
        None,
        3,
    )
    text = fpls("query", "employer", "--home", str(home), "--fein", BOLTS, check=True).stdout
    assert "e-IWO SYS" in text and "Debt Inquiry Y" in text and "PO BOX 77" in text
    mser = fpls("employers", "mser", "--home", str(home), "--month", "2026-11", check=True).stdout.splitlines()
    assert mser[1].startswith("KS,1,0,1,2,0,2,") and (home / "reports" / C2 / "mser_2026-11.csv").exists()
    # three weeks on, ACME never answered PETER's order: its acknowledgments are late
    copy = tmp_path / "later"
    shutil.copytree(home, copy)
    con = store.connect(copy)
    try:
        con.execute("INSERT INTO cycles VALUES ('20261130-01', DATE '2026-11-30', 1, 'done')")
        report = late_report(con, "2026-11")
    finally:
        con.close()
    row = report.filter(pl.col("employer_fein") == ACME).row(0, named=True)
    assert (row["status"], row["iwo_sent"], row["iwo_acked"], row["iwo_unacked"], row["median_days_to_ack"]) == (
        "ACK_LATE",
        3,
        2,
        1,
        7,
    )


def test_a_file_naming_another_transmitter_is_refused_whole(tmp_path):
    """No one submits for someone else: an order file whose header names MO from the KS folder, an MSER
    registration of another FEIN, an acknowledgment file whose header names another employer."""
    from datetime import date

    from pipeline.cycle.inbound import Partner
    from pipeline.cycle.load import LoadContext, load_file
    from tests.pipeline.enforcement.eiwo_home import JOHN, MSER_BOLTS, ack, ack_file, csv_file, order, order_file

    con = store.connect(tmp_path)
    partners = {
        "KS": Partner("KS", "state", ("eiwo_order",)),
        f"EMP-{ACME}": Partner(f"EMP-{ACME}", "employer", ("eiwo_mser_csv", "eiwo_ack")),
    }
    ctx = LoadContext(con, "20261102-01", date(2026, 11, 2), partners)
    drops = {
        ("KS", "mo_header.dat"): order_file([(BOLTS, [order("KS-X1", JOHN, BOLTS)], None)], fips="29"),
        (f"EMP-{ACME}", "mser_bolts.csv"): csv_file("eiwo_mser_csv", [MSER_BOLTS]),
        (f"EMP-{ACME}", "ack_other.dat"): ack_file(PROCESSOR, [ack("KS-T3", JOHN, BOLTS, "A")]),
    }
    for (folder, name), data in drops.items():
        path = tmp_path / "work" / "c" / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        outcome = load_file(ctx, path)
        assert (outcome.status, outcome.codes) == ("rejected", ["TRANSMITTER_MISMATCH"]), name
    assert con.execute("SELECT count(*) FROM eiwo_order_input").fetchone()[0] == 0
    con.close()


def test_state_profile_counts_orders_and_their_acknowledgments(home):
    from datetime import date

    from reports import metrics

    con = store.connect(home)
    try:
        got = metrics.run(con, "profile_eiwo", C2, start=date(2026, 7, 1), end=date(2026, 12, 31))
    finally:
        con.close()
    rows = {r.pop("state"): r for r in got.iter_rows(named=True)}
    # KS: T1 T3 T5 sent; T2 (duplicate IWO), T4 (unknown FEIN), T1 again (tracking number), T6 (batch control) refused;
    # acknowledged: T1 and T3 (its answer from ACME, not the recipient, does not count); T3 rejected (R/N).
    # The malformed amount was rejected by validation: never an order. MO: T1 sent (R/M), T2 refused.
    assert rows["KS"] == {"orders": 7, "sent": 3, "refused": 4, "acknowledged": 2, "rejected_by_employer": 1}
    assert rows["MO"] == {"orders": 2, "sent": 1, "refused": 1, "acknowledged": 1, "rejected_by_employer": 1}
    assert rows["US"] == {"orders": 9, "sent": 4, "refused": 5, "acknowledged": 3, "rejected_by_employer": 2}
