"""Files from SSA and from the state IV-D agencies: SSA master, FCR input, offset debtor file, case
financial summary. A state's own view of a person (SSN, names, DOB) is drawn once and shared by all
of that state's files, as a state system would."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from pipeline.files.layouts import load_layout
from synth.filekit import FileOut, book, finish_block, identity, ymd
from synth.population import World
from synth.reference import rng

LOCATE_SOURCES = ("A01", "C01", "E01", "F01")
EXCLUSIONS = ("PAS", "ADM", "FIN", "TAX", "INS", "ADM,PAS", "RET,SAL", "FIN,INS", "VEN")


def ssa_file(world: World, seed: int, rates: dict, invalid: float, batch: int) -> FileOut:
    layout = load_layout("ssa_master")
    p = world.persons
    primary = p.select("person_id", pl.col("other_ssn").alias("_xref"), pl.lit(False).alias("_second"))
    second = p.filter(pl.col("other_ssn").is_not_null()).select(
        "person_id", pl.col("ssn").alias("_xref"), pl.lit(True).alias("_second")
    )
    ids = pl.concat([primary, second])
    view = identity(ids, p, rates["noise"]["ssa"], rng(seed, "ssa.noise"), last_col="ssa_last")
    view = view.join(p.select("person_id", "dod"), on="person_id", how="left", maintain_order="left")
    view = view.with_columns(
        pl.when(pl.col("_second")).then(pl.col("other_ssn")).otherwise(pl.col("ssn_rep")).alias("ssn_out")
    )
    data = view.select(
        "person_id",
        "corruptions",
        pl.col("ssn_out").alias("ssn"),
        "first_name",
        "middle_name",
        "last_name",
        pl.col("dob_rep").alias("dob"),
        "sex",
        pl.col("dod").alias("date_of_death"),
        pl.col("_xref").alias("other_ssn_1"),
    ).sort("ssn")
    gen = rng(seed, "ssa.invalid")
    header = book(pl.DataFrame({"date_stamp": [ymd(world.as_of)], "batch_number": [f"{batch:06d}"]}), 0, 0, None, None)
    trailer = book(pl.DataFrame({"record_count": [str(data.height)]}), 2, 0, None, None)
    return FileOut(
        "SSA",
        "ssa_master",
        f"SSA.SSA.{ymd(world.as_of)}.{batch:03d}.dat",
        [
            finish_block(header, layout, "MH", 0, gen),
            finish_block(book(data, 1), layout, "MR", invalid, gen),
            finish_block(trailer, layout, "MT", 0, gen),
        ],
    )


def state_views(world: World, seed: int, rates: dict) -> pl.DataFrame:
    """One reported identity per (state, person) registered in that state's cases."""
    cr = rates["cases"]
    ids = world.members.select("case_state", "person_id", "member_id").unique(
        ["case_state", "person_id"], maintain_order=True
    )
    view = identity(ids, world.persons, rates["noise"]["fcr"], rng(seed, "state.noise"))
    g = rng(seed, "state.extra")
    n = view.height
    p = world.persons.select(
        "person_id",
        "married",
        "moved",
        "street",
        "line2",
        "city",
        "state",
        "zip",
        "zip4",
        "prev_street",
        "prev_line2",
        "prev_city",
        "prev_state",
        "prev_zip",
        "prev_zip4",
    )
    view = view.join(p, on="person_id", how="left", maintain_order="left")
    changed = pl.col("married") & (pl.col("last") != pl.col("birth_last"))
    stale = pl.col("moved") & pl.Series(g.random(n) < cr["state_address_stale"])
    addr = ["street", "line2", "city", "state", "zip", "zip4"]
    return view.with_columns(
        pl.when(changed & pl.Series(g.random(n) < cr["knows_birth_surname"]))
        .then(pl.col("birth_last"))
        .alias("add_last_1"),
        pl.when(
            pl.col("other_ssn").is_not_null()
            & pl.Series(g.random(n) < cr["knows_other_ssn"])
            & (pl.col("ssn_rep").ne_missing(pl.col("other_ssn")))
        )
        .then(pl.col("other_ssn"))
        .alias("add_ssn_1"),
        *[pl.when(stale).then(pl.col(f"prev_{c}")).otherwise(pl.col(c)).alias(f"addr_{c}") for c in addr],
        stale.alias("stale_address"),
    )


def fcr_file(world: World, st: str, views: pl.DataFrame, seed: int, rates: dict, invalid: float, batch: int) -> FileOut:
    layout = load_layout("fcr_input")
    cases = world.cases.filter(pl.col("case_state") == st).sort("case_no")
    case_rank = cases.select("case_no").with_row_index("_rank")
    fc = book(
        cases.join(case_rank, on="case_no", maintain_order="left").select(
            "_rank",
            pl.lit("A").alias("action_type"),
            "case_id",
            "case_type",
            pl.col("order").alias("order_indicator"),
            "fips_county",
        ),
        pl.col("_rank"),
        0,
        None,
        None,
    )
    g = rng(seed, f"fcr.{st}")
    mem = world.members.filter(pl.col("case_state") == st).join(case_rank, on="case_no", maintain_order="left")
    mem = mem.join(
        views.filter(pl.col("case_state") == st).drop("case_state", "member_id"),
        on="person_id",
        how="left",
        maintain_order="left",
    )
    fp = mem.with_columns(pl.int_range(pl.len()).over("case_no").alias("_i")).select(
        "_rank",
        "_i",
        "person_id",
        "corruptions",
        pl.lit("A").alias("action_type"),
        "case_id",
        "participant_type",
        pl.when("fv").then(pl.lit("FV")).alias("family_violence"),
        "member_id",
        "sex",
        pl.col("dob_rep").alias("dob"),
        pl.col("ssn_rep").alias("ssn"),
        "first_name",
        "middle_name",
        "last_name",
        pl.col("add_ssn_1").alias("additional_ssn_1"),
        pl.when(pl.col("add_last_1").is_not_null()).then(pl.col("first")).alias("additional_first_name_1"),
        pl.col("add_last_1").alias("additional_last_name_1"),
    )
    locate = fp.filter(pl.col("participant_type").is_in(["NP", "PF"])).filter(
        pl.Series(
            g.random(int(fp.get_column("participant_type").is_in(["NP", "PF"]).sum()))
            < rates["cases"]["locate_request"]
        )
    )
    locate = locate.with_columns(
        pl.lit("L").alias("action_type"),
        pl.lit("CS").alias("locate_request_type"),
        pl.lit(100).alias("_i"),
        *[pl.lit(s).alias(f"locate_source_{i + 1}") for i, s in enumerate(LOCATE_SOURCES)],
    )
    fp = pl.concat([fp, locate], how="diagonal_relaxed")
    header = book(
        pl.DataFrame({"submitting_state": [st], "date_stamp": [ymd(world.as_of)], "batch_number": [f"{batch:06d}"]}),
        -1,
        0,
        None,
        None,
    )
    trailer = book(
        pl.DataFrame({"case_count": [str(fc.height)], "person_count": [str(fp.height)]}), 10**12, 0, None, None
    )
    return FileOut(
        st,
        "fcr_input",
        f"FCR.{st}.{ymd(world.as_of)}.{batch:03d}.dat",
        [
            finish_block(header, layout, "FH", 0, g),
            finish_block(fc, layout, "FC", invalid, g),
            finish_block(book(fp, pl.col("_rank"), pl.col("_i") + 1), layout, "FP", invalid, g),
            finish_block(trailer, layout, "FZ", 0, g),
        ],
    )


def debtors(world: World, fin: pl.DataFrame, views: pl.DataFrame, rates: dict) -> pl.DataFrame:
    """Offset debtor rows: one per (state, NP, TANF / non-TANF) with summed arrears over the threshold."""
    cr = rates["cases"]
    nps = world.members.filter(pl.col("participant_type").is_in(["NP", "PF"])).select("case_no", "person_id")
    rows = (
        world.cases.filter(pl.col("case_type") == "F")
        .select("case_no", "case_id", "case_state", "tanf")
        .join(nps, on="case_no", maintain_order="left")
        .join(fin.select("case_no", "arrears"), on="case_no", maintain_order="left")
    )
    agg = rows.group_by("case_state", "person_id", "tanf", maintain_order=True).agg(
        pl.col("case_id").first(), (pl.col("arrears").sum() // 100).alias("arrearage")
    )
    threshold = (
        pl.when(pl.col("tanf") == "A").then(cr["offset_threshold_tanf"]).otherwise(cr["offset_threshold_non_tanf"])
    )
    agg = agg.filter(pl.col("arrearage") >= threshold)
    return agg.join(views, on=["case_state", "person_id"], how="left", maintain_order="left").filter(
        pl.col("ssn_rep").is_not_null()
    )


def offset_file(
    world: World, st: str, debt: pl.DataFrame, seed: int, rates: dict, invalid: float, batch: int
) -> FileOut:
    layout = load_layout("offset_debtor")
    g = rng(seed, f"offset.{st}")
    d = debt.filter(pl.col("case_state") == st)
    n = d.height
    excl = np.where(
        g.random(n) < rates["cases"]["exclusions"], np.array(EXCLUSIONS)[g.integers(0, len(EXCLUSIONS), n)], ""
    )
    data = d.with_columns(pl.Series("exclusions", excl).replace("", None)).select(
        "person_id",
        pl.when("stale_address")
        .then(pl.col("corruptions").list.concat(pl.lit(["stale_address"])))
        .otherwise("corruptions")
        .alias("corruptions"),
        pl.lit(st).alias("submitting_state"),
        pl.col("ssn_rep").alias("ssn"),
        "case_id",
        "last_name",
        "first_name",
        pl.col("arrearage").cast(pl.Utf8),
        pl.lit("A").alias("transaction_type"),
        pl.col("tanf").alias("case_type"),
        pl.col("addr_street").alias("address_line_1"),
        pl.col("addr_line2").alias("address_line_2"),
        pl.col("addr_city").alias("city"),
        pl.col("addr_state").alias("state"),
        pl.concat_str([pl.col("addr_zip"), pl.col("addr_zip4").fill_null("")]).alias("zip"),
        "exclusions",
    )
    case_block = finish_block(book(data, 0), layout, "CASE", invalid, g)
    # controls as the validator tallies them: over every CASE line as written (deliberately bad ones too)
    totals = (
        case_block[1]
        .group_by("case_type")
        .agg(pl.len().alias("n"), pl.col("arrearage").cast(pl.Int64, strict=False).sum().alias("amt"))
    )
    tot = {r["case_type"]: r for r in totals.to_dicts()}
    ctl = pl.DataFrame(
        {
            "submitting_state": [st],
            "tanf_count": [str(tot.get("A", {}).get("n", 0))],
            "non_tanf_count": [str(tot.get("N", {}).get("n", 0))],
            "tanf_amount": [str(tot.get("A", {}).get("amt", 0))],
            "non_tanf_amount": [str(tot.get("N", {}).get("amt", 0))],
        }
    )
    return FileOut(
        st,
        "offset_debtor",
        f"OFFSET.{st}.{ymd(world.as_of)}.{batch:03d}.dat",
        [
            finish_block(book(ctl, -1, 0, None, None), layout, "CTL", 0, g),
            case_block,
        ],
    )


def case_financial_file(
    world: World,
    st: str,
    fin: pl.DataFrame,
    views: pl.DataFrame,
    seed: int,
    invalid: float,
    batch: int,
    as_of: date | None = None,
) -> FileOut:
    """The state's snapshot of its IV-D cases on `as_of` (default the world's date, cycle 1)."""
    layout = load_layout("case_financial_csv")
    as_of = as_of or world.as_of
    g = rng(seed, f"casefin.{st}" if batch == 1 else f"casefin.{st}.{batch}")
    nps = world.members.filter(pl.col("participant_type").is_in(["NP", "PF"])).select(
        "case_no", "person_id", "member_id"
    )
    rows = (
        world.cases.filter((pl.col("case_state") == st) & (pl.col("case_type") == "F"))
        .sort("case_no")
        .select("case_no", "case_state", "tanf")
        .join(nps, on="case_no", maintain_order="left")
        .join(fin, on="case_no", maintain_order="left")
        .join(
            views.filter(pl.col("case_state") == st).drop("member_id"),
            on=["case_state", "person_id"],
            how="left",
            maintain_order="left",
        )
    )
    data = rows.select(
        "person_id",
        "corruptions",
        pl.lit(st).alias("state"),
        "case_id",
        "member_id",
        pl.col("ssn_rep").alias("ncp_ssn"),
        pl.col("last_name").alias("ncp_last_name"),
        pl.col("first_name").alias("ncp_first_name"),
        pl.col("tanf").alias("case_type"),
        "monthly_obligation",
        "arrears",
        "last_payment_date",
        "last_payment_amount",
        pl.lit(ymd(as_of)).alias("as_of_date"),
    )
    return FileOut(
        st,
        "case_financial_csv",
        f"CASEFIN.{st}.{ymd(as_of)}.{batch:03d}.csv",
        [finish_block(book(data, 0), layout, "CF", invalid, g)],
    )


def misidentified_file(
    world: World, st: str, views: pl.DataFrame, seed: int, rates: dict, invalid: float, batch: int
) -> FileOut:
    """Members whose reported SSN the state found to be wrong (someone else's, or mistyped)."""
    layout = load_layout("misidentified_csv")
    g = rng(seed, f"misid.{st}")
    wrong = views.filter(
        (pl.col("case_state") == st) & pl.col("ssn_rep").is_not_null() & (pl.col("ssn_rep") != pl.col("ssn"))
    ).sort("member_id")
    found = wrong.filter(pl.Series(g.random(wrong.height) < rates["cases"]["misidentified_found"]))
    data = found.select(
        "person_id",
        "corruptions",
        "member_id",
        pl.col("ssn_rep").alias("misidentified_ssn"),
        pl.lit("A").alias("action"),
        pl.lit("SSN DOES NOT BELONG TO THIS MEMBER").alias("reason"),
    )
    return FileOut(
        st,
        "misidentified_csv",
        f"MISID.{st}.{ymd(world.as_of)}.{batch:03d}.csv",
        [finish_block(book(data, 0), layout, "MI", invalid, g)],
    )
