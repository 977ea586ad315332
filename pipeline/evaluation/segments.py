"""Segmentation against the generator's truth (`truth_ability.parquet`, written by `fpls generate`).

For a finished cycle, every noncustodial parent the `income_profiles` query classifies (state, member_id)
is compared with the truth of the generated cycle of the same date: the ability class (steady / irregular /
none found: the same rule applied to the true jobs, hires and UI claims, see synth/ledger.py) and the
payment behaviour the generator's payments followed. Reported: accuracy and the confusion matrix; the
accuracy also over parents whose SSN the FCR verified (only they can have NDNH data tied to them).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from reports import metrics

TRUTH_FILE = "truth_ability.parquet"
ABILITY = {"steady": "steady", "irregular": "irregular", "none": "none_found"}


def _score(df: pl.DataFrame, predicted: str, true: str) -> dict:
    n = df.height
    right = int((df.get_column(predicted) == df.get_column(true)).sum()) if n else 0
    confusion = df.group_by(true, predicted).len().sort(true, predicted).iter_rows() if n else []
    return {
        "n": n,
        "correct": right,
        "accuracy": round(right / n, 4) if n else None,
        "confusion": [{"true": t, "predicted": p, "n": int(k)} for t, p, k in confusion],
    }


def ability_eval(con: duckdb.DuckDBPyConnection, truth_dir: Path, cycle_id: str | None = None) -> dict:
    """Ability-class accuracy of one cycle (default: the latest finished) against the truth of its date."""
    path = Path(truth_dir) / TRUTH_FILE
    if not path.is_file():
        raise LookupError(f"{path}: no segment truth (a home made by `fpls generate` has one)")
    row = con.execute(
        "SELECT cycle_id, as_of FROM cycles WHERE status = 'done' AND (? IS NULL OR cycle_id = ?) "
        "ORDER BY cycle_id DESC LIMIT 1",
        [cycle_id, cycle_id],
    ).fetchone()
    if row is None:
        raise LookupError("no finished cycle to evaluate")
    cycle_id, as_of = row
    truth = pl.read_parquet(path).filter(pl.col("as_of") == as_of)
    if truth.is_empty():
        raise LookupError(f"the truth has no cycle dated {as_of}")
    prof = metrics.run_raw(con, "income_profiles", cycle_id).select(
        "state", "member_id", "ability_class", "behaviour", pl.col("ssn").is_not_null().alias("verified")
    )
    joined = prof.join(
        truth.select(
            "state",
            "member_id",
            pl.col("ability").replace_strict(ABILITY).alias("true_ability"),
            pl.col("behaviour").alias("true_behaviour"),
        ),
        on=["state", "member_id"],
        how="inner",
    )
    with_data = joined.filter(pl.col("behaviour") != "no_payment_data")
    return {
        "cycle": cycle_id,
        "as_of": as_of.isoformat(),
        "parents_in_truth": truth.height,
        "ability": _score(joined, "ability_class", "true_ability"),
        "ability_verified_ssn": _score(joined.filter("verified"), "ability_class", "true_ability"),
        "behaviour": _score(with_data, "behaviour", "true_behaviour"),
    }
