"""Multistate employer registration (MSER): the monthly counts by registered state.

An employer with employees in several states may report all its new hires to one state (42 USC 653a(b)(1)(B));
it registers that state (eiwo_mser_csv, view `employer_services`: each FEIN's latest registration, a D withdraws
it). Its W-4s are accepted from that state's SDNH or directly from the employer (EMP-<FEIN>) like any W-4.

Per reporting state, for the month (YYYY-MM): employers registered (at the end of the month), registrations that
took effect in the month, registered employers that reported hires in the month, the W-4s they sent (received in
the month), how many came directly (EMP-<FEIN>) or through a state directory, and how many were for employees
living in another state than the reporting state (the employee's address on the W-4).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipeline.enforcement.employers import month_bounds
from pipeline.files.writer import atomic_write
from pipeline.store import frame


def mser_report(con: duckdb.DuckDBPyConnection, month: str) -> pl.DataFrame:
    first, nxt = month_bounds(month)
    return frame(
        con,
        """
        WITH reg AS (SELECT * FROM employer_services WHERE effective_date < $2),
        hires AS (SELECT r.reporting_state, count(DISTINCT n.employer_fein) AS employers_reporting,
                         count(*) AS new_hires,
                         count(*) FILTER (WHERE n.submitter = 'EMP-' || n.employer_fein) AS new_hires_direct,
                         count(*) FILTER (WHERE n.submitter <> 'EMP-' || n.employer_fein) AS new_hires_via_sdnh,
                         count(*) FILTER (WHERE n.state IS DISTINCT FROM r.reporting_state) AS new_hires_other_states
                  FROM ndnh n JOIN reg r ON r.employer_fein = n.employer_fein
                  WHERE n.source = 'H99' AND n.received >= $1 AND n.received < $2 GROUP BY 1),
        regs AS (SELECT reporting_state, count(*) AS registered_employers,
                        count(*) FILTER (WHERE effective_date >= $1) AS new_registrations FROM reg GROUP BY 1)
        SELECT g.reporting_state, g.registered_employers, g.new_registrations,
            coalesce(h.employers_reporting, 0) AS employers_reporting, coalesce(h.new_hires, 0) AS new_hires,
            coalesce(h.new_hires_direct, 0) AS new_hires_direct, coalesce(h.new_hires_via_sdnh, 0) AS new_hires_via_sdnh,
            coalesce(h.new_hires_other_states, 0) AS new_hires_other_states, $3 AS month
        FROM regs g LEFT JOIN hires h USING (reporting_state) ORDER BY g.reporting_state""",
        [first, nxt, month],
    )


def write_mser_report(con: duckdb.DuckDBPyConnection, home: Path, folder: str, month: str) -> Path:
    report = mser_report(con, month)
    return atomic_write(Path(home) / "reports" / folder / f"mser_{month}.csv", report.write_csv().encode())
