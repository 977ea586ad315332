"""e-IWO files with their truth: MSER registrations, the states' income withholding orders, the employers'
acknowledgments (rates.yaml `eiwo:`; every stream is new, so the other files of a home do not change).

- MSER: every multistate employer registers its own state as the reporting state; registrations 1, 3, 5, ...
  take e-IWO system to system, 2, 6, 10, ... name a payroll processor (a FEIN no employer holds) as the primary
  EIN that receives their orders.
- Orders: a share of IV-D obligors with an order get an ORG order to their current employer; some name an employer
  they left (stale, acknowledged R/N), one they never worked for (R/U), a FEIN nobody holds (refused), some are
  sent twice (the copy refused) and a few carry a malformed amount (rejected). One fixed-width file per state
  (FHI, a BHI batch per employer FEIN, BTI, FTI), every `csv_every`-th state sends the CSV variant.
- Acknowledgments: the recipient of a sent order answers it with a share `ack_rate`; every disposition occurs;
  a few name a tracking number never sent. Recipients that take e-IWO send fixed-width files, the others the
  No Programming Option's spreadsheet (CSV).

Truth (`truth_eiwo.parquet`): one row per order or acknowledgment line: kind, file, line, person_id, expected
(the recipient FEIN an order must reach / the state an acknowledgment must reach; null = must be refused or
rejected) and outcome (SENT, REFUSED:<code>, REJECTED / ROUTED, REFUSED, REJECTED).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl

from pipeline.files.layouts import load_layout
from synth.eiwo_kit import TRUTH_SCHEMA
from synth.filekit import FileOut, book, finish_block, ymd
from synth.files_eiwo_acks import ack_files
from synth.files_eiwo_orders import build_orders, order_files
from synth.population import World
from synth.reference import rng


def registrations(world: World, seed: int, rates: dict) -> pl.DataFrame:
    """One MSER registration per multistate employer (the columns of eiwo_mser_csv)."""
    e = rates["eiwo"]
    multi = world.employers.filter(pl.col("multistate")).sort("employer_id")
    n, idx = multi.height, np.arange(multi.height)
    g = rng(seed, "eiwo.mser")
    processor = (idx % int(e["mser_processor_every"])) == 1
    separate = g.random(n) < e["mser_iwo_address"]
    others = [" ".join(s for s in world.states if s != st) or None for st in multi.get_column("emp_state").to_list()]
    yn = lambda mask: pl.Series(np.where(mask, "Y", "N"))  # noqa: E731
    return multi.select(
        pl.lit("A").alias("action"),
        pl.col("fein").alias("employer_fein"),
        "employer_name",
        pl.col("emp_street").alias("address_line_1"),
        pl.col("emp_city").alias("city"),
        pl.col("emp_state").alias("state"),
        pl.col("emp_zip").alias("zip"),
        pl.col("emp_state").alias("reporting_state"),
        pl.Series("employee_states", others, dtype=pl.Utf8),
        pl.when(pl.Series(separate))
        .then(pl.format("PO BOX {}", pl.Series(g.integers(100, 9999, n))))
        .alias("iwo_address_line_1"),
        pl.when(pl.Series(separate)).then(pl.col("emp_city")).alias("iwo_city"),
        pl.when(pl.Series(separate)).then(pl.col("emp_state")).alias("iwo_state"),
        pl.when(pl.Series(separate)).then(pl.col("emp_zip")).alias("iwo_zip"),
        pl.when(pl.Series(processor))
        .then("40" + pl.Series(g.choice(10_000_000, n, replace=False)).cast(pl.Utf8).str.zfill(7))
        .alias("iwo_recipient_fein"),
        yn(idx % int(e["mser_eiwo_every"]) == 0).alias("eiwo"),
        yn(g.random(n) < e["mser_debt_inquiry"]).alias("debt_inquiry"),
        yn(g.random(n) < e["mser_medical_insurance"]).alias("medical_insurance"),
        pl.lit(ymd(world.as_of - timedelta(days=30))).alias("effective_date"),
    )


def mser_files(world: World, regs: pl.DataFrame, seed: int, batch: int) -> list[FileOut]:
    layout = load_layout("eiwo_mser_csv")
    out = []
    for row in regs.iter_rows(named=True):  # one file per registering employer
        sub = f"EMP-{row['employer_fein']}"
        block = finish_block(book(pl.DataFrame([row]), 0, None, None, None), layout, "MSER", 0.0, rng(seed, sub))
        out.append(FileOut(sub, "eiwo_mser_csv", f"MSER.{sub}.{ymd(world.as_of)}.{batch:03d}.csv", [block]))
    return out


def _never_employed(world: World, files) -> pl.DataFrame:
    """(person_id, employer_id) of the valid "never employed" eTermination notices."""
    rows = [
        frame.filter(~pl.col("_bad") & (pl.col("termination_reason") == "N")).select(
            pl.col("_pid").alias("person_id"), pl.col("employer_fein").alias("fein")
        )
        for fo in files
        for _, frame in fo.blocks
    ]
    pairs = pl.concat(rows) if rows else pl.DataFrame(schema={"person_id": pl.Int64, "fein": pl.Utf8})
    ids = world.employers.select("fein", "employer_id")
    return pairs.join(ids, on="fein", how="inner", maintain_order="left").select("person_id", "employer_id")


def eiwo_files(
    world: World,
    all_jobs: pl.DataFrame,
    views: pl.DataFrame,
    fin: pl.DataFrame,
    seed: int,
    rates: dict,
    invalid: float,
    batch: int,
    samples: bool = False,
    eterminations: list[FileOut] = (),
) -> tuple[list[FileOut], pl.DataFrame]:
    """Every e-IWO file of cycle 1 and its truth (truth_eiwo.parquet). `eterminations`: the home's eTermination
    files, whose valid "never employed" notices name (obligor, employer) pairs the orders reuse."""
    regs = registrations(world, seed, rates)
    files = mser_files(world, regs, seed, batch)
    never = _never_employed(world, eterminations)
    rows = build_orders(world, all_jobs, views, fin, seed, rates, samples, never)
    order_out, order_truth, lines = order_files(world, rows, regs, seed, rates, invalid, batch)
    ack_out, ack_truth = ack_files(world, lines, seed, rates, invalid, batch, samples) if lines.height else ([], None)
    truth = pl.concat([t for t in (order_truth, ack_truth) if t is not None]) if order_out else None
    return files + order_out + ack_out, truth if truth is not None else pl.DataFrame(schema=TRUTH_SCHEMA)
