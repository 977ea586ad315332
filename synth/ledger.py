"""Support owed and paid, month by month: each noncustodial parent's ability to pay (the truth fpls's
segmentation is scored against), how they pay, and the arrears that follow.

Ability (truth, `ability_truth`): the rule fpls applies to the NDNH (reports/caseload.sql `_ncp_income`),
applied to the true job spells, UI claims and hires instead of the records that reached fpls:
  window = the last 4 complete quarters before the date; steady = wages in the latest quarter and in at
  least 3 of the 4, average wage per earning quarter >= $3,000, at most 2 employers (wages in the window or
  a hire in the last 365 days); none = no wages in the window, no hire and no UI claim in the last 365 days;
  irregular = anything else. So the truth is "what could be known": a parent whose true SSN never reached
  an NDNH record is still scored by what he truly earned.

Behaviour (`ledger.behaviour` in rates.yaml): drawn per parent from his ability (withholding, voluntary,
irregular, not paying), then each month's payments follow it (`simulate`): income withholding pays the
order in two pay-period remittances, a voluntary payer pays it (or his plan amount) once, an irregular payer
pays part of it some months, a non-payer pays nothing but may be intercepted (offset, mostly in tax
season). Support falls due on the 1st; arrears = arrears + order - paid, never below zero.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from synth.history import quarters_back
from synth.reference import rng
from synth.timeline import quarter_wages

BEHAVIOURS = ("withholding", "voluntary", "irregular", "not_paying")
ABILITIES = ("steady", "irregular", "none")
STEADY_QUARTER_CENTS = 300_000


def ability_truth(jobs: pl.DataFrame, ui: pl.DataFrame, persons: pl.Series, as_of: date) -> pl.DataFrame:
    """person_id, ability (+ the counts it rests on) for the given persons at `as_of`.
    `ui`: person_id, received (date of each UI claim that reached fpls)."""
    ids = pl.DataFrame({"person_id": persons.unique().sort()})
    quarters = quarters_back(as_of, 4)
    parts = []
    for idx, (q_start, q_end, _) in enumerate(quarters):
        w = quarter_wages(jobs.filter(pl.col("person_id").is_in(ids.get_column("person_id").implode())), q_start, q_end)
        parts.append(w.select("person_id", "employer_id", "wage_amount", pl.lit(idx + 1).alias("idx")))
    wages = pl.concat(parts).filter(pl.col("wage_amount") > 0)
    per_q = wages.group_by("person_id", "idx").agg(pl.col("wage_amount").sum())
    w = per_q.group_by("person_id").agg(
        pl.len().alias("quarters"),
        pl.col("wage_amount").mean().alias("avg_cents"),
        (pl.col("idx") == 1).any().alias("earned_last"),
    )
    since = as_of - timedelta(days=365)
    hires = jobs.filter((pl.col("hire_date") > since) & (pl.col("hire_date") <= as_of))
    emp = pl.concat([wages.select("person_id", "employer_id"), hires.select("person_id", "employer_id")]).unique()
    emp = emp.group_by("person_id").agg(pl.len().alias("employers"))
    n_hires = hires.group_by("person_id").agg(pl.len().alias("hires"))
    n_ui = (
        ui.filter((pl.col("received") > since) & (pl.col("received") <= as_of))
        .group_by("person_id")
        .agg(pl.len().alias("ui_claims"))
    )
    out = (
        ids.join(w, on="person_id", how="left")
        .join(emp, on="person_id", how="left")
        .join(n_hires, on="person_id", how="left")
        .join(n_ui, on="person_id", how="left")
        .with_columns(
            pl.col("quarters", "employers", "hires", "ui_claims").fill_null(0), pl.col("earned_last").fill_null(False)
        )
    )
    steady = (
        pl.col("earned_last")
        & (pl.col("quarters") >= min(3, len(quarters)))
        & (pl.col("avg_cents") >= STEADY_QUARTER_CENTS)
        & (pl.col("employers") <= 2)
    )
    none = (pl.col("quarters") == 0) & (pl.col("hires") == 0) & (pl.col("ui_claims") == 0)
    return out.with_columns(
        pl.when(steady)
        .then(pl.lit("steady"))
        .when(none)
        .then(pl.lit("none"))
        .otherwise(pl.lit("irregular"))
        .alias("ability")
    )


def draw_behaviour(ability: pl.DataFrame, seed: int, rates: dict) -> pl.DataFrame:
    """person_id, behaviour: one draw per parent from the mix of his ability class."""
    mix = rates["ledger"]["behaviour"]
    g = rng(seed, "ledger.behaviour")
    u = g.random(ability.height)
    out = np.empty(ability.height, dtype=object)
    abil = ability.get_column("ability").to_numpy()
    for a in ABILITIES:
        p = np.cumsum([mix[a][b] for b in BEHAVIOURS])
        rows = abil == a
        out[rows] = np.array(BEHAVIOURS)[np.minimum(np.searchsorted(p / p[-1], u[rows], side="right"), 3)]
    return ability.select("person_id").with_columns(pl.Series("behaviour", out, dtype=pl.Utf8))


def _days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def simulate(
    cases: pl.DataFrame, start: date, end: date, seed: int, rates: dict, tag: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One period (start, end] for every case (case_no, monthly_obligation, arrears, behaviour, plan_cents,
    plan_until, last_payment_date, last_payment_amount): (payments, cases after the period).
    Support due on each 1st of a month inside the period accrues; payments are dated inside the period."""
    lr = rates["ledger"]
    g = rng(seed, f"ledger.{tag}")
    n = cases.height
    span = max(1, (end - start).days)
    dues = sum(1 for k in range(1, span + 1) if (start + timedelta(days=k)).day == 1)
    m = cases.get_column("monthly_obligation").to_numpy()
    plan = cases.get_column("plan_cents").fill_null(0).to_numpy()
    on_plan = (cases.get_column("plan_until").fill_null(date(1970, 1, 1)).cast(pl.Int32).to_numpy() >= _days(end)) & (
        plan > 0
    )
    beh = cases.get_column("behaviour").to_numpy()
    owed = dues * m
    rows = []  # (case index array, day offset array, amount array, source)

    def add(mask, offset, amount, source):
        idx = np.flatnonzero(mask)
        if len(idx):
            rows.append(
                (
                    idx,
                    np.asarray(offset)[idx] if np.ndim(offset) else np.full(len(idx), offset),
                    np.asarray(amount)[idx],
                    source,
                )
            )

    skip = g.random(n) < lr["withholding_missed_month"]
    iwo = (beh == "withholding") & ~skip & (owed > 0)
    add(iwo, np.full(n, max(1, span // 3)), owed // 2, "IWO")
    add(iwo, np.full(n, span), owed - owed // 2, "IWO")
    day = g.integers(1, span + 1, n)
    vol = ((beh == "voluntary") | on_plan) & ~iwo & (g.random(n) < lr["voluntary_pays"]) & (owed > 0)
    add(vol, day, np.where(on_plan, np.maximum(plan * max(dues, 1), 1), owed), "VOL")
    irr = (beh == "irregular") & ~on_plan & (g.random(n) < lr["irregular_pays"]) & (owed > 0)
    add(irr, day, (owed * (0.2 + 0.8 * g.random(n))).astype(np.int64), "VOL")
    arrears = cases.get_column("arrears").to_numpy()
    spring = end.month in (2, 3, 4)
    off_rate = lr["offset_spring"] if spring else lr["offset_other"]
    off = (beh != "withholding") & (arrears > 0) & (g.random(n) < off_rate)
    lump = np.minimum(
        arrears, (np.exp(np.log(lr["offset_median_dollars"]) + 0.8 * g.standard_normal(n)) * 100).astype(np.int64)
    )
    add(off & (lump > 0), g.integers(1, span + 1, n), lump, "OFF")
    if rows:
        idx = np.concatenate([r[0] for r in rows])
        pays = pl.DataFrame(
            {
                "_i": idx,
                "payment_date": pl.Series(_days(start) + np.concatenate([r[1] for r in rows]).astype(np.int64))
                .cast(pl.Int32)
                .cast(pl.Date),
                "amount": np.concatenate([r[2] for r in rows]).astype(np.int64),
                "payment_source": np.concatenate([np.full(len(r[0]), r[3]) for r in rows]),
            }
        ).filter(pl.col("amount") > 0)
    else:
        pays = pl.DataFrame(
            schema={"_i": pl.Int64, "payment_date": pl.Date, "amount": pl.Int64, "payment_source": pl.Utf8}
        )
    keyed = cases.with_row_index("_i").with_columns(pl.col("_i").cast(pl.Int64))
    pays = (
        pays.join(keyed.select("_i", "case_no"), on="_i", how="left")
        .drop("_i")
        .sort("case_no", "payment_date", "payment_source")
    )
    paid = pays.group_by("case_no").agg(
        pl.col("amount").sum().alias("_paid"),
        pl.col("payment_date").max().alias("_last_date"),
        pl.col("amount").sort_by("payment_date").last().alias("_last_amount"),
    )
    after = (
        cases.join(paid, on="case_no", how="left")
        .with_columns(
            pl.max_horizontal(
                pl.col("arrears") + pl.lit(dues) * pl.col("monthly_obligation") - pl.col("_paid").fill_null(0),
                pl.lit(0),
            ).alias("arrears"),
            pl.coalesce("_last_date", "last_payment_date").alias("last_payment_date"),
            pl.coalesce("_last_amount", "last_payment_amount").alias("last_payment_amount"),
        )
        .drop("_paid", "_last_date", "_last_amount")
    )
    return pays, after


def fifo_days(arrears: pl.Expr, obligation: pl.Expr, as_of: date) -> pl.Expr:
    """Days in arrears, first in first out (the rule of reports/caseload.sql `_case_delinquency`)."""
    k = ((arrears + obligation - 1) // obligation).clip(1, 1200)
    first = date(as_of.year, as_of.month, 1)
    months_back = (k - 1).cast(pl.Int32)
    y = pl.lit(first.year) + (pl.lit(first.month - 1) - months_back).floordiv(12)
    mo = (pl.lit(first.month - 1) - months_back).mod(12) + 1
    due = pl.date(y, mo, 1)
    return (
        pl.when(arrears <= 0).then(0).when(obligation <= 0).then(None).otherwise((pl.lit(as_of) - due).dt.total_days())
    )
