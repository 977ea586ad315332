"""eEmployer: the employer table built from NDNH (view `eemployer`: FEIN, current and past names, latest
address, first / last reported, number of W-4 hires, QW wage records), its query, and the monthly report of
employers that report new hires late or not at all (the MSER side).

Definitions (fpls; the federal rule is "within 20 days of the date of hire", 42 USC 653a(b)(1)(A)):
- a W-4 is LATE when the day NDNH received it (the cycle date that loaded it) is more than 20 days after
  the date of hire; the report counts W-4s received in the month, except those of the store's first cycle
  with W-4s: that is the history load (months of past hires at once), not a report of new hires;
- an employer is NON_REPORTING for the month when it filed quarterly wage (QW) records in the store but has
  never sent a W-4; `qw_employees_without_w4` counts its QW employees (verified SSN) for whom it never sent
  a W-4 (hires it may not have reported);
- status LATE when at least one W-4 of the month was late, NON_REPORTING as above, else OK. Only LATE and
  NON_REPORTING employers are listed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pipeline.files.writer import atomic_write
from pipeline.store import frame

LATE_DAYS = 20


def query_employer(con: duckdb.DuckDBPyConnection, fein: str | None = None, name: str | None = None) -> pl.DataFrame:
    pattern = f"%{(name or '').upper()}%"
    return frame(
        con,
        """SELECT * FROM eemployer WHERE (? IS NULL OR employer_fein = ?)
        AND (? IS NULL OR len(list_filter(employer_names, lambda n: n LIKE ?)) > 0)
        ORDER BY employer_fein""",
        [fein, fein, name, name and pattern],
    )


def month_bounds(month: str) -> tuple[date, date]:
    first = date.fromisoformat(f"{month}-01")
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt


def late_report(con: duckdb.DuckDBPyConnection, month: str) -> pl.DataFrame:
    """Employers reporting late or not at all in `month` (YYYY-MM)."""
    first, nxt = month_bounds(month)
    return frame(
        con,
        f"""
        WITH w4 AS (SELECT employer_fein, date_diff('day', hire_date, received) AS days FROM ndnh
                    WHERE source = 'H99' AND received >= ? AND received < ? AND employer_fein IS NOT NULL
                      AND hire_date IS NOT NULL
                      AND cycle_id > (SELECT min(cycle_id) FROM ndnh WHERE source = 'H99')),
        w4m AS (SELECT employer_fein, count(*) AS w4_received, count(*) FILTER (WHERE days > {LATE_DAYS}) AS late_w4,
                       median(days) AS median_days_to_report, max(days) AS max_days_to_report
                FROM w4 GROUP BY 1),
        ever AS (SELECT DISTINCT employer_fein, verified_ssn FROM ndnh WHERE source = 'H99'),
        qw AS (SELECT q.employer_fein, count(DISTINCT q.verified_ssn) AS qw_employees,
                      count(DISTINCT q.verified_ssn) FILTER (WHERE e.verified_ssn IS NULL) AS qw_employees_without_w4
               FROM ndnh q LEFT JOIN ever e ON e.employer_fein = q.employer_fein AND e.verified_ssn = q.verified_ssn
               WHERE q.source = 'H98' AND q.verified_ssn IS NOT NULL AND q.received < ? GROUP BY 1)
        SELECT e.employer_fein, e.employer_name, e.state, coalesce(w.w4_received, 0) AS w4_received,
            coalesce(w.late_w4, 0) AS late_w4,
            round(coalesce(w.late_w4, 0) / nullif(w.w4_received, 0), 4) AS late_share,
            w.median_days_to_report, w.max_days_to_report, coalesce(q.qw_employees, 0) AS qw_employees,
            coalesce(q.qw_employees_without_w4, 0) AS qw_employees_without_w4, e.hires AS w4_ever, e.last_reported,
            CASE WHEN coalesce(w.late_w4, 0) > 0 THEN 'LATE'
                 WHEN e.hires = 0 AND coalesce(q.qw_employees, 0) > 0 THEN 'NON_REPORTING' END AS status,
            ? AS month
        FROM eemployer e LEFT JOIN w4m w USING (employer_fein) LEFT JOIN qw q USING (employer_fein)
        WHERE coalesce(w.late_w4, 0) > 0 OR (e.hires = 0 AND coalesce(q.qw_employees, 0) > 0)
        ORDER BY status, late_w4 DESC, employer_fein""",
        [first, nxt, nxt, month],
    )


def write_late_report(con: duckdb.DuckDBPyConnection, home: Path, folder: str, month: str) -> Path:
    report = late_report(con, month)
    path = Path(home) / "reports" / folder / f"employer_reporting_{month}.csv"
    return atomic_write(path, report.write_csv().encode())
