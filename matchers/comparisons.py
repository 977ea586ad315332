"""Fellegi–Sunter comparison levels per field, computed for a whole frame of candidate pairs at once.

A *comparison* turns the left and right values of one field into a level index (`gamma`):
0 is the strongest agreement, the last level is "else" (disagreement), and -1 is "missing" (either
side null: weight 0, as in Splink's null level). Levels are tested in order, first hit wins.

String similarity is computed once per distinct (left value, right value) pair with
`rapidfuzz.process.cpdist` (C++, all cores), then joined back, so a million candidate pairs that share
common names cost far fewer than a million Jaro-Winkler calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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
    stratum: str | None = None  # key column whose agreement concentrates the rare levels (u estimation)
    # Levels whose weight is declared, not learned: where fields are not independent given a non-match
    # (Fellegi-Sunter's assumption), the learned log2(m/u) would count evidence that is not there.
    fixed_weights: dict[str, float] = field(default_factory=dict)


def per_distinct_pair(
    frame: pl.DataFrame, a: str, b: str, fn: Callable[[pl.DataFrame], pl.Series], name: str
) -> pl.Series:
    """`fn` evaluated once per distinct non-null (a, b) value pair of `frame`, broadcast back to every row.

    Distinct pairs are found and joined back on 64-bit hashes of the two strings (integer hashing and
    joins, no string sorting or string-keyed join), so a million candidate pairs that share common
    names cost one call per distinct pair. Rows where either side is null get null."""
    keys = frame.select(pl.col(a).hash(1).alias("_ha"), pl.col(b).hash(2).alias("_hb"), a, b)
    distinct = keys.drop_nulls().unique(["_ha", "_hb"])
    if distinct.height == 0:
        return pl.Series(name, [None] * frame.height, dtype=pl.Float32)
    table = distinct.select("_ha", "_hb", fn(distinct).alias(name))
    return keys.select("_ha", "_hb").join(table, on=["_ha", "_hb"], how="left", maintain_order="left")[name]


JW_CUTOFF = 0.7  # lowest Jaro-Winkler threshold of any level: below it rapidfuzz may stop early and return 0


def jaro_winkler(
    frame: pl.DataFrame, a: str, b: str, distinct: bool = True, where: np.ndarray | None = None
) -> pl.Series:
    """Jaro-Winkler similarity of columns a and b (null where either is null), per distinct pair.

    `where`: boolean mask of the rows that need a similarity (others get null, which no level accepts):
    equal values are settled by the exact level first, so only differing ones are scored.
    `distinct=False` scores every row directly: cheaper for random pairs, which are almost all distinct."""

    def score(d: pl.DataFrame) -> pl.Series:
        sims = cpdist(
            d[a].to_list(),
            d[b].to_list(),
            scorer=JaroWinkler.normalized_similarity,
            workers=-1,
            score_cutoff=JW_CUTOFF,
        )
        return pl.Series(np.asarray(sims, dtype=np.float32))

    if where is not None:
        rows = np.flatnonzero(where)
        out = pl.Series("jw", [None] * frame.height, dtype=pl.Float32)
        if len(rows):
            sub = jaro_winkler(frame.select(a, b)[rows], a, b, distinct)
            out = out.scatter(rows, sub)
        return out
    if distinct:
        return per_distinct_pair(frame, a, b, score, "jw")
    missing = (frame[a].is_null() | frame[b].is_null()).to_numpy()
    sims = cpdist(
        frame[a].fill_null("").to_list(),
        frame[b].fill_null("").to_list(),
        scorer=JaroWinkler.normalized_similarity,
        workers=-1,
        score_cutoff=JW_CUTOFF,
    )
    return pl.Series("jw", np.asarray(sims, dtype=np.float32)).scatter(np.flatnonzero(missing), None)


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
    left, right = pl.col("fn_key_l"), pl.col("fn_key_r")
    swapped = (left == pl.col("ln_key_r")) & (pl.col("ln_key_l") == right)
    initial = (left.str.len_chars() == 1) | (right.str.len_chars() == 1)
    return _levels(
        left == right,
        swapped,
        pl.col("_fn_nick"),
        pl.col("_fn_jw") >= 0.92,
        pl.col("_fn_jw") >= 0.85,
        initial & (left.str.slice(0, 1) == right.str.slice(0, 1)),
        missing=_missing("fn_key"),
    )


def last_name_gamma(g: pl.DataFrame) -> pl.Expr:
    left, right = pl.col("ln_key_l"), pl.col("ln_key_r")
    swapped = (left == pl.col("fn_key_r")) & (pl.col("fn_key_l") == right)
    part = pl.col("ln_parts_l").list.set_intersection(pl.col("ln_parts_r")).list.len() > 0
    # One name moved to the other field and the other name changed or mistyped (HARRISON CAPURSO / CAPURSO RUBY).
    cross = (left == pl.col("fn_key_r")) | (pl.col("fn_key_l") == right)
    return _levels(
        left == right,
        swapped,
        part,
        cross.fill_null(False),
        pl.col("_ln_jw") >= 0.92,
        pl.col("_ln_jw") >= 0.85,
        missing=_missing("ln_key"),
    )


def middle_name_gamma(g: pl.DataFrame) -> pl.Expr:
    left, right = pl.col("mn_l"), pl.col("mn_r")
    return _levels(left == right, left.str.slice(0, 1) == right.str.slice(0, 1), missing=_missing("mn"))


def _digit(x: pl.Expr, i: int) -> pl.Expr:
    """i-th decimal digit from the right of an integer column."""
    return (x // (10**i)) % 10


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


def first_name_differs(g: pl.DataFrame) -> pl.Expr:
    """Both first names known and clearly different: no level of the first-name comparison but `else`."""
    return (first_name_gamma(g) == len(COMPARISONS["first_name"].levels) - 1).fill_null(False)


def ssn_gamma(g: pl.DataFrame) -> pl.Expr:
    """An SSN is shared inside households (a parent's on a child's W-4, a sibling's on a claim): with a
    clearly different first name, an equal SSN is its own level with a declared weight (3 bits) below what
    the first name's disagreement costs (4-6 bits), so it never outweighs it (DESIGN §8). An equal SSN with
    another strong agreement (DOB, address) can still carry a pair whose first name was mangled."""
    left, right = pl.col("ssn_int_l"), pl.col("ssn_int_r")
    diff = hamming_expr(left, right, 9)
    return _levels(
        (left == right) & ~first_name_differs(g),
        left == right,
        diff == 1,
        (diff == 2) & adjacent_transposition_expr(left, right, 9),
        missing=_missing("ssn_int"),
    )


def dob_gamma(g: pl.DataFrame) -> pl.Expr:
    left, right = pl.col("dob_int_l"), pl.col("dob_int_r")
    ly, lm, ld = left // 10000, (left // 100) % 100, left % 100
    ry, rm, rd = right // 10000, (right // 100) % 100, right % 100
    return _levels(
        left == right,
        (ld == rm) & (lm == rd) & (ly == ry),
        hamming_expr(left, right, 8) == 1,
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
    them as three independent fields would count one fact (the person moved) three times. Each part may
    carry a typo (street Jaro-Winkler ≥ 0.9 with the same house number, city Jaro-Winkler ≥ 0.9, ZIP one
    digit wrong or two adjacent digits swapped) and still count as the same address."""
    exact = pl.col("street_n_l") == pl.col("street_n_r")
    same_no = (pl.col("street_no_l") == pl.col("street_no_r")).fill_null(False)
    fuzzy = exact | ((pl.col("_street_jw") >= 0.9) & same_no)
    zip5 = pl.col("zip5_l") == pl.col("zip5_r")
    zl, zr = pl.col("zip5_l").cast(pl.Int32, strict=False), pl.col("zip5_r").cast(pl.Int32, strict=False)
    zip_typo = zip5 | (hamming_expr(zl, zr, 5) == 1) | adjacent_transposition_expr(zl, zr, 5)
    city = (pl.col("city_n_l") == pl.col("city_n_r")) | (pl.col("_city_jw") >= 0.9)
    zip3 = pl.col("zip3_l") == pl.col("zip3_r")
    exact, fuzzy, zip5, zip_typo, city, zip3 = (c.fill_null(False) for c in (exact, fuzzy, zip5, zip_typo, city, zip3))
    missing = (pl.col("street_n_l").is_null() & pl.col("zip5_l").is_null() & pl.col("city_n_l").is_null()) | (
        pl.col("street_n_r").is_null() & pl.col("zip5_r").is_null() & pl.col("city_n_r").is_null()
    )
    return _levels(
        exact & zip5 & city,
        fuzzy & zip_typo & city,
        fuzzy & (zip_typo | city),
        zip5 & city,
        fuzzy,
        zip_typo & city,
        zip5,
        city,
        zip3,
        missing=missing,
    )


COMPARISONS: dict[str, Comparison] = {
    c.name: c
    for c in (
        Comparison(
            "first_name",
            ("exact", "swapped", "nickname", "jw>=0.92", "jw>=0.85", "initial", "else"),
            ("fn_key", "ln_key"),
            first_name_gamma,
            tf_column="fn_key",
            stratum="fn_key",
        ),
        Comparison(
            "last_name",
            ("exact", "swapped", "part", "cross", "jw>=0.92", "jw>=0.85", "else"),
            ("ln_key", "fn_key", "ln_parts"),
            last_name_gamma,
            tf_column="ln_key",
            stratum="ln_key",
        ),
        Comparison("middle_name", ("exact", "initial", "else"), ("mn",), middle_name_gamma),
        Comparison(
            "dob",
            ("exact", "day_month_swap", "one_digit", "year_1", "year_month", "else"),
            ("dob_int",),
            dob_gamma,
            stratum="birth_year",
        ),
        Comparison(
            "ssn",
            ("exact", "exact_first_name_differs", "one_digit", "transposition", "else"),
            ("ssn_int", "fn_key", "ln_key"),
            ssn_gamma,
            stratum="ssn_int",
            fixed_weights={"exact_first_name_differs": 3.0},
        ),
        Comparison("sex", ("exact", "else"), ("sex1",), sex_gamma),
        Comparison("zip", ("exact", "zip3", "else"), ("zip5", "zip3"), zip_gamma, stratum="zip3"),
        Comparison("city", ("exact", "jw>=0.9", "else"), ("city_n",), city_gamma, stratum="city_n"),
        Comparison(
            "street",
            ("exact", "jw>=0.9", "number_jw>=0.7", "else"),
            ("street_n", "street_no"),
            street_gamma,
            stratum="street_no",
        ),
        Comparison(
            "address",
            (
                "street_zip_city",
                "street~_zip~_city~",
                "street~_zip~|city~",
                "zip_city~",
                "street~",
                "zip~_city~",
                "zip",
                "city~",
                "zip3",
                "else",
            ),
            ("street_n", "street_no", "zip5", "zip3", "city_n"),
            address_gamma,
            stratum="zip5",
        ),
    )
}

# Helper columns (similarities) each comparison needs, computed per distinct pair before gamma.
_HELPERS = {
    "first_name": (("_fn_jw", "fn_key"),),
    "ssn": (("_fn_jw", "fn_key"),),
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
    left: pl.DataFrame, right: pl.DataFrame, pairs: pl.DataFrame, names: list[str], distinct_pairs: bool = True
) -> pl.DataFrame:
    """`pairs` (l, r, …) plus one Int8 column `gamma_<name>` per comparison (and the tf keys).

    `distinct_pairs=False` skips the per-distinct-value-pair deduplication of string similarities (for
    uniformly random pairs, which rarely repeat a value pair)."""
    needed = sorted({col for n in names for col in COMPARISONS[n].inputs if col in left.columns})
    g = gather_pairs(left, right, pairs, needed)
    for n in names:
        for helper, col in _HELPERS.get(n, ()):
            if f"{col}_l" in g.columns and helper not in g.columns:
                g = g.with_columns(
                    jaro_winkler(g, f"{col}_l", f"{col}_r", distinct_pairs, _needs_similarity(g, col, names)).alias(
                        helper
                    )
                )
        if n in ("first_name", "ssn") and "_fn_nick" not in g.columns:
            g = g.with_columns(nickname_equivalent(g, "fn_key_l", "fn_key_r").alias("_fn_nick"))
    gammas = [COMPARISONS[n].compute(g).alias(f"gamma_{n}") for n in names]
    tf_cols = [
        pl.col(f"{COMPARISONS[n].tf_column}_{side}") for n in names if COMPARISONS[n].tf_column for side in ("l", "r")
    ]
    # Lazy: common subexpressions of the level conditions (the address parts) are computed once.
    return g.lazy().select(*pairs.columns, *tf_cols, *gammas).collect()


def _needs_similarity(g: pl.DataFrame, col: str, names: list[str]) -> np.ndarray:
    """Rows whose similarity on `col` can change a level: values differ; for the street under `address`
    alone, also the house numbers agree (its only fuzzy use is 'same number, similar street')."""
    need = (g[f"{col}_l"] != g[f"{col}_r"]).fill_null(False)
    if col == "street_n" and "street" not in names and "street_no_l" in g.columns:
        need = need & (g["street_no_l"] == g["street_no_r"]).fill_null(False)
    return need.to_numpy()
