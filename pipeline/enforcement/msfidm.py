"""MSFIDM: inquiry files of certified debtors to every registered financial institution; the institutions'
match files matched back to the debtors; per state a response file.

Inquiry population: each (state, SSN) with an active registry case that does not exclude FIN, one I record
each, sent identically to every partner whose kind is a financial institution (`partners` table, snapshot
of partners.yaml taken when the cycle opened). Nothing is ever written for an unregistered institution.

Match files (`msfidm_match`, validated by the layout: a file whose `T` count or balance total disagrees with
its B records is rejected whole by validation and acknowledged in ACK.<FI>.<cycle>.dat; none of its records
reach this stage). A B record matches a debtor when its SSN equals the debtor's and the first four letters
of the account holder's surname (first word of the "LAST FIRST MIDDLE" name) agree with the debtor's
registry surname or the SSA master's surname for the SSN (name_check 1), or the institution itself
compared them and set match flag 1, or (a surname change, e.g. an account under the birth surname) the
first four letters of the first name (second word) agree with the debtor's or the master's. Otherwise the candidate goes to the review queue, never to a state.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from pipeline.enforcement.common import FI_KINDS, debtor_persons, key4
from pipeline.files.codes import STATE_FIPS
from pipeline.store import frame, insert_frame


@dataclass
class MsfidmResult:
    inquiry_records: int = 0
    institutions: int = 0
    accounts: int = 0
    matches: int = 0
    review: int = 0


def registered_institutions(con: duckdb.DuckDBPyConnection) -> list[str]:
    kinds = ", ".join(f"'{k}'" for k in FI_KINDS)
    return [
        r[0]
        for r in con.execute(f"SELECT partner_id FROM partners WHERE lower(kind) IN ({kinds}) ORDER BY 1").fetchall()
    ]


def _accounts(con: duckdb.DuckDBPyConnection, cycle: str) -> pl.DataFrame:
    return frame(
        con,
        """SELECT a.* FROM msfidm_accounts a JOIN file_ledger l USING (file_id)
        WHERE a.cycle_id = ? AND l.status = 'loaded' ORDER BY a.file_id, a.line_no""",
        [cycle],
    )


def match_accounts(accounts: pl.DataFrame, debtors: pl.DataFrame) -> pl.DataFrame:
    """Accounts × debtors on SSN with the surname rule → candidate rows with `decision` match / review."""
    hits = accounts.join(
        debtors.select("state", "ssn", "last_name", "first_name", "master_last_name", "master_first_name"),
        left_on="matched_ssn",
        right_on="ssn",
        how="inner",
    )
    words = pl.col("account_holder_name").str.strip_chars().str.split(" ")
    holder4, first4 = key4(words.list.first()), key4(words.list.get(1, null_on_oob=True))
    agree = ((holder4 == key4(pl.col("last_name"))) | (holder4 == key4(pl.col("master_last_name")))).fill_null(False)
    first = ((first4 == key4(pl.col("first_name"))) | (first4 == key4(pl.col("master_first_name")))).fill_null(False)
    inst = (pl.col("match_flag") == "1").fill_null(False)
    return hits.with_columns(
        pl.when(agree).then(pl.lit("1")).otherwise(pl.lit("2")).alias("name_check"),
        pl.when(agree)
        .then(pl.lit("ssn_exact_surname4"))
        .when(inst)
        .then(pl.lit("ssn_exact_fi_flag"))
        .when(first)
        .then(pl.lit("ssn_exact_first4"))
        .otherwise(pl.lit("ssn_exact_name_differs"))
        .alias("rule"),
        pl.when(agree | inst | first).then(pl.lit("match")).otherwise(pl.lit("review")).alias("decision"),
    ).with_columns(
        pl.format(
            '{{"rule":"{}","ssn":"exact","fi_match_flag":"{}","name_check":"{}","holder_key":"{}",'
            '"debtor_key":"{}","file_id":{},"line":{}}}',
            "rule",
            pl.col("match_flag").fill_null(""),
            "name_check",
            holder4.fill_null(""),
            key4(pl.col("last_name")).fill_null(""),
            "file_id",
            "line_no",
        ).alias("evidence")
    )


def run_msfidm(con: duckdb.DuckDBPyConnection, cycle: str) -> MsfidmResult:
    """Record the inquiry, match the cycle's institution files (the caller owns the transaction)."""
    debt = debtor_persons(con, "FIN")
    insert_frame(
        con, "msfidm_inquiry", debt.select(pl.lit(cycle).alias("cycle_id"), "state", "ssn", "last_name", "first_name")
    )
    fis = registered_institutions(con)
    insert_frame(
        con,
        "msfidm_recipients",
        pl.DataFrame(
            {"cycle_id": [cycle] * len(fis), "recipient": fis}, schema={"cycle_id": pl.Utf8, "recipient": pl.Utf8}
        ),
    )
    accounts = _accounts(con, cycle)
    cand = match_accounts(accounts, debt)
    matched = cand.filter(pl.col("decision") == "match")
    insert_frame(
        con,
        "enforcement_matches",
        matched.select(
            pl.lit(cycle).alias("cycle_id"),
            pl.lit("msfidm").alias("source"),
            "state",
            pl.col("matched_ssn").alias("ssn"),
            "file_id",
            "line_no",
            "rule",
            "name_check",
            pl.lit(1.0).alias("probability"),
            "evidence",
        ),
    )
    review = cand.filter(pl.col("decision") == "review")
    insert_frame(
        con,
        "enforcement_review",
        review.select(
            pl.lit(cycle).alias("cycle_id"),
            pl.lit("msfidm").alias("source"),
            "file_id",
            "line_no",
            pl.col("matched_ssn").alias("candidate_ssn"),
            "rule",
            pl.lit(None, pl.Float64).alias("probability"),
            "evidence",
        ),
    )
    con.execute(
        """INSERT INTO responses_sent SELECT cycle_id, state, 'MR', NULL, md5(concat_ws('|', 'MR', file_id, line_no)), ssn
        FROM enforcement_matches WHERE cycle_id = ? AND source = 'msfidm'""",
        [cycle],
    )
    return MsfidmResult(debt.height, len(fis), accounts.height, matched.height, review.height)


def inquiry_blocks(con: duckdb.DuckDBPyConnection, cycle: str, as_of, recipient: str) -> list[tuple[str, pl.DataFrame]]:
    rows = frame(con, "SELECT * FROM msfidm_inquiry WHERE cycle_id = ? ORDER BY ssn, state", [cycle])
    fips = pl.DataFrame({"state": list(STATE_FIPS), "fips_passback": ["000" + v for v in STATE_FIPS.values()]})
    rows = rows.join(fips, on="state", how="left").with_columns(pl.col("state").alias("state_passback"))
    tin = recipient.removeprefix("FI-")
    d = pl.DataFrame(
        {"file_period": [f"{as_of:%Y%m}"], "recipient_tin": [tin if tin.isdigit() else None], "cycle_id": [cycle]}
    )
    t = pl.DataFrame({"inquiry_count": [rows.height], "cycle_id": [cycle]})
    return [("D", d), ("I", rows), ("T", t)]


def response_blocks(con: duckdb.DuckDBPyConnection, cycle: str, as_of, state: str) -> list[tuple[str, pl.DataFrame]]:
    rows = frame(
        con,
        """SELECT m.state, m.ssn, d.last_name AS debtor_last_name, d.first_name AS debtor_first_name,
            json_extract_string(l.header_json, '$.institution_tin') AS institution_tin,
            json_extract_string(l.header_json, '$.institution_name') AS institution_name,
            a.account_type, a.account_number, a.account_balance, a.balance_indicator, a.account_status,
            a.payee_indicator, a.trust_fund_indicator, a.match_flag, m.name_check, a.account_holder_name,
            left(a.state_passback, 2) AS account_state, m.rule, m.cycle_id, m.line_no AS source_line
        FROM enforcement_matches m JOIN msfidm_accounts a ON a.file_id = m.file_id AND a.line_no = m.line_no
        JOIN file_ledger l ON l.file_id = m.file_id
        LEFT JOIN (SELECT state, ssn, first(last_name ORDER BY case_type) AS last_name,
                   first(first_name ORDER BY case_type) AS first_name FROM debtors GROUP BY state, ssn) d
             ON d.state = m.state AND d.ssn = m.ssn
        WHERE m.cycle_id = ? AND m.source = 'msfidm' AND m.state = ?
        ORDER BY m.ssn, m.file_id, m.line_no""",
        [cycle, state],
    )
    head = pl.DataFrame({"recipient_state": [state], "date_stamp": [as_of], "cycle_id": [cycle]})
    total = int(rows["account_balance"].sum() or 0) if rows.height else 0
    return [("MH", head), ("MR", rows), ("MT", pl.DataFrame({"match_count": [rows.height], "balance_total": [total]}))]
