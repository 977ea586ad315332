"""Fellegi–Sunter comparison levels per field, computed for a whole frame of candidate pairs at once.

A *comparison* turns the left and right values of one field into a level index (`gamma`):
0 is the strongest agreement, the last level is "else" (disagreement), and -1 is "missing" (either
side null: weight 0, as in Splink's null level). Levels are tested in order, first hit wins.

String similarity is computed once per distinct (left value, right value) pair with
`rapidfuzz.process.cpdist` (C++, all cores), then joined back, so a million candidate pairs that share
common names cost far fewer than a million Jaro-Winkler calls.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import polars as pl
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist

from matchers.names import nickname_equivalent

MISSING = -1


@dataclass(frozen=True)
class Comparison:
    name: str
    levels: tuple[str, ...]  # labels, strongest first, last is "else"
    inputs: tuple[str, ...]  # normalised columns it reads (gathered as <col>_l / <col>_r)
    compute: Callable[[pl.DataFrame], pl.Expr]
    tf_column: str | None = None  # term-frequency adjusted exact level on this column


def jaro_winkler(frame: pl.DataFrame, a: str, b: str) -> pl.Series:
    """Jaro-Winkler similarity of columns a and b (null where either is null), per distinct pair."""
    distinct = frame.select(a, b).drop_nulls().unique()
    if distinct.height == 0:
        return pl.Series("jw", [None] * frame.height, dtype=pl.Float32)
    scores = cpdist(
        distinct[a].to_list(), distinct[b].to_list(), scorer=JaroWinkler.normalized_similarity, workers=-1
    )
    table = distinct.with_columns(pl.Series("jw", np.asarray(scores, dtype=np.float32)))
    return frame.select(a, b).join(table, on=[a, b], how="left", maintain_order="left")["jw"]


def _levels(*conditions: pl.Expr, missing: pl.Expr) -> pl.Expr:
    """gamma from ordered conditions: first true → its index; none → len(conditions) (else)."""
    expr = pl.when(missing).then(pl.lit(MISSING, pl.Int8))
    for i, cond in enumerate(conditions):
        expr = expr.when(cond).then(pl.lit(i, pl.Int8))
    return expr.otherwise(pl.lit(len(conditions), pl.Int8))


def _missing(col: str) -> pl.Expr:
    return pl.col(f"{col}_l").is_null() | pl.col(f"{col}_r").is_null()


# --- field comparisons -------------------------------------------------------------------------

def first_name_gamma(g: pl.DataFrame) -> pl.Expr:
    l, r = pl.col("fn_key_l"), pl.col("fn_key_r")
    swapped = (l == pl.col("ln_key_r")) & (pl.col("ln_key_l") == r)
    initial = (l.str.len_chars() == 1) | (r.str.len_chars() == 1)
    return _levels(
        l == r,
        swapped,
        pl.col("_fn_nick"),
        pl.col("_fn_jw") >= 0.92,
        pl.col("_fn_jw") >= 0.85,
        initial & (l.str.slice(0, 1) == r.str.slice(0, 1)),
        missing=_missing("fn_key"),
    )


def last_name_gamma(g: pl.DataFrame) -> pl.Expr:
    l, r = pl.col("ln_key_l"), pl.col("ln_key_r")
    swapped = (l == pl.col("fn_key_r")) & (pl.col("fn_key_l") == r)
    part = pl.col("ln_parts_l").list.set_intersection(pl.col("ln_parts_r")).list.len() > 0
    return _levels(
        l == r,
        swapped,
        part,
        pl.col("_ln_jw") >= 0.92,
        pl.col("_ln_jw") >= 0.85,
        missing=_missing("ln_key"),
    )


def middle_name_gamma(g: pl.DataFrame) -> pl.Expr:
    l, r = pl.col("mn_l"), pl.col("mn_r")
    return _levels(l == r, l.str.slice(0, 1) == r.str.slice(0, 1), missing=_missing("mn"))


def _digit(x: pl.Expr, i: int) -> pl.Expr:
    """i-th decimal digit from the right of an integer column."""
    return (x // (10 ** i)) % 10


def hamming_expr(a: pl.Expr, b: pl.Expr, width: int) -> pl.Expr:
    """Number of differing digits of two fixed-width integers (SSN, YYYYMMDD), computed numerically."""
    return pl.sum_horizontal([(_digit(a, i) != _digit(b, i)).cast(pl.Int8) for i in range(width)])


def adjacent_transposition_expr(a: pl.Expr, b: pl.Expr, width: int) -> pl.Expr:
    """True when b is a with exactly two adjacent (different) digits swapped."""
    swaps = [
        (_digit(a, i) == _digit(b, i + 1)) & (_digit(a, i + 1) == _digit(b, i)) & (_digit(a, i) != _digit(a, i + 1))
        for i in range(width - 1)
    ]
    return (hamming_expr(a, b, width) == 2) & pl.any_horizontal(swaps)


def ssn_gamma(g: pl.DataFrame) -> pl.Expr:
    l, r = pl.col("ssn_int_l"), pl.col("ssn_int_r")
    diff = hamming_expr(l, r, 9)
    return _levels(
        l == r,
        diff == 1,
        (diff == 2) & adjacent_transposition_expr(l, r, 9),
        missing=_missing("ssn_int"),
    )


def dob_gamma(g: pl.DataFrame) -> pl.Expr:
    l, r = pl.col("dob_int_l"), pl.col("dob_int_r")
    ly, lm, ld = l // 10000, (l // 100) % 100, l % 100
    ry, rm, rd = r // 10000, (r // 100) % 100, r % 100
    return _levels(
        l == r,
        (ld == rm) & (lm == rd) & (ly == ry),
        hamming_expr(l, r, 8) == 1,
        ((ly - ry).abs() == 1) & (lm == rm) & (ld == rd),
        (ly == ry) & (lm == rm),
        missing=_missing("dob_int"),
    )


def sex_gamma(g: pl.DataFrame) -> pl.Expr:
    return _levels(pl.col("sex1_l") == pl.col("sex1_r"), missing=_missing("sex1"))


def zip_gamma(g: pl.DataFrame) -> pl.Expr:
    return _levels(pl.col("zip5_l") == pl.col("zip5_r"), pl.col("zip3_l") == pl.col("zip3_r"), missing=_missing("zip5"))


def city_gamma(g: pl.DataFrame) -> pl.Expr:
    return _levels(pl.col("city_n_l") == pl.col("city_n_r"), pl.col("_city_jw") >= 0.9, missing=_missing("city_n"))


def street_gamma(g: pl.DataFrame) -> pl.Expr:
    same_no = pl.col("street_no_l") == pl.col("street_no_r")
    return _levels(
        pl.col("street_n_l") == pl.col("street_n_r"),
        pl.col("_street_jw") >= 0.9,
        same_no & (pl.col("_street_jw") >= 0.7),
        missing=_missing("street_n"),
    )


def address_gamma(g: pl.DataFrame) -> pl.Expr:
    """One comparison for the whole address: a move changes street, city and ZIP together, so scoring
    them as three independent fields would count one fact (the person moved) three times."""
    exact = pl.col("street_n_l") == pl.col("street_n_r")
    same_no = (pl.col("street_no_l") == pl.col("street_no_r")).fill_null(False)
    fuzzy = exact | ((pl.col("_street_jw") >= 0.9) & same_no)
    zip5 = pl.col("zip5_l") == pl.col("zip5_r")
    city = (pl.col("city_n_l") == pl.col("city_n_r")) | (pl.col("_city_jw") >= 0.9)
    zip3 = pl.col("zip3_l") == pl.col("zip3_r")
    exact, fuzzy, zip5, city, zip3 = (c.fill_null(False) for c in (exact, fuzzy, zip5, city, zip3))
    missing = (
        (pl.col("street_n_l").is_null() & pl.col("zip5_l").is_null() & pl.col("city_n_l").is_null())
        | (pl.col("street_n_r").is_null() & pl.col("zip5_r").is_null() & pl.col("city_n_r").is_null())
    )
    return _levels(
        exact & zip5 & city,
        fuzzy & zip5 & city,
        exact & (zip5 | city),
        fuzzy & (zip5 | city),
        zip5 & city,
        fuzzy,
        zip5,
        city,
        zip3,
        missing=missing,
    )


COMPARISONS: dict[str, Comparison] = {
    c.name: c
    for c in (
        Comparison("first_name", ("exact", "swapped", "nickname", "jw>=0.92", "jw>=0.85", "initial", "else"),
                   ("fn_key", "ln_key"), first_name_gamma, tf_column="fn_key"),
        Comparison("last_name", ("exact", "swapped", "part", "jw>=0.92", "jw>=0.85", "else"),
                   ("ln_key", "fn_key", "ln_parts"), last_name_gamma, tf_column="ln_key"),
        Comparison("middle_name", ("exact", "initial", "else"), ("mn",), middle_name_gamma),
        Comparison("dob", ("exact", "day_month_swap", "one_digit", "year_1", "year_month", "else"),
                   ("dob_int",), dob_gamma),
        Comparison("ssn", ("exact", "one_digit", "transposition", "else"), ("ssn_int",), ssn_gamma),
        Comparison("sex", ("exact", "else"), ("sex1",), sex_gamma),
        Comparison("zip", ("exact", "zip3", "else"), ("zip5", "zip3"), zip_gamma),
        Comparison("city", ("exact", "jw>=0.9", "else"), ("city_n",), city_gamma),
        Comparison("street", ("exact", "jw>=0.9", "number_jw>=0.7", "else"), ("street_n", "street_no"), street_gamma),
        Comparison("address", ("street_zip_city", "street~_zip_city", "street_zip|city", "street~_zip|city",
                               "zip_city", "street~", "zip", "city", "zip3", "else"),
                   ("street_n", "street_no", "zip5", "zip3", "city_n"), address_gamma),
    )
}

# Helper columns (similarities) each comparison needs, computed per distinct pair before gamma.
_HELPERS = {
    "first_name": (("_fn_jw", "fn_key"),),
    "last_name": (("_ln_jw", "ln_key"),),
    "city": (("_city_jw", "city_n"),),
    "street": (("_street_jw", "street_n"),),
    "address": (("_street_jw", "street_n"), ("_city_jw", "city_n")),
}


def gather_pairs(left: pl.DataFrame, right: pl.DataFrame, pairs: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Frame with `<col>_l` / `<col>_r` for every pair (rows by position `l` / `r`)."""
    lcols = left.select(columns)[pairs["l"]].rename({c: f"{c}_l" for c in columns})
    rcols = right.select(columns)[pairs["r"]].rename({c: f"{c}_r" for c in columns})
    return pl.concat([pairs, lcols, rcols], how="horizontal")


def compare(
    left: pl.DataFrame, right: pl.DataFrame, pairs: pl.DataFrame, names: list[str]
) -> pl.DataFrame:
    """`pairs` (l, r, …) plus one Int8 column `gamma_<name>` per comparison (and the tf keys)."""
    needed = sorted({col for n in names for col in COMPARISONS[n].inputs if col in left.columns})
    g = gather_pairs(left, right, pairs, needed)
    for n in names:
        for helper, col in _HELPERS.get(n, ()):
            if f"{col}_l" in g.columns and helper not in g.columns:
                g = g.with_columns(jaro_winkler(g, f"{col}_l", f"{col}_r").alias(helper))
        if n == "first_name":
            g = g.with_columns(nickname_equivalent(g, "fn_key_l", "fn_key_r").alias("_fn_nick"))
    gammas = [COMPARISONS[n].compute(g).alias(f"gamma_{n}") for n in names]
    tf_cols = [
        pl.col(f"{COMPARISONS[n].tf_column}_{side}")
        for n in names if COMPARISONS[n].tf_column for side in ("l", "r")
    ]
    return g.select(*pairs.columns, *tf_cols, *gammas)
