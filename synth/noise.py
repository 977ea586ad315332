"""Vectorised corruption of identities: how a source's record differs from the true person.

`apply_noise(frame, profile, gen, ssn_pool)` takes true identity columns and returns the reported
columns (`ssn, first_name, middle_name, last_name, dob`) plus `corruptions` (list of tags), all by
polars expressions over random columns drawn once per call — no per-record Python.

Tags: ssn_one_digit, ssn_transposed, ssn_missing, ssn_other_person, ssn_invalid, ssn_other_issued,
typo_first:<kind>, typo_last:<kind> (kind = substitute | delete | transpose), nickname, swap_names,
birth_surname, middle_missing, middle_initial, dob_swap, dob_year, dob_missing; and, from the kinds
`household_noise` adds (issue 15; rates 0 by default, so default output is unchanged): ssn_relative,
placeholder_first, placeholder_last, last_missing.
A tag is only recorded when the value really changed.
"""

from __future__ import annotations

import numpy as np
import polars as pl

TAGS = "_tags"
# QWERTY neighbours of each letter (keyboard-adjacent substitution).
KEY_NEIGHBOURS = {
    "Q": "WA",
    "W": "QESA",
    "E": "WRDS",
    "R": "ETFD",
    "T": "RYGF",
    "Y": "TUHG",
    "U": "YIJH",
    "I": "UOKJ",
    "O": "IPLK",
    "P": "OL",
    "A": "QWSZ",
    "S": "AWEDXZ",
    "D": "SERFCX",
    "F": "DRTGVC",
    "G": "FTYHBV",
    "H": "GYUJNB",
    "J": "HUIKMN",
    "K": "JIOLM",
    "L": "KOP",
    "Z": "ASX",
    "X": "ZSDC",
    "C": "XDFV",
    "V": "CFGB",
    "B": "VGHN",
    "N": "BHJM",
    "M": "NJK",
}


def _flag(gen: np.random.Generator, n: int, rate: float) -> pl.Series:
    return pl.Series(gen.random(n) < rate)


def _u(gen: np.random.Generator, n: int) -> pl.Series:
    return pl.Series(gen.random(n))


def typo_expr(col: pl.Expr, kind: pl.Expr, u_pos: pl.Expr, u_key: pl.Expr) -> pl.Expr:
    """One typo in `col`: kind 0 substitute a letter by a keyboard neighbour, 1 delete, 2 transpose.
    Values shorter than 3 characters are left alone (a typo must not empty a name)."""
    length = col.str.len_chars()
    pos = (u_pos * (length - 1).clip(lower_bound=1)).floor().cast(pl.Int64)  # 0 .. len-2
    head, ch, nxt = col.str.slice(0, pos), col.str.slice(pos, 1), col.str.slice(pos + 1, 1)
    neighbours = ch.replace_strict(KEY_NEIGHBOURS, default=ch)
    sub = neighbours.str.slice((u_key * neighbours.str.len_chars()).floor().cast(pl.Int64), 1)
    substituted = pl.concat_str([head, sub, col.str.slice(pos + 1)])
    deleted = pl.concat_str([head, col.str.slice(pos + 1)])
    transposed = pl.concat_str([head, nxt, ch, col.str.slice(pos + 2)])
    changed = pl.when(kind == 0).then(substituted).when(kind == 1).then(deleted).otherwise(transposed)
    ok = length >= 3
    return pl.when(ok).then(changed).otherwise(col)


def _ssn_invalid(u: pl.Expr, ssn: pl.Expr) -> pl.Expr:
    """A structurally invalid SSN (area 000 / 666 / 9xx, group 00 or serial 0000), still 9 digits."""
    k = (u * 5).floor().cast(pl.Int64)
    return (
        pl.when(k == 0)
        .then(pl.concat_str([pl.lit("000"), ssn.str.slice(3)]))
        .when(k == 1)
        .then(pl.concat_str([pl.lit("666"), ssn.str.slice(3)]))
        .when(k == 2)
        .then(pl.concat_str([pl.lit("9"), ssn.str.slice(1)]))
        .when(k == 3)
        .then(pl.concat_str([ssn.str.slice(0, 3), pl.lit("00"), ssn.str.slice(5)]))
        .otherwise(pl.concat_str([ssn.str.slice(0, 5), pl.lit("0000")]))
    )


def _tag(name: str, applied: pl.Expr) -> pl.Expr:
    return pl.when(applied).then(pl.lit(name)).otherwise(pl.lit(None, dtype=pl.Utf8))


def apply_noise(frame: pl.DataFrame, profile: dict, gen: np.random.Generator, ssn_pool: pl.Series) -> pl.DataFrame:
    """frame: person_id, ssn, other_ssn, first, middle, last, birth_last, dob (Date), + anything else.
    Returns frame + ssn_rep, first_name, middle_name, last_name, dob_rep (Utf8 CCYYMMDD), corruptions."""
    n = frame.height
    if n == 0:
        return frame.with_columns(
            pl.lit(None, pl.Utf8).alias(c) for c in ("ssn_rep", "first_name", "middle_name", "last_name", "dob_rep")
        ).with_columns(pl.lit([], dtype=pl.List(pl.Utf8)).alias("corruptions"))
    r = {
        k: _u(gen, n)
        for k in (
            "ssn_kind",
            "ssn_pos",
            "ssn_add",
            "ssn_inv",
            "tf_kind",
            "tf_pos",
            "tf_key",
            "tl_kind",
            "tl_pos",
            "tl_key",
            "nick",
            "dob_kind",
            "other",
        )
    }
    p = profile
    f = {
        k: _flag(gen, n, p[k])
        for k in (
            "ssn_other_issued",
            "typo_first",
            "typo_last",
            "nickname",
            "swap_names",
            "middle_missing",
            "middle_initial",
            "dob_swap",
            "dob_year",
            "dob_missing",
            "birth_surname",
        )
    }
    other_idx = gen.integers(0, len(ssn_pool), n) if len(ssn_pool) else np.zeros(n, dtype=np.int64)
    work = frame.with_columns(
        **{f"_r_{k}": v for k, v in r.items()},
        **{f"_f_{k}": v for k, v in f.items()},
        _someone=ssn_pool.gather(other_idx) if len(ssn_pool) else pl.lit(None, pl.Utf8),
    )
    col = pl.col
    # ---- SSN: one error kind at most, chosen by cumulative rates
    cuts = np.cumsum(
        [p["ssn_one_digit"], p["ssn_transposed"], p["ssn_missing"], p["ssn_other_person"], p["ssn_invalid"]]
    )
    u = col("_r_ssn_kind")
    base = (
        pl.when(col("_f_ssn_other_issued") & col("other_ssn").is_not_null())
        .then(col("other_ssn"))
        .otherwise(col("ssn"))
    )
    pos = (col("_r_ssn_pos") * 9).floor().cast(pl.Int64)
    pos8 = (col("_r_ssn_pos") * 8).floor().cast(pl.Int64)
    add = (col("_r_ssn_add") * 9).floor().cast(pl.Int64) + 1
    digit = ((base.str.slice(pos, 1).cast(pl.Int64) + add) % 10).cast(pl.Utf8)
    one_digit = pl.concat_str([base.str.slice(0, pos), digit, base.str.slice(pos + 1)])
    transposed = pl.concat_str(
        [base.str.slice(0, pos8), base.str.slice(pos8 + 1, 1), base.str.slice(pos8, 1), base.str.slice(pos8 + 2)]
    )
    ssn_rep = (
        pl.when(base.is_null())
        .then(pl.lit(None, pl.Utf8))
        .when(u < cuts[0])
        .then(one_digit)
        .when(u < cuts[1])
        .then(transposed)
        .when(u < cuts[2])
        .then(pl.lit(None, pl.Utf8))
        .when(u < cuts[3])
        .then(col("_someone"))
        .when(u < cuts[4])
        .then(_ssn_invalid(col("_r_ssn_inv"), base))
        .otherwise(base)
    )
    work = work.with_columns(ssn_rep.alias("ssn_rep"), base.alias("_ssn_base"))
    ssn_kind = (
        pl.when(u < cuts[0])
        .then(pl.lit("ssn_one_digit"))
        .when(u < cuts[1])
        .then(pl.lit("ssn_transposed"))
        .when(u < cuts[2])
        .then(pl.lit("ssn_missing"))
        .when(u < cuts[3])
        .then(pl.lit("ssn_other_person"))
        .when(u < cuts[4])
        .then(pl.lit("ssn_invalid"))
        .otherwise(pl.lit(None, pl.Utf8))
    )
    ssn_tags = [
        _tag("ssn_other_issued", col("_ssn_base").ne_missing(col("ssn"))),
        pl.when(col("ssn_rep").ne_missing(col("_ssn_base"))).then(ssn_kind).otherwise(pl.lit(None, pl.Utf8)),
    ]
    # ---- names
    first0 = col("first")
    nick = col("_nicks").list.get((col("_r_nick") * col("_nicks").list.len()).floor().cast(pl.Int64), null_on_oob=True)
    from synth.reference import nickname_table

    work = work.join(
        nickname_table().rename({"nicks": "_nicks"}),
        left_on="first",
        right_on="name",
        how="left",
        maintain_order="left",
    )
    first1 = pl.when(col("_f_nickname") & nick.is_not_null()).then(nick).otherwise(first0)
    last1 = pl.when(col("_f_birth_surname")).then(col("birth_last")).otherwise(col("last"))
    first2 = (
        pl.when(col("_f_typo_first"))
        .then(typo_expr(first1, (col("_r_tf_kind") * 3).floor(), col("_r_tf_pos"), col("_r_tf_key")))
        .otherwise(first1)
    )
    last2 = (
        pl.when(col("_f_typo_last"))
        .then(typo_expr(last1, (col("_r_tl_kind") * 3).floor(), col("_r_tl_pos"), col("_r_tl_key")))
        .otherwise(last1)
    )
    work = work.with_columns(
        first1.alias("_first1"), last1.alias("_last1"), first2.alias("_first2"), last2.alias("_last2")
    )
    swap = col("_f_swap_names")
    middle = (
        pl.when(col("_f_middle_missing"))
        .then(pl.lit(None, pl.Utf8))
        .when(col("_f_middle_initial"))
        .then(col("middle").str.slice(0, 1))
        .otherwise(col("middle"))
    )
    kinds = pl.Series(["substitute", "delete", "transpose"])
    work = work.with_columns(
        pl.when(swap).then(col("_last2")).otherwise(col("_first2")).alias("first_name"),
        pl.when(swap).then(col("_first2")).otherwise(col("_last2")).alias("last_name"),
        middle.alias("middle_name"),
        (col("_r_tf_kind") * 3).floor().cast(pl.Int64).alias("_tfk"),
        (col("_r_tl_kind") * 3).floor().cast(pl.Int64).alias("_tlk"),
    )
    name_tags = [
        _tag("nickname", col("_first1") != first0),
        _tag("birth_surname", col("_last1") != col("last")),
        pl.when(col("_first2") != col("_first1")).then(
            pl.concat_str([pl.lit("typo_first:"), col("_tfk").replace_strict([0, 1, 2], kinds)])
        ),
        pl.when(col("_last2") != col("_last1")).then(
            pl.concat_str([pl.lit("typo_last:"), col("_tlk").replace_strict([0, 1, 2], kinds)])
        ),
        _tag("swap_names", swap & (col("_first2") != col("_last2"))),
        _tag("middle_missing", col("middle").is_not_null() & col("middle_name").is_null()),
        _tag("middle_initial", col("middle_name").is_not_null() & (col("middle_name") != col("middle"))),
    ]
    # ---- DOB as CCYYMMDD text
    d = col("dob").dt.strftime("%Y%m%d")
    yy, mm, dd = d.str.slice(0, 4), d.str.slice(4, 2), d.str.slice(6, 2)
    can_swap = (dd.cast(pl.Int64) <= 12) & (dd != mm)
    delta = pl.when(col("_r_dob_kind") < 0.5).then(-1).otherwise(1)
    new_year = (yy.cast(pl.Int64) + delta).cast(pl.Utf8)
    md = pl.when(pl.concat_str([mm, dd]) == "0229").then(pl.lit("0228")).otherwise(pl.concat_str([mm, dd]))
    dob_rep = (
        pl.when(col("dob").is_null() | col("_f_dob_missing"))
        .then(pl.lit(None, pl.Utf8))
        .when(col("_f_dob_swap") & can_swap)
        .then(pl.concat_str([yy, dd, mm]))
        .when(col("_f_dob_year"))
        .then(pl.concat_str([new_year, md]))
        .otherwise(d)
    )
    work = work.with_columns(dob_rep.alias("dob_rep"))
    dob_tags = [
        _tag("dob_missing", col("dob").is_not_null() & col("dob_rep").is_null()),
        _tag("dob_swap", col("_f_dob_swap") & can_swap & ~col("_f_dob_missing")),
        _tag(
            "dob_year",
            col("_f_dob_year") & ~(col("_f_dob_swap") & can_swap) & ~col("_f_dob_missing") & col("dob").is_not_null(),
        ),
    ]
    work = work.with_columns(pl.concat_list(ssn_tags + name_tags + dob_tags).list.drop_nulls().alias("corruptions"))
    work = household_noise(work, profile, gen)
    return work.drop([c for c in work.columns if c.startswith("_") and c not in frame.columns])


HOUSEHOLD_KINDS = ("ssn_relative", "placeholder_first", "placeholder_last", "last_missing")
# Placeholders seen in survey and administrative files where a name is unknown or withheld (the Census Bureau's
# PVS reports this kind of value); the matchers must treat them as a blank name.
PLACEHOLDER_FIRST = ("UNKNOWN", "BABY BOY", "BABY GIRL", "CHILD", "WIFE", "NO NAME", "OLDEST RESPONDENT")
PLACEHOLDER_LAST = ("UNKNOWN", "NO NAME", "NO LAST NAME", "RESPONDENT", "OF THE HOUSE")


def _pick(options: tuple[str, ...], u: pl.Expr) -> pl.Expr:
    index = ((u * len(options)).floor().cast(pl.Int64) % len(options)).cast(pl.Int64)
    return index.replace_strict(dict(enumerate(options)), return_dtype=pl.Utf8)


def household_noise(work: pl.DataFrame, profile: dict, gen: np.random.Generator) -> pl.DataFrame:
    """The noise of households and forms (issue 15), drawn after every other kind and only when its rate is not 0
    (so a profile without them gives the very same records):

    - `ssn_relative`: the SSN of another person of the file with the same true surname and another first name (a
      parent's SSN on a child's W-4: the commonest SSN misuse);
    - `placeholder_first` / `placeholder_last`: a placeholder instead of the name (UNKNOWN, BABY BOY, NO NAME...);
    - `last_missing`: the surname left blank."""
    rates = {k: float(profile.get(k, 0.0)) for k in HOUSEHOLD_KINDS}
    if not any(rates.values()) or work.is_empty():
        return work
    n = work.height
    flags = {k: pl.Series(gen.random(n) < r) for k, r in rates.items()}
    pick = pl.Series(gen.random(n))
    people = (
        work.select("last", "person_id", "first", "ssn")
        .drop_nulls()
        .unique("person_id")
        .sort("last", "person_id")
        .with_columns(_i=pl.int_range(pl.len()).over("last"), _n=pl.len().over("last"))
    )
    relative = people.select("last", "_i", pl.col("ssn").alias("_rel_ssn"), pl.col("first").alias("_rel_first")).join(
        people.select("last", "person_id", ((pl.col("_i") + 1) % pl.col("_n")).alias("_i")), on=["last", "_i"]
    )
    out = work.with_columns(_h_pick=pick, **{f"_h_{k}": v for k, v in flags.items()}).join(
        relative.select("person_id", "_rel_ssn", "_rel_first"), on="person_id", how="left", maintain_order="left"
    )
    col = pl.col
    use_rel = col("_h_ssn_relative") & col("_rel_ssn").is_not_null() & (col("_rel_first") != col("first"))
    use_rel = use_rel.fill_null(False)
    blank_last = col("_h_last_missing") & col("first_name").is_not_null()
    out = out.with_columns(
        pl.when(use_rel).then(col("_rel_ssn")).otherwise(col("ssn_rep")).alias("ssn_rep"),
        pl.when(col("_h_placeholder_first"))
        .then(_pick(PLACEHOLDER_FIRST, col("_h_pick")))
        .otherwise(col("first_name"))
        .alias("first_name"),
        pl.when(blank_last)
        .then(pl.lit(None, pl.Utf8))
        .when(col("_h_placeholder_last"))
        .then(_pick(PLACEHOLDER_LAST, col("_h_pick")))
        .otherwise(col("last_name"))
        .alias("last_name"),
    )
    tags = [
        _tag("ssn_relative", use_rel & (col("_rel_ssn") != col("ssn"))),
        _tag("placeholder_first", col("_h_placeholder_first")),
        _tag("placeholder_last", col("_h_placeholder_last") & ~blank_last),
        _tag("last_missing", blank_last),
    ]
    kept = pl.when(use_rel).then(
        col("corruptions").list.eval(pl.element().filter(~pl.element().str.starts_with("ssn_")))
    )
    kept = kept.otherwise(col("corruptions"))  # the relative's SSN replaces any SSN error drawn before
    return out.with_columns(kept.list.concat(pl.concat_list(tags).list.drop_nulls()).alias("corruptions")).drop(
        [c for c in out.columns if c.startswith(("_h_", "_rel_"))]
    )


def add_tags(frame: pl.DataFrame, flag: pl.Expr, tag: str) -> pl.DataFrame:
    """Append `tag` to `corruptions` where `flag` holds."""
    return frame.with_columns(
        pl.when(flag)
        .then(pl.col("corruptions").list.concat(pl.lit([tag])))
        .otherwise(pl.col("corruptions"))
        .alias("corruptions")
    )
