"""`fpls eval`: precision / recall / F1 of the last cycle against the generator's truth.

Join used (documented for the generator): truth.parquet has one row per generated record with the
file name (`file` or `file_name`), its 1-based physical line (`line` or `line_no`) and the true person
(`person_id`, `pid` or `_pid`; null for records of nobody). Records are tied to the store through the
ledger (file name → file_id) and their line numbers.

- ndnh_locate: decisions "NDNH record r (loaded in the cycle, accepted) hits FCR member (state, member_id)"
  made by the cycle (verified SSN = person's verified SSN, before the never-twice filter) against truth
  pairs (same true person, both records loaded).
- ssn_verification: each FCR person registered in the cycle; TP when its verified SSN is one of the SSNs
  the SSA master file holds for its true person, FP when another, FN when the person has one but none
  (or a wrong one) was chosen.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipeline.evaluation.eiwo import eiwo_eval
from pipeline.evaluation.enforcement import enforcement_eval
from pipeline.evaluation.metrics import pair_metrics, prf
from pipeline.evaluation.segments import ability_eval
from pipeline.evaluation.truth import read_truth, with_person


def ndnh_locate(con: duckdb.DuckDBPyConnection, cycle: str, truth: pl.DataFrame) -> dict:
    records = with_person(
        con,
        """SELECT n.ndnh_id, n.verified_ssn, l.file_name, n.line_no FROM ndnh n
        JOIN file_ledger l USING (file_id) WHERE n.cycle_id = ?""",
        [cycle],
        truth,
    )
    persons = with_person(
        con,
        """SELECT DISTINCT p.state, p.member_id, p.verified_ssn, l.file_name, i.line_no
        FROM fcr_persons p JOIN fcr_person_input i USING (state, case_id, member_id)
        JOIN file_ledger l ON l.file_id = i.file_id WHERE p.status = 'active' AND i.action_type = 'A'""",
        [],
        truth,
    )
    persons = persons.with_columns((pl.col("state") + "|" + pl.col("member_id")).alias("left_id"))
    records = records.with_columns(pl.col("ndnh_id").cast(pl.Utf8).alias("right_id"))
    predicted = (
        persons.filter(pl.col("verified_ssn").is_not_null())
        .join(records.filter(pl.col("verified_ssn").is_not_null()), on="verified_ssn")
        .select("left_id", "right_id")
    )
    true = (
        persons.filter(pl.col("person_id").is_not_null())
        .join(records.filter(pl.col("person_id").is_not_null()), on="person_id")
        .select("left_id", "right_id")
    )
    return pair_metrics(predicted, true)


def ssn_verification(con: duckdb.DuckDBPyConnection, cycle: str, truth: pl.DataFrame) -> dict:
    """Persons registered this cycle: TP when the chosen SSN is one the SSA master holds for the true
    person, FP when another, FN when the person has one but none (or a wrong one) was chosen; overall and
    per FCR SSN validity code."""
    master = (
        with_person(
            con,
            """SELECT m.ssn, l.file_name, m.line_no FROM ssa_master m JOIN file_ledger l USING (file_id)""",
            [],
            truth,
        )
        .filter(pl.col("person_id").is_not_null())
        .select("person_id", pl.col("ssn").alias("true_ssn"))
    )
    persons = with_person(
        con,
        """SELECT DISTINCT p.state || '|' || p.case_id || '|' || p.member_id AS id, p.verified_ssn,
            coalesce(p.validity_code, '') AS validity_code, l.file_name, i.line_no
        FROM fcr_persons p JOIN fcr_person_input i USING (state, case_id, member_id)
        JOIN file_ledger l ON l.file_id = i.file_id WHERE i.cycle_id = ? AND i.action_type = 'A' AND p.status = 'active'""",
        [cycle],
        truth,
    ).unique("id")
    right = persons.join(master, left_on=["person_id", "verified_ssn"], right_on=["person_id", "true_ssn"], how="semi")
    has_true = persons.join(master, on="person_id", how="semi").select("id")
    scored = persons.select(
        "id",
        "validity_code",
        pl.col("id").is_in(right["id"].implode()).alias("tp"),
        (pl.col("verified_ssn").is_not_null() & ~pl.col("id").is_in(right["id"].implode())).alias("fp"),
        (pl.col("id").is_in(has_true["id"].implode()) & ~pl.col("id").is_in(right["id"].implode())).alias("fn"),
    )
    counts = scored.group_by("validity_code").agg(pl.col("tp", "fp", "fn").sum(), pl.len().alias("records"))
    by_code = {
        code or "blank": {**prf(int(tp), int(fp), int(fn)), "records": int(n)}
        for code, tp, fp, fn, n in counts.sort("validity_code").iter_rows()
    }
    total = scored.select(pl.col("tp", "fp", "fn").sum()).row(0)
    return {**prf(*map(int, total)), "by_code": by_code}


def evaluate(con: duckdb.DuckDBPyConnection, truth_path: Path) -> dict:
    row = con.execute("SELECT cycle_id FROM cycles WHERE status = 'done' ORDER BY cycle_id DESC LIMIT 1").fetchone()
    if row is None:
        raise LookupError("no finished cycle in the store; run `fpls run` first")
    cycle, truth = row[0], read_truth(truth_path)
    sources = {"ssn_verification": ssn_verification(con, cycle, truth), "ndnh_locate": ndnh_locate(con, cycle, truth)}
    try:
        sources |= enforcement_eval(con, truth_path)
    except LookupError:  # the store holds no enforcement stage (yet): evaluate what the cycle did
        pass
    sources |= eiwo_eval(con, truth_path)
    out = {"cycle": cycle, "sources": sources}
    try:  # segmentation (ability class, payment behaviour) against truth_ability.parquet beside the truth
        out["segments"] = ability_eval(con, Path(truth_path).parent, cycle)
    except LookupError:
        pass
    return out
