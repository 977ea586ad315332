"""Debt Inquiry and eTermination notices.

Debt Inquiry: lump-sum notices from employers and insurers are matched to certified debtors (any active
registry case; `pipeline.enforcement.debtor_match`) and sent as DI records to every state that certified the debtor,
with the payer's contact, payment type, amount (cents) and payout date; the payer's identity and contact are
withheld (data_withheld Y) from a state other than one that flags the person FV.

eTermination: a termination / never-employed notice matches a person when a verified NDNH W-4 from the
same employer FEIN, received on or before the cycle date, carries the notice's SSN and the names agree
(first 4 letters of the surname or of the first name). The latest such W-4 is the evidence. Every state
with that person (verified SSN) on the FCR gets one ET record (first case / member by id). Family
violence: a person flagged FV by another state gets the employer data withheld (data_withheld Y).

e-IWO (pipeline/enforcement/eiwo_acks.py, eiwo_ties.py): ET records also come from an employer's R/N or R/U
acknowledgment or a termination notice for an open IWO (source `eiwo`), after the W-4 ones; a DI record says
iwo_open Y (and the IWO's case) when the debtor has an open IWO from the recipient state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from pipeline.enforcement.common import debtor_persons, sql_key4
from pipeline.enforcement.debtor_match import match_to_debtors
from pipeline.enforcement.eiwo_acks import iwo_termination_rows
from pipeline.enforcement.insurance import record_decisions
from pipeline.engine import Engine
from pipeline.store import frame

# Who is paying a lump sum is employer (or insurer) data: withheld from a state other than the one that flagged
# the person FV (DESIGN §8), like the employer of an eTermination notice.
DI_PAYER_COLUMNS = ("payer_type", "payer_id", "payer_name", "contact_name", "contact_phone")


@dataclass
class NoticesResult:
    debt_inquiries: int = 0
    di_matches: int = 0
    di_review: int = 0
    terminations: int = 0
    et_persons: int = 0
    et_notices: int = 0


def _di_records(con: duckdb.DuckDBPyConnection, cycle: str) -> pl.DataFrame:
    return frame(
        con,
        """SELECT d.file_id || ':' || d.line_no AS rec_id, d.file_id, d.line_no, d.ssn, d.first_name,
            d.middle_name, d.last_name, d.dob, NULL::VARCHAR AS street, NULL::VARCHAR AS city,
            NULL::VARCHAR AS addr_state, NULL::VARCHAR AS zip
        FROM debt_inquiries d JOIN file_ledger l USING (file_id)
        WHERE d.cycle_id = ? AND l.status = 'loaded' ORDER BY d.file_id, d.line_no""",
        [cycle],
    )


def _terminations(con: duckdb.DuckDBPyConnection, cycle: str, as_of: date) -> None:
    con.execute(
        f"""INSERT INTO enforcement_matches
        WITH et AS (SELECT t.* FROM terminations t JOIN file_ledger l USING (file_id)
                    WHERE t.cycle_id = $1 AND l.status = 'loaded'),
        hit AS (SELECT et.file_id, et.line_no, et.ssn, w.ndnh_id, w.received, w.hire_date,
                       {sql_key4("et.last_name")} = {sql_key4("w.last_name")} AS surname_agrees
                FROM et JOIN ndnh w ON w.verified_ssn = et.ssn AND w.employer_fein = et.employer_fein
                WHERE w.source = 'H99' AND w.verification = 'V' AND w.received <= $2
                  AND ({sql_key4("et.last_name")} = {sql_key4("w.last_name")}
                       OR {sql_key4("et.first_name")} = {sql_key4("w.first_name")})
                QUALIFY row_number() OVER (PARTITION BY et.file_id, et.line_no
                                           ORDER BY w.received DESC, w.ndnh_id DESC) = 1),
        fv AS (SELECT DISTINCT verified_ssn, state FROM fcr_persons
               WHERE status = 'active' AND family_violence = 'FV' AND verified_ssn IS NOT NULL)
        SELECT $1, 'etermination', p.state, h.ssn, h.file_id, h.line_no, p.case_id, p.member_id, h.ndnh_id,
            'w4_same_employer', CASE WHEN h.surname_agrees THEN '1' ELSE '2' END, 1.0,
            CASE WHEN EXISTS (SELECT 1 FROM fv WHERE fv.verified_ssn = h.ssn AND fv.state <> p.state) THEN 'Y' END,
            json_object('rule', 'w4_same_employer', 'ndnh_id', h.ndnh_id, 'w4_received', h.received,
                        'surname_agrees', h.surname_agrees, 'fcr_validity', p.validity_code)
        FROM hit h JOIN fcr_persons p ON p.verified_ssn = h.ssn AND p.status = 'active'
        QUALIFY row_number() OVER (PARTITION BY h.file_id, h.line_no, p.state ORDER BY p.case_id, p.member_id) = 1""",
        [cycle, as_of],
    )
    con.execute(
        """INSERT INTO responses_sent SELECT cycle_id, state, 'ET', member_id,
            md5(concat_ws('|', 'ET', file_id, line_no)), ssn
        FROM enforcement_matches WHERE cycle_id = ? AND source = 'etermination'""",
        [cycle],
    )


def run_notices(con: duckdb.DuckDBPyConnection, cycle: str, as_of: date, engine: Engine | None = None) -> NoticesResult:
    records = _di_records(con, cycle)
    debt = debtor_persons(con, None)
    decided = match_to_debtors(records, debt, engine)
    n_match, n_review = record_decisions(con, cycle, "debt_inquiry", records, decided, debt)
    _terminations(con, cycle, as_of)
    n_et = con.execute("SELECT count(*) FROM terminations WHERE cycle_id = ?", [cycle]).fetchone()[0]
    row = con.execute(
        """SELECT count(DISTINCT (file_id, line_no)), count(*) FROM enforcement_matches
        WHERE cycle_id = ? AND source = 'etermination'""",
        [cycle],
    ).fetchone()
    return NoticesResult(records.height, n_match, n_review, int(n_et), int(row[0]), int(row[1]))


def notice_blocks(con: duckdb.DuckDBPyConnection, cycle: str, as_of, state: str) -> list[tuple[str, pl.DataFrame]]:
    hide = "CASE WHEN m.data_withheld = 'Y' THEN NULL ELSE {} END"
    payer = ", ".join(hide.format(f"i.{c}") + f" AS {c}" for c in DI_PAYER_COLUMNS)
    di = frame(
        con,
        f"""SELECT m.state, m.ssn, d.last_name, d.first_name, {payer}, i.payment_type, i.amount, i.payout_date,
            m.rule, m.cycle_id, m.line_no AS source_line, m.data_withheld,
            CASE WHEN o.case_id IS NOT NULL THEN 'Y' END AS iwo_open, o.case_id AS iwo_case_id
        FROM enforcement_matches m JOIN debt_inquiries i ON i.file_id = m.file_id AND i.line_no = m.line_no
        LEFT JOIN eiwo_notices n ON n.kind = 'LUM' AND n.cycle_id = m.cycle_id AND n.state = m.state
             AND n.source_file_id = m.file_id AND n.source_line = m.line_no
        LEFT JOIN eiwo_orders o ON o.file_id = n.order_file_id AND o.line_no = n.order_line_no
        LEFT JOIN (SELECT state, ssn, first(last_name ORDER BY case_type) AS last_name,
                   first(first_name ORDER BY case_type) AS first_name FROM debtors GROUP BY state, ssn) d
             ON d.state = m.state AND d.ssn = m.ssn
        WHERE m.cycle_id = ? AND m.source = 'debt_inquiry' AND m.state = ? ORDER BY m.ssn, m.file_id, m.line_no""",
        [cycle, state],
    )
    et = frame(
        con,
        f"""SELECT m.state, m.ssn, p.last_name, p.first_name, m.case_id, m.member_id,
            {hide.format("t.employer_fein")} AS employer_fein, {hide.format("t.employer_name")} AS employer_name,
            {hide.format("t.contact_name")} AS contact_name, {hide.format("t.contact_phone")} AS contact_phone,
            t.termination_reason, t.termination_date, t.notice_date, {hide.format("w.hire_date")} AS hire_date,
            m.data_withheld, m.rule, m.cycle_id
        FROM enforcement_matches m JOIN terminations t ON t.file_id = m.file_id AND t.line_no = m.line_no
        JOIN fcr_persons p ON p.state = m.state AND p.case_id = m.case_id AND p.member_id = m.member_id
        LEFT JOIN ndnh w ON w.ndnh_id = m.ndnh_id
        WHERE m.cycle_id = ? AND m.source = 'etermination' AND m.state = ? ORDER BY m.member_id, m.file_id, m.line_no""",
        [cycle, state],
    )
    et = pl.concat([et, iwo_termination_rows(con, cycle, state)], how="diagonal_relaxed")  # e-IWO ties after
    head = pl.DataFrame({"recipient_state": [state], "date_stamp": [as_of], "cycle_id": [cycle]})
    total = int(di["amount"].sum() or 0) if di.height else 0
    return [
        ("NH", head),
        ("DI", di),
        ("ET", et),
        ("NT", pl.DataFrame({"di_count": [di.height], "et_count": [et.height], "amount_total": [total]})),
    ]
