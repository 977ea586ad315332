"""Match weights, probabilities, explanations and decisions for compared candidate pairs.

weight = log2(prior / (1 - prior)) + Σ_field log2(m / u)[level] (+ term-frequency adjustment)
probability = 1 / (1 + 2^-weight)

Term-frequency adjustment (Splink's): on the exact level of a name, u becomes the frequency of that
very value among all records (left and right stacked), so the weight of an exact match is
log2(m / tf(value)) instead of log2(m / u): agreeing on SMITH counts less than agreeing on OKAFOR.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from matchers.comparisons import COMPARISONS
from matchers.em import Parameters

TF_FLOOR = 1e-7


def term_frequencies(stacked: pl.DataFrame, column: str) -> pl.DataFrame:
    """(value, tf) for a normalised column over left and right records stacked."""
    values = stacked.select(pl.col(column).alias("value")).drop_nulls()
    total = max(values.height, 1)
    return values.group_by("value").len().select("value", (pl.col("len") / total).alias("tf"))


def bayes_log2(compared: pl.DataFrame, params: Parameters, tf_tables: dict[str, pl.DataFrame]) -> np.ndarray:
    """match_weight of every pair as a numpy array (same sum as `add_weights`), without building columns."""
    total = np.full(compared.height, params.prior_weight)
    for name in params.comparisons:
        total += params.weight_table(name)[compared[f"gamma_{name}"].to_numpy().astype(np.int64) + 1]
    for name in params.term_frequency:
        if name not in params.comparisons or name not in tf_tables:
            continue
        total += _tf_adjustment(compared, params, tf_tables, name)
    return np.clip(total, -1000, 1000)


def _tf_adjustment(
    compared: pl.DataFrame, params: Parameters, tf_tables: dict[str, pl.DataFrame], name: str
) -> np.ndarray:
    col = COMPARISONS[name].tf_column
    exact = compared[f"gamma_{name}"].to_numpy() == 0
    adj = np.zeros(compared.height)
    if not exact.any():
        return adj
    u_exact = params.u[name][0]
    values = compared.select(pl.col(f"{col}_l").alias("value")).filter(pl.Series(exact))
    tf = (
        values.join(tf_tables[name], on="value", how="left", maintain_order="left")["tf"].fill_null(TF_FLOOR).to_numpy()
    )
    adj[exact] = np.log2(u_exact / np.maximum(tf, TF_FLOOR))
    return adj


def add_weights(compared: pl.DataFrame, params: Parameters, tf_tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Add w_<field> per comparison, tf_<field> adjustments, match_weight and match_probability."""
    cols = {}
    total = np.full(compared.height, params.prior_weight)
    for name in params.comparisons:
        table = params.weight_table(name)
        gamma = compared[f"gamma_{name}"].to_numpy().astype(np.int64)
        w = table[gamma + 1]
        cols[f"w_{name}"] = w
        total = total + w
    out = compared.with_columns(pl.Series(k, v) for k, v in cols.items())
    for name in params.term_frequency:
        if name not in params.comparisons or name not in tf_tables:
            continue
        adj = _tf_adjustment(out, params, tf_tables, name)
        out = out.with_columns(pl.Series(f"tf_{name}", adj))
        total = total + adj
    total = np.clip(total, -1000, 1000)
    return out.with_columns(
        pl.Series("match_weight", total),
        pl.Series("match_probability", 1.0 / (1.0 + np.exp2(-total))),
    )


def _fmt(expr: pl.Expr) -> pl.Expr:
    rounded = expr.round(2)
    return pl.when(rounded >= 0).then(pl.lit("+") + rounded.cast(pl.Utf8)).otherwise(rounded.cast(pl.Utf8))


def explanation_expr(params: Parameters) -> pl.Expr:
    """`prior(-12.29) first_name=exact(+6.10,tf-1.20) … ` — each field's level and weight."""
    parts = [pl.lit(f"prior({params.prior_weight:+.2f})")]
    for name in params.comparisons:
        labels = {-1: "missing", **dict(enumerate(COMPARISONS[name].levels))}
        label = pl.col(f"gamma_{name}").replace_strict(labels, return_dtype=pl.Utf8)
        weight = _fmt(pl.col(f"w_{name}"))
        if name in params.term_frequency:
            tf = pl.col(f"tf_{name}")
            weight = pl.when(tf != 0).then(weight + pl.lit(",tf") + _fmt(tf)).otherwise(weight)
        parts.append(pl.lit(f"{name}=") + label + pl.lit("(") + weight + pl.lit(")"))
    return pl.concat_str(parts, separator=" ")


def decide(scored: pl.DataFrame, match: float, review: float, one_to_one: bool = False) -> pl.DataFrame:
    """Keep pairs at or above `review`; label match / review with the DESIGN §6 uniqueness rules.

    Default: a right row keeps at most one `match`, its best left row; its other would-be matches
    become `review`, and a tie for best makes them all `review` (no guess). `one_to_one` also limits
    a left row to one `match`, by rounds of mutual best pairs (highest weight first)."""
    kept = scored.filter(pl.col("match_probability") >= review)
    is_match = pl.col("match_probability") >= match
    kept = kept.with_columns(_cand=is_match)
    kept = _best_only(kept, "r")
    if one_to_one:
        kept = _mutual_best(kept)
    return kept.with_columns(decision=pl.when(pl.col("_cand")).then(pl.lit("match")).otherwise(pl.lit("review"))).drop(
        "_cand"
    )


def _best_only(frame: pl.DataFrame, side: str) -> pl.DataFrame:
    """Among candidate matches, keep only each `side` row's unique best; others lose `_cand`.

    numpy on the integer row positions (a polars window over half a million one-row groups took seconds)."""
    if frame.height == 0:
        return frame
    pos = frame[side].to_numpy().astype(np.int64)
    cand = frame["_cand"].to_numpy()
    w = np.where(cand, frame["match_weight"].to_numpy(), -np.inf)
    best = np.full(int(pos.max()) + 1, -np.inf)
    np.maximum.at(best, pos, w)
    is_best = cand & (w == best[pos])
    n_best = np.bincount(pos[is_best], minlength=len(best))
    return frame.with_columns(_cand=pl.Series(is_best & (n_best[pos] == 1)))


def _mutual_best(frame: pl.DataFrame, rounds: int = 10) -> pl.DataFrame:
    """Greedy one-to-one: a pair stays a match if it is the best of its left and right rows."""
    cand = frame.with_columns(_final=pl.lit(False))
    for _ in range(rounds):
        open_ = cand.with_columns(
            _taken_l=pl.col("_final").any().over("l"),
            _taken_r=pl.col("_final").any().over("r"),
        ).with_columns(_cand=pl.col("_cand") & ~pl.col("_final") & ~pl.col("_taken_l") & ~pl.col("_taken_r"))
        w = pl.when(pl.col("_cand")).then(pl.col("match_weight"))
        mutual = (
            pl.col("_cand")
            & (pl.col("match_weight") == w.max().over("l"))
            & (pl.col("match_weight") == w.max().over("r"))
        )
        ties = mutual & ((mutual.sum().over("l") > 1) | (mutual.sum().over("r") > 1))
        new = open_.with_columns(_new=mutual & ~ties)
        if not new["_new"].any():
            break
        cand = new.with_columns(_final=pl.col("_final") | pl.col("_new"), _cand=pl.col("_cand")).drop(
            "_new", "_taken_l", "_taken_r"
        )
    return cand.with_columns(_cand=pl.col("_final")).drop("_final", strict=False)
