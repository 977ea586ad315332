"""Candidates for identification by name + DOB (no usable SSN): person × master pairs from equi-joins over the
whole frames, each on a key that a true pair with one kind of error still shares. No per-row Python; the cost is
the sum of the joins' outputs, linear in the records for keys this selective.

| key | finds |
|---|---|
| surname NYSIIS + DOB (exact, day/month swapped, ±1 year) | the classic search; first-name typos, nicknames, a blank first name |
| first-name NYSIIS as surname NYSIIS + DOB (same variants) | first and last name swapped |
| an additional (birth / married) surname + DOB variants | a surname SSA does not hold |
| first name + DOB | a surname typo NYSIIS does not forgive (KINGSLEY / KINGSEY), a blank or placeholder surname |
| first name + surname + two of year, month, day | a DOB with one digit wrong |

Which candidate is accepted is `matchers.evidence.search_tier`'s business, not this module's.
"""

from __future__ import annotations

import polars as pl


def dob_variants(P: pl.DataFrame) -> pl.DataFrame:
    """p, dob_key: the person's DOB as given, with day and month swapped, one year earlier and later."""
    d = pl.col("dob_date")
    text = [
        d.dt.strftime("%Y-%m-%d"),
        pl.format(
            "{}-{}-{}", d.dt.year(), d.dt.day().cast(pl.Utf8).str.zfill(2), d.dt.month().cast(pl.Utf8).str.zfill(2)
        ),
        (d.dt.year() - 1).cast(pl.Utf8) + d.dt.strftime("-%m-%d"),
        (d.dt.year() + 1).cast(pl.Utf8) + d.dt.strftime("-%m-%d"),
    ]
    return (
        P.select("p", pl.concat_list(text).alias("_dv"))
        .explode("_dv")
        .select("p", pl.col("_dv").str.to_date("%Y-%m-%d", strict=False).alias("dob_key"))
        .drop_nulls()
        .unique()
    )


def _parts(frame: pl.DataFrame, pos: str) -> pl.DataFrame:
    d = pl.col("dob_date")
    return frame.select(
        pos, "fn_key", "ln_key", d.dt.year().alias("_y"), d.dt.month().alias("_mo"), d.dt.day().alias("_d")
    )


def search_candidates(P: pl.DataFrame, M: pl.DataFrame) -> pl.DataFrame:
    """Distinct (p, m) pairs worth comparing for persons P (position p) against master M (position m)."""
    dv = dob_variants(P)
    mk = M.select("m", pl.col("dob_date").alias("dob_key"), "ln_nysiis", "fn_key", "ln_key")
    by_last = (
        dv.join(P.select("p", "ln_nysiis"), on="p")
        .drop_nulls()
        .join(mk.select("m", "dob_key", "ln_nysiis").drop_nulls(), on=["dob_key", "ln_nysiis"])
    )
    by_swap = (
        dv.join(P.select("p", pl.col("fn_nysiis").alias("ln_nysiis")), on="p")
        .drop_nulls()
        .join(mk.select("m", "dob_key", "ln_nysiis").drop_nulls(), on=["dob_key", "ln_nysiis"])
    )
    parts = [by_last.select("p", "m"), by_swap.select("p", "m")]
    if "extra_ln" in P.columns:
        extra = dv.join(P.select("p", pl.col("extra_ln").alias("ln_key")).explode("ln_key").drop_nulls(), on="p")
        parts.append(extra.join(mk.select("m", "dob_key", "ln_key"), on=["dob_key", "ln_key"]).select("p", "m"))
    first_dob = P.select("p", "fn_key", pl.col("dob_date").alias("dob_key")).drop_nulls()
    parts.append(
        first_dob.join(mk.select("m", "fn_key", "dob_key").drop_nulls(), on=["fn_key", "dob_key"]).select("p", "m")
    )
    pp = _parts(P, "p").drop_nulls()
    mp = _parts(M, "m").drop_nulls()
    for keep in (("_y", "_mo"), ("_y", "_d"), ("_mo", "_d")):
        on = ["fn_key", "ln_key", *keep]
        parts.append(pp.select("p", *on).join(mp.select("m", *on), on=on).select("p", "m"))
    return pl.concat(parts).unique()
