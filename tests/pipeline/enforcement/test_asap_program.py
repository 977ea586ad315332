"""The early-intervention program run by the enforcement stage: quota per week, best address with source and
date, family violence, no address -> locate, returned mail -> locate on the next cycle, holds, no resend."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipeline import store
from pipeline.enforcement.asap import request_queued_locates, run_asap
from pipeline.enforcement.asap_settings import SettingsError, load_settings, parse_settings

C1, C2, C3 = "20260302-01", "20260316-01", "20260330-01"
D1, D2, D3 = date(2026, 3, 2), date(2026, 3, 16), date(2026, 3, 30)
M = 40_000


def _settings(weekly: int = 2) -> dict:
    data = {
        "state": "OK",
        "agency": "Oklahoma Child Support Services",
        "office": {
            "name": "ASAP Call Center",
            "address_line_1": "PO BOX 248822",
            "city": "OKLAHOMA CITY",
            "state": "OK",
            "zip": "73124",
        },
        "toll_free": "1-888-555-0140",
        "asap": {"weekly_letters": weekly},
    }
    return {"OK": parse_settings(data, Path("OK.yaml"))}


def _ins(con, table: str, rows: list[dict]) -> None:
    store.insert_frame(con, table, pl.DataFrame(rows, infer_schema_length=None))


def _ssn(i: int) -> str:
    return f"40100{i:04d}"


def _home(tmp_path: Path, n: int = 7) -> store:
    """n delinquent parents in OK (P1 most recently delinquent ... Pn oldest), each with a W-4 address."""
    con = store.connect(tmp_path)
    _ins(con, "cycles", [{"cycle_id": c, "as_of": d, "seq": 1, "status": "done"} for c, d in ((C1, D1), (C2, D2))])
    persons, cf, ndnh = [], [], []
    for i in range(1, n + 1):
        persons.append(
            {
                "state": "OK",
                "case_id": f"C{i}",
                "member_id": f"P{i}",
                "participant_type": "NP",
                "status": "active",
                "ssn": _ssn(i),
                "verified_ssn": _ssn(i),
                "validity_code": "V",
                "first_name": "PAT",
                "last_name": f"NUMBER{i}",
                "added_cycle": C1,
            }
        )
        cf.append(
            {
                "cycle_id": C2,
                "file_id": 1,
                "line_no": i,
                "state": "OK",
                "case_id": f"C{i}",
                "member_id": f"P{i}",
                "ncp_ssn": _ssn(i),
                "case_type": "N",
                "monthly_obligation": M,
                "arrears": (2 + i) * M,
                "as_of_date": D2,
            }
        )
        ndnh.append(
            {
                "ndnh_id": i,
                "cycle_id": C1,
                "received": D1,
                "source": "H99",
                "ssn": _ssn(i),
                "verified_ssn": _ssn(i),
                "hire_date": date(2026, 2, 1),
                "address_line_1": f"{i} MAIN ST",
                "city": "TULSA",
                "state": "OK",
                "zip": "74103",
            }
        )
    _ins(con, "fcr_persons", persons)
    _ins(con, "case_financial", cf)
    _ins(con, "ndnh", ndnh)
    return con


def _run(con, cycle: str, as_of: date, settings: dict) -> object:
    with store.transaction(con):
        return run_asap(con, cycle, as_of, settings)


def _letters(con, cycle: str) -> pl.DataFrame:
    return store.frame(con, "SELECT * FROM asap_letters WHERE cycle_id = ? ORDER BY letter_id", [cycle])


def test_weekly_quota_spread_over_the_weeks_most_recent_delinquency_first(tmp_path):
    con = _home(tmp_path)
    result = _run(con, C2, D2, _settings(weekly=2))  # two weeks since the previous cycle: 2 x 2 letters
    letters = _letters(con, C2)
    assert (result.delinquent, result.mailed, result.backlog, result.no_address) == (7, 4, 3, 0)
    assert letters.get_column("member_id").to_list() == ["P1", "P2", "P3", "P4"]  # 3, 4, 5, 6 months owed
    assert letters.get_column("mail_date").to_list() == [D2, D2, date(2026, 3, 23), date(2026, 3, 23)]
    assert letters.get_column("respond_by").to_list()[0] == date(2026, 3, 26)
    row = letters.row(0, named=True)
    assert (row["address_line_1"], row["city"], row["addr_state"], row["zip"]) == ("1 MAIN ST", "TULSA", "OK", "74103")
    assert (row["address_source"], row["address_date"]) == ("W-4 new hire (NDNH)", date(2026, 2, 1))
    assert (row["toll_free"], row["office_name"]) == ("1-888-555-0140", "ASAP Call Center")


def test_every_letter_is_addressed_or_no_address_locate_requested(tmp_path):
    con = _home(tmp_path, n=3)
    con.execute("UPDATE ndnh SET zip = NULL WHERE ssn = ?", [_ssn(2)])  # incomplete: never printed
    con.execute("DELETE FROM ndnh WHERE ssn = ?", [_ssn(3)])  # nothing known
    _run(con, C2, D2, _settings(weekly=10))
    got = {r["member_id"]: r for r in _letters(con, C2).iter_rows(named=True)}
    assert got["P1"]["status"] == "mailed"
    for m in ("P2", "P3"):
        assert got[m]["status"] == "no_address" and got[m]["address_line_1"] is None
        assert got[m]["reason"] == "no complete address on file"
    queue = store.frame(con, "SELECT member_id, reason FROM asap_locate_queue ORDER BY 1")
    assert queue.rows() == [("P2", "no address"), ("P3", "no address")]
    mailed = _letters(con, C2).filter(pl.col("status") == "mailed")
    for col in ("address_line_1", "city", "addr_state", "zip"):
        assert mailed.get_column(col).null_count() == 0


def test_family_violence_addresses_are_never_used(tmp_path):
    con = _home(tmp_path, n=3)
    # P1 is flagged FV by Texas: no FPLS address of P1 goes to Oklahoma, only Oklahoma's own file
    _ins(
        con,
        "fcr_persons",
        [
            {
                "state": "TX",
                "case_id": "T1",
                "member_id": "TXP1",
                "participant_type": "CP",
                "family_violence": "FV",
                "status": "active",
                "verified_ssn": _ssn(1),
            }
        ],
    )
    # a custodial party flagged FV lives at P2's W-4 address (shared, or reported by mistake)
    _ins(
        con,
        "fcr_persons",
        [
            {
                "state": "OK",
                "case_id": "C9",
                "member_id": "CP9",
                "participant_type": "CP",
                "family_violence": "FV",
                "status": "active",
                "verified_ssn": "401009999",
            }
        ],
    )
    _ins(
        con,
        "ndnh",
        [
            {
                "ndnh_id": 50,
                "cycle_id": C1,
                "received": D1,
                "source": "H97",
                "ssn": "401009999",
                "verified_ssn": "401009999",
                "address_line_1": "2  MAIN ST",
                "city": "TULSA",
                "state": "OK",
                "zip": "74103",
            }
        ],
    )
    _ins(
        con,
        "debtors",
        [
            {
                "state": "OK",
                "ssn": _ssn(3),
                "case_type": "N",
                "status": "active",
                "added_cycle": C1,
                "address_line_1": "3 STATE RECORD RD",
                "city": "NORMAN",
                "addr_state": "OK",
                "zip": "730690000",
            }
        ],
    )
    _run(con, C2, D2, _settings(weekly=10))
    got = {r["member_id"]: r for r in _letters(con, C2).iter_rows(named=True)}
    assert got["P1"]["status"] == "no_address" and got["P1"]["reason"] == "address withheld (family violence)"
    assert got["P2"]["status"] == "no_address" and got["P2"]["reason"] == "address withheld (family violence)"
    # P3: the state's own offset-file address (dated by the cycle that sent it) is newer than the W-4
    assert (got["P3"]["address_line_1"], got["P3"]["zip"], got["P3"]["address_source"]) == (
        "3 STATE RECORD RD",
        "73069",
        "state offset file",
    )


def test_returned_mail_is_located_next_cycle_and_that_address_not_used_again(tmp_path):
    con = _home(tmp_path, n=1)
    _ins(
        con,
        "ndnh",
        [
            {
                "ndnh_id": 60,
                "cycle_id": C1,
                "received": D1,
                "source": "H97",
                "ssn": _ssn(1),
                "verified_ssn": _ssn(1),
                "address_line_1": "77 OLD RD",
                "city": "ENID",
                "state": "OK",
                "zip": "73701",
            }
        ],
    )  # older (received Mar 2, W-4 hired Feb 1 is older still: UI wins)
    _run(con, C2, D2, _settings())
    first = _letters(con, C2).row(0, named=True)
    assert first["address_line_1"] == "77 OLD RD"
    # the letter comes back; the state logs it; next cycle: a locate request, and the next address
    con.execute("INSERT INTO cycles VALUES (?, ?, 1, 'running')", [C3, D3])
    _ins(
        con,
        "contact_outcomes",
        [
            {
                "cycle_id": C3,
                "state": "OK",
                "case_id": "C1",
                "member_id": "P1",
                "contact_date": date(2026, 3, 25),
                "outcome": "RETURNED",
            }
        ],
    )
    con.execute("UPDATE asap_letters SET mail_date = mail_date - 200")  # outside the resend window, to re-letter
    with store.transaction(con):
        assert request_queued_locates(con, C3) == 0  # nothing queued before C3
    result = _run(con, C3, D3, _settings())
    assert result.returned_mail == 1 and result.locates_queued == 1
    second = _letters(con, C3).row(0, named=True)
    assert second["address_line_1"] == "1 MAIN ST" and second["status"] == "mailed"
    con.execute("INSERT INTO cycles VALUES ('20260406-01', DATE '2026-04-06', 1, 'running')")
    with store.transaction(con):
        assert request_queued_locates(con, "20260406-01") == 1
    req = store.frame(con, "SELECT * FROM locate_requests WHERE cycle_id = '20260406-01'").row(0, named=True)
    assert (req["state"], req["case_id"], req["member_id"], req["verified_ssn"]) == ("OK", "C1", "P1", _ssn(1))


def test_promise_holds_the_letter_and_no_parent_is_lettered_twice(tmp_path):
    con = _home(tmp_path, n=2)
    _ins(
        con,
        "contact_outcomes",
        [
            {
                "cycle_id": C2,
                "state": "OK",
                "case_id": "C2",
                "member_id": "P2",
                "contact_date": date(2026, 3, 10),
                "outcome": "PROMISE",
                "amount": 20000,
            }
        ],
    )
    r = _run(con, C2, D2, _settings())
    assert r.mailed == 1 and _letters(con, C2).get_column("member_id").to_list() == ["P1"]
    con.execute("INSERT INTO cycles VALUES (?, ?, 1, 'running')", [C3, D3])
    r = _run(con, C3, D3, _settings())
    assert r.mailed == 0  # P1 was lettered 14 days ago (resend after 180); P2 promised 20 days ago (hold 30)
    c4, d4 = "20260413-01", date(2026, 4, 13)
    con.execute("INSERT INTO cycles VALUES (?, ?, 1, 'running')", [c4, d4])
    r = _run(con, c4, d4, _settings())
    assert _letters(con, c4).get_column("member_id").to_list() == ["P2"] and r.mailed == 1  # the promise lapsed


def test_a_state_without_settings_mails_nothing_and_bad_settings_are_refused(tmp_path):
    con = _home(tmp_path, n=2)
    r = _run(con, C2, D2, {})
    assert r.mailed == 0 and r.states_without_settings == ["OK"]
    folder = tmp_path / "h" / "states"
    folder.mkdir(parents=True)
    (folder / "OK.yaml").write_text(
        "state: OK\nagency: X\noffice: {name: A, address_line_1: B, city: C, state: OK, "
        "zip: '73124'}\ntoll_free: 555-0100\n"
    )
    with pytest.raises(SettingsError, match="toll_free"):
        load_settings(tmp_path / "h")
    (folder / "OK.yaml").write_text("state: KS\n")
    with pytest.raises(SettingsError, match="names state KS"):
        load_settings(tmp_path / "h")
