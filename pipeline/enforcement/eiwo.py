"""e-IWO orders: every order a state sent this cycle is routed to its employer by FEIN, or refused with a reason.

The decision per order (one SQL statement; the first rule that applies wins; codes in error_codes.yaml):
- STATE_MISMATCH: a CSV row names another issuing state than the submitting folder (a fixed-width file whose
  header names another state was refused whole by the loader);
- BATCH_CONTROL: the batch trailer (BTI) counts other than the DTL lines between it and its BHI (rejected lines
  count: the trailer says what was sent); the whole batch is not sent;
- DUPLICATE_TRACKING_ID: the state already had an order with this tracking number sent (this or an earlier
  cycle, the first line wins); a refused order's number may be used again for the corrected order;
- UNKNOWN_FEIN: no employer with the FEIN is known: never reported to NDNH (W-4 / QW), not MSER-registered, not a
  registered partner. fpls never guesses another FEIN;
- DUPLICATE_IWO: an original order (ORG) while an IWO for the same state, case, obligor SSN and employer is open
  (earlier cycle, or an earlier line of this one).
Otherwise SENT to the recipient: the FEIN's MSER primary EIN for IWOs when it registered one, else the FEIN;
delivery SYS (system to system) when the FEIN's or the recipient's MSER registration says e-IWO = Y, or the
recipient has sent fixed-width acknowledgments, else NPO (No Programming Option: HTML + a prefilled acknowledgment spreadsheet); the IWO
address comes from the MSER registration, else eEmployer (NDNH), else the order. A sent ORG opens the IWO; a
sent TRM closes the state's open IWOs for that case, obligor and employer.

Family violence (DESIGN §8): an order whose obligor is flagged FV by a state other than the issuing state gets
data_withheld = Y, and the state's result records carry no employer data for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

ORDER_SQL = """
INSERT INTO eiwo_orders
WITH o AS (
    SELECT i.* FROM eiwo_order_input i JOIN file_ledger l USING (file_id)
    WHERE i.cycle_id = $1 AND l.status = 'loaded'),
bh AS (SELECT file_id, line_no AS b FROM eiwo_batch_input WHERE cycle_id = $1 AND record_id = 'BHI'),
bt AS (SELECT file_id, line_no AS t, record_count FROM eiwo_batch_input WHERE cycle_id = $1 AND record_id = 'BTI'),
span AS (SELECT bh.file_id, bh.b, min(bt.t) AS t FROM bh JOIN bt ON bt.file_id = bh.file_id AND bt.t > bh.b
         GROUP BY ALL),
lines AS (SELECT file_id, line_no FROM o
          UNION SELECT DISTINCT r.file_id, r.line FROM rejects r
          WHERE r.record_type = 'DTL' AND r.file_id IN (SELECT file_id FROM o)),
bad_batch AS (
    SELECT s.file_id, s.b, s.t FROM span s JOIN bt ON bt.file_id = s.file_id AND bt.t = s.t
    LEFT JOIN lines d ON d.file_id = s.file_id AND d.line_no > s.b AND d.line_no < s.t
    GROUP BY s.file_id, s.b, s.t, bt.record_count HAVING count(d.line_no) <> coalesce(bt.record_count, -1)),
known AS (
    SELECT DISTINCT employer_fein AS fein FROM ndnh WHERE employer_fein IN (SELECT employer_fein FROM o)
    UNION SELECT employer_fein FROM employer_services
    UNION SELECT iwo_recipient_fein FROM employer_services WHERE iwo_recipient_fein IS NOT NULL
    UNION SELECT substr(partner_id, 5) FROM partners WHERE partner_id LIKE 'EMP-%'),
prev AS (SELECT DISTINCT state, document_tracking_id FROM eiwo_orders WHERE status = 'sent' AND cycle_id <> $1),
pre AS (
    SELECT o.*, CASE
        WHEN o.issuing_state IS DISTINCT FROM (CASE WHEN o.submitter LIKE '%-%'
             THEN split_part(o.submitter, '-', 2) ELSE o.submitter END) THEN 'STATE_MISMATCH'
        WHEN EXISTS (SELECT 1 FROM bad_batch x WHERE x.file_id = o.file_id AND o.line_no > x.b AND o.line_no < x.t)
             THEN 'BATCH_CONTROL'
        WHEN p.document_tracking_id IS NOT NULL THEN 'DUPLICATE_TRACKING_ID'
        WHEN row_number() OVER (PARTITION BY o.issuing_state, o.document_tracking_id
                                ORDER BY o.file_id, o.line_no) > 1 THEN 'DUPLICATE_TRACKING_ID'
        WHEN k.fein IS NULL THEN 'UNKNOWN_FEIN' END AS pre_reason
    FROM o LEFT JOIN prev p ON p.state = o.issuing_state AND p.document_tracking_id = o.document_tracking_id
    LEFT JOIN known k ON k.fein = o.employer_fein),
dup AS (
    SELECT *, CASE WHEN pre_reason IS NULL AND document_action_code = 'ORG' AND (
            row_number() OVER (PARTITION BY issuing_state, case_id, employee_ssn, employer_fein,
                               pre_reason IS NULL AND document_action_code = 'ORG' ORDER BY file_id, line_no) > 1
            OR EXISTS (SELECT 1 FROM eiwo_orders e WHERE e.is_open AND e.state = pre.issuing_state
                       AND e.case_id = pre.case_id AND e.employee_ssn = pre.employee_ssn
                       AND e.employer_fein = pre.employer_fein))
        THEN 'DUPLICATE_IWO' ELSE pre_reason END AS reason
    FROM pre),
sys AS (
    SELECT employer_fein AS fein FROM employer_services WHERE eiwo = 'Y'
    UNION SELECT substr(submitter, 5) FROM file_ledger WHERE layout = 'eiwo_ack' AND status = 'loaded'),
fv AS (SELECT DISTINCT verified_ssn, state FROM fcr_persons
       WHERE status = 'active' AND family_violence = 'FV' AND verified_ssn IS NOT NULL)
SELECT d.cycle_id, d.file_id, d.line_no, d.submitter, d.issuing_state, d.document_tracking_id,
    d.document_action_code, d.document_date, d.case_id, d.employee_ssn, d.employer_fein,
    CASE WHEN d.reason IS NULL THEN coalesce(s.iwo_recipient_fein, d.employer_fein) END AS recipient_fein,
    CASE WHEN d.reason IS NULL THEN 'sent' ELSE 'refused' END AS status, d.reason,
    CASE WHEN d.reason IS NOT NULL THEN NULL
         WHEN s.eiwo = 'Y' OR coalesce(s.iwo_recipient_fein, d.employer_fein) IN (SELECT fein FROM sys) THEN 'SYS'
         ELSE 'NPO' END,
    CASE WHEN d.reason IS NOT NULL THEN NULL WHEN s.iwo_address_line_1 IS NOT NULL THEN 'MSER'
         WHEN d.employer_fein IN (SELECT employer_fein FROM ndnh WHERE employer_fein IS NOT NULL) THEN 'EEMPLOYER'
         ELSE 'ORDER' END,
    CASE WHEN EXISTS (SELECT 1 FROM fv WHERE fv.verified_ssn = d.employee_ssn AND fv.state <> d.issuing_state)
         THEN 'Y' END,
    d.reason IS NULL AND d.document_action_code = 'ORG', NULL, NULL
FROM dup d LEFT JOIN employer_services s ON s.employer_fein = d.employer_fein
ORDER BY d.file_id, d.line_no"""

CLOSE_BY_TRM = """
UPDATE eiwo_orders SET is_open = FALSE, closed_cycle = $1, closed_reason = 'TRM'
FROM (SELECT DISTINCT state, case_id, employee_ssn, employer_fein FROM eiwo_orders
      WHERE cycle_id = $1 AND status = 'sent' AND document_action_code = 'TRM') t
WHERE eiwo_orders.is_open AND eiwo_orders.state = t.state AND eiwo_orders.case_id = t.case_id
  AND eiwo_orders.employee_ssn = t.employee_ssn AND eiwo_orders.employer_fein = t.employer_fein"""


@dataclass
class EiwoResult:
    orders: int = 0
    sent: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    npo: int = 0
    recipients: int = 0
    terminated: int = 0
    acks: int = 0
    acks_routed: int = 0
    acks_refused: dict[str, int] = field(default_factory=dict)
    ack_notices: int = 0
    etermination_notices: int = 0
    new_employer_notices: int = 0
    lump_sums_flagged: int = 0


def route_orders(con: duckdb.DuckDBPyConnection, cycle: str, result: EiwoResult) -> None:
    """Decide every order of the cycle (sent / refused) and apply terminations."""
    con.execute(ORDER_SQL, [cycle])
    result.terminated = con.execute(CLOSE_BY_TRM, [cycle]).fetchone()[0]
    rows = con.execute(
        """SELECT status, coalesce(reason_code, ''), coalesce(delivery, ''), count(*) FROM eiwo_orders
        WHERE cycle_id = ? GROUP BY ALL ORDER BY ALL""",
        [cycle],
    ).fetchall()
    for status, reason, delivery, n in rows:
        result.orders += n
        if status == "sent":
            result.sent += n
            result.npo += n if delivery == "NPO" else 0
        else:
            result.refused[reason] = result.refused.get(reason, 0) + n
    result.recipients = con.execute(
        "SELECT count(DISTINCT recipient_fein) FROM eiwo_orders WHERE cycle_id = ? AND status = 'sent'", [cycle]
    ).fetchone()[0]
