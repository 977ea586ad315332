"""Insurance Match: claims (fixed-width IM and CSV) matched to certified debtors; automatic matches go to
the debtor's state(s) in an insurance response file, candidates under the automatic threshold go to the
review queue (`enforcement_review`) and never to a state.

Debtor population: active registry cases whose exclusions do not contain INS. Matching rules:
`pipeline.enforcement.debtor_match` (SSN + name check, then name / DOB / address linkage with `matchers.link`). The
claim's SSN is the claimant SSN, else the obligor SSN a matching partner echoed from the debtor file.
Family violence: a debtor flagged FV by another state gets the claimant address withheld (data_withheld Y).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from pipeline.enforcement.common import add_withheld, debtor_persons
from pipeline.enforcement.debtor_match import fan_out, match_to_debtors
from pipeline.engine import Engine
from pipeline.store import frame, insert_frame


@dataclass
class InsuranceResult:
    claims: int = 0
    with_ssn: int = 0
    matches: int = 0
    review: int = 0


def claim_records(con: duckdb.DuckDBPyConnection, cycle: str) -> pl.DataFrame:
    return frame(
        con,
        """SELECT c.file_id || ':' || c.line_no AS rec_id, c.file_id, c.line_no,
            coalesce(c.claimant_ssn, c.obligor_ssn) AS ssn, c.claimant_first_name AS first_name,
            c.claimant_middle_name AS middle_name, c.claimant_last_name AS last_name, c.claimant_dob AS dob,
            c.claimant_address_line_1 AS street, c.claimant_city AS city, c.claimant_state AS addr_state,
            c.claimant_zip AS zip
        FROM insurance_claims c JOIN file_ledger l USING (file_id)
        WHERE c.cycle_id = ? AND l.status = 'loaded' ORDER BY c.file_id, c.line_no""",
        [cycle],
    )


def record_decisions(
    con: duckdb.DuckDBPyConnection,
    cycle: str,
    source: str,
    records: pl.DataFrame,
    decided: pl.DataFrame,
    debt: pl.DataFrame,
) -> tuple[int, int]:
    """Store automatic matches (fanned out to states, FV rule applied) and review candidates."""
    ids = records.select("rec_id", "file_id", "line_no")
    matched = fan_out(decided.filter(pl.col("decision") == "match"), debt).join(ids, on="rec_id")
    matched = add_withheld(con, matched)
    insert_frame(
        con,
        "enforcement_matches",
        matched.select(
            pl.lit(cycle).alias("cycle_id"),
            pl.lit(source).alias("source"),
            "state",
            "ssn",
            "file_id",
            "line_no",
            "rule",
            "probability",
            "data_withheld",
            "evidence",
        ),
    )
    review = decided.filter(pl.col("decision") == "review").join(ids, on="rec_id")
    insert_frame(
        con,
        "enforcement_review",
        review.select(
            pl.lit(cycle).alias("cycle_id"),
            pl.lit(source).alias("source"),
            "file_id",
            "line_no",
            pl.col("ssn").alias("candidate_ssn"),
            "rule",
            "probability",
            "evidence",
        ),
    )
    code = {"insurance": "IR", "debt_inquiry": "DI"}[source]
    con.execute(
        f"""INSERT INTO responses_sent SELECT cycle_id, state, '{code}', NULL,
            md5(concat_ws('|', '{code}', file_id, line_no)), ssn
        FROM enforcement_matches WHERE cycle_id = ? AND source = ?""",
        [cycle, source],
    )
    return matched.height, review.height


def run_insurance(con: duckdb.DuckDBPyConnection, cycle: str, engine: Engine | None = None) -> InsuranceResult:
    records = claim_records(con, cycle)
    debt = debtor_persons(con, "INS")
    decided = match_to_debtors(records, debt, engine)
    n_match, n_review = record_decisions(con, cycle, "insurance", records, decided, debt)
    return InsuranceResult(records.height, int(records["ssn"].is_not_null().sum()), n_match, n_review)


def response_blocks(con: duckdb.DuckDBPyConnection, cycle: str, as_of, state: str) -> list[tuple[str, pl.DataFrame]]:
    hidden = ("claimant_address_line_1", "claimant_city", "claimant_state", "claimant_zip")
    masked = ", ".join(f"CASE WHEN m.data_withheld = 'Y' THEN NULL ELSE c.{h} END AS {h}" for h in hidden)
    rows = frame(
        con,
        f"""SELECT m.state, m.ssn, d.last_name AS debtor_last_name, d.first_name AS debtor_first_name,
            c.insurer_id, c.insurer_name, c.insurer_address_line_1, c.insurer_address_line_2, c.claim_number,
            c.claim_type, c.loss_date, c.processing_date, c.claimant_last_name, c.claimant_first_name,
            c.claimant_dob, {masked}, m.data_withheld, m.rule, printf('%.4f', m.probability) AS probability, m.cycle_id
        FROM enforcement_matches m JOIN insurance_claims c ON c.file_id = m.file_id AND c.line_no = m.line_no
        LEFT JOIN (SELECT state, ssn, first(last_name ORDER BY case_type) AS last_name,
                   first(first_name ORDER BY case_type) AS first_name FROM debtors GROUP BY state, ssn) d
             ON d.state = m.state AND d.ssn = m.ssn
        WHERE m.cycle_id = ? AND m.source = 'insurance' AND m.state = ?
        ORDER BY m.ssn, m.file_id, m.line_no""",
        [cycle, state],
    )
    head = pl.DataFrame({"recipient_state": [state], "date_stamp": [as_of], "cycle_id": [cycle]})
    return [("IH", head), ("IR", rows), ("IT", pl.DataFrame({"match_count": [rows.height]}))]
