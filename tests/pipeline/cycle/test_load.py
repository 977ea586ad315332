"""The load stage's sink: QW wage records take their employer's name and address as they are appended,
exactly as the former per-file UPDATE gave them (first E4 per FEIN and period in line order), whatever
the order of the records and however the file is cut into batches."""

from __future__ import annotations

import functools
from datetime import date

import polars as pl
import pytest

from pipeline import store
from pipeline.cycle import load
from pipeline.cycle.inbound import Partner
from pipeline.files.layouts import load_layout
from pipeline.files.writer import fixed_bytes


def _employer(fein: str, name: str) -> dict:
    return {
        "employer_fein": fein,
        "employer_name": name,
        "employer_address_line_1": f"{name} ST",
        "employer_city": "JOPLIN",
        "employer_state": "MO",
        "employer_zip": "64801",
        "reporting_period": "20263",
    }


def _wage(ssn: str, fein: str) -> dict:
    return {
        "ssn": ssn,
        "last_name": "SMITH",
        "wage_amount": "100",
        "reporting_period": "20263",
        "employer_fein": fein,
    }


def _qw_bytes() -> bytes:
    def df(*rows):
        return pl.DataFrame(list(rows), schema={k: pl.Utf8 for k in rows[0]})

    blocks = [
        ("H4", df({"transmitter_state_fips": "29", "date_stamp": "20261101", "batch_number": "000003"})),
        ("QW", df(_wage("123456781", "111111111"))),  # line 2: before its employer
        ("E4", df(_employer("111111111", "FIRST A"))),
        ("E4", df(_employer("222222222", "FIRST B"))),
        ("QW", df(_wage("123456782", "222222222"), _wage("123456783", "333333333"))),  # 333...: no employer
        ("E4", df(_employer("222222222", "LATER B"))),  # same key again: the first one counts
        ("QW", df(_wage("123456784", "111111111"), _wage("123456785", "222222222"))),
        ("T4", df({"employer_count": "3", "employee_count": "5", "wage_total": "500"})),
    ]
    return fixed_bytes(load_layout("ndnh_qw"), blocks)


@pytest.mark.parametrize("batch_rows", [2, 3, 250_000])
def test_qw_employers_as_the_update_gave_them(tmp_path, monkeypatch, batch_rows):
    monkeypatch.setattr(load, "validate_file", functools.partial(load.validate_file, batch_rows=batch_rows))
    path = tmp_path / "work" / "C" / "SWA-MO" / "QW.SWA-MO.20263.001.dat"
    path.parent.mkdir(parents=True)
    path.write_bytes(_qw_bytes())
    con = store.connect(tmp_path)
    try:
        ctx = load.LoadContext(con, "C", date(2026, 11, 2), {"SWA-MO": Partner("SWA-MO", "swa", ("ndnh_qw",))})
        outcome = load.load_file(ctx, path)
        assert (outcome.status, outcome.accepted, outcome.rejected) == ("loaded", 10, 0)
        rows = con.execute(
            "SELECT line_no, employer_fein, employer_name, employer_address_line_1, employer_city FROM ndnh "
            "ORDER BY ndnh_id"
        ).fetchall()
    finally:
        con.close()
    assert rows == [
        (2, "111111111", "FIRST A", "FIRST A ST", "JOPLIN"),
        (5, "222222222", "FIRST B", "FIRST B ST", "JOPLIN"),
        (6, "333333333", None, None, None),
        (8, "111111111", "FIRST A", "FIRST A ST", "JOPLIN"),
        (9, "222222222", "FIRST B", "FIRST B ST", "JOPLIN"),
    ]


def test_small_files_sharing_a_transaction_keep_a_rejected_file_out(tmp_path):
    """Small files load in one transaction while the stage groups commits: a file rejected whole (its trailer's
    count is wrong) leaves no row, the files around it keep theirs, and each has its ledger row."""
    good = _qw_bytes()
    bad = good.replace(b"T400000000003", b"T400000000009", 1)
    assert bad != good, "the trailer's employer count moved: fix the test's byte edit"
    folder = tmp_path / "work" / "C" / "SWA-MO"
    folder.mkdir(parents=True)
    names = ["QW.SWA-MO.20263.001.dat", "QW.SWA-MO.20263.002.dat", "QW.SWA-MO.20263.003.dat"]
    for name, data in zip(names, (good, bad, good.replace(b"SMITH", b"JONES"))):
        (folder / name).write_bytes(data)
    con = store.connect(tmp_path)
    try:
        ctx = load.LoadContext(con, "C", date(2026, 11, 2), {"SWA-MO": Partner("SWA-MO", "swa", ("ndnh_qw",))})
        with ctx.grouped_commits():
            outcomes = [load.load_file(ctx, folder / name) for name in names]
            assert ctx.group_files == 3  # one open transaction for the three
        rows = con.execute("SELECT file_id, count(*) FROM ndnh GROUP BY 1 ORDER BY 1").fetchall()
        ledger = con.execute("SELECT file_id, status FROM file_ledger ORDER BY 1").fetchall()
    finally:
        con.close()
    assert [o.status for o in outcomes] == ["loaded", "rejected", "loaded"]
    ids = [o.file_id for o in outcomes]
    assert rows == [(ids[0], 5), (ids[2], 5)]
    assert ledger == [(ids[0], "loaded"), (ids[1], "rejected"), (ids[2], "loaded")]
