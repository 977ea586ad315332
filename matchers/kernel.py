"""The verification kernel: records joined to their candidates in, one decision per record out (DESIGN §10).

Pure functions of frames, no store, no global state, so the same code runs over the whole cycle locally and, at
national scale, over one partition (records and candidates hashed on the SSN) under Spark's
`mapInArrow` / `applyInArrow` (convert the Arrow batch with `pl.from_arrow`, return `.to_arrow()`):

    keys  = record_keys(records)                       # once per distinct name value
    pairs = candidate_pairs(keys, master, ssn_keys)    # or any join of keys to prepared candidates on ssn_key
    decisions = decide_pairs(pairs)                    # the kernel: pairs → decision + evidence per record

`record_keys` gives the same normalised columns as `matchers.verify.prepare_input` (`matchers.names`), computed
once per distinct value; `decide_pairs` applies `matchers.evidence.exact_ok`, the acceptance of SSN verification
and of NDNH's `exact_ssn` / `registered_name` rules.
"""

from __future__ import annotations

import polars as pl

from matchers.evidence import agreement, dob_level_expr, exact_ok, mid_rel_expr
from matchers.names import name_key_expr, name_parts_expr, per_distinct_value, person_name_expr
from matchers.ssn import clean_ssn_expr

RECORD_KEYS = ("key", "ssn_key", "fn_key", "ln_key", "ln_parts", "mn", "dob_date", "sex1")
CANDIDATE_KEYS = ("m", "fn_key", "ln_key", "ln_parts", "mn", "dob_date", "sex1", "grp")
DECISION = {
    "key": pl.Int64,
    "ssn_key": pl.Utf8,
    "accepted": pl.Boolean,
    "confirmed": pl.Boolean,
    "candidates": pl.UInt32,
    "first_rel": pl.Utf8,
    "last_rel": pl.Utf8,
    "mid_rel": pl.Utf8,
    "dob_level": pl.Utf8,
}


def _blank(column: str) -> pl.Expr:
    return pl.col(column).is_null() | (pl.col(column).cast(pl.Utf8).str.strip_chars() == "")


def record_keys(records: pl.DataFrame) -> pl.DataFrame:
    """records: key (Int64), ssn, first_name, middle_name, last_name, dob (Date), other columns kept →
    plus ssn_key (the SSN's digits), fn_key, ln_key, ln_parts, mn, dob_date, sex1 (null: NDNH records carry none).
    A record blank in every field is dropped (`matchers.persons.check_persons`: nothing to match on)."""
    names = ("first_name", "middle_name", "last_name")
    frame = records.with_columns(pl.col(c).cast(pl.Utf8) for c in ("ssn", *names)).filter(
        ~pl.all_horizontal([_blank(c) for c in ("ssn", *names)] + [pl.col("dob").is_null()])
    )
    first, middle, last = (person_name_expr("v", role) for role in names)
    out = per_distinct_value(frame, "first_name", {"fn_key": name_key_expr(first)})
    out = per_distinct_value(out, "middle_name", {"mn": middle})
    out = per_distinct_value(out, "last_name", {"ln_key": name_key_expr(last), "ln_parts": name_parts_expr(last)})
    return out.with_columns(
        clean_ssn_expr("ssn").alias("ssn_key"),
        pl.col("dob").cast(pl.Date).alias("dob_date"),
        pl.lit(None, pl.Utf8).alias("sex1"),
    )


def candidate_pairs(keys: pl.DataFrame, candidates: pl.DataFrame, ssn_keys: pl.DataFrame) -> pl.DataFrame:
    """Records (`record_keys`) × the candidates holding their SSN: `ssn_keys` (ssn_key → m) into `candidates`
    (m plus `CANDIDATE_KEYS`, as `matchers.verify.prepare_master` or a registered-names reference), the candidate's
    columns suffixed `_m`."""
    rec = keys.select([c for c in RECORD_KEYS if c in keys.columns]).drop_nulls("ssn_key")
    cand = candidates.select(
        [pl.col(c).alias(f"{c}_m") if c != "m" else pl.col("m") for c in CANDIDATE_KEYS if c in candidates.columns]
    )
    return rec.join(ssn_keys, on="ssn_key").join(cand, on="m")


def decide_pairs(pairs: pl.DataFrame) -> pl.DataFrame:
    """The kernel. pairs: one row per (record, candidate sharing its SSN), the record's `RECORD_KEYS` and the
    candidate's `CANDIDATE_KEYS` suffixed `_m` (m itself unsuffixed) → one row per record (`DECISION`):
    accepted — some candidate passes `matchers.evidence.exact_ok` (the record verifies to ssn_key);
    confirmed — one passes with the DOB exact (NDNH's `confirmed_name` reference); candidates — how many were
    compared; first_rel, last_rel, mid_rel, dob_level — the evidence of the accepted candidate of lowest m (of the
    candidate of lowest m when none is accepted)."""
    if pairs.is_empty():
        return pl.DataFrame(schema=DECISION)
    evidence = ("first_rel", "last_rel", "mid_rel", "dob_level")
    # Same first and last name keys (most pairs): first and last agree, so `exact_ok` is "the DOB does not
    # disagree" and no string similarity is needed; the others go through `agreement`.
    same = ((pl.col("fn_key") == pl.col("fn_key_m")) & (pl.col("ln_key") == pl.col("ln_key_m"))).fill_null(False)
    pairs = pairs.with_columns(_same=same)
    fast = pairs.filter("_same").with_columns(
        pl.lit("agree").alias("first_rel"),
        pl.lit("agree").alias("last_rel"),
        mid_rel_expr(pairs).alias("mid_rel"),
        dob_level_expr().alias("dob_level"),
    )
    fast = fast.with_columns(_ok=pl.col("dob_level") != "X")
    slow = agreement(pairs.filter(~pl.col("_same"))).with_columns(_ok=exact_ok())
    cols = ["key", "m", "ssn_key", "_ok", *evidence]
    a = pl.concat([fast.select(cols), slow.select(cols)])
    return (
        a.sort("key", ~pl.col("_ok"), "m")
        .group_by("key", maintain_order=True)
        .agg(
            pl.col("ssn_key").first(),
            pl.col("_ok").any().alias("accepted"),
            (pl.col("_ok") & (pl.col("dob_level") == "E")).any().alias("confirmed"),
            pl.len().alias("candidates"),
            *[pl.col(c).first() for c in evidence],
        )
        .cast(DECISION)
    )
