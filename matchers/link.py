"""`link(left, right, settings)`: person linkage of two person-schema frames (DESIGN §6).

Pipeline, each step a whole-frame operation:
check rows → normalise (left and right stacked, so each distinct name is encoded once) → blocking
(pair count per rule reported through `on_candidates` before scoring) → comparison levels → train
(u from random pairs, m by EM, prior) or load parameters → weights → decisions → explanation.

Output columns: left_id, right_id, match_weight, match_probability, decision, explanation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from matchers import blocking
from matchers.comparisons import COMPARISONS
from matchers.em import (
    Parameters,
    em_m_counts,
    estimate_prior,
    initial_m,
    pattern_table,
    patterns,
    u_sample,
)
from matchers.link_kernel import compare_pairs
from matchers.persons import PERSON_COLUMNS, check_persons, prepare_persons
from matchers.scoring import (
    add_weights,
    bayes_log2,
    decide,
    explanation_expr,
    term_frequencies,
)
from matchers.settings import blocking_rules, load_settings
from pipeline.engine import Engine

DEFAULT_PARAMS = Path(__file__).with_name("default_params.json")
OUTPUT_COLUMNS = ("left_id", "right_id", "match_weight", "match_probability", "decision", "explanation")
KEEP = (
    "id",
    "ssn9",
    "ssn_int",
    "dob_int",
    "dob_date",
    "birth_year",
    "sex1",
    "zip5",
    "zip3",
    "city_n",
    "street_n",
    "street_no",
    "fn",
    "mn",
    "ln",
    "fn_key",
    "ln_key",
    "ln_parts",
    "fn_canon",
    "fn_nysiis",
    "fn_soundex",
    "ln_nysiis",
    "ln_soundex",
    "ln_metaphone",
)


@dataclass
class LinkResult:
    n_left: int
    n_right: int
    rule_counts: dict[str, int]
    candidates: int
    pairs: int
    matches: int
    reviews: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    parameters: Parameters | None = None
    issues: pl.DataFrame | None = None  # side, line, id, issue

    def summary(self) -> dict[str, Any]:
        return {
            "left_records": self.n_left,
            "right_records": self.n_right,
            "blocking_rule_pairs": self.rule_counts,
            "candidate_pairs": self.candidates,
            "pairs": self.pairs,
            "matches": self.matches,
            "reviews": self.reviews,
            "seconds": round(self.seconds, 3),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "prior": self.parameters.prior if self.parameters else None,
            "input_issues": (dict(self.issues.group_by("issue").len().iter_rows()) if self.issues is not None else {}),
        }


def _as_person_frame(frame: pl.DataFrame) -> pl.DataFrame:
    cols = []
    for c in PERSON_COLUMNS:
        if c not in frame.columns:
            cols.append(pl.lit(None, pl.Utf8).alias(c))
        elif c == "dob" and frame.schema[c] == pl.Date:
            cols.append(pl.col(c).dt.strftime("%Y-%m-%d"))
        else:
            cols.append(pl.col(c).cast(pl.Utf8))
    return frame.select(cols)


def prepare_sides(
    left: pl.DataFrame, right: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Checked, normalised left and right frames (with positions l / r), the stacked frame, issues."""
    lk, li = check_persons(_as_person_frame(left))
    rk, ri = check_persons(_as_person_frame(right))
    issues = pl.concat([li.with_columns(side=pl.lit("left")), ri.with_columns(side=pl.lit("right"))]).select(
        "side", "line", "id", "issue"
    )
    stacked = prepare_persons(
        pl.concat([lk.with_columns(_side=pl.lit(0, pl.Int8)), rk.with_columns(_side=pl.lit(1, pl.Int8))])
    )
    stacked = stacked.select(*KEEP, "_side")
    L = stacked.filter(pl.col("_side") == 0).drop("_side").with_row_index("l")
    R = stacked.filter(pl.col("_side") == 1).drop("_side").with_row_index("r")
    return L, R, stacked, issues


def train(
    L: pl.DataFrame,
    R: pl.DataFrame,
    compared: pl.DataFrame,
    settings: dict[str, Any],
    names: list[str],
    tf_tables: dict[str, pl.DataFrame],
) -> Parameters:
    """u from random pairs, m by EM per training rule (averaged), the prior; then once more with the
    sample's probable matches removed from the u estimate (see matchers.em).

    The random pairs are compared once; both rounds work on pattern tables (distinct comparison vectors
    with counts), so a round costs milliseconds whatever the number of pairs."""
    tr = settings["training"]
    us = u_sample(L, R, names, tr["u_sample_pairs"], tr["u_stratum_pairs"], tr["seed"])
    cand_pt = pattern_table(compared, names, ("rules",))
    u = us.u(names)
    params = _fit_m(cand_pt, settings, names, u)
    prob = _fit_prior(params, compared, settings, tf_tables, L.height, R.height)
    # Further rounds: true matches are part of every random sample (1 pair in 5,000 in FEBRL, and most
    # pairs of an equal-SSN stratum), inflating u of the strongest levels. Each sampled pair that is a
    # candidate counts 1 - P(match) under the previous round's model; u, m and the prior are estimated again.
    keys = compared["l"].to_numpy().astype(np.uint64) * np.uint64(R.height) + compared["r"].to_numpy().astype(np.uint64)
    order = np.argsort(keys)
    for _round in range(tr["u_rounds"] - 1):
        u = us.u(names, (keys[order], prob[order]))
        params = _fit_m(cand_pt, settings, names, u)
        prob = _fit_prior(params, compared, settings, tf_tables, L.height, R.height)
    params.provenance["u_sample"] = {
        "uniform_pairs": int(us.uniform.height),
        "strata": {
            n: {"key": COMPARISONS[n].stratum, "share_of_pairs": m, "pairs": 0 if f is None else f.height}
            for n, (m, f) in us.strata.items()
        },
        "rounds": tr["u_rounds"],
    }
    return params


def _fit_m(cand_pt: pl.DataFrame, settings: dict[str, Any], names: list[str], u: dict[str, list[float]]) -> Parameters:
    """m by EM per training rule on the candidates' pattern table (comparison vector, rule mask, count)."""
    tr = settings["training"]
    rules = {r.name: (bit, r) for bit, r in enumerate(blocking_rules(settings))}
    estimates: dict[str, list[np.ndarray]] = {n: [] for n in names}
    runs = {}
    for rule_name in tr["em_rules"]:
        bit, rule = rules[rule_name]
        block = cand_pt.filter((pl.col("rules") & (1 << bit)) > 0)
        pairs = int(block["len"].sum())
        if pairs < tr["min_pairs_per_rule"]:
            runs[rule_name] = {"pairs": pairs, "skipped": True}
            continue
        free = [n for n in names if n not in rule.fixes()]
        G, counts = patterns(block, free)
        m, lam, its = em_m_counts(
            G, counts, free, u, {n: initial_m(n) for n in free}, tr["em_max_iterations"], tr["em_tolerance"]
        )
        for j, n in enumerate(free):
            if (G[:, j] >= 0).any():
                estimates[n].append(m[n])
        runs[rule_name] = {"pairs": pairs, "lambda": lam, "iterations": its, "trained": free}
    m_final = {n: (np.mean(estimates[n], axis=0) if estimates[n] else initial_m(n)) for n in names}
    tf_names = [c["name"] for c in settings["comparisons"] if c["term_frequency"]]
    return Parameters(
        comparisons=names,
        m={n: list(map(float, m_final[n])) for n in names},
        u=u,
        prior=0.5,
        term_frequency=tf_names,
        provenance={"em_runs": runs},
    )


def _fit_prior(
    params: Parameters,
    compared: pl.DataFrame,
    settings: dict[str, Any],
    tf_tables: dict[str, pl.DataFrame],
    n_left: int,
    n_right: int,
) -> np.ndarray:
    """Set params.prior; return each candidate pair's match probability under it."""
    prior = settings["training"]["prior"]
    params.prior = 0.5  # prior weight 0 → the weights below are pure Bayes factors
    bf = bayes_log2(compared, params, tf_tables)
    params.prior = float(prior) if prior != "estimate" else estimate_prior(bf, n_left, n_right)
    return 1.0 / (1.0 + np.exp2(-np.clip(bf + params.prior_weight, -1000, 1000)))


def link(
    left: pl.DataFrame,
    right: pl.DataFrame,
    settings: dict[str, Any] | None = None,
    params: Parameters | None = None,
    one_to_one: bool = False,
    on_candidates: Callable[[dict[str, int], int], None] | None = None,
    engine: Engine | None = None,
) -> tuple[pl.DataFrame, LinkResult]:
    """Link two person-schema frames; see module doc. `params` skips training. `engine` runs the pair
    comparison (matchers.link_kernel; in process by default, Spark with `fpls link --engine spark`)."""
    settings = settings or load_settings()
    names = [c["name"] for c in settings["comparisons"]]
    t0 = time.perf_counter()
    timings: dict[str, float] = {}

    since = t0

    def lap(step: str) -> None:
        nonlocal since
        now = time.perf_counter()
        timings[step] = now - since
        since = now

    L, R, stacked, issues = prepare_sides(left, right)
    lap("normalise")
    candidates = blocking.generate(L, R, blocking_rules(settings))
    lap("blocking")
    if on_candidates:
        on_candidates(candidates.rule_counts, candidates.pairs.height)
    compared = compare_pairs(engine, L, R, candidates.pairs, names)
    lap("compare")
    tf_names = [c["name"] for c in settings["comparisons"] if c["term_frequency"]]
    from matchers.comparisons import COMPARISONS

    tf_tables = {n: term_frequencies(stacked, COMPARISONS[n].tf_column) for n in tf_names}
    if params is None and L.height * R.height < settings["training"]["min_pairs_to_train"]:
        # Too few record pairs to learn m and u: start from the shipped parameters (trained on a
        # generated population, matchers/default_params.json) and estimate only the prior.
        params = Parameters.load(DEFAULT_PARAMS)
        params.comparisons = [n for n in names if n in params.m]
        params.term_frequency = [n for n in params.term_frequency if n in params.comparisons]
        _fit_prior(params, compared, settings, tf_tables, L.height, R.height)
        lap("train_prior_only")
    elif params is None:
        params = train(L, R, compared, settings, names, tf_tables)
        lap("train")
    scored = add_weights(compared, params, tf_tables)
    lap("score")
    th = settings["thresholds"]
    decided = decide(scored, th["match"], th["review"], one_to_one)
    # The explanation depends only on the levels and term-frequency adjustments: build each distinct
    # one once (far fewer than the pairs) and join it back.
    expl_cols = [c for c in decided.columns if c.startswith(("gamma_", "w_", "tf_"))]
    table = decided.select(expl_cols).unique().with_columns(explanation_expr(params).alias("explanation"))
    out = decided.join(table, on=expl_cols, how="left", maintain_order="left", nulls_equal=True)
    out = out.select(
        L["id"].gather(out["l"]).alias("left_id"),
        R["id"].gather(out["r"]).alias("right_id"),
        pl.col("match_weight").round(4),
        pl.col("match_probability").round(6),
        "decision",
        "explanation",
    ).sort("left_id", "right_id")
    lap("decide")
    result = LinkResult(
        n_left=L.height,
        n_right=R.height,
        rule_counts=candidates.rule_counts,
        candidates=candidates.pairs.height,
        pairs=out.height,
        matches=int((out["decision"] == "match").sum()),
        reviews=int((out["decision"] == "review").sum()),
        seconds=time.perf_counter() - t0,
        timings=timings,
        parameters=params,
        issues=issues,
    )
    return out, result
