"""Employer and insurer notices: eTermination (terminated / never employed) and Debt Inquiry lump sums."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl

from pipeline.files.layouts import load_layout
from synth import reference as ref
from synth.filekit import FileOut, book, finish_block, identity, ymd
from synth.population import World
from synth.reference import rng

LUMP_SUMS = (("BON", 0.5), ("SEV", 0.2), ("COM", 0.2), ("RET", 0.1))


def _contact(g: np.random.Generator, n: int) -> dict:
    return {
        "contact_name": pl.concat_str(
            [ref.sample_names(ref.first_names("F"), g, n), ref.sample_names(ref.surnames(), g, n)], separator=" "
        )
        if n
        else pl.Series([], dtype=pl.Utf8),
        "contact_phone": pl.Series(g.integers(2_000_000_000, 9_999_999_999, n)).cast(pl.Utf8),
    }


def _top_employers(world: World, k: int) -> pl.DataFrame:
    return world.employers.sort("size", descending=True).head(k).sort("employer_id")


def etermination_files(
    world: World, seed: int, rates: dict, invalid: float, batch: int, w4_jobs: pl.DataFrame | None = None
) -> list[FileOut]:
    """Termination notices of the notice-sending employers. `w4_jobs`: the job spells whose W-4 is in the
    home's NDNH history (cycle 1: hired in the W-4 window, current jobs and `history.past_spells`). Most
    notices end such a spell (same employer FEIN as its W-4: the true eTermination pairs); a share
    `notices.termination_without_w4` ends an older job whose W-4 predates the history (no pair), and
    `notices.never_employed` "never employed" notices name a case NP who held no job at that employer.
    Employers report a share `notices.terminations_reported` of those spells (eTermination is voluntary), and
    `notices.terminations_reported_np` of the spells of case NPs (the pairs the FCR-scoped rule can find)."""
    nr = rates["notices"]
    layout = load_layout("etermination")
    emps = _top_employers(world, nr["etermination_employers"])
    at_emps = pl.col("employer_id").is_in(emps.get_column("employer_id").implode())
    ended_expr = pl.col("end_date").is_not_null() & (pl.col("end_date") <= world.as_of) & at_emps
    w4_jobs = world.jobs.head(0) if w4_jobs is None else w4_jobs
    with_w4 = w4_jobs.filter(ended_expr).sort("job_id")
    nps = world.members.filter(pl.col("participant_type") == "NP").get_column("person_id").unique().sort()
    is_np = with_w4.get_column("person_id").is_in(nps.implode()).to_numpy()
    reported = rng(seed, "eterm.reported").random(with_w4.height) < np.where(
        is_np, float(nr.get("terminations_reported_np", 1.0)), float(nr.get("terminations_reported", 1.0))
    )
    with_w4 = with_w4.filter(pl.Series(reported, dtype=pl.Boolean))
    older = world.jobs.filter(ended_expr).join(w4_jobs.select("job_id"), on="job_id", how="anti").sort("job_id")
    g = rng(seed, "eterm")
    share = float(nr.get("termination_without_w4", 0.0))
    n_old = (
        older.height if with_w4.is_empty() else min(older.height, round(with_w4.height * share / max(1e-9, 1 - share)))
    )
    older = older.filter(pl.Series(np.isin(np.arange(older.height), g.choice(older.height, n_old, replace=False))))
    ended = pl.concat([with_w4, older])
    nps = world.members.filter(pl.col("participant_type") == "NP").get_column("person_id").unique().sort()
    never_n = max(1, int(ended.height * nr["never_employed"]))
    never = pl.DataFrame(
        {
            "person_id": nps.gather(g.integers(0, max(1, len(nps)), never_n)) if len(nps) else [],
            "employer_id": emps.get_column("employer_id").gather(g.integers(0, emps.height, never_n)),
        },
        schema={"person_id": pl.Int64, "employer_id": pl.Int64},
    )
    held = pl.concat([world.jobs.select("person_id", "employer_id"), w4_jobs.select("person_id", "employer_id")])
    never = never.join(held, on=["person_id", "employer_id"], how="anti", maintain_order="left")
    rows = pl.concat(
        [
            ended.select(
                "person_id",
                "employer_id",
                pl.lit("T").alias("termination_reason"),
                pl.col("end_date").alias("termination_date"),
            ),
            never.with_columns(
                pl.lit("N").alias("termination_reason"), pl.lit(None, pl.Date).alias("termination_date")
            ),
        ]
    )
    view = identity(rows, world.persons, rates["noise"]["notice"], rng(seed, "eterm.noise"))
    out = []
    for emp in emps.iter_rows(named=True):
        part = view.filter(pl.col("employer_id") == emp["employer_id"])
        if part.is_empty():
            continue
        gi = rng(seed, f"eterm.{emp['fein']}")
        data = part.with_columns(**_contact(gi, part.height)).select(
            "person_id",
            "corruptions",
            pl.lit(emp["fein"]).alias("employer_fein"),
            pl.lit(emp["employer_name"]).alias("employer_name"),
            "contact_name",
            "contact_phone",
            pl.col("ssn_rep").alias("ssn"),
            "first_name",
            "middle_name",
            "last_name",
            pl.col("dob_rep").alias("dob"),
            "termination_reason",
            "termination_date",
            pl.lit(ymd(world.as_of)).alias("notice_date"),
        )
        sub = f"EMP-{emp['fein']}"
        out.append(
            FileOut(
                sub,
                "etermination",
                f"ETERM.{sub}.{ymd(world.as_of)}.{batch:03d}.csv",
                [finish_block(book(data, 0), layout, "ET", invalid, gi)],
            )
        )
    return out


def debt_inquiry_files(
    world: World, ins: pl.DataFrame, claims: pl.DataFrame, seed: int, rates: dict, invalid: float, batch: int
) -> list[FileOut]:
    nr = rates["notices"]
    layout = load_layout("debt_inquiry")
    g = rng(seed, "debtinq")
    emps = _top_employers(world, nr["debt_inquiry_employers"])
    jobs = world.jobs.filter(
        pl.col("end_date").is_null() & pl.col("employer_id").is_in(emps.get_column("employer_id").implode())
    )
    lump = jobs.filter(pl.Series(g.random(jobs.height) < nr["lump_sum_of_jobs"] * 10))
    n = lump.height
    w = np.array([t[1] for t in LUMP_SUMS])
    lump = lump.with_columns(
        pl.Series("payment_type", np.array([t[0] for t in LUMP_SUMS])[g.choice(len(w), size=n, p=w / w.sum())]),
        pl.Series("amount", (np.exp(np.log(3000) + g.standard_normal(n)) * 100).astype(np.int64)),
    )
    settle = claims.filter(pl.Series(g.random(claims.height) < rates["insurance"]["settlement_notice"]))
    settle = settle.select(
        "person_id",
        "ins",
        pl.lit("SET").alias("payment_type"),
        pl.Series((np.exp(np.log(8000) + g.standard_normal(settle.height)) * 100).astype(np.int64)).alias("amount"),
    )
    payout = world.as_of + timedelta(days=14)
    out = []
    view = identity(lump, world.persons, rates["noise"]["notice"], rng(seed, "debtinq.noise.emp"))
    for emp in emps.iter_rows(named=True):
        part = view.filter(pl.col("employer_id") == emp["employer_id"])
        if not part.is_empty():
            out.append(
                _di(
                    part,
                    "EMP",
                    emp["fein"],
                    emp["employer_name"],
                    f"EMP-{emp['fein']}",
                    world,
                    layout,
                    payout,
                    rng(seed, f"debtinq.{emp['fein']}"),
                    invalid,
                    batch,
                )
            )
    view = identity(settle, world.persons, rates["noise"]["notice"], rng(seed, "debtinq.noise.ins"))
    for row in ins.sort("tin").iter_rows(named=True):
        part = view.filter(pl.col("ins") == row["rank"])
        if not part.is_empty():
            out.append(
                _di(
                    part,
                    "INS",
                    row["tin"],
                    row["pname"],
                    f"INS-{row['tin']}",
                    world,
                    layout,
                    payout,
                    rng(seed, f"debtinq.{row['tin']}"),
                    invalid,
                    batch,
                )
            )
    return out


def _di(
    part: pl.DataFrame, kind: str, pid: str, pname: str, sub: str, world: World, layout, payout, g, invalid, batch
) -> FileOut:
    data = part.with_columns(**_contact(g, part.height)).select(
        "person_id",
        "corruptions",
        pl.lit(kind).alias("payer_type"),
        pl.lit(pid).alias("payer_id"),
        pl.lit(pname).alias("payer_name"),
        "contact_name",
        "contact_phone",
        pl.col("ssn_rep").alias("ssn"),
        "first_name",
        "middle_name",
        "last_name",
        pl.col("dob_rep").alias("dob"),
        "payment_type",
        pl.col("amount").cast(pl.Utf8),
        pl.lit(ymd(payout)).alias("payout_date"),
    )
    return FileOut(
        sub,
        "debt_inquiry",
        f"DEBTINQ.{sub}.{ymd(world.as_of)}.{batch:03d}.csv",
        [finish_block(book(data, 0), layout, "DI", invalid, g)],
    )
