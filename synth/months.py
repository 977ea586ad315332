"""A monthly history (`fpls generate --cadence monthly --cycles K`): cycle k > 1 is one month after cycle
k - 1 (same day of the month) and carries what a month brings the FPLS:

- W-4 new hires of the month (`timeline.jobs_through`: new jobs, quits, separations),
- the QW wages of every calendar quarter that ended during the month (one file per state and quarter),
- UI claims of workers whose job ended in the last 90 days and who hold none (`ui_of_recent_losses`),
- each state's case financial summary on the cycle date, its payments of the month and the contact
  outcomes of the early-intervention letters of the previous cycle (`program.step`).

The truth of every cycle's parents (ability class, behaviour) goes to `truth_ability.parquet`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from synth import files_ndnh, files_state, program
from synth.filekit import FileOut, quarter_of
from synth.population import World
from synth.reference import rng
from synth.timeline import add_months, jobs_through, quarter_ends_between

UI_LOSS_DAYS = 90


@dataclass
class History:
    world: World
    prog: program.Program
    views: pl.DataFrame
    stale: pl.DataFrame
    past: pl.DataFrame  # ended spells before cycle 1 (history.past_spells)


def cycle_dates(as_of: date, cycles: int) -> list[date]:
    return [add_months(as_of, k) for k in range(cycles)]


def ui_of_recent_losses(world: World, jobs: pl.DataFrame, start: date, end: date, seed: int, tag: str) -> pl.DataFrame:
    """Workers whose job ended in (end - 90 days, end], who hold no job at `end` and did not claim before."""
    open_at_end = jobs.filter(
        (pl.col("hire_date") <= end) & (pl.col("end_date").is_null() | (pl.col("end_date") > end))
    ).select("person_id")
    lost = (
        jobs.filter((pl.col("end_date") > start) & (pl.col("end_date") <= end))
        .select("person_id")
        .unique()
        .join(open_at_end, on="person_id", how="anti")
        .sort("person_id")
    )
    g = rng(seed, f"ui.losses.{tag}")
    claim = lost.filter(pl.Series(g.random(lost.height) < 0.6, dtype=pl.Boolean))
    return world.persons.join(claim, on="person_id", how="semi").filter(pl.col("dod").is_null()).sort("person_id")


def month_files(
    h: History, jobs: pl.DataFrame, k: int, start: date, end: date, seed: int, rates: dict, invalid: float
) -> tuple[list[FileOut], pl.DataFrame]:
    """Cycle k's inbound files for the month (start, end], and its truth rows."""
    world, tag = h.world, f"c{k}"
    hires = files_ndnh.new_hires(world, jobs, start, end, seed, rates, tag)
    files = files_ndnh.w4_files(world, hires, end, seed, invalid, k, tag)
    for q_end in quarter_ends_between(start, end):
        q_start, _, period = quarter_of(q_end + timedelta(days=1))
        files += files_ndnh._qw_quarter(world, jobs, q_start, q_end, period, seed, rates, invalid, k, f".m{k}")
    claim = ui_of_recent_losses(world, jobs, start - timedelta(days=UI_LOSS_DAYS - 30), end, seed, tag)
    claim = claim.join(h.prog.ui.select("person_id"), on="person_id", how="anti")
    if claim.height:
        files += files_ndnh.ui_files(world, seed, rates, invalid, k, claim=claim, as_of=end)
        h.prog.ui = pl.concat([h.prog.ui, claim.select("person_id", pl.lit(end).alias("received"))])
    pays, answers = program.step(h.prog, start, end, h.stale, seed, rates, k)
    fin = h.prog.fin()
    for st in world.states:
        files.append(files_state.case_financial_file(world, st, fin, h.views, seed, invalid, k, as_of=end))
    files += program.payment_files(world, pays, h.prog, end, seed, invalid, k)
    files += program.contact_files(world, answers, end, seed, invalid, k)
    return files, program.truth(h.prog, world, jobs, k, end)


def monthly_cycles(h: History, cycles: int, seed: int, rates: dict, invalid: float):
    """Yield (k, as_of, files, truth) for cycles 2..K."""
    dates = cycle_dates(h.world.as_of, cycles)
    jobs = jobs_through(h.world, h.past, seed, rates, dates)
    for k in range(2, cycles + 1):
        files, truth = month_files(h, jobs, k, dates[k - 2], dates[k - 1], seed, rates, invalid)
        yield k, dates[k - 1], files, truth


def empty_ui() -> pl.DataFrame:
    return pl.DataFrame(schema={"person_id": pl.Int64, "received": pl.Date})


__all__ = ["History", "cycle_dates", "monthly_cycles"]
