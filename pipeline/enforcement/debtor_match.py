"""Match partner records (insurance claims, lump-sum notices) to certified debtors.

Two rules, in order, each a whole-frame operation:
1. `ssn_exact_name`: the record's SSN is a debtor's SSN and the names agree (first 4 letters of the
   surname agree with the debtor's registry or SSA-master surname, or the first 4 letters of the first
   name agree and the DOB is equal) → automatic match, probability 1.
2. `linkage`: every other record (no SSN, an SSN that is no debtor's, or an SSN whose names disagree) is
   linked to the debtor persons with `matchers.link` (Fellegi-Sunter over names, DOB, SSN with one-edit
   tolerance, sex, address). A pair at or above AUTO_THRESHOLD is an automatic match; below it, down to the
   linker's review threshold, a review-queue candidate that is never sent to a state.
The debtor person is the SSN; a match fans out to every state that certified that SSN.
"""

from __future__ import annotations

import polars as pl

from pipeline.enforcement.common import key4
from pipeline.engine import Engine

AUTO_THRESHOLD = 0.99
RECORD_COLS = ("rec_id", "ssn", "first_name", "middle_name", "last_name", "dob", "street", "city", "addr_state", "zip")
OUT = {
    "rec_id": pl.Utf8,
    "ssn": pl.Utf8,
    "rule": pl.Utf8,
    "probability": pl.Float64,
    "decision": pl.Utf8,
    "evidence": pl.Utf8,
}


def _persons(debtors: pl.DataFrame) -> pl.DataFrame:
    one = debtors.sort("state").unique("ssn", keep="first", maintain_order=True)
    return one.select(
        pl.col("ssn").alias("id"),
        "ssn",
        "first_name",
        "middle_name",
        "last_name",
        pl.col("dob").cast(pl.Utf8),
        "sex",
        "street",
        "city",
        pl.col("addr_state").alias("state"),
        "zip",
    )


def _by_ssn(records: pl.DataFrame, debtors: pl.DataFrame) -> pl.DataFrame:
    d = debtors.unique("ssn").select(
        "ssn",
        pl.col("last_name").alias("d_last"),
        pl.col("first_name").alias("d_first"),
        pl.col("master_last_name").alias("m_last"),
        pl.col("dob").alias("d_dob"),
    )
    hits = records.filter(pl.col("ssn").is_not_null()).join(d, on="ssn", how="inner")
    last4 = key4(pl.col("last_name"))
    agree = (
        (last4 == key4(pl.col("d_last")))
        | (last4 == key4(pl.col("m_last")))
        | ((key4(pl.col("first_name")) == key4(pl.col("d_first"))) & (pl.col("dob") == pl.col("d_dob")))
    ).fill_null(False)
    return hits.filter(agree).select(
        "rec_id",
        "ssn",
        pl.lit("ssn_exact_name").alias("rule"),
        pl.lit(1.0).alias("probability"),
        pl.lit("match").alias("decision"),
        pl.format(
            '{{"rule":"ssn_exact_name","ssn":"exact","record_key":"{}","debtor_key":"{}","master_key":"{}"}}',
            last4.fill_null(""),
            key4(pl.col("d_last")).fill_null(""),
            key4(pl.col("m_last")).fill_null(""),
        ).alias("evidence"),
    )


def _linked(records: pl.DataFrame, debtors: pl.DataFrame, engine: Engine | None = None) -> pl.DataFrame:
    from matchers.link import link

    if records.is_empty() or debtors.is_empty():
        return pl.DataFrame(schema=OUT)
    right = records.select(
        pl.col("rec_id").alias("id"),
        "ssn",
        "first_name",
        "middle_name",
        "last_name",
        pl.col("dob").cast(pl.Utf8),
        pl.lit(None, pl.Utf8).alias("sex"),
        "street",
        "city",
        pl.col("addr_state").alias("state"),
        "zip",
    )
    pairs, _ = link(_persons(debtors), right, engine=engine)
    best = pairs.sort("match_probability", descending=True).unique("right_id", keep="first", maintain_order=True)
    return best.select(
        pl.col("right_id").alias("rec_id"),
        pl.col("left_id").alias("ssn"),
        pl.lit("linkage").alias("rule"),
        pl.col("match_probability").alias("probability"),
        pl.when((pl.col("decision") == "match") & (pl.col("match_probability") >= AUTO_THRESHOLD))
        .then(pl.lit("match"))
        .otherwise(pl.lit("review"))
        .alias("decision"),
        pl.format(
            '{{"rule":"linkage","weight":{},"probability":{},"levels":"{}"}}',
            "match_weight",
            "match_probability",
            pl.col("explanation").str.replace_all('"', "'"),
        ).alias("evidence"),
    )


def match_to_debtors(records: pl.DataFrame, debtors: pl.DataFrame, engine: Engine | None = None) -> pl.DataFrame:
    """records (RECORD_COLS, dob a Date) × debtor persons (enforce_common.debtor_persons) →
    rec_id, ssn, rule, probability, decision (match | review), evidence: at most one debtor per record.
    `engine` runs the linkage's pair comparison (matchers.link_kernel; in process by default)."""
    exact = _by_ssn(records, debtors).unique("rec_id", keep="first", maintain_order=True)
    rest = records.join(exact.select("rec_id"), on="rec_id", how="anti")
    linked = _linked(rest, debtors, engine)
    return pl.concat([exact.cast(OUT), linked.cast(OUT)]).sort("rec_id")


def fan_out(decided: pl.DataFrame, debtors: pl.DataFrame) -> pl.DataFrame:
    """One row per certifying state of each matched SSN."""
    return decided.join(debtors.select("state", "ssn"), on="ssn", how="inner")
