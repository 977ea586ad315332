"""NDNH inbound files: W-4 new hires (state directories and multistate employers, fixed-width and CSV),
quarterly wages (QW) and unemployment insurance (UI) from state workforce agencies."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from pipeline.files.layouts import load_layout
from synth.filekit import FileOut, book, finish_block, identity, quarter_of, ymd
from synth.population import World
from synth.reference import rng, state_fips

EMPLOYER_COLS = [
    pl.col("fein").alias("employer_fein"),
    pl.concat_str([pl.col("emp_state"), pl.col("state_ein")]).alias("employer_state_ein"),
    "employer_name",
    pl.col("emp_street").alias("employer_address_line_1"),
    pl.col("emp_line2").alias("employer_address_line_2"),
    pl.col("emp_city").alias("employer_city"),
    pl.col("emp_state").alias("employer_state"),
    pl.col("emp_zip").alias("employer_zip"),
]


def new_hires(
    world: World, jobs: pl.DataFrame, since: date, until: date, seed: int, rates: dict, tag: str
) -> pl.DataFrame:
    """W-4 rows for jobs hired in (since, until], with the employee's reported identity and employer."""
    hired = jobs.filter((pl.col("hire_date") > since) & (pl.col("hire_date") <= until)).sort("job_id")
    view = identity(hired, world.persons, rates["noise"]["w4"], rng(seed, f"w4.noise.{tag}"))
    view = view.join(
        world.persons.select("person_id", "street", "line2", "city", "state", "zip", "zip4"),
        on="person_id",
        how="left",
        maintain_order="left",
    )
    view = view.join(world.employers, on="employer_id", how="left", maintain_order="left")
    return view.select(
        "person_id",
        "corruptions",
        "employer_id",
        "fein",
        "multistate",
        "csv",
        "work_state",
        pl.col("ssn_rep").alias("ssn"),
        "first_name",
        "middle_name",
        "last_name",
        pl.col("street").alias("address_line_1"),
        pl.col("line2").alias("address_line_2"),
        "city",
        "state",
        "zip",
        "zip4",
        pl.col("dob_rep").alias("dob"),
        "hire_date",
        pl.col("work_state").alias("state_of_hire"),
        *EMPLOYER_COLS,
    )


def w4_files(
    world: World, rows: pl.DataFrame, as_of: date, seed: int, invalid: float, batch: int, tag: str
) -> list[FileOut]:
    fixed, csv = load_layout("ndnh_w4"), load_layout("new_hire_csv")
    out = []
    g = rng(seed, f"w4.files.{tag}")
    direct = rows.filter(pl.col("multistate"))
    for st in sorted(rows.filter(~pl.col("multistate")).get_column("work_state").unique().to_list()):
        part = rows.filter(~pl.col("multistate") & (pl.col("work_state") == st))
        header = pl.DataFrame(
            {"transmitter_state_fips": [state_fips(st)], "date_stamp": [ymd(as_of)], "batch_number": [f"{batch:06d}"]}
        )
        out.append(_w4_fixed(f"SDNH-{st}", header, part, fixed, as_of, batch, invalid, g))
    for fein, is_csv in direct.select("fein", "csv").unique(maintain_order=True).sort("fein").iter_rows():
        part = direct.filter(pl.col("fein") == fein)
        if is_csv:
            out.append(
                FileOut(
                    f"EMP-{fein}",
                    "new_hire_csv",
                    f"NEWHIRE.EMP-{fein}.{ymd(as_of)}.{batch:03d}.csv",
                    [finish_block(book(part, 0), csv, "W4", invalid, g)],
                )
            )
        else:
            header = pl.DataFrame(
                {"transmitter_agency_code": [fein], "date_stamp": [ymd(as_of)], "batch_number": [f"{batch:06d}"]}
            )
            out.append(_w4_fixed(f"EMP-{fein}", header, part, fixed, as_of, batch, invalid, g))
    return out


def _w4_fixed(
    submitter: str,
    header: pl.DataFrame,
    part: pl.DataFrame,
    layout,
    as_of: date,
    batch: int,
    invalid: float,
    g: np.random.Generator,
) -> FileOut:
    trailer = pl.DataFrame({"record_count": [str(part.height)]})
    return FileOut(
        submitter,
        "ndnh_w4",
        f"W4.{submitter}.{ymd(as_of)}.{batch:03d}.dat",
        [
            finish_block(book(header, -1, 0, None, None), layout, "H4", 0, g),
            finish_block(book(part, 0), layout, "W4", invalid, g),
            finish_block(book(trailer, 1, 0, None, None), layout, "T4", 0, g),
        ],
    )


def _swa_header(st: str, kind: str, as_of: date, batch: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "transmitter_state_fips": [state_fips(st)],
            "date_stamp": [ymd(as_of)],
            "batch_number": [f"{batch:06d}"],
            "transmission_type": [kind],
        }
    )


def qw_files(
    world: World,
    seed: int,
    rates: dict,
    invalid: float,
    batch: int,
    jobs: pl.DataFrame | None = None,
    quarters: int = 1,
) -> list[FileOut]:
    """Wages of the last `quarters` complete quarters (history): per state and quarter one file, one E4 per
    employer in the state, then its QW records. `jobs` defaults to the current jobs (`World.jobs`)."""
    from synth.history import quarters_back

    jobs = world.jobs if jobs is None else jobs
    out = []
    for qi, (q_start, q_end, period) in enumerate(quarters_back(world.as_of, quarters)):
        out += _qw_quarter(
            world, jobs, q_start, q_end, period, seed, rates, invalid, batch, "" if qi == 0 else f".q{qi}"
        )
    return out


def _qw_quarter(
    world: World,
    jobs: pl.DataFrame,
    q_start: date,
    q_end: date,
    period: str,
    seed: int,
    rates: dict,
    invalid: float,
    batch: int,
    tag: str,
) -> list[FileOut]:
    layout = load_layout("ndnh_qw")
    days = (q_end - q_start).days + 1
    active = jobs.filter(
        (pl.col("hire_date") <= q_end) & (pl.col("end_date").is_null() | (pl.col("end_date") >= q_start))
    )
    first = pl.max_horizontal(pl.col("hire_date"), pl.lit(q_start))
    last = pl.min_horizontal(pl.col("end_date").fill_null(q_end), pl.lit(q_end))
    active = active.with_columns(
        ((pl.col("annual_cents") // 4) * ((last - first).dt.total_days() + 1) // days).alias("wage_amount")
    ).sort("job_id")
    view = identity(active, world.persons, rates["noise"]["qw"], rng(seed, f"qw.noise{tag}"))
    view = view.join(world.employers.select("employer_id", "fein"), on="employer_id", how="left", maintain_order="left")
    out = []
    for st in sorted(view.get_column("work_state").unique().to_list()):
        g = rng(seed, f"qw.{st}{tag}")
        part = view.filter(pl.col("work_state") == st)
        emps = (
            part.select("employer_id")
            .unique()
            .sort("employer_id")
            .with_row_index("_rank")
            .join(world.employers, on="employer_id", how="left", maintain_order="left")
        )
        e4 = book(
            emps.select(
                "_rank",
                *EMPLOYER_COLS,
                pl.col("emp_zip4").alias("employer_zip4"),
                pl.lit(period).alias("reporting_period"),
            ),
            pl.col("_rank"),
            0,
            None,
            None,
        )
        qw = part.join(emps.select("employer_id", "_rank"), on="employer_id", how="left", maintain_order="left").select(
            "_rank",
            "person_id",
            "corruptions",
            pl.col("ssn_rep").alias("ssn"),
            "first_name",
            "middle_name",
            "last_name",
            pl.col("wage_amount").cast(pl.Utf8),
            pl.lit(period).alias("reporting_period"),
            pl.col("fein").alias("employer_fein"),
        )
        qw = qw.sort("_rank", maintain_order=True)
        qwb = finish_block(
            book(qw, pl.col("_rank"), pl.int_range(pl.len()).over("_rank") + 1), layout, "QW", invalid, g
        )
        wage_total = qwb[1].get_column("wage_amount").cast(pl.Int64, strict=False).sum() or 0
        trailer = pl.DataFrame(
            {"employer_count": [str(e4.height)], "employee_count": [str(qw.height)], "wage_total": [str(wage_total)]}
        )
        out.append(
            FileOut(
                f"SWA-{st}",
                "ndnh_qw",
                f"QW.SWA-{st}.{period}.{batch:03d}.dat",
                [
                    finish_block(
                        book(_swa_header(st, "QW", world.as_of, batch), -1, 0, None, None), layout, "H4", 0, g
                    ),
                    finish_block(e4, layout, "E4", invalid, g),
                    qwb,
                    finish_block(book(trailer, 10**12, 0, None, None), layout, "T4", 0, g),
                ],
            )
        )
    return out


def ui_claimants(world: World, seed: int, rates: dict) -> pl.DataFrame:
    """Cycle 1's UI claimants: adults without a current job, at the rate `ui_claim_of_not_employed`."""
    g0 = rng(seed, "ui.claimants")
    working = world.jobs.filter(pl.col("end_date").is_null()).select("person_id").unique()
    pool = world.persons.filter(
        pl.col("dod").is_null()
        & (pl.col("age") >= 18)
        & (pl.col("age") < 65)
        & ~pl.col("person_id").is_in(working.get_column("person_id").implode())
    ).sort("person_id")
    return pool.filter(pl.Series(g0.random(pool.height) < rates["employment"]["ui_claim_of_not_employed"]))


def ui_files(
    world: World,
    seed: int,
    rates: dict,
    invalid: float,
    batch: int,
    claim: pl.DataFrame | None = None,
    as_of: date | None = None,
) -> list[FileOut]:
    """UI claims per state (default: cycle 1's claimants on the world's date)."""
    layout = load_layout("ndnh_ui")
    as_of = as_of or world.as_of
    _, _, period = quarter_of(as_of)
    claim = ui_claimants(world, seed, rates) if claim is None else claim
    tag = "" if batch == 1 else f".{batch}"
    g0 = rng(seed, f"ui.benefit{tag}")
    n = claim.height
    benefit = (g0.integers(150, 600, n) * g0.integers(1, 14, n) * 100).astype(np.int64)
    view = identity(
        claim.select("person_id", "street", "line2", "city", "state", "zip", "zip4").with_columns(
            pl.Series("benefit_amount", benefit)
        ),
        world.persons,
        rates["noise"]["ui"],
        rng(seed, f"ui.noise{tag}"),
    )
    out = []
    for st in sorted(view.get_column("state").unique().to_list()):
        g = rng(seed, f"ui.{st}{tag}")
        part = view.filter(pl.col("state") == st).select(
            "person_id",
            "corruptions",
            pl.col("ssn_rep").alias("ssn"),
            "first_name",
            "middle_name",
            "last_name",
            pl.col("street").alias("address_line_1"),
            pl.col("line2").alias("address_line_2"),
            "city",
            "state",
            "zip",
            "zip4",
            pl.col("benefit_amount").cast(pl.Utf8),
            pl.lit(period).alias("reporting_period"),
        )
        uib = finish_block(book(part, 0), layout, "UI", invalid, g)
        total = uib[1].get_column("benefit_amount").cast(pl.Int64, strict=False).sum() or 0
        trailer = pl.DataFrame({"record_count": [str(part.height)], "benefit_total": [str(total)]})
        out.append(
            FileOut(
                f"SWA-{st}",
                "ndnh_ui",
                f"UI.SWA-{st}.{ymd(as_of)}.{batch:03d}.dat",
                [
                    finish_block(book(_swa_header(st, "UI", as_of, batch), -1, 0, None, None), layout, "H4", 0, g),
                    uib,
                    finish_block(book(trailer, 1, 0, None, None), layout, "T4", 0, g),
                ],
            )
        )
    return out


def window_start(as_of: date, rates: dict) -> date:
    return as_of - timedelta(days=int(rates["employment"]["new_hire_window_days"]))
