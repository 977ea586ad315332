"""What the parents do when the state's early-intervention letter arrives (the contact outcomes CSV).

The generator cannot see the letters fpls will choose, so it runs the same program on its own truth: at
each cycle date it letters, per state, up to `weekly_letters` x weeks of the parents at least 60 days in
arrears (first in, first out, as fpls counts), most recent delinquency first, skipping parents lettered
in the last 180 days or who promised, agreed a plan or disputed in the last 30. Each lettered parent then
answers within the 10 days (`contacts.answer` by behaviour) with a call, a promise, a plan or a dispute;
the others are logged "no contact"; a parent who moved and whose state still holds the old address gets
the letter back (RETURNED). A plan or a promise turns into voluntary payments for a while
(`contacts.keeps_plan`, `contacts.keeps_promise`): the program's "cases with a voluntary payment".
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from synth.ledger import fifo_days
from synth.reference import rng

OUTCOMES = ("CALL", "PROMISE", "PLAN", "DISPUTE")
HOLDING = ("PROMISE", "PLAN", "DISPUTE")
LOG_SCHEMA = {"case_state": pl.Utf8, "member_id": pl.Utf8, "date": pl.Date, "kind": pl.Utf8}


def empty_log() -> pl.DataFrame:
    """The generator's program log: letters ('LETTER') and holding outcomes by (state, member)."""
    return pl.DataFrame(schema=LOG_SCHEMA)


def choose_letters(
    cases: pl.DataFrame, log: pl.DataFrame, as_of: date, weekly: dict[str, int], weeks: int
) -> pl.DataFrame:
    """Parents lettered at `as_of` (case_state, member_id, person_id, week): the program fpls runs."""
    days = fifo_days(pl.col("arrears"), pl.col("monthly_obligation"), as_of)
    d = cases.with_columns(days.alias("_days")).filter(
        (pl.col("arrears") > 0) & pl.col("_days").is_not_null() & (pl.col("_days") >= 60)
    )
    ncp = d.group_by("case_state", "member_id", "person_id").agg(
        pl.col("_days").max().alias("days"),
        pl.col("arrears").sum().alias("owed"),
        pl.col("case_id").min().alias("case_id"),
    )
    recent = (
        log.filter(
            ((pl.col("kind") == "LETTER") & (pl.col("date") > as_of - timedelta(days=180)))
            | (
                pl.col("kind").is_in(HOLDING)
                & (pl.col("date") > as_of - timedelta(days=30))
                & (pl.col("date") <= as_of)
            )
        )
        .select("case_state", "member_id")
        .unique()
    )
    ncp = ncp.join(recent, on=["case_state", "member_id"], how="anti")
    quota = pl.DataFrame(
        {"case_state": list(weekly), "weekly": list(weekly.values())},
        schema={"case_state": pl.Utf8, "weekly": pl.Int64},
    )
    ranked = ncp.join(quota, on="case_state").sort(
        "case_state", "days", "owed", "member_id", descending=[False, False, True, False]
    )
    ranked = ranked.with_columns(pl.int_range(pl.len()).over("case_state").alias("rank"))
    picked = ranked.filter(pl.col("rank") < pl.col("weekly") * weeks)
    return picked.select(
        "case_state", "member_id", "person_id", "case_id", (pl.col("rank") // pl.col("weekly").clip(1)).alias("week")
    )


def answer(
    letters: pl.DataFrame,
    behaviour: pl.DataFrame,
    stale: pl.DataFrame,
    as_of: date,
    until: date,
    seed: int,
    rates: dict,
    tag: str,
) -> pl.DataFrame:
    """Contact outcome rows (state, case_id, member_id, contact_date, outcome, amount, person_id) for the
    letters mailed from `as_of`, dated up to `until`. `stale`: (case_state, person_id) whose state address is old."""
    cr = rates["contacts"]
    g = rng(seed, f"contacts.{tag}")
    d = (
        letters.join(behaviour, on="person_id", how="left")
        .join(stale.with_columns(pl.lit(True).alias("_stale")), on=["case_state", "person_id"], how="left")
        .sort("case_state", "member_id")
    )
    n = d.height
    mail = np.array([(as_of - date(1970, 1, 1)).days]) + 7 * d.get_column("week").to_numpy()
    p_answer = d.get_column("behaviour").replace_strict(cr["answer"], default=0.3).to_numpy()
    returned = d.get_column("_stale").fill_null(False).to_numpy() & (g.random(n) < cr["returned_if_stale"])
    answered = ~returned & (g.random(n) < p_answer)
    w = np.array([cr["outcome_mix"][o] for o in OUTCOMES], dtype=float)
    outcome = np.array(OUTCOMES)[g.choice(len(OUTCOMES), size=n, p=w / w.sum())]
    outcome = np.where(returned, "RETURNED", np.where(answered, outcome, "NOCONTACT"))
    logged = returned | answered | (g.random(n) < cr["log_no_contact"])
    day = np.where(returned, mail + g.integers(5, 16, n), np.where(answered, mail + g.integers(1, 11, n), mail + 10))
    amount = np.where(np.isin(outcome, ["PROMISE", "PLAN"]), (g.integers(50, 300, n) * 100), 0)
    out = d.select(
        pl.col("case_state").alias("state"),
        "case_id",
        "member_id",
        "person_id",
        pl.Series("contact_date", day.astype(np.int32)).cast(pl.Date),
        pl.Series("outcome", outcome, dtype=pl.Utf8),
        pl.Series("amount", amount.astype(np.int64)).replace(0, None),
    ).filter(pl.Series(logged))
    return out.filter(pl.col("contact_date") <= until)


def apply_outcomes(
    cases: pl.DataFrame, outcomes: pl.DataFrame, until: date, seed: int, rates: dict, tag: str
) -> pl.DataFrame:
    """A kept plan or promise: the parent pays voluntarily (plan amount) until `plan_until`."""
    cr = rates["contacts"]
    g = rng(seed, f"contacts.keep.{tag}")
    o = outcomes.filter(pl.col("outcome").is_in(["PLAN", "PROMISE"])).unique(
        ["state", "member_id"], keep="last", maintain_order=True
    )
    plan = o.get_column("outcome").to_numpy() == "PLAN"
    keep = g.random(o.height) < np.where(plan, cr["keeps_plan"], cr["keeps_promise"])
    kept = (
        o.with_columns(pl.Series("_m", np.where(plan, 6, 2), dtype=pl.Int64))
        .filter(pl.Series(keep, dtype=pl.Boolean))
        .with_columns((pl.lit(until) + pl.duration(days=pl.col("_m") * 30)).cast(pl.Date).alias("_until"))
    )
    k = kept.select(pl.col("state").alias("case_state"), "member_id", pl.col("amount").alias("_plan"), "_until")
    return (
        cases.join(k, on=["case_state", "member_id"], how="left")
        .with_columns(
            pl.coalesce("_plan", "plan_cents").alias("plan_cents"),
            pl.coalesce("_until", "plan_until").alias("plan_until"),
        )
        .drop("_plan", "_until")
    )


def log_events(log: pl.DataFrame, letters: pl.DataFrame, outcomes: pl.DataFrame, as_of: date) -> pl.DataFrame:
    new = [
        letters.select(
            "case_state",
            "member_id",
            (pl.lit(as_of) + pl.duration(days=pl.col("week") * 7)).cast(pl.Date).alias("date"),
            pl.lit("LETTER").alias("kind"),
        ),
        outcomes.select(
            pl.col("state").alias("case_state"),
            "member_id",
            pl.col("contact_date").alias("date"),
            pl.col("outcome").alias("kind"),
        ),
    ]
    return pl.concat([log, *[f.cast(LOG_SCHEMA) for f in new]])
