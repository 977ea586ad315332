"""What the e-IWO exchange ties to the rest of enforcement, and the stage's entry point (`run_eiwo`).

- eTermination: a termination notice (terminated, or never employed) from the employer of an open IWO, for the
  IWO's obligor (same SSN, first 4 letters of the surname or of the first name agree), gives the issuing state an
  ET notice (rule iwo_eterm, source `eiwo`) unless the W-4 rule already sent that state this notice, and closes
  the IWO. Before e-IWO a "never employed" notice had no W-4 to match and was dropped.
- New employer (the IWO follows the job): a W-4 loaded this cycle (verified SSN) at another FEIN than the one an
  ORG order of a state went to (not terminated by the state), hired no earlier than NEW_HIRE_LOOKBACK_DAYS
  before the order's date, gives that state a NEW record in its e-IWO result file, once per order and FEIN.
- Debt Inquiry: a lump-sum notice matched to a state's debtor who has an open IWO from that state is flagged
  (eiwo_notices kind LUM; the DI record says iwo_open Y and the IWO's case).
Family violence: NEW and ET records carry no employer data when the obligor is flagged FV by another state.
"""

from __future__ import annotations

from datetime import date

import duckdb

from pipeline.enforcement.common import sql_key4
from pipeline.enforcement.eiwo import EiwoResult, route_orders
from pipeline.enforcement.eiwo_acks import FV_CTE, route_acks

NEW_HIRE_LOOKBACK_DAYS = 90

# Open IWOs the cycle's termination notices end: same SSN, the IWO's employer or recipient, a name agrees.
ETERM_HITS = f"""
    SELECT t.file_id, t.line_no, o.state, o.case_id, o.employee_ssn, o.file_id AS order_file_id,
        o.line_no AS order_line_no, o.document_tracking_id, o.cycle_id AS order_cycle
    FROM terminations t JOIN file_ledger l ON l.file_id = t.file_id AND l.status = 'loaded'
    JOIN eiwo_orders o ON o.is_open AND o.employee_ssn = t.ssn AND t.employer_fein IN (o.employer_fein, o.recipient_fein)
    JOIN eiwo_order_input i ON i.file_id = o.file_id AND i.line_no = o.line_no
    WHERE t.cycle_id = $1 AND ({sql_key4("t.last_name")} = {sql_key4("i.employee_last_name")}
       OR {sql_key4("t.first_name")} = {sql_key4("i.employee_first_name")})"""

ETERM_SQL = f"""
INSERT INTO enforcement_matches
WITH {FV_CTE},
hit AS ({ETERM_HITS}
    QUALIFY row_number() OVER (PARTITION BY t.file_id, t.line_no, o.state, o.case_id
                               ORDER BY o.cycle_id, o.file_id, o.line_no) = 1)
SELECT $1, 'eiwo', h.state, h.employee_ssn, h.file_id, h.line_no, h.case_id,
    (SELECT first(p.member_id ORDER BY p.member_id) FROM fcr_persons p WHERE p.state = h.state
     AND p.case_id = h.case_id AND p.verified_ssn = h.employee_ssn AND p.status = 'active'),
    NULL, 'iwo_eterm', NULL, 1.0,
    CASE WHEN EXISTS (SELECT 1 FROM fv WHERE fv.verified_ssn = h.employee_ssn AND fv.state <> h.state) THEN 'Y' END,
    json_object('rule', 'iwo_eterm', 'order_file_id', h.order_file_id, 'order_line_no', h.order_line_no,
                'document_tracking_id', h.document_tracking_id)
FROM hit h
WHERE NOT EXISTS (SELECT 1 FROM enforcement_matches m WHERE m.cycle_id = $1 AND m.source = 'etermination'
                  AND m.file_id = h.file_id AND m.line_no = h.line_no AND m.state = h.state)
ORDER BY h.file_id, h.line_no, h.state, h.case_id"""

CLOSE_BY_ETERM = f"""
UPDATE eiwo_orders SET is_open = FALSE, closed_cycle = $1, closed_reason = 'ETERM'
FROM (SELECT DISTINCT order_file_id, order_line_no FROM ({ETERM_HITS})) h
WHERE eiwo_orders.file_id = h.order_file_id AND eiwo_orders.line_no = h.order_line_no"""

NEW_EMPLOYER_SQL = f"""
INSERT INTO eiwo_notices
WITH w AS (SELECT ndnh_id, file_id, line_no, verified_ssn, employer_fein, hire_date FROM ndnh
           WHERE cycle_id = $1 AND source = 'H99' AND verified_ssn IS NOT NULL AND employer_fein IS NOT NULL),
act AS (SELECT * FROM eiwo_orders WHERE status = 'sent' AND document_action_code = 'ORG'
        AND coalesce(closed_reason, '') <> 'TRM' AND employee_ssn IN (SELECT verified_ssn FROM w)),
{FV_CTE},
told AS (SELECT n.order_file_id, n.order_line_no, x.employer_fein FROM eiwo_notices n
         JOIN ndnh x ON x.ndnh_id = n.ndnh_id WHERE n.kind = 'NEW'),
hit AS (
    SELECT w.*, a.state, a.file_id AS order_file_id, a.line_no AS order_line_no, a.document_tracking_id
    FROM w JOIN act a ON a.employee_ssn = w.verified_ssn AND w.employer_fein NOT IN (a.employer_fein, a.recipient_fein)
    WHERE w.hire_date >= a.document_date - INTERVAL {NEW_HIRE_LOOKBACK_DAYS} DAY
    QUALIFY row_number() OVER (PARTITION BY a.file_id, a.line_no, w.employer_fein
                               ORDER BY w.hire_date DESC, w.ndnh_id DESC) = 1)
SELECT $1, 'NEW', h.state, h.verified_ssn, h.order_file_id, h.order_line_no, h.ndnh_id, h.file_id, h.line_no,
    CASE WHEN EXISTS (SELECT 1 FROM fv WHERE fv.verified_ssn = h.verified_ssn AND fv.state <> h.state) THEN 'Y' END,
    json_object('rule', 'iwo_new_employer', 'document_tracking_id', h.document_tracking_id)
FROM hit h WHERE NOT EXISTS (SELECT 1 FROM told WHERE told.order_file_id = h.order_file_id
    AND told.order_line_no = h.order_line_no AND told.employer_fein = h.employer_fein)
ORDER BY h.order_file_id, h.order_line_no, h.ndnh_id"""

LUMP_SUM_SQL = """
INSERT INTO eiwo_notices
SELECT $1, 'LUM', m.state, m.ssn, o.file_id, o.line_no, NULL, m.file_id, m.line_no, NULL,
    json_object('rule', 'iwo_lump_sum', 'document_tracking_id', o.document_tracking_id)
FROM enforcement_matches m JOIN eiwo_orders o ON o.is_open AND o.state = m.state AND o.employee_ssn = m.ssn
WHERE m.cycle_id = $1 AND m.source = 'debt_inquiry'
QUALIFY row_number() OVER (PARTITION BY m.state, m.file_id, m.line_no ORDER BY o.cycle_id, o.file_id, o.line_no) = 1
ORDER BY m.state, m.file_id, m.line_no"""


def _count(con: duckdb.DuckDBPyConnection, sql: str, cycle: str) -> int:
    return int(con.execute(sql, [cycle]).fetchone()[0])


def run_eiwo(con: duckdb.DuckDBPyConnection, cycle: str, as_of: date) -> EiwoResult:
    """Every store change of the e-IWO exchange for the cycle (inside the enforcement stage's transaction):
    orders, acknowledgments, then the ties (they see the IWOs opened and closed this cycle)."""
    result = EiwoResult()
    route_orders(con, cycle, result)
    route_acks(con, cycle, as_of, result)
    con.execute(ETERM_SQL, [cycle])
    con.execute(CLOSE_BY_ETERM, [cycle])
    con.execute(NEW_EMPLOYER_SQL, [cycle])
    con.execute(LUMP_SUM_SQL, [cycle])
    result.etermination_notices = _count(
        con, "SELECT count(*) FROM enforcement_matches WHERE cycle_id = ? AND rule = 'iwo_eterm'", cycle
    )
    result.new_employer_notices = _count(
        con, "SELECT count(*) FROM eiwo_notices WHERE cycle_id = ? AND kind = 'NEW'", cycle
    )
    result.lump_sums_flagged = _count(
        con, "SELECT count(*) FROM eiwo_notices WHERE cycle_id = ? AND kind = 'LUM'", cycle
    )
    return result
