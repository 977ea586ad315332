"""Precision / recall / F1 of predicted links and of SSN verification against ground truth.

`pair_metrics(predicted, truth)`: both frames carry `left_id`, `right_id`; predicted rows whose
`decision` is not `match` are ignored when a `decision` column exists.

`verification_metrics(output, truth)`: output of `matchers.verify.verify_ssns` (id, ssn_validity,
verified_ssn) against truth (id, true_ssn; true_ssn null when the person has no SSN on the master).
An assignment is a true positive when the SSN chosen is the true one; a false positive when it is
another; a false negative when a true SSN exists but none (or a wrong one) was chosen. Codes R and
blank choose nothing. Per-code rows count what each code contributed.
"""

from __future__ import annotations

import polars as pl


def prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def pair_metrics(predicted: pl.DataFrame, truth: pl.DataFrame) -> dict[str, float | int]:
    pred = predicted
    if "decision" in pred.columns:
        pred = pred.filter(pl.col("decision") == "match")
    key = ["left_id", "right_id"]
    pred = pred.select(pl.col(k).cast(pl.Utf8) for k in key).unique()
    true = truth.select(pl.col(k).cast(pl.Utf8) for k in key).unique()
    tp = pred.join(true, on=key, how="semi").height
    return prf(tp, pred.height - tp, true.height - tp)


def verification_metrics(output: pl.DataFrame, truth: pl.DataFrame) -> dict[str, object]:
    joined = output.select(pl.col("id").cast(pl.Utf8), "ssn_validity", pl.col("verified_ssn").cast(pl.Utf8)).join(
        truth.select(pl.col("id").cast(pl.Utf8), pl.col("true_ssn").cast(pl.Utf8)), on="id", how="left"
    )
    chosen = pl.col("verified_ssn").is_not_null() & (pl.col("verified_ssn") != "")
    right = chosen & (pl.col("verified_ssn") == pl.col("true_ssn")).fill_null(False)
    joined = joined.with_columns(
        _tp=right,
        _fp=chosen & ~right,
        _fn=pl.col("true_ssn").is_not_null() & ~right,
    )
    overall = prf(int(joined["_tp"].sum()), int(joined["_fp"].sum()), int(joined["_fn"].sum()))
    per_code = {}
    for code, tp, fp, fn, n in (
        joined.group_by("ssn_validity")
        .agg(pl.col("_tp").sum(), pl.col("_fp").sum(), pl.col("_fn").sum(), pl.len())
        .sort("ssn_validity")
        .iter_rows()
    ):
        per_code[code or "blank"] = {**prf(int(tp), int(fp), int(fn)), "records": int(n)}
    return {**overall, "by_code": per_code}
