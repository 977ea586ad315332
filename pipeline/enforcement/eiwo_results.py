"""e-IWO results to the issuing state (EIWORES.<ST>.<cycle>.dat, layout eiwo_state_ack): a RES record for every
order line the state sent this cycle (SENT / REFUSED / REJECTED with the reason: DTL lines read = RES records),
the employers' acknowledgments routed back (ACK) and new-employer notices (NEW). Employer and address data are
blank when the obligor is flagged FV by another state (data_withheld Y). Also the helpers the e-IWO writers share.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from pipeline.enforcement.eiwo_load import ACK_FIELDS
from pipeline.files import errors
from pipeline.files.codes import STATE_FIPS
from pipeline.files.writer import Blocks
from pipeline.store import frame

FIPS_STATE = {v: k for k, v in STATE_FIPS.items()}
DISPOSITIONS = {
    "A": "ACCEPTED",
    "AB": "ACCEPTED: SSN MATCHES, NAME DIFFERS",
    "AS": "ACCEPTED: EMPLOYEE IN SUSPENSE STATUS",
    "AW": "ACCEPTED: WRONG FEIN, SEE CORRECTED FEIN",
    "R": "REJECTED",
    "RB": "REJECTED: SSN MATCHES, NAME DIFFERS",
    "RD": "REJECTED: DUPLICATE IWO",
    "RM": "REJECTED: ORDER IN PLACE FROM ANOTHER STATE",
    "RN": "REJECTED: NO LONGER AN EMPLOYEE",
    "RU": "REJECTED: NEVER EMPLOYED",
    "RX": "REJECTED: UNABLE TO PROCESS",
    "RZ": "REJECTED: UNABLE TO TERMINATE",
}
ACK_WITHHELD = (
    "employer_fein",
    "employer_name",
    "corrected_fein",
    "new_employer_name",
    "new_employer_address_line_1",
    "new_employer_city",
    "new_employer_state",
    "new_employer_zip",
    "employee_address_line_1",
    "employee_city",
    "employee_state",
    "employee_zip",
)


HEAD_SCHEMA = {
    "control_number": pl.Utf8,
    "state_fips": pl.Utf8,
    "ein": pl.Utf8,
    "creation_date": pl.Date,
    "creation_time": pl.Utf8,
}


def cycle_digits(cycle: str) -> str:
    return cycle.replace("-", "")


def unpack_json(df: pl.DataFrame, names: tuple[str, ...]) -> pl.DataFrame:
    """Unpack row_json (layout text per field) into one text column per field."""
    struct = pl.Struct({n: pl.Utf8 for n in names})
    return df.with_columns(pl.col("row_json").str.json_decode(struct)).unnest("row_json")


def reason_messages(df: pl.DataFrame, code: str = "reason_code") -> pl.Expr:
    codes = [c for c in df.get_column(code).drop_nulls().unique().sort() if c in errors.registry()]
    table = {c: errors.render(c) for c in codes}
    return pl.col(code).replace_strict(table, default=None, return_dtype=pl.Utf8)


def _head(control: str, as_of: date, fips: str | None = None, ein: str | None = None) -> pl.DataFrame:
    """A universal header's values (the document code and sender kind are the layout's fixed values)."""
    values = {"control_number": control, "state_fips": fips, "ein": ein, "creation_date": as_of}
    return pl.DataFrame([values | {"creation_time": "000000"}], schema=HEAD_SCHEMA)


def _res(con: duckdb.DuckDBPyConnection, cycle: str, state: str) -> pl.DataFrame:
    res = frame(
        con,
        """SELECT l.file_name AS source_file, o.line_no AS source_line, o.document_tracking_id, o.case_id,
            o.employee_ssn, i.employee_last_name, CASE WHEN o.data_withheld = 'Y' THEN NULL ELSE o.employer_fein END
            AS order_fein, upper(o.status) AS result, o.reason_code,
            CASE WHEN o.data_withheld = 'Y' THEN NULL ELSE o.recipient_fein END AS routed_fein,
            o.delivery, o.address_source AS iwo_addr_from, o.data_withheld, o.cycle_id, o.file_id, NULL AS message
        FROM eiwo_orders o JOIN eiwo_order_input i ON i.file_id = o.file_id AND i.line_no = o.line_no
        JOIN file_ledger l ON l.file_id = o.file_id WHERE o.cycle_id = $1 AND o.submitter = $2
        UNION ALL
        SELECT l.file_name, r.line, NULL, NULL, NULL, NULL, NULL, 'REJECTED', r.code, NULL, NULL, NULL, NULL,
            l.cycle_id, l.file_id, r.message
        FROM rejects r JOIN file_ledger l ON l.file_id = r.file_id
        WHERE l.cycle_id = $1 AND l.submitter = $2 AND l.status = 'loaded' AND l.layout IN ('eiwo_order', 'eiwo_order_csv')
          AND r.record_type = 'DTL' AND r.line > 0
        QUALIFY row_number() OVER (PARTITION BY r.file_id, r.line ORDER BY r.field, r.code) = 1
        ORDER BY file_id, source_line""",
        [cycle, state],
    )
    return res.with_columns(pl.coalesce("message", reason_messages(res)).alias("reason_message")).drop(
        "file_id", "message"
    )


def _acks(con: duckdb.DuckDBPyConnection, cycle: str, state: str) -> pl.DataFrame:
    rows = frame(
        con,
        """SELECT a.row_json, o.document_tracking_id AS tracking, o.case_id AS order_case, oi.row_json AS order_json,
            k.data_withheld, k.days_to_ack, c.as_of AS order_sent_date, k.cycle_id AS ack_cycle
        FROM eiwo_acks k JOIN eiwo_ack_input a ON a.file_id = k.file_id AND a.line_no = k.line_no
        JOIN eiwo_orders o ON o.file_id = k.order_file_id AND o.line_no = k.order_line_no
        JOIN eiwo_order_input oi ON oi.file_id = o.file_id AND oi.line_no = o.line_no
        JOIN cycles c ON c.cycle_id = o.cycle_id
        WHERE k.cycle_id = ? AND k.status = 'routed' AND k.state = ? ORDER BY k.file_id, k.line_no""",
        [cycle, state],
    )
    acks = unpack_json(rows, ACK_FIELDS).with_columns(
        pl.col("order_json").str.json_path_match("$.employer_name").alias("employer_name")
    )
    hide = pl.col("data_withheld") == "Y"
    return acks.select(
        pl.col("tracking").alias("document_tracking_id"),
        pl.col("order_case").alias("case_id"),
        "document_action_code",
        "employee_ssn",
        "employee_last_name",
        "employee_first_name",
        "disposition_status",
        "disposition_reason",
        (pl.col("disposition_status") + pl.col("disposition_reason").fill_null(""))
        .replace_strict(DISPOSITIONS, default=None)
        .alias("disposition_text"),
        pl.col("other_state_fips").replace_strict(FIPS_STATE, default=None).alias("other_state"),
        *[pl.col(c) for c in ("termination_date", "final_payment_date", "final_payment_amount")],
        *[pl.col(c) for c in ("lump_sum_payment_date", "lump_sum_payment_amount", "ack_date")],
        "order_sent_date",
        "days_to_ack",
        "data_withheld",
        pl.col("ack_cycle").alias("cycle_id"),
        *[pl.when(hide).then(None).otherwise(pl.col(c)).alias(c) for c in ACK_WITHHELD],
    )


def _new(con: duckdb.DuckDBPyConnection, cycle: str, state: str) -> pl.DataFrame:
    hide = "CASE WHEN n.data_withheld = 'Y' THEN NULL ELSE {} END"
    cols = {
        "new_employer_fein": "w.employer_fein",
        "new_employer_name": "w.employer_name",
        "new_employer_address_line_1": "w.employer_address_line_1",
        "new_employer_city": "w.employer_city",
        "new_employer_state": "w.employer_state",
        "new_employer_zip": "w.employer_zip",
        "hire_date": "w.hire_date",
    }
    masked = ", ".join(f"{hide.format(v)} AS {k}" for k, v in cols.items())
    return frame(
        con,
        f"""SELECT o.document_tracking_id, o.case_id, n.ssn AS employee_ssn, w.last_name AS employee_last_name,
            w.first_name AS employee_first_name, {hide.format("o.employer_fein")} AS order_fein, {masked}, n.data_withheld,
            n.evidence ->> 'rule' AS rule, n.cycle_id
        FROM eiwo_notices n JOIN eiwo_orders o ON o.file_id = n.order_file_id AND o.line_no = n.order_line_no
        JOIN ndnh w ON w.ndnh_id = n.ndnh_id
        WHERE n.cycle_id = ? AND n.kind = 'NEW' AND n.state = ? ORDER BY n.order_file_id, n.order_line_no, n.ndnh_id""",
        [cycle, state],
    )


def state_blocks(con: duckdb.DuckDBPyConnection, cycle: str, as_of: date, state: str) -> Blocks:
    res, acks, new = _res(con, cycle, state), _acks(con, cycle, state), _new(con, cycle, state)
    head = _head(f"S{cycle_digits(cycle)}{STATE_FIPS.get(state, '00')}", as_of, STATE_FIPS.get(state))
    counts = {"res_count": [res.height], "ack_count": [acks.height], "new_count": [new.height]}
    return [("FHS", head), ("RES", res), ("ACK", acks), ("NEW", new), ("FTS", pl.DataFrame(counts))]
