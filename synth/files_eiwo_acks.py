"""The employers' acknowledgments of the orders fpls sends (eiwo_ack fixed-width, eiwo_ack_csv) with their truth.

The recipient of each order the truth says is SENT answers it (unless it answered with an eTermination "never
employed" notice) with a share `ack_rate` (the first stale and the
first never-employed order always): R/N for a stale employer (termination date = the end of the job, the new
employer when it knows it), R/U for a never-employed one, else a disposition drawn from `dispositions`, each of
them at least once when there are enough. A share `ack_unknown_order` (at least one) name a tracking number never
sent. Recipients that take e-IWO send fixed-width files (a BHA batch per issuing state), the others the No
Programming Option's spreadsheet as CSV. The employer reports the employee under the name it has on file.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl

from pipeline.files.layouts import load_layout
from synth.eiwo_kit import TRUTH_SCHEMA, batched_file, lines_of, settings, universal
from synth.filekit import FileOut, book, finish_block, ymd
from synth.population import World
from synth.reference import rng, state_fips

NORMAL = ("A", "AB", "AS", "AW", "RB", "RD", "RM", "RX", "RZ")


def _dispositions(sent: pl.DataFrame, e: dict, g: np.random.Generator) -> pl.Series:
    weights = np.array([float(e["dispositions"].get(d, 0.0)) for d in NORMAL])
    drawn = np.array(NORMAL)[g.choice(len(NORMAL), size=sent.height, p=weights / weights.sum())]
    current = np.flatnonzero(sent.get_column("kind").to_numpy() == "current")
    if len(current) >= len(NORMAL):  # every disposition at least once
        drawn[g.permutation(current)[: len(NORMAL)]] = np.array(NORMAL)
    kind = sent.get_column("kind").to_numpy()
    return pl.Series("disposition", np.where(kind == "stale", "RN", np.where(kind == "never", "RU", drawn)))


def _acked(lines: pl.DataFrame, e: dict, g: np.random.Generator) -> pl.DataFrame:
    sent = lines.filter((pl.col("outcome") == "SENT") & ~pl.col("_eterm").fill_null(False)).sort("file", "line")
    first = pl.int_range(pl.len()).over("kind") == 0
    keep = pl.Series(g.random(sent.height) < e["ack_rate"]) | (first & pl.col("kind").is_in(["stale", "never"]))
    return sent.filter(keep)


def build_acks(world: World, lines: pl.DataFrame, seed: int, rates: dict, samples: bool) -> pl.DataFrame:
    e = settings(rates, samples)
    g = rng(seed, "eiwo.acks")
    sent = _acked(lines, e, g)
    sent = sent.with_columns(_dispositions(sent, e, g))
    n = sent.height
    p = world.persons.select("person_id", "first", "last", "street", "city", "state", "zip")
    sent = sent.join(p, on="person_id", how="left", maintain_order="left")
    emps = world.employers.select(
        pl.col("employer_id").alias("cur"),
        pl.col("employer_name").alias("cur_name"),
        pl.col("emp_street").alias("cur_street"),
        pl.col("emp_city").alias("cur_city"),
        pl.col("emp_state").alias("cur_state"),
        pl.col("emp_zip").alias("cur_zip"),
    )
    sent = sent.join(emps, on="cur", how="left", maintain_order="left")
    feins = world.employers.get_column("fein")
    others = [s for s in world.states] + ["CA"]
    fips = {s: state_fips(s) for s in set(others)}
    other_state = {s: fips[others[(i + 1) % len(others)]] for i, s in enumerate(world.states)}
    d = pl.col("disposition")
    rn = d == "RN"
    knows_new = rn & pl.Series(g.random(n) < 0.5) & pl.col("cur").is_not_null()
    renamed = pl.when(pl.col("first") == "ALEX").then(pl.lit("SAM")).otherwise(pl.lit("ALEX"))
    left = pl.col("left_on")
    return sent.with_columns(
        pl.lit("ORG").alias("document_action_code"),
        pl.col("last").alias("employee_last_name"),
        pl.when(d.is_in(["AB", "RB"])).then(renamed).otherwise(pl.col("first")).alias("employee_first_name"),
        pl.col("case_state").replace_strict(fips, default=None).alias("issuing_state_fips"),
        d.str.slice(0, 1).alias("disposition_status"),
        pl.when(d.str.len_chars() > 1).then(d.str.slice(1, 1)).alias("disposition_reason"),
        pl.when(d == "AW").then(pl.Series(feins.gather(g.integers(0, len(feins), n)))).alias("corrected_fein"),
        pl.when(d == "RM")
        .then(pl.col("case_state").replace_strict(other_state, default=None))
        .alias("other_state_fips"),
        pl.when(rn).then(left.dt.strftime("%Y%m%d")).alias("termination_date"),
        pl.when(rn).then((left + timedelta(days=5)).dt.strftime("%Y%m%d")).alias("final_payment_date"),
        pl.when(rn).then(pl.lit("25000")).alias("final_payment_amount"),
        pl.when(knows_new).then(pl.col("cur_name")).alias("new_employer_name"),
        pl.when(knows_new).then(pl.col("cur_street")).alias("new_employer_address_line_1"),
        pl.when(knows_new).then(pl.col("cur_city")).alias("new_employer_city"),
        pl.when(knows_new).then(pl.col("cur_state")).alias("new_employer_state"),
        pl.when(knows_new).then(pl.col("cur_zip")).alias("new_employer_zip"),
        pl.when(rn).then(pl.col("street")).alias("employee_address_line_1"),
        pl.when(rn).then(pl.col("city")).alias("employee_city"),
        pl.when(rn).then(pl.col("state")).alias("employee_state"),
        pl.when(rn).then(pl.col("zip")).alias("employee_zip"),
        pl.lit(ymd(world.as_of)).alias("ack_date"),
        pl.lit("PAYROLL OFFICE").alias("contact_name"),
        pl.lit("8005550199").alias("contact_phone"),
        pl.lit(False).alias("orphan"),
    )


def _orphans(acks: pl.DataFrame, e: dict, g: np.random.Generator) -> pl.DataFrame:
    k = min(acks.height, max(1, round(acks.height * float(e["ack_unknown_order"]))))
    pick = acks.gather(np.sort(g.choice(acks.height, k, replace=False))) if k else acks.head(0)
    return pick.with_columns(
        pl.format("NOSUCH-{}", pl.int_range(pl.len()).cast(pl.Utf8).str.zfill(6)).alias("document_tracking_id"),
        pl.lit(True).alias("orphan"),
        pl.lit("A").alias("disposition_status"),
        pl.lit(None, pl.Utf8).alias("disposition_reason"),
    )


def ack_files(
    world: World, lines: pl.DataFrame, seed: int, rates: dict, invalid: float, batch: int, samples: bool
) -> tuple[list[FileOut], pl.DataFrame]:
    e = settings(rates, samples)
    acks = build_acks(world, lines, seed, rates, samples)
    if acks.is_empty():
        return [], pl.DataFrame(schema=TRUTH_SCHEMA)
    acks = pl.concat([acks, _orphans(acks, e, rng(seed, "eiwo.acks.orphans"))], how="diagonal_relaxed")
    acks = acks.rename({"expected": "recipient"}).sort("recipient", "issuing_state_fips", "orphan", "file", "line")
    files, truth = [], []
    for (recipient, sys), part in acks.group_by(["recipient", "sys"], maintain_order=True):  # one file per employer
        sub, g = f"EMP-{recipient}", rng(seed, f"eiwo.acks.{recipient}")
        booked = book(part, 0, pl.int_range(pl.len()).over("issuing_state_fips"), "person_id", None)
        if sys:
            booked = booked.with_columns(pl.col("issuing_state_fips").rank("dense").cast(pl.Int64).alias("_k1"))
            control = f"{recipient}{ymd(world.as_of)}{batch:03d}"
            blocks = batched_file(
                "eiwo_ack",
                ("FHA", "BHA", "ACK", "BTA", "FTA"),
                booked,
                "issuing_state_fips",
                lambda c=control, r=recipient: universal(c, world.as_of, None, r),
                lambda fips, n, c=control, r=recipient: universal(f"{c}B{n:02d}", world.as_of, fips, r),
                invalid,
                g,
            )
            name, layout = f"EIWOACK.{sub}.{ymd(world.as_of)}.{batch:03d}.dat", "eiwo_ack"
        else:
            booked = booked.with_columns(pl.int_range(pl.len()).cast(pl.Int64).alias("_k2"))
            blocks = [finish_block(booked, load_layout("eiwo_ack_csv"), "ACK", invalid, g)]
            name, layout = f"EIWOACK.{sub}.{ymd(world.as_of)}.{batch:03d}.csv", "eiwo_ack_csv"
        files.append(FileOut(sub, layout, name, blocks))
        written = pl.concat([f for rid, f in blocks if rid == "ACK"]).join(lines_of(blocks, not sys), on=["_k1", "_k2"])
        written = written.join(booked.select("_k1", "_k2", "case_state", "orphan"), on=["_k1", "_k2"], how="left")
        truth.append(
            written.select(
                pl.lit("ack").alias("kind"),
                pl.lit(name).alias("file"),
                "line",
                pl.col("_pid").alias("person_id"),
                pl.when(~pl.col("_bad") & ~pl.col("orphan")).then(pl.col("case_state")).alias("expected"),
                pl.when(pl.col("_bad"))
                .then(pl.lit("REJECTED"))
                .when(pl.col("orphan"))
                .then(pl.lit("REFUSED:ORDER_NOT_FOUND"))
                .otherwise(pl.lit("ROUTED"))
                .alias("outcome"),
            ).cast(TRUTH_SCHEMA)
        )
    return files, pl.concat(truth)
