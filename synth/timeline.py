"""Jobs over the months of a monthly history (`fpls generate --cadence monthly --cycles K`).

Cycle 1 holds the world as `World.jobs` describes it on its date plus the spells that ended inside the
year before (`history.past_spells`). The later cycles need the labour market to go on: for every month
after cycle 1 new jobs start (the same draw `build_jobs` makes for a new-hire window, with a per-month
stream), a worker who starts a new job leaves an open one with probability `timeline.quit_on_new_hire`,
and open jobs end with the monthly hazard `timeline.separation_monthly` (layoffs, quits to no job).

`jobs_through(...)` returns every spell (same columns as `build_jobs`) with the end dates the months give
them, so QW wages of any quarter, W-4 new hires of any month, UI claims and the generator's truth of each
parent's ability to pay are all read off one timeline.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from synth.population import World, build_jobs
from synth.reference import rng

FUTURE_JOB_ID = 2_000_000_000


def add_months(d: date, k: int) -> date:
    """Same day of the month k months later (the day clipped to 28: cycles run on days 1-28)."""
    m = d.month - 1 + k
    return date(d.year + m // 12, m % 12 + 1, min(d.day, 28))


def settings(rates: dict) -> dict:
    t = rates.get("timeline", {})
    return {
        "quit_on_new_hire": float(t.get("quit_on_new_hire", 0.7)),
        "separation_monthly": float(t.get("separation_monthly", 0.01)),
    }


def _new_hires(world: World, seed: int, rates: dict, start: date, end: date, k: int) -> pl.DataFrame:
    """Jobs started in (start, end]: the new-hire window of a fresh `build_jobs` draw for that month."""
    jobs = build_jobs(world.persons, world.employers, seed * 1000 + 500 + k, end, rates)
    return jobs.filter((pl.col("hire_date") > start) & (pl.col("hire_date") <= end)).with_columns(
        pl.lit(None, dtype=pl.Date).alias("end_date"),
        (pl.col("job_id") + FUTURE_JOB_ID + k * 10_000_000).alias("job_id"),
    )


def _end_open_jobs(jobs: pl.DataFrame, hires: pl.DataFrame, g: np.random.Generator, t: dict, start: date, end: date):
    """A new hire ends the worker's open jobs (with probability) the day before; separations end others."""
    first_hire = hires.group_by("person_id").agg(pl.col("hire_date").min().alias("_new"))
    n = jobs.height
    quit_u = pl.Series("_uq", g.random(n))
    sep_u = pl.Series("_us", g.random(n))
    sep_day = pl.Series("_sd", g.integers(1, max(2, (end - start).days + 1), n))
    open_now = pl.col("end_date").is_null() | (pl.col("end_date") > pl.lit(start))
    jobs = jobs.with_columns(quit_u, sep_u, sep_day).join(first_hire, on="person_id", how="left", maintain_order="left")
    quits = (
        open_now
        & pl.col("_new").is_not_null()
        & (pl.col("hire_date") < pl.col("_new"))
        & (pl.col("_uq") < t["quit_on_new_hire"])
    )
    seps = open_now & (pl.col("hire_date") <= pl.lit(start)) & (pl.col("_us") < t["separation_monthly"])
    sep_date = pl.lit(start) + pl.duration(days=pl.col("_sd"))
    ended = (
        pl.when(quits)
        .then(pl.col("_new") - pl.duration(days=1))
        .when(seps & pl.col("end_date").is_null())
        .then(sep_date)
        .otherwise(pl.col("end_date"))
    )
    return jobs.with_columns(ended.cast(pl.Date).alias("end_date")).drop("_uq", "_us", "_sd", "_new")


def jobs_through(world: World, past: pl.DataFrame, seed: int, rates: dict, cycle_dates: list[date]) -> pl.DataFrame:
    """Every job spell from the history before cycle 1 through the last cycle date (`build_jobs` columns)."""
    t = settings(rates)
    schema = world.jobs.schema
    jobs = pl.concat([world.jobs, past.select(list(schema)).cast(schema)])
    for k in range(1, len(cycle_dates)):
        start, end = cycle_dates[k - 1], cycle_dates[k]
        hires = _new_hires(world, seed, rates, start, end, k).select(list(schema)).cast(schema)
        jobs = _end_open_jobs(jobs, hires, rng(seed, f"timeline.{k}"), t, start, end)
        jobs = pl.concat([jobs.select(list(schema)), hires])
    return jobs


def quarter_wages(jobs: pl.DataFrame, q_start: date, q_end: date) -> pl.DataFrame:
    """(job rows active in the quarter, with wage_amount in cents) - the formula of the QW files."""
    days = (q_end - q_start).days + 1
    active = jobs.filter(
        (pl.col("hire_date") <= q_end) & (pl.col("end_date").is_null() | (pl.col("end_date") >= q_start))
    )
    first = pl.max_horizontal(pl.col("hire_date"), pl.lit(q_start))
    last = pl.min_horizontal(pl.col("end_date").fill_null(q_end), pl.lit(q_end))
    return active.with_columns(
        ((pl.col("annual_cents") // 4) * ((last - first).dt.total_days() + 1) // days).alias("wage_amount")
    )


def quarter_ends_between(start: date, end: date) -> list[date]:
    """Last days of calendar quarters in [start, end)."""
    out, d = [], date(start.year, ((start.month - 1) // 3) * 3 + 1, 1)
    while d < end:
        nxt = date(d.year + (d.month + 3 > 12), (d.month + 2) % 12 + 1, 1)
        last = nxt - timedelta(days=1)
        if start <= last < end:
            out.append(last)
        d = nxt
    return out
