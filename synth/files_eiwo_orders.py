"""The states' income withholding orders (eiwo_order fixed-width, eiwo_order_csv) with their truth.

Who gets an order: IV-D obligors (NP / PF of a case type F with an order) drawn with `orders_per_obligor`; the
employer named is, by a draw per order: a FEIN nobody holds (`unknown_fein`), one the obligor never worked for
(`never_employed`), the employer of the obligor's latest ended job (`stale_employer`), else the current employer
(falling back to the ended one; obligors with neither get no order). An obligor an employer reported "never
employed" in its eTermination file (synth/files_notices.py) gets an order to that employer (the state's information
was wrong; the employer answers with the eTermination, not an acknowledgment). A share `duplicate_iwo` of the orders to a
current employer is sent again under a new tracking number later in the batch; `malformed_amount` orders carry a
total amount that is not digits. Each of these cases occurs at least once per home when there are orders enough. Identity is the state's view of the obligor (its FCR noise); money in cents.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipeline.files.layouts import load_layout
from synth.eiwo_kit import TRUTH_SCHEMA, batched_file, lines_of, settings, universal
from synth.filekit import FileOut, book, finish_block, ymd
from synth.population import World
from synth.reference import rng, state_fips

MALFORMED = "12A45"


def _obligors(
    world: World, all_jobs: pl.DataFrame, e: dict, g: np.random.Generator, never_pairs: pl.DataFrame
) -> pl.DataFrame:
    cases = world.cases.filter((pl.col("order") == "Y") & (pl.col("case_type") == "F")).select("case_no")
    obl = (
        world.members.filter(pl.col("participant_type").is_in(["NP", "PF"]))
        .join(cases, on="case_no", how="semi")
        .select("case_no", "case_state", "case_id", "person_id")
        .unique(["case_state", "case_id", "person_id"], maintain_order=True)
        .sort("case_no", "person_id")
    )
    obl = obl.filter(pl.Series(g.random(obl.height) < e["orders_per_obligor"]))
    current = world.jobs.filter(pl.col("end_date").is_null()).sort("job_id").unique("person_id", keep="first")
    ended = (
        all_jobs.filter(pl.col("end_date").is_not_null() & (pl.col("end_date") <= world.as_of))
        .sort(["end_date", "job_id"], descending=[True, False])
        .unique("person_id", keep="first", maintain_order=True)
    )
    obl = obl.join(current.select("person_id", pl.col("employer_id").alias("cur")), on="person_id", how="left")
    obl = obl.join(
        ended.select("person_id", pl.col("employer_id").alias("old"), pl.col("end_date").alias("left_on")),
        on="person_id",
        how="left",
        maintain_order="left",
    ).sort("case_no", "person_id")
    u = g.random(obl.height)
    uf, ne, st = e["unknown_fein"], e["never_employed"], e["stale_employer"]
    kind = (
        pl.when(pl.Series(u < uf))
        .then(pl.lit("unknown"))
        .when(pl.Series(u < uf + ne))
        .then(pl.lit("never"))
        .when(pl.Series(u < uf + ne + st) & pl.col("old").is_not_null())
        .then(pl.lit("stale"))
        .when(pl.col("cur").is_not_null())
        .then(pl.lit("current"))
        .when(pl.col("old").is_not_null())
        .then(pl.lit("stale"))
    )
    obl = obl.with_columns(kind.alias("kind")).filter(pl.col("kind").is_not_null())
    # an employer that sent an eTermination "never employed" for this obligor: the state's order names it too
    told = never_pairs.unique("person_id", keep="first", maintain_order=True).rename({"employer_id": "told"})
    obl = obl.join(told, on="person_id", how="left", maintain_order="left").with_columns(
        pl.when(pl.col("told").is_not_null() & (pl.col("kind") != "unknown"))
        .then(pl.lit("never"))
        .otherwise("kind")
        .alias("kind"),
        (pl.col("told").is_not_null() & (pl.col("kind") != "unknown")).alias("_eterm"),
    )
    # every case at least once per home (a small home would otherwise miss the rarer ones): the first orders to a
    # current employer become an unknown FEIN and a never-employed one, the first obligor with an ended job stale
    current = obl.with_row_index("_i").filter(pl.col("kind") == "current").get_column("_i")
    forced = {"unknown": current.head(1), "never": current.slice(1, 1)}
    stale = obl.with_row_index("_i").filter(pl.col("old").is_not_null() & (pl.col("kind") == "current"))
    forced["stale"] = stale.get_column("_i").filter(~stale.get_column("_i").is_in(current.head(2).implode())).head(1)
    for name, rows in forced.items():
        if not obl.filter(pl.col("kind") == name).height and len(rows):
            obl = obl.with_columns(
                pl.when(pl.int_range(pl.len()).is_in(rows.implode())).then(pl.lit(name)).otherwise("kind").alias("kind")
            )
    return obl


def _employers(world: World, obl: pl.DataFrame, g: np.random.Generator) -> pl.DataFrame:
    """The employer each order names (employer_id; null with a fabricated FEIN for `unknown`)."""
    big = world.employers.sort("size", descending=True).head(max(10, world.employers.height // 10))
    pick = big.get_column("employer_id").gather(g.integers(0, big.height, obl.height))
    nxt = big.get_column("employer_id").gather((g.integers(0, big.height, obl.height) + 1) % big.height)
    never = pl.when(pl.col("_eterm")).then(pl.col("told"))
    never = never.when(pl.Series(pick) == pl.col("cur")).then(pl.Series(nxt)).otherwise(pl.Series(pick))
    emp = (
        pl.when(pl.col("kind") == "current")
        .then(pl.col("cur"))
        .when(pl.col("kind") == "stale")
        .then(pl.col("old"))
        .when(pl.col("kind") == "never")
        .then(never)
    )
    fake = "07" + pl.Series(g.choice(10_000_000, obl.height, replace=False)).cast(pl.Utf8).str.zfill(7)
    obl = obl.with_columns(emp.alias("employer_id"), fake.alias("_fake"))
    emp_cols = world.employers.select(
        "employer_id",
        "fein",
        "employer_name",
        pl.col("emp_street").alias("employer_address_line_1"),
        pl.col("emp_city").alias("employer_city"),
        pl.col("emp_state").alias("employer_state"),
        pl.col("emp_zip").alias("employer_zip"),
    )
    return obl.join(emp_cols, on="employer_id", how="left", maintain_order="left").with_columns(
        pl.coalesce("fein", "_fake").alias("employer_fein"),
        pl.col("employer_name").fill_null("KEYSTONE STAFFING LLC"),
        pl.col("employer_address_line_1").fill_null("100 UNKNOWN RD"),
    )


def _amounts(frame: pl.DataFrame, fin: pl.DataFrame) -> pl.DataFrame:
    f = fin.select("case_id", "monthly_obligation", "arrears")
    frame = frame.join(f, on="case_id", how="left", maintain_order="left")
    cur = pl.col("monthly_obligation").fill_null(35000)
    past = pl.when(pl.col("arrears") > 0).then((cur // 5).clip(1000, None)).otherwise(0)
    total = cur + past
    return frame.with_columns(
        cur.cast(pl.Utf8).alias("current_support_amount"),
        pl.lit("M").alias("current_support_frequency"),
        pl.when(past > 0).then(past.cast(pl.Utf8)).alias("past_due_support_amount"),
        pl.when(past > 0).then(pl.lit("M")).alias("past_due_support_frequency"),
        total.cast(pl.Utf8).alias("total_amount"),
        pl.lit("M").alias("total_frequency"),
        pl.when(pl.col("arrears") > 3 * cur).then(pl.lit("Y")).otherwise(pl.lit("N")).alias("arrears_over_12_weeks"),
        (total * 12 // 52).cast(pl.Utf8).alias("weekly_amount"),
        (total * 12 // 26).cast(pl.Utf8).alias("biweekly_amount"),
        (total // 2).cast(pl.Utf8).alias("semimonthly_amount"),
        total.cast(pl.Utf8).alias("monthly_amount"),
        pl.when(pl.col("arrears") > 3 * cur)
        .then(pl.lit("55"))
        .otherwise(pl.lit("50"))
        .alias("withholding_limit_percent"),
    )


def build_orders(
    world: World,
    all_jobs: pl.DataFrame,
    views: pl.DataFrame,
    fin: pl.DataFrame,
    seed: int,
    rates: dict,
    samples: bool,
    never_pairs: pl.DataFrame,
) -> pl.DataFrame:
    """Every order row (originals and duplicate copies) with its kind, person, state and layout text columns."""
    e = settings(rates, samples)
    g = rng(seed, "eiwo.orders")
    obl = _employers(world, _obligors(world, all_jobs, e, g, never_pairs), g)
    ident = views.select(
        "case_state",
        "person_id",
        "corruptions",
        pl.col("ssn_rep").alias("employee_ssn"),
        pl.col("first_name").alias("employee_first_name"),
        pl.col("middle_name").alias("employee_middle_name"),
        pl.col("last_name").alias("employee_last_name"),
        pl.col("dob_rep").alias("employee_dob"),
    )
    obl = obl.join(ident, on=["case_state", "person_id"], how="left", maintain_order="left")
    n = obl.height
    dup, malformed = g.random(n) < e["duplicate_iwo"], g.random(n) < e["malformed_amount"]
    current = np.flatnonzero(obl.get_column("kind").to_numpy() == "current")
    if len(current) > 2 and not dup[current].any():  # at least one of each per home
        dup[current[-1]] = True
    if len(current) > 2 and not malformed.any():
        malformed[current[-2]] = True
    obl = obl.with_columns(
        pl.Series("_seq", np.arange(1, n + 1)),
        pl.Series("_dup", dup),
        pl.Series("_malformed", malformed),
        pl.Series("_days", g.integers(1, 8, n)),
    )
    dups = obl.filter(pl.col("_dup") & (pl.col("kind") == "current")).with_columns(
        pl.col("_seq") + n, pl.lit(False).alias("_malformed"), pl.lit(True).alias("_copy")
    )
    rows = pl.concat([obl.with_columns(pl.lit(False).alias("_copy")), dups], how="diagonal_relaxed")
    rows = _amounts(rows, fin).with_columns(
        pl.lit("ORG").alias("document_action_code"),
        pl.format("STATE OF {}", "case_state").alias("issuing_state_name"),
        pl.format(
            "{}{}-{}-{}",
            "case_state",
            pl.col("case_state").replace_strict({st: state_fips(st) for st in world.states}, default=None),
            pl.lit(ymd(world.as_of)),
            pl.col("_seq").cast(pl.Utf8).str.zfill(6),
        ).alias("document_tracking_id"),
        pl.format("{}-IWO", "case_id").alias("order_id"),
        pl.col("case_id").alias("remittance_id"),
        pl.format("{} STATE DISBURSEMENT UNIT", "case_state").alias("payee_name"),
        pl.lit("PO BOX 1000").alias("payee_address_line_1"),
        pl.col("case_state").alias("payee_state"),
        pl.lit("8005550100").alias("state_contact_phone"),
    )
    issued = (pl.lit(world.as_of) - pl.duration(days=pl.col("_days"))).dt.strftime("%Y%m%d")
    return rows.with_columns(issued.alias("document_date")).sort("case_state", "employer_fein", "_seq")


def _outcomes(rows: pl.DataFrame, regs: pl.DataFrame) -> pl.DataFrame:
    """The truth of each written order line (its finished text columns + the generator's side columns)."""
    live = ~pl.col("_bad") & (pl.col("kind") != "unknown")
    key = ["case_state", "case_id", "employee_ssn", "employer_fein"]
    rows = rows.sort("line").with_columns(pl.when(live).then(pl.int_range(pl.len()).over([*key, live])).alias("_rank"))
    rows = rows.join(
        regs.select(pl.col("employer_fein"), "iwo_recipient_fein", pl.col("eiwo").alias("_sys")),
        on="employer_fein",
        how="left",
        maintain_order="left",
    )
    outcome = (
        pl.when(pl.col("_bad"))
        .then(pl.lit("REJECTED"))
        .when(pl.col("kind") == "unknown")
        .then(pl.lit("REFUSED:UNKNOWN_FEIN"))
        .when(pl.col("_rank") > 0)
        .then(pl.lit("REFUSED:DUPLICATE_IWO"))
        .otherwise(pl.lit("SENT"))
    )
    recipient = pl.coalesce("iwo_recipient_fein", "employer_fein")
    return rows.with_columns(
        outcome.alias("outcome"),
        pl.when(outcome == "SENT").then(recipient).alias("expected"),
        (pl.col("_sys") == "Y").fill_null(False).alias("sys"),
    )


def order_files(
    world: World, rows: pl.DataFrame, regs: pl.DataFrame, seed: int, rates: dict, invalid: float, batch: int
) -> tuple[list[FileOut], pl.DataFrame, pl.DataFrame]:
    """(files, truth rows, the order lines with their outcome) — one file per state, fixed or CSV."""
    every = int(rates["eiwo"]["csv_every"])
    fixed_layout = "eiwo_order"
    side_cols = ["kind", "person_id", "case_state", "_seq", "cur", "left_on", "_eterm"]
    files, done = [], []
    for i, st in enumerate(world.states):
        part = rows.filter(pl.col("case_state") == st)
        if part.is_empty():
            continue
        g = rng(seed, f"eiwo.orders.{st}")
        fips = state_fips(st)
        csv = every > 0 and i % every == 1
        booked = book(part, 0, pl.int_range(pl.len()).over("employer_fein"))
        booked = booked.with_columns(
            pl.when(pl.col("_malformed"))
            .then(pl.lit(MALFORMED))
            .otherwise(pl.col("total_amount"))
            .alias("total_amount"),
            (pl.col("_bad") | pl.col("_malformed")).alias("_bad"),
            pl.when(pl.col("_malformed"))
            .then(pl.col("_corr").list.concat(pl.lit(["invalid:total_amount:malformed"])))
            .otherwise(pl.col("_corr"))
            .alias("_corr"),
        )
        stamp = ymd(world.as_of)
        if csv:
            booked = booked.with_columns(
                pl.col("case_state").alias("issuing_state"), pl.int_range(pl.len()).cast(pl.Int64).alias("_k2")
            )
            blocks = [finish_block(booked, load_layout("eiwo_order_csv"), "DTL", invalid, g)]
            name, layout = f"EIWO.{st}.{stamp}.{batch:03d}.csv", "eiwo_order_csv"
        else:
            booked = booked.with_columns(pl.col("employer_fein").rank("dense").cast(pl.Int64).alias("_k1"))
            control = f"{fips}000{stamp}{batch:03d}"
            blocks = batched_file(
                fixed_layout,
                ("FHI", "BHI", "DTL", "BTI", "FTI"),
                booked,
                "employer_fein",
                lambda control=control, fips=fips: universal(control, world.as_of, fips),
                lambda fein, n, control=control, fips=fips: universal(f"{control}B{n:04d}", world.as_of, fips, fein),
                invalid,
                g,
            )
            name, layout = f"EIWO.{st}.{stamp}.{batch:03d}.dat", fixed_layout
        files.append(FileOut(st, layout, name, blocks))
        written = pl.concat([f for rid, f in blocks if rid == "DTL"])
        written = written.join(lines_of(blocks, csv), on=["_k1", "_k2"], how="left")
        side = booked.select("_k1", "_k2", *side_cols)
        done.append(written.join(side, on=["_k1", "_k2"], how="left").with_columns(pl.lit(name).alias("file")))
    lines = _outcomes(pl.concat(done, how="diagonal_relaxed"), regs) if done else pl.DataFrame()
    truth = (
        lines.select(pl.lit("order").alias("kind"), "file", "line", "person_id", "expected", "outcome").cast(
            TRUTH_SCHEMA
        )
        if done
        else pl.DataFrame(schema=TRUTH_SCHEMA)
    )
    return files, truth, lines
