"""NDNH history: the job spells behind 12 months of W-4 new hires and 4 quarters of QW wages.

DESIGN §8: a new or changed FCR person is matched (type P) against the last 12 months of NDNH history,
so a home carries that history, not only this month's W-4s and last quarter's wages. The current jobs
(`World.jobs`) already carry their hire dates; what they miss are the spells that started *and ended*
inside the year (job churn). `past_spells` draws them per worker (Poisson, `history.past_spells_per_worker`),
each with an employer of the worker's state (size-weighted, like `build_jobs`), a hire date in the year
before the new-hire window and an exponential duration that ends before the cycle date. They are kept
apart from `World.jobs`, so the other files (terminations, lump sums) do not change.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from synth.population import draw_employers
from synth.reference import rng

PAST_JOB_ID = 1_000_000_000


def settings(rates: dict, samples: bool) -> dict:
    """The history block of the rates (with the `samples` override for `--samples`)."""
    h = dict(rates.get("history", {}))
    if samples:
        h.update(h.get("samples", {}) or {})
    return {
        "w4_months": int(h.get("w4_months", 1)),
        "qw_quarters": int(h.get("qw_quarters", 1)),
        "past_spells_per_worker": float(h.get("past_spells_per_worker", 0.0)),
        "past_spell_mean_days": float(h.get("past_spell_mean_days", 90)),
    }


def w4_since(as_of: date, rates: dict, hist: dict) -> date:
    """Start (exclusive) of the W-4 window: `w4_months` months back, at least the new-hire window."""
    window = int(rates["employment"]["new_hire_window_days"])
    return as_of - timedelta(days=max(window, round(hist["w4_months"] * 365.25 / 12)))


def past_spells(
    persons: pl.DataFrame, employers: pl.DataFrame, jobs: pl.DataFrame, seed: int, as_of: date, rates: dict, hist: dict
) -> pl.DataFrame:
    """Ended job spells hired in [since, as_of - window): same columns as `build_jobs`."""
    er = rates["employment"]
    g = rng(seed, "history.spells")
    schema = jobs.schema
    lam = hist["past_spells_per_worker"]
    since = w4_since(as_of, rates, hist)
    window = int(er["new_hire_window_days"])
    span = (as_of - timedelta(days=window) - since).days
    if lam <= 0 or span <= 0 or jobs.is_empty():
        return pl.DataFrame(schema=schema)
    workers = (
        jobs.select("person_id", "work_state").unique("person_id", keep="first", maintain_order=True).sort("person_id")
    )
    n_sp = g.poisson(lam, workers.height)
    spells = workers.select(
        pl.col("person_id").repeat_by(pl.Series(n_sp)).alias("person_id"),
        pl.col("work_state").repeat_by(pl.Series(n_sp)).alias("work_state"),
    ).explode("person_id", "work_state")
    spells = spells.drop_nulls("person_id")
    k = spells.height
    employer_id = draw_employers(g, employers, spells.get_column("work_state").to_numpy())
    epoch = date(1970, 1, 1)
    start = (since - epoch).days + 1
    hire = start + g.integers(0, span, k)
    last_day = (as_of - epoch).days - 1
    end = np.minimum(hire + 1 + g.exponential(hist["past_spell_mean_days"], k).astype(np.int64), last_day)
    annual = np.exp(np.log(er["annual_wage_median_dollars"]) + er["annual_wage_sigma"] * g.standard_normal(k))
    return (
        spells.select(
            "person_id",
            pl.Series("employer_id", employer_id),
            pl.Series("job_id", PAST_JOB_ID + np.arange(1, k + 1, dtype=np.int64)),
            pl.Series("hire_date", hire.astype(np.int32)).cast(pl.Date),
            pl.Series("end_date", end.astype(np.int32)).cast(pl.Date),
            pl.Series("annual_cents", (annual * 100).astype(np.int64)),
            "work_state",
        )
        .select(list(schema))
        .cast(schema)
    )


def quarters_back(as_of: date, n: int) -> list[tuple[date, date, str]]:
    """The last n complete quarters before as_of, most recent first: (first day, last day, CCYYQ)."""
    from synth.filekit import quarter_of

    out, d = [], as_of
    for _ in range(max(1, n)):
        q = quarter_of(d)
        out.append(q)
        d = q[0]
    return out
