"""e-IWO acknowledgments: each employer acknowledgment of the cycle is tied to the order it answers and routed
back to the issuing state, or refused back to the employer with a reason (codes in error_codes.yaml).

An acknowledgment names the order by (issuing state FIPS, document tracking number): exactly one sent order has
that pair (eiwo.py refuses a reused tracking number). It is refused when
- ORDER_NOT_FOUND: no such order was ever sent (or it was refused, so never reached an employer);
- NOT_RECIPIENT: the acknowledging folder, or the record's employer FEIN, is neither the FEIN the order named nor
  the recipient it was routed to (a primary EIN acknowledges for the FEINs it receives orders for);
- SSN_MISMATCH: the SSN is not the order's;
- REASON_MISSING / CORRECTED_FEIN_MISSING / STATE_CODE_MISSING: R without a reason, A/W without the corrected
  FEIN, R/M without the other state's code.
A routed rejection (R/*) closes the open IWO. An R/N (no longer employed) or R/U (never employed) of an IWO that
was open also gives the state an eTermination-style notice (ET record, rule iwo_ack_rn / iwo_ack_ru, source
`eiwo` in enforcement_matches), the notice a termination without a W-4 never produced before.
Family violence: data_withheld = Y when the obligor is flagged FV by a state other than the issuing state; the
routed ACK then carries no employer or address data.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pipeline.enforcement.eiwo import EiwoResult
from pipeline.files.codes import STATE_FIPS
from pipeline.store import frame

FIPS_VALUES = ", ".join(f"('{st}', '{fips}')" for st, fips in sorted(STATE_FIPS.items()))
FV_CTE = """fv AS (SELECT DISTINCT verified_ssn, state FROM fcr_persons
       WHERE status = 'active' AND family_violence = 'FV' AND verified_ssn IS NOT NULL)"""

ACK_SQL = f"""
INSERT INTO eiwo_acks
WITH a AS (SELECT i.* FROM eiwo_ack_input i JOIN file_ledger l USING (file_id)
           WHERE i.cycle_id = $1 AND l.status = 'loaded'),
fips(state, fips) AS (VALUES {FIPS_VALUES}),
{FV_CTE},
m AS (
    SELECT a.*, o.state AS order_state, o.file_id AS order_file_id, o.line_no AS order_line_no,
        o.employer_fein AS order_fein, o.recipient_fein, o.employee_ssn AS order_ssn, o.is_open,
        c.as_of AS sent_on
    FROM a LEFT JOIN fips f ON f.fips = a.issuing_state_fips
    LEFT JOIN eiwo_orders o ON o.status = 'sent' AND o.state = f.state
        AND o.document_tracking_id = a.document_tracking_id
    LEFT JOIN cycles c ON c.cycle_id = o.cycle_id),
d AS (
    SELECT *, CASE
        WHEN order_file_id IS NULL THEN 'ORDER_NOT_FOUND'
        WHEN substr(submitter, 5) NOT IN (order_fein, recipient_fein)
          OR employer_fein NOT IN (order_fein, recipient_fein) THEN 'NOT_RECIPIENT'
        WHEN employee_ssn <> order_ssn THEN 'SSN_MISMATCH'
        WHEN disposition_status = 'R' AND disposition_reason IS NULL THEN 'REASON_MISSING'
        WHEN disposition_status = 'A' AND disposition_reason = 'W' AND corrected_fein IS NULL
            THEN 'CORRECTED_FEIN_MISSING'
        WHEN disposition_status = 'R' AND disposition_reason = 'M' AND other_state_fips IS NULL
            THEN 'STATE_CODE_MISSING' END AS reason
    FROM m)
SELECT d.cycle_id, d.file_id, d.line_no, d.submitter, CASE WHEN reason IS NULL THEN order_state END,
    CASE WHEN reason IS NULL THEN order_file_id END, CASE WHEN reason IS NULL THEN order_line_no END,
    CASE WHEN reason IS NULL THEN 'routed' ELSE 'refused' END, reason,
    CASE WHEN reason IS NULL THEN is_open END,
    CASE WHEN reason IS NULL THEN date_diff('day', sent_on, $2::DATE) END,
    CASE WHEN reason IS NULL AND EXISTS (SELECT 1 FROM fv WHERE fv.verified_ssn = d.order_ssn
                                         AND fv.state <> d.order_state) THEN 'Y' END
FROM d ORDER BY d.file_id, d.line_no"""

ROUTED_R = """SELECT k.*, a.disposition_reason FROM eiwo_acks k
    JOIN eiwo_ack_input a ON a.file_id = k.file_id AND a.line_no = k.line_no
    WHERE k.cycle_id = $1 AND k.status = 'routed' AND a.disposition_status = 'R'"""

CLOSE_BY_ACK = f"""
UPDATE eiwo_orders SET is_open = FALSE, closed_cycle = $1, closed_reason = 'ACK R/' || r.disposition_reason
FROM (SELECT order_file_id, order_line_no, first(disposition_reason ORDER BY file_id, line_no) AS disposition_reason
      FROM ({ROUTED_R}) GROUP BY ALL) r
WHERE eiwo_orders.is_open AND eiwo_orders.file_id = r.order_file_id AND eiwo_orders.line_no = r.order_line_no"""

# The FCR member of the IWO's case with the obligor's SSN (first by member id), when the state registered one.
MEMBER = """(SELECT first(p.member_id ORDER BY p.member_id) FROM fcr_persons p WHERE p.state = o.state
    AND p.case_id = o.case_id AND p.verified_ssn = o.employee_ssn AND p.status = 'active')"""

ACK_NOTICES = f"""
INSERT INTO enforcement_matches
SELECT $1, 'eiwo', o.state, o.employee_ssn, r.file_id, r.line_no, o.case_id, {MEMBER}, NULL,
    CASE r.disposition_reason WHEN 'N' THEN 'iwo_ack_rn' ELSE 'iwo_ack_ru' END, NULL, 1.0, r.data_withheld,
    json_object('rule', 'iwo_' || r.disposition_reason, 'order_file_id', o.file_id, 'order_line_no', o.line_no,
                'document_tracking_id', o.document_tracking_id)
FROM ({ROUTED_R}) r JOIN eiwo_orders o ON o.file_id = r.order_file_id AND o.line_no = r.order_line_no
WHERE r.was_open AND r.disposition_reason IN ('N', 'U')
ORDER BY r.file_id, r.line_no"""


def route_acks(con: duckdb.DuckDBPyConnection, cycle: str, as_of, result: EiwoResult) -> None:
    con.execute(ACK_SQL, [cycle, as_of])
    con.execute(ACK_NOTICES, [cycle])
    con.execute(CLOSE_BY_ACK, [cycle])
    for status, reason, n in con.execute(
        "SELECT status, coalesce(reason_code, ''), count(*) FROM eiwo_acks WHERE cycle_id = ? GROUP BY ALL ORDER BY ALL",
        [cycle],
    ).fetchall():
        result.acks += n
        if status == "routed":
            result.acks_routed += n
        else:
            result.acks_refused[reason] = result.acks_refused.get(reason, 0) + n
    result.ack_notices = con.execute(
        "SELECT count(*) FROM enforcement_matches WHERE cycle_id = ? AND source = 'eiwo' AND rule LIKE 'iwo_ack%'",
        [cycle],
    ).fetchone()[0]


def iwo_termination_rows(con: duckdb.DuckDBPyConnection, cycle: str, state: str) -> pl.DataFrame:
    """The state's ET records of the e-IWO ties (columns of the NOTICES ET record): from a termination notice
    (rule iwo_eterm) or an R/N / R/U acknowledgment (iwo_ack_rn / iwo_ack_ru); names from the FCR when the state
    registered the obligor, else from the order; employer data withheld under the FV rule."""
    hide = "CASE WHEN m.data_withheld = 'Y' THEN NULL ELSE {} END"
    return frame(
        con,
        f"""SELECT m.state, m.ssn, coalesce(p.last_name, i.employee_last_name) AS last_name,
            coalesce(p.first_name, i.employee_first_name) AS first_name, m.case_id, m.member_id,
            {hide.format("coalesce(t.employer_fein, a.employer_fein)")} AS employer_fein,
            {hide.format("coalesce(t.employer_name, i.row_json ->> 'employer_name')")} AS employer_name,
            {hide.format("coalesce(t.contact_name, a.row_json ->> 'contact_name')")} AS contact_name,
            {hide.format("coalesce(t.contact_phone, a.row_json ->> 'contact_phone')")} AS contact_phone,
            coalesce(t.termination_reason, CASE m.rule WHEN 'iwo_ack_rn' THEN 'T' ELSE 'N' END) AS termination_reason,
            coalesce(t.termination_date, try_strptime(a.row_json ->> 'termination_date', '%Y%m%d')::DATE)
                AS termination_date,
            coalesce(t.notice_date, a.ack_date) AS notice_date, NULL::DATE AS hire_date, m.data_withheld, m.rule,
            m.cycle_id
        FROM enforcement_matches m
        LEFT JOIN terminations t ON m.rule = 'iwo_eterm' AND t.file_id = m.file_id AND t.line_no = m.line_no
        LEFT JOIN eiwo_ack_input a ON m.rule <> 'iwo_eterm' AND a.file_id = m.file_id AND a.line_no = m.line_no
        JOIN eiwo_order_input i ON i.file_id = (m.evidence ->> 'order_file_id')::INTEGER
            AND i.line_no = (m.evidence ->> 'order_line_no')::BIGINT
        LEFT JOIN fcr_persons p ON p.state = m.state AND p.case_id = m.case_id AND p.member_id = m.member_id
        WHERE m.cycle_id = ? AND m.source = 'eiwo' AND m.state = ? ORDER BY m.file_id, m.line_no, m.case_id""",
        [cycle, state],
    )
