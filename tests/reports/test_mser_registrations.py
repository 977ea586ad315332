"""The monthly MSER report's registrations (reports/periodic.sql mser_registrations over the view of the same name):
each FEIN counts once, in the state of its latest registration loaded by the end of the month; a withdrawal ends it;
registered this month = that registration was loaded in one of the month's cycles."""

from __future__ import annotations

from datetime import date

import polars as pl

from pipeline import store
from reports import metrics

JAN, FEB, MAR = "20260105-01", "20260202-01", "20260302-01"


def _registration(cycle: str, file_id: int, fein: str, action: str, state: str, effective: date) -> dict:
    return {
        "cycle_id": cycle,
        "file_id": file_id,
        "line_no": 2,
        "submitter": f"EMP-{fein}",
        "action": action,
        "employer_fein": fein,
        "reporting_state": state,
        "effective_date": effective,
    }


def _counts(con, start: date, end: date) -> dict[str, tuple[int, int]]:
    df = metrics.run(con, "mser_registrations", MAR, start=start, end=end)
    return {r["state"]: (r["employers_registered"], r["registered_this_month"]) for r in df.iter_rows(named=True)}


def test_registrations_follow_changes_and_withdrawals(tmp_path):
    con = store.connect(tmp_path)
    try:
        cycles = [(JAN, date(2026, 1, 5)), (FEB, date(2026, 2, 2)), (MAR, date(2026, 3, 2))]
        store.insert_frame(
            con,
            "cycles",
            pl.DataFrame([{"cycle_id": c, "as_of": d, "seq": 1, "status": "done"} for c, d in cycles]),
        )
        rows = [
            _registration(JAN, 1, "100000001", "A", "KS", date(2026, 1, 1)),  # KS, moves to MO in March
            _registration(JAN, 2, "100000002", "A", "OK", date(2026, 1, 1)),  # OK, withdrawn in February
            _registration(FEB, 3, "100000002", "D", "OK", date(2026, 2, 1)),
            _registration(FEB, 4, "100000003", "A", "KS", date(2026, 2, 1)),  # KS from February
            _registration(MAR, 5, "100000001", "C", "MO", date(2026, 3, 1)),
        ]
        store.insert_frame(con, "mser_input", pl.DataFrame(rows))
        assert _counts(con, date(2026, 1, 1), date(2026, 1, 31)) == {"KS": (1, 1), "OK": (1, 1), "US": (2, 2)}
        assert _counts(con, date(2026, 2, 1), date(2026, 2, 28)) == {"KS": (2, 1), "US": (2, 1)}
        assert _counts(con, date(2026, 3, 1), date(2026, 3, 31)) == {"KS": (1, 0), "MO": (1, 1), "US": (2, 1)}
    finally:
        con.close()
