"""Files from financial institutions (MSFIDM matches), insurers (claims) and employers / insurers
(eTermination and Debt Inquiry notices)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl

from pipeline.files.layouts import load_layout
from synth import reference as ref
from synth.filekit import FileOut, book, finish_block, identity, quarter_of, ymd
from synth.population import World, addresses
from synth.reference import rng

ACCOUNT_TYPES = (("04", 0.5), ("01", 0.3), ("05", 0.05), ("11", 0.05), ("12", 0.07), ("14", 0.03))
CLAIM_TYPES = (("BI", 0.5), ("WC", 0.3), ("UM", 0.1), ("WD", 0.05), ("LI", 0.05))


def _partners(seed: int, stream: str, k: int, states: list[str], kinds: tuple[str, ...], rates: dict) -> pl.DataFrame:
    g = rng(seed, stream)
    tin = (
        pl.Series(
            np.array(ref.EIN_PREFIXES)[g.integers(0, len(ref.EIN_PREFIXES), k)] * 10_000_000
            + g.choice(10_000_000, size=k, replace=False)
        )
        .cast(pl.Utf8)
        .str.zfill(9)
    )
    state = np.array(states)[g.integers(0, len(states), k)]
    addr = addresses(g, state, rates)
    name = pl.concat_str(
        [
            ref.pick(
                ref.BUSINESS_PREFIXES,
                g.permutation(len(ref.BUSINESS_PREFIXES))[np.arange(k) % len(ref.BUSINESS_PREFIXES)],
            ),
            ref.pick(kinds, g.integers(0, len(kinds), k)),
        ],
        separator=" ",
    )
    return pl.concat(
        [pl.DataFrame({"tin": tin, "pname": pl.select(name).to_series(), "rank": np.arange(k)}), addr], how="horizontal"
    ).unique("tin", maintain_order=True)


def _weighted(g: np.random.Generator, table: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    w = np.array([t[1] for t in table])
    return np.array([t[0] for t in table])[g.choice(len(table), size=n, p=w / w.sum())]


def fidm_files(world: World, debt: pl.DataFrame, seed: int, rates: dict, invalid: float, batch: int) -> list[FileOut]:
    """Accounts held by whoever truly owns each SSN the states submitted as a debtor."""
    fr = rates["financial"]
    k = int(np.clip(world.persons.height // 50_000 + 3, fr["institutions_min"], fr["institutions_max"]))
    fis = _partners(seed, "fidm.institutions", k, world.states, ref.BANK_KINDS, rates)
    g = rng(seed, "fidm.accounts")
    inquiry = debt.select(pl.col("ssn_rep").alias("matched_ssn"), pl.col("last_name").alias("inq_last")).unique(
        "matched_ssn", maintain_order=True
    )
    owners = pl.concat(
        [
            world.persons.select("person_id", pl.col("ssn").alias("matched_ssn")),
            world.persons.filter(pl.col("other_ssn").is_not_null()).select(
                "person_id", pl.col("other_ssn").alias("matched_ssn")
            ),
        ]
    )
    held = inquiry.join(owners, on="matched_ssn", how="inner", maintain_order="left")
    held = held.filter(pl.Series(g.random(held.height) < fr["debtor_has_account"]))
    two = held.filter(pl.Series(g.random(held.height) < fr["second_institution"]))
    acc = pl.concat([held, two]).with_columns(pl.Series("fi", g.integers(0, fis.height, held.height + two.height)))
    acc = acc.unique(["matched_ssn", "fi"], maintain_order=True)
    n = acc.height
    view = identity(acc, world.persons, rates["noise"]["fidm"], rng(seed, "fidm.noise"))
    view = view.join(
        world.persons.select("person_id", "street", "city", "state", "zip", "zip4"),
        on="person_id",
        how="left",
        maintain_order="left",
    )
    balance = np.where(
        g.random(n) < fr["zero_balance"],
        0,
        np.exp(np.log(fr["balance_median_dollars"]) + fr["balance_sigma"] * g.standard_normal(n)),
    ).astype(np.int64)
    same4 = pl.col("last_name").str.slice(0, 4) == pl.col("inq_last").str.slice(0, 4)
    b = view.with_columns(
        pl.Series("account_type", _weighted(g, ACCOUNT_TYPES, n)),
        pl.lit("0").alias("trust_fund_indicator"),
        pl.lit("2").alias("balance_indicator"),
        pl.Series("payee_indicator", np.where(g.random(n) < fr["joint_account"], "2", "0")),
        pl.Series("account_status", np.where(g.random(n) < fr["closed_account"], "1", "0")),
        pl.Series("_nc", g.random(n) < fr["name_not_compared"]),
        pl.Series("account_number", g.integers(10**9, 10**12, n)).cast(pl.Utf8),
        pl.Series("account_balance", np.minimum(balance, 9_999_999)).cast(pl.Utf8),
    ).select(
        "fi",
        "person_id",
        "corruptions",
        "account_type",
        "trust_fund_indicator",
        "balance_indicator",
        "payee_indicator",
        "account_status",
        pl.when("_nc").then(pl.lit("0")).when(same4).then(pl.lit("1")).otherwise(pl.lit("2")).alias("match_flag"),
        "matched_ssn",
        "account_number",
        pl.concat_str(["last_name", "first_name", "middle_name"], separator=" ", ignore_nulls=True).alias(
            "account_holder_name"
        ),
        pl.col("street").alias("account_holder_street"),
        pl.col("city").alias("account_holder_city"),
        pl.col("state").alias("account_holder_state"),
        pl.col("zip").alias("account_holder_zip"),
        pl.col("zip4").alias("account_holder_zip4"),
        pl.col("state").alias("state_passback"),
        "account_balance",
    )
    layout = load_layout("msfidm_match")
    _, _, period = quarter_of(world.as_of)
    out = []
    for row in fis.sort("tin").iter_rows(named=True):
        gi = rng(seed, f"fidm.{row['tin']}")
        part = b.filter(pl.col("fi") == row["rank"]).sort("matched_ssn", "account_number")
        a = pl.DataFrame(
            {
                "file_period": [period],
                "institution_tin": [row["tin"]],
                "institution_name": [row["pname"]],
                "institution_address": [f"{row['street']} {row['city']} {row['state']} {row['zip']}"],
                "transmitter_tin": [row["tin"]],
            }
        )
        bb = finish_block(book(part, 0), layout, "B", invalid, gi)
        total = bb[1].get_column("account_balance").cast(pl.Int64, strict=False).sum() or 0
        t = pl.DataFrame({"record_count": [str(part.height)], "balance_total": [str(total)]})
        out.append(
            FileOut(
                f"FI-{row['tin']}",
                "msfidm_match",
                f"FIDM.FI-{row['tin']}.{period}.{batch:03d}.dat",
                [
                    finish_block(book(a, -1, 0, None, None), layout, "A", 0, gi),
                    bb,
                    finish_block(book(t, 1, 0, None, None), layout, "T", 0, gi),
                ],
            )
        )
    return out


def insurers(world: World, seed: int, rates: dict) -> pl.DataFrame:
    ir = rates["insurance"]
    k = int(np.clip(world.persons.height // 100_000 + 3, ir["insurers_min"], ir["insurers_max"]))
    return _partners(seed, "insurers", k, world.states, ref.INSURER_KINDS, rates).with_columns(
        (pl.col("rank") % 2 == 1).alias("csv")
    )


def claims(world: World, ins: pl.DataFrame, seed: int, rates: dict) -> pl.DataFrame:
    ir = rates["insurance"]
    g = rng(seed, "claims")
    adults = world.persons.filter(pl.col("dod").is_null() & (pl.col("age") >= 18))
    debtors = (
        world.members.filter(pl.col("participant_type").is_in(["NP", "PF"])).get_column("person_id").unique().sort()
    )
    is_debtor = adults.get_column("person_id").is_in(debtors.implode())
    rate = np.where(is_debtor.to_numpy(), ir["claim_rate_debtors"], ir["claim_rate_adults"])
    who = adults.filter(pl.Series(g.random(adults.height) < rate)).select(
        "person_id", "street", "line2", "city", "state", "zip", "zip4"
    )
    n = who.height
    view = identity(who, world.persons, rates["noise"]["insurance"], rng(seed, "claims.noise"))
    no_ssn = g.random(n) < ir["claim_without_ssn"]
    today = world.as_of - timedelta(days=0)
    return view.with_columns(
        pl.Series("ins", g.integers(0, ins.height, n)),
        pl.Series("_no_ssn", no_ssn),
        pl.Series("claim_type", _weighted(g, CLAIM_TYPES, n)),
        pl.Series("claim_number", g.integers(10**8, 10**10, n)).cast(pl.Utf8),
        (pl.lit(today) - pl.duration(days=pl.Series(g.integers(10, 180, n)))).alias("loss_date"),
        (pl.lit(today) - pl.duration(days=pl.Series(g.integers(1, 7, n)))).alias("processing_date"),
    ).with_columns(
        pl.when("_no_ssn").then(None).otherwise("ssn_rep").alias("claimant_ssn"),
        pl.when(pl.col("_no_ssn") & pl.col("dob_rep").is_null())
        .then(pl.col("dob").dt.strftime("%Y%m%d"))
        .otherwise("dob_rep")
        .alias("claimant_dob"),
        pl.when("_no_ssn")
        .then(pl.col("corruptions").list.concat(pl.lit(["claim_without_ssn"])))
        .otherwise("corruptions")
        .alias("corruptions"),
    )


def insurance_files(
    world: World, ins: pl.DataFrame, cl: pl.DataFrame, seed: int, invalid: float, batch: int
) -> list[FileOut]:
    fixed, csv = load_layout("insurance_claim"), load_layout("insurance_claim_csv")
    out = []
    for row in ins.sort("tin").iter_rows(named=True):
        g = rng(seed, f"ins.{row['tin']}")
        part = (
            cl.filter(pl.col("ins") == row["rank"])
            .sort("claim_number")
            .select(
                "person_id",
                "corruptions",
                "processing_date",
                "claimant_ssn",
                pl.lit(row["tin"]).alias("insurer_id"),
                pl.lit(row["pname"]).alias("insurer_name"),
                pl.lit(row["street"]).alias("insurer_address_line_1"),
                pl.lit(f"{row['city']} {row['state']} {row['zip']}").alias("insurer_address_line_2"),
                pl.col("last_name").alias("claimant_last_name"),
                pl.col("first_name").alias("claimant_first_name"),
                pl.col("middle_name").alias("claimant_middle_name"),
                "claimant_dob",
                pl.col("street").alias("claimant_address_line_1"),
                pl.col("line2").alias("claimant_address_line_2"),
                pl.col("city").alias("claimant_city"),
                pl.col("state").alias("claimant_state"),
                pl.col("zip").alias("claimant_zip"),
                pl.col("zip4").alias("claimant_zip4"),
                pl.concat_str([pl.lit(row["tin"][:3]), "claim_number"]).alias("claim_number"),
                "loss_date",
                "claim_type",
            )
        )
        sub = f"INS-{row['tin']}"
        if row["csv"]:
            out.append(
                FileOut(
                    sub,
                    "insurance_claim_csv",
                    f"CLAIMS.{sub}.{ymd(world.as_of)}.{batch:03d}.csv",
                    [finish_block(book(part, 0), csv, "IM", invalid, g)],
                )
            )
        else:
            out.append(
                FileOut(
                    sub,
                    "insurance_claim",
                    f"IM.{sub}.{ymd(world.as_of)}.{batch:03d}.dat",
                    [finish_block(book(part, 0), fixed, "IM", invalid, g)],
                )
            )
    return out
