"""eEmployer: the employer table built from NDNH (view `eemployer`: FEIN, current and past names, latest
address, first / last reported, number of W-4 hires, QW wage records) joined with the employer-services profile
(view `employer_services`: the latest MSER registration), its query, and the monthly report of employers that
report new hires late or not at all or answer e-IWOs late.

Participation shown by the query: e-IWO `SYS` (registered e-IWO Y, or sends fixed-width acknowledgments), `NPO`
(orders reach it as the No Programming Option: answers with the spreadsheet), `N`; Debt Inquiry Y when registered
so or it has sent Debt Inquiry notices; medical insurance as registered (blank when unknown); the address for IWOs
is the registered IWO address, else the registered address, else the latest NDNH employer address.

Definitions (fpls; the federal rule is "within 20 days of the date of hire", 42 USC 653a(b)(1)(A)):
- a W-4 is LATE when the day NDNH received it (the cycle date that loaded it) is more than 20 days after
  the date of hire; the report counts W-4s received in the month, except those of the store's first cycle
  with W-4s: that is the history load (months of past hires at once), not a report of new hires;
- an employer is NON_REPORTING for the month when it filed quarterly wage (QW) records in the store but has
  never sent a W-4; `qw_employees_without_w4` counts its QW employees (verified SSN) for whom it never sent
  a W-4 (hires it may not have reported);
- e-IWO acknowledgment timeliness (orders sent to the employer's FEIN in the month): an acknowledgment is late when
  it reached fpls more than ACK_DAYS days after the order was sent (the employer must begin withholding by the
  first pay period 14 days after the order, 42 USC 666(b)(6)(A)(i), so it should have answered by then); an order
  is unacknowledged when no acknowledgment was routed and it was sent more than ACK_DAYS before the store's
  latest cycle date;
- status LATE when at least one W-4 of the month was late, NON_REPORTING as above, ACK_LATE when acknowledgments
  were late or missing, else OK. Only LATE, NON_REPORTING and ACK_LATE employers are listed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pipeline.files.writer import atomic_write
from pipeline.store import frame

LATE_DAYS = 20
ACK_DAYS = 14


def query_employer(con: duckdb.DuckDBPyConnection, fein: str | None = None, name: str | None = None) -> pl.DataFrame:
    pattern = f"%{(name or '').upper()}%"
    return frame(
        con,
        """WITH s AS (SELECT * FROM employer_services),
        sys AS (SELECT DISTINCT substr(submitter, 5) AS fein FROM file_ledger WHERE layout = 'eiwo_ack' AND status = 'loaded'),
        npo AS (SELECT DISTINCT employer_fein AS fein FROM eiwo_orders WHERE delivery = 'NPO'),
        di AS (SELECT DISTINCT payer_id AS fein FROM debt_inquiries WHERE payer_type = 'EMP'),
        iwo AS (SELECT employer_fein, count(*) AS iwo_received, count(*) FILTER (WHERE is_open) AS iwo_open
                FROM eiwo_orders WHERE status = 'sent' GROUP BY 1)
        SELECT coalesce(e.employer_fein, s.employer_fein) AS employer_fein,
            coalesce(e.employer_name, s.employer_name) AS employer_name,
            coalesce(e.employer_names, [s.employer_name]) AS employer_names,
            coalesce(e.address_line_1, s.address_line_1) AS address_line_1, coalesce(e.city, s.city) AS city,
            coalesce(e.state, s.state) AS state, coalesce(e.zip, s.zip) AS zip, e.last_reported,
            coalesce(e.hires, 0) AS hires, coalesce(e.wage_records, 0) AS wage_records, e.first_reported,
            s.reporting_state AS mser_reporting_state,
            CASE WHEN s.eiwo = 'Y' OR coalesce(e.employer_fein, s.employer_fein) IN (SELECT fein FROM sys) THEN 'SYS'
                 WHEN coalesce(e.employer_fein, s.employer_fein) IN (SELECT fein FROM npo) THEN 'NPO' ELSE 'N' END AS eiwo,
            CASE WHEN s.debt_inquiry = 'Y' OR coalesce(e.employer_fein, s.employer_fein) IN (SELECT fein FROM di)
                 THEN 'Y' ELSE 'N' END AS debt_inquiry,
            s.medical_insurance,
            coalesce(s.iwo_address_line_1, s.address_line_1, e.address_line_1) AS iwo_address_line_1,
            CASE WHEN s.iwo_address_line_1 IS NOT NULL THEN s.iwo_city ELSE coalesce(s.city, e.city) END AS iwo_city,
            CASE WHEN s.iwo_address_line_1 IS NOT NULL THEN s.iwo_state ELSE coalesce(s.state, e.state) END AS iwo_state,
            CASE WHEN s.iwo_address_line_1 IS NOT NULL THEN s.iwo_zip ELSE coalesce(s.zip, e.zip) END AS iwo_zip,
            s.iwo_recipient_fein, coalesce(i.iwo_received, 0) AS iwo_received, coalesce(i.iwo_open, 0) AS iwo_open
        FROM eemployer e FULL JOIN s ON s.employer_fein = e.employer_fein
        LEFT JOIN iwo i ON i.employer_fein = coalesce(e.employer_fein, s.employer_fein)
        WHERE (? IS NULL OR coalesce(e.employer_fein, s.employer_fein) = ?)
        AND (? IS NULL OR len(list_filter(coalesce(e.employer_names, [s.employer_name]), lambda n: n LIKE ?)) > 0)
        ORDER BY 1""",
        [fein, fein, name, name and pattern],
    )


def month_bounds(month: str) -> tuple[date, date]:
    first = date.fromisoformat(f"{month}-01")
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt


def late_report(con: duckdb.DuckDBPyConnection, month: str) -> pl.DataFrame:
    """Employers reporting late or not at all, or answering e-IWOs late, in `month` (YYYY-MM)."""
    first, nxt = month_bounds(month)
    return frame(
        con,
        f"""
        WITH w4 AS (SELECT employer_fein, date_diff('day', hire_date, received) AS days FROM ndnh
                    WHERE source = 'H99' AND received >= $1 AND received < $2 AND employer_fein IS NOT NULL
                      AND hire_date IS NOT NULL
                      AND cycle_id > (SELECT min(cycle_id) FROM ndnh WHERE source = 'H99')),
        w4m AS (SELECT employer_fein, count(*) AS w4_received, count(*) FILTER (WHERE days > {LATE_DAYS}) AS late_w4,
                       median(days) AS median_days_to_report, max(days) AS max_days_to_report
                FROM w4 GROUP BY 1),
        ever AS (SELECT DISTINCT employer_fein, verified_ssn FROM ndnh WHERE source = 'H99'),
        qw AS (SELECT q.employer_fein, count(DISTINCT q.verified_ssn) AS qw_employees,
                      count(DISTINCT q.verified_ssn) FILTER (WHERE e.verified_ssn IS NULL) AS qw_employees_without_w4
               FROM ndnh q LEFT JOIN ever e ON e.employer_fein = q.employer_fein AND e.verified_ssn = q.verified_ssn
               WHERE q.source = 'H98' AND q.verified_ssn IS NOT NULL AND q.received < $2 GROUP BY 1),
        answered AS (SELECT order_file_id, order_line_no, min(days_to_ack) AS days FROM eiwo_acks
                     WHERE status = 'routed' GROUP BY ALL),
        iwo AS (SELECT o.employer_fein, count(*) AS iwo_sent, count(a.days) AS iwo_acked,
                       median(a.days) AS median_days_to_ack, count(*) FILTER (WHERE a.days > {ACK_DAYS}) AS late_acks,
                       count(*) FILTER (WHERE a.days IS NULL AND c.as_of <= (SELECT max(as_of) FROM cycles)
                                        - INTERVAL {ACK_DAYS} DAY) AS iwo_unacked
                FROM eiwo_orders o JOIN cycles c ON c.cycle_id = o.cycle_id
                LEFT JOIN answered a ON a.order_file_id = o.file_id AND a.order_line_no = o.line_no
                WHERE o.status = 'sent' AND c.as_of >= $1 AND c.as_of < $2 GROUP BY 1)
        SELECT e.employer_fein, e.employer_name, e.state, coalesce(w.w4_received, 0) AS w4_received,
            coalesce(w.late_w4, 0) AS late_w4,
            round(coalesce(w.late_w4, 0) / nullif(w.w4_received, 0), 4) AS late_share,
            w.median_days_to_report, w.max_days_to_report, coalesce(q.qw_employees, 0) AS qw_employees,
            coalesce(q.qw_employees_without_w4, 0) AS qw_employees_without_w4, e.hires AS w4_ever, e.last_reported,
            CASE WHEN coalesce(w.late_w4, 0) > 0 THEN 'LATE'
                 WHEN e.hires = 0 AND coalesce(q.qw_employees, 0) > 0 THEN 'NON_REPORTING'
                 WHEN coalesce(i.late_acks, 0) + coalesce(i.iwo_unacked, 0) > 0 THEN 'ACK_LATE' END AS status,
            $3 AS month, coalesce(i.iwo_sent, 0) AS iwo_sent, coalesce(i.iwo_acked, 0) AS iwo_acked,
            i.median_days_to_ack, coalesce(i.late_acks, 0) AS late_acks, coalesce(i.iwo_unacked, 0) AS iwo_unacked
        FROM eemployer e LEFT JOIN w4m w USING (employer_fein) LEFT JOIN qw q USING (employer_fein)
        LEFT JOIN iwo i USING (employer_fein)
        WHERE coalesce(w.late_w4, 0) > 0 OR (e.hires = 0 AND coalesce(q.qw_employees, 0) > 0)
           OR coalesce(i.late_acks, 0) + coalesce(i.iwo_unacked, 0) > 0
        ORDER BY status, late_w4 DESC, employer_fein""",
        [first, nxt, month],
    )


def write_late_report(con: duckdb.DuckDBPyConnection, home: Path, folder: str, month: str) -> Path:
    report = late_report(con, month)
    path = Path(home) / "reports" / folder / f"employer_reporting_{month}.csv"
    return atomic_write(path, report.write_csv().encode())
