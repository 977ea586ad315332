"""What a person record and a master (or reference) record say about being one person: the relation of each
field, and the acceptance rules of SSN verification and identification built on them (DESIGN §8).

Every function takes a frame of candidate pairs (person columns, master columns suffixed `_m`) and works on
the whole frame at once; string similarities are computed once per distinct pair of values.

Relations, per pair:

- `first_rel` — `agree`: exact, nickname, Jaro-Winkler >= 0.9, an initial that fits, or first and last name
  swapped; `similar`: a typo — Jaro-Winkler >= 0.85 or one edit apart (ERIC / SRIC, KMI / KIM, JPY / JOY) — unless
  both are known first names (JOHN / JOAN, MARK / MARY are two people); `blank`: either side unknown (a
  placeholder such as UNKNOWN is blank once `matchers.names` says so); `differ`: anything else, a *clearly
  different* first name.
- `last_rel` — `agree`: exact, Jaro-Winkler >= 0.9, a shared surname part, or an additional (birth / married)
  surname; `similar`: Jaro-Winkler >= 0.8 (KINGSLEY / KINGSEY); `blank`; `differ`.
- `mid_rel` — middle initials: `agree`, `blank`, `differ`.
- `dob_level` — `E` exact, `T` within tolerance (±1 year, day/month swap), `D` one digit wrong, `X` disagrees,
  `U` unknown on either side.

An SSN is shared inside households (a parent's number on a child's W-4): an agreeing SSN is never enough when
the first name is clearly different (`exact_ok`), so the surname alone never verifies it.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from rapidfuzz.distance import OSA
from rapidfuzz.process import cpdist

from matchers.comparisons import hamming_expr, jaro_winkler, per_distinct_pair
from matchers.names import nickname_equivalent, nickname_groups

FIRST_SIMILAR = 0.85  # the linker's lowest first-name similarity level (matchers.comparisons)
FIRST_AGREE = 0.9
LAST_AGREE = 0.9
LAST_SIMILAR = 0.8


def _dob_int(col: str) -> pl.Expr:
    d = pl.col(col)
    return d.dt.year().cast(pl.Int32) * 10000 + d.dt.month().cast(pl.Int32) * 100 + d.dt.day().cast(pl.Int32)


def one_edit(frame: pl.DataFrame, a: str, b: str) -> pl.Series:
    """True where the two values differ by one substitution, insertion, deletion or adjacent transposition (the
    typos Jaro-Winkler scores low in short names: KMI / KIM, JPY / JOY), per distinct pair of values."""

    def score(d: pl.DataFrame) -> pl.Series:
        return pl.Series(np.asarray(cpdist(d[a].to_list(), d[b].to_list(), scorer=OSA.distance, workers=-1)) == 1)

    return per_distinct_pair(frame, a, b, score, "one_edit").cast(pl.Boolean).fill_null(False)


def mid_rel_expr(frame: pl.DataFrame) -> pl.Expr:
    """`mid_rel` of a pair frame: middle initials agree, are blank on either side, or differ."""
    if "mn" not in frame.columns or "mn_m" not in frame.columns:
        return pl.lit("blank")
    mi, mim = pl.col("mn").str.slice(0, 1), pl.col("mn_m").str.slice(0, 1)
    mid_rel = pl.when(mi.is_null() | mim.is_null()).then(pl.lit("blank")).when(mi == mim).then(pl.lit("agree"))
    return mid_rel.otherwise(pl.lit("differ"))


def dob_level_expr() -> pl.Expr:
    """`dob_level` of a pair frame (dob_date, dob_date_m): E exact, T in tolerance, D one digit, X, U unknown."""
    dl, dm = pl.col("dob_date"), pl.col("dob_date_m")
    tolerance = (
        ((dl.dt.year() - dm.dt.year()).abs() == 1) & (dl.dt.month() == dm.dt.month()) & (dl.dt.day() == dm.dt.day())
    ) | ((dl.dt.year() == dm.dt.year()) & (dl.dt.month() == dm.dt.day()) & (dl.dt.day() == dm.dt.month()))
    one_digit = hamming_expr(_dob_int("dob_date"), _dob_int("dob_date_m"), 8) == 1
    return (
        pl.when(dl.is_null() | dm.is_null())
        .then(pl.lit("U"))
        .when(dl == dm)
        .then(pl.lit("E"))
        .when(tolerance)
        .then(pl.lit("T"))
        .when(one_digit)
        .then(pl.lit("D"))
        .otherwise(pl.lit("X"))
    )


def agreement(frame: pl.DataFrame) -> pl.DataFrame:
    """Add first_rel, last_rel, mid_rel, dob_level, sex_ok, swapped, first_strong (agree, not by an initial
    alone), via_additional, name_ok (first agrees and last agrees, or swapped names) and name_probable (SSA's
    probable name match: the surname agrees, or first initial + first four letters of the surname) to a
    person × master frame (fn_key, ln_key, ln_parts, dob_date, optional mn, sex1, extra_ln; the same `_m`)."""
    fn, ln, fm, lm = pl.col("fn_key"), pl.col("ln_key"), pl.col("fn_key_m"), pl.col("ln_key_m")
    out = frame.with_columns(
        jaro_winkler(frame, "fn_key", "fn_key_m").alias("_fjw"),
        jaro_winkler(frame, "ln_key", "ln_key_m").alias("_ljw"),
        nickname_equivalent(frame, "fn_key", "fn_key_m").alias("_nick"),
        one_edit(frame, "fn_key", "fn_key_m").alias("_fedit"),
    )
    initial = ((fn.str.len_chars() == 1) | (fm.str.len_chars() == 1)) & (fn.str.slice(0, 1) == fm.str.slice(0, 1))
    swapped = ((fn == lm) & (ln == fm)).fill_null(False)
    strong = (pl.col("_nick") | (pl.col("_fjw") >= FIRST_AGREE)).fill_null(False) | swapped
    first_ok = strong | initial.fill_null(False)
    last_ok = (
        (ln == lm)
        | (pl.col("_ljw") >= LAST_AGREE)
        | (pl.col("ln_parts").list.set_intersection(pl.col("ln_parts_m")).list.len() > 0)
    ).fill_null(False)
    if "extra_ln" in frame.columns:
        via_additional = pl.col("extra_ln").list.contains(lm).fill_null(False) & ~last_ok
    else:
        via_additional = pl.lit(False)
    known = nickname_groups()["name"].unique().implode()
    two_names = fn.is_in(known) & fm.is_in(known)  # JOHN / JOAN, MARK / MARY: two people, not a typo
    first_rel = (
        pl.when(fn.is_null() | fm.is_null())
        .then(pl.lit("blank"))
        .when(first_ok)
        .then(pl.lit("agree"))
        .when(((pl.col("_fjw") >= FIRST_SIMILAR) | pl.col("_fedit")) & ~two_names)
        .then(pl.lit("similar"))
        .otherwise(pl.lit("differ"))
    )
    last_rel = (
        pl.when(last_ok | via_additional | swapped)
        .then(pl.lit("agree"))
        .when(ln.is_null() | lm.is_null())
        .then(pl.lit("blank"))
        .when(pl.col("_ljw") >= LAST_SIMILAR)
        .then(pl.lit("similar"))
        .otherwise(pl.lit("differ"))
    )
    sex_ok = (
        pl.col("sex1").is_null() | pl.col("sex1_m").is_null() | (pl.col("sex1") == pl.col("sex1_m"))
        if "sex1" in frame.columns and "sex1_m" in frame.columns
        else pl.lit(True)
    )
    return out.with_columns(
        first_rel=first_rel,
        last_rel=last_rel,
        mid_rel=mid_rel_expr(frame),
        swapped=swapped,
        first_strong=strong & (fn.str.len_chars() > 1) & (fm.str.len_chars() > 1),
        sex_ok=sex_ok.fill_null(True),
        name_ok=(first_ok & (last_ok | via_additional)) | swapped,
        name_probable=(
            last_ok | ((fn.str.slice(0, 1) == fm.str.slice(0, 1)) & (ln.str.slice(0, 4) == lm.str.slice(0, 4)))
        ).fill_null(False),
        via_additional=via_additional,
        dob_level=dob_level_expr(),
    ).drop("_fjw", "_ljw", "_nick", "_fedit")


def exact_ok(frame: pl.DataFrame | None = None) -> pl.Expr:
    """Acceptance of a candidate that holds the very SSN (or another SSN of its holder), the DOB not disagreeing:

    - first name agrees and surname agrees or is similar (one typo), or the names are swapped;
    - first name agrees, not by an initial alone, and the surname is blank or changed (marriage, a placeholder);
    - first name similar (a typo), surname and middle initial agreeing;
    - first name blank (or a placeholder), surname and middle initial agreeing, sex not disagreeing (the surname
      alone would verify a relative's SSN);
    - DOB exact or in tolerance, first name agreeing (an initial is enough), sex not disagreeing;
    - DOB exact, surname agreeing, the first name similar or blank, sex not disagreeing.

    A clearly different first name is never accepted, whatever else agrees: the SSN and surname are what a
    relative's record shares (DESIGN §8)."""
    first, last, mid = pl.col("first_rel"), pl.col("last_rel"), pl.col("mid_rel")
    dob_ok = pl.col("dob_level") != "X"
    name = (
        ((first == "agree") & last.is_in(["agree", "similar"]))
        | pl.col("swapped")
        | (pl.col("first_strong") & last.is_in(["blank", "differ"]))
        | ((first == "similar") & (last == "agree") & (mid == "agree"))
        | ((first == "blank") & (last == "agree") & (mid == "agree") & pl.col("sex_ok"))
    )
    dob_backed = pl.col("dob_level").is_in(["E", "T"]) & (first == "agree") & pl.col("sex_ok")
    typo_dob = (pl.col("dob_level") == "E") & first.is_in(["similar", "blank"]) & (last == "agree") & pl.col("sex_ok")
    return ((dob_ok & name) | dob_backed | typo_dob).fill_null(False)


def full_name_strong() -> pl.Expr:
    """First name agrees (not by an initial alone) and the surname agrees (or the names are swapped)."""
    return (pl.col("first_strong") & (pl.col("last_rel") == "agree")) | pl.col("swapped")


def correction_ok() -> pl.Expr:
    """Acceptance of a candidate one SSN digit (or two adjacent digits swapped) away: the name agrees and a
    known DOB agrees within tolerance, or — the DOB unknown on either side (a W-4 without one) — the full name
    agrees strongly. The caller still requires exactly one such person."""
    dob = pl.col("dob_level")
    return ((pl.col("name_ok") & dob.is_in(["E", "T"])) | ((dob == "U") & full_name_strong())).fill_null(False)


# Identification without a usable SSN (name + DOB): tiers, strongest first. A person is identified by the
# strongest tier any candidate reaches, and only when exactly one master person reaches it.
SEARCH_TIERS = ("name_dob", "tolerant", "one_name_blank")


def search_tier() -> pl.Expr:
    """1 `name_dob`: name agrees, DOB exact or in tolerance (±1 year, day/month swap).
    2 `tolerant`: full name agrees strongly with a DOB one digit wrong; or first name agrees strongly, surname
      similar (one typo) and DOB exact; or first name similar or one typo away, surname agreeing, DOB exact,
      sex and middle initial not disagreeing.
    3 `one_name_blank`: one name blank on either side, the other agreeing exactly or strongly, DOB exact, sex and
      middle initial not disagreeing.
    null: not a candidate."""
    first, last, dob, mid = pl.col("first_rel"), pl.col("last_rel"), pl.col("dob_level"), pl.col("mid_rel")
    sex_mid = pl.col("sex_ok") & (mid != "differ")
    tolerant = (
        (full_name_strong() & (dob == "D"))
        | (pl.col("first_strong") & (last == "similar") & (dob == "E"))
        | ((first == "similar") & (last == "agree") & (dob == "E") & sex_mid)
    )
    blank = (
        (((first == "blank") & (last == "agree")) | (pl.col("first_strong") & (last == "blank")))
        & (dob == "E")
        & sex_mid
    )
    return (
        pl.when(pl.col("name_ok") & dob.is_in(["E", "T"]))
        .then(pl.lit(1, pl.Int8))
        .when(tolerant.fill_null(False))
        .then(pl.lit(2, pl.Int8))
        .when(blank.fill_null(False))
        .then(pl.lit(3, pl.Int8))
        .otherwise(pl.lit(None, pl.Int8))
    )
