"""The 60-day rule of the early-intervention program counts exactly: first in, first out, by the calendar.

Support falls due on the 1st of each month; a payment pays the oldest debt first, so a case is "60 days in
arrears" when the oldest installment its arrears still hold fell due 60 or more days before the snapshot.
Hand-made cases at 59 / 60 / 61 days, partial payments, payments on the last days of a month, February in
common and leap years, arrears-only cases.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from pipeline import store
from reports import metrics

M = 40_000  # a $400.00 monthly order, in cents

CASES = [
    # (case, snapshot date, obligation, arrears, last payment, expected days, expected delinquent)
    ("D59", date(2026, 3, 1), M, 3 * M, None, 59, False),  # Jan, Feb, Mar unpaid: Jan 1 -> Mar 1 is 59 days
    ("D60", date(2026, 3, 2), M, 3 * M, None, 60, True),
    ("D61", date(2026, 3, 3), M, 3 * M, None, 61, True),
    ("PART1", date(2026, 3, 2), M, 2 * M + 1, date(2026, 1, 20), 60, True),  # paid $399.99 of January: still owed
    ("PART0", date(2026, 3, 2), M, 2 * M, date(2026, 1, 20), 29, False),  # January paid in full: Feb 1 is oldest
    ("UNDER", date(2026, 3, 2), M, M - 1, date(2026, 3, 2), 1, False),  # part of March only
    ("EOM_PAID", date(2026, 3, 31), M, 2 * M, date(2026, 3, 31), 58, False),  # paid on the last day: Feb 1 oldest
    ("EOM_UNPAID", date(2026, 3, 30), M, 3 * M, date(2026, 1, 31), 88, True),  # the day before that payment
    ("JAN31", date(2026, 3, 2), M, 2 * M, date(2026, 1, 31), 29, False),  # paid on Jan 31 for January: in time
    ("FEB28", date(2026, 2, 28), M, 2 * M, None, 58, False),  # Jan 1 -> Feb 28, a common year
    ("LEAP60", date(2028, 3, 1), M, 3 * M, None, 60, True),  # Jan 1 -> Mar 1 2028 counts Feb 29
    ("LEAP59", date(2028, 2, 29), M, 2 * M, None, 59, False),
    ("ONLY59", date(2026, 3, 2), 0, 500_00, date(2026, 1, 2), 59, False),  # arrears only: days since last payment
    ("ONLY60", date(2026, 3, 2), 0, 500_00, date(2026, 1, 1), 60, True),
    ("ONLY_NEVER", date(2026, 3, 2), 0, 500_00, None, None, True),  # arrears only, never paid
    ("ZERO", date(2026, 3, 2), M, 0, None, 0, False),
    ("CREDIT", date(2026, 3, 2), M, -5_000, date(2026, 3, 1), 0, False),  # overpaid: a credit, nothing owed
]


@pytest.fixture(scope="module")
def ages(tmp_path_factory) -> dict[str, dict]:
    con = store.connect(tmp_path_factory.mktemp("rule"))
    con.execute("INSERT INTO cycles VALUES ('20260401-01', DATE '2026-04-01', 1, 'done')")
    rows = [
        {
            "cycle_id": "20260401-01",
            "file_id": 1,
            "line_no": i + 1,
            "state": "OK",
            "case_id": case,
            "member_id": f"M{case}",
            "case_type": "N",
            "monthly_obligation": oblig,
            "arrears": arrears,
            "last_payment_date": paid,
            "as_of_date": snap,
        }
        for i, (case, snap, oblig, arrears, paid, _, _) in enumerate(CASES)
    ]
    store.insert_frame(con, "case_financial", pl.DataFrame(rows, infer_schema_length=None))
    sql = metrics.query("_case_arrears_age").sql
    out = store.frame(con, sql, {"cycle": "20260401-01"})
    con.close()
    return {r["case_id"]: r for r in out.iter_rows(named=True)}


@pytest.mark.parametrize("case, snap, oblig, arrears, paid, days, delinquent", CASES, ids=[c[0] for c in CASES])
def test_days_in_arrears_and_the_60_day_line(ages, case, snap, oblig, arrears, paid, days, delinquent):
    row = ages[case]
    assert row["days_delinquent"] == days
    assert row["delinquent"] is delinquent


def test_the_oldest_unpaid_installment_is_named(ages):
    assert ages["D60"]["oldest_unpaid_due"] == date(2026, 1, 1)
    assert ages["PART0"]["oldest_unpaid_due"] == date(2026, 2, 1)
    assert ages["LEAP60"]["oldest_unpaid_due"] == date(2028, 1, 1)
    assert ages["ONLY60"]["oldest_unpaid_due"] is None  # no installments on an arrears-only case
