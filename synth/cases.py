"""Child-support cases: custodial party, non-custodial parent (or putative father) and children.

Persons may sit in several cases, in one or several states (an NP with families in two states).
Children take the NP's or the CP's surname, which rewrites their names in the person table.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from synth.reference import rng


def _choose(gen: np.random.Generator, pool: np.ndarray, k: int) -> np.ndarray:
    """k ids from pool without replacement while the pool lasts, then with replacement."""
    if k <= len(pool):
        return pool[gen.choice(len(pool), size=k, replace=False)]
    return pool[gen.integers(0, len(pool), k)] if len(pool) else np.zeros(k, dtype=np.int64)


def build_cases(
    persons: pl.DataFrame, states: list[str], seed: int, as_of: date, rates: dict
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(cases, members, persons with children's surnames aligned to a parent)."""
    cr = rates["cases"]
    g = rng(seed, "cases")
    alive = pl.col("dod").is_null()
    adults = persons.filter(alive & (pl.col("age") >= 18) & (pl.col("age") < 66))
    n_cases = max(len(states), int(round(persons.height * cr["cases_per_person"])))
    # custodial parties: mostly mothers
    cp_female = g.random(n_cases) < cr["np_male"]
    cp = np.zeros(n_cases, dtype=np.int64)
    for sex, mask in (("F", cp_female), ("M", ~cp_female)):
        pool = adults.filter(pl.col("sex") == sex).get_column("person_id").to_numpy()
        cp[mask] = _choose(g, pool, int(mask.sum()))
    cases = pl.DataFrame({"cp": cp, "np_sex": np.where(cp_female, "M", "F")}).join(
        persons.select(pl.col("person_id").alias("cp"), pl.col("state").alias("case_state")),
        on="cp",
        how="left",
        maintain_order="left",
    )
    # non-custodial parents: opposite sex, not a CP, any generated state (interstate cases)
    used = set(cp.tolist())
    np_ids = np.zeros(n_cases, dtype=np.int64)
    sexes = cases.get_column("np_sex").to_numpy()
    for sex in ("F", "M"):
        rows = np.flatnonzero(sexes == sex)
        pool = (
            adults.filter((pl.col("sex") == sex) & ~pl.col("person_id").is_in(list(used)))
            .get_column("person_id")
            .to_numpy()
        )
        np_ids[rows] = _choose(g, pool, len(rows))
    reuse = g.random(n_cases) < cr["np_reused"]
    if reuse.any() and (~reuse).any():
        np_ids[reuse] = np_ids[~reuse][g.integers(0, int((~reuse).sum()), int(reuse.sum()))]
    seq = g.permutation(n_cases) + 1
    cases = cases.with_columns(
        pl.Series("np", np_ids),
        pl.format("{}{}", "case_state", pl.Series(seq).cast(pl.Utf8).str.zfill(10)).alias("case_id"),
        pl.Series("np_role", np.where(g.random(n_cases) < cr["putative_father"], "PF", "NP")),
        pl.Series("case_type", np.where(g.random(n_cases) < cr["non_iv_d"], "N", "F")),
        pl.Series("tanf", np.where(g.random(n_cases) < cr["tanf"], "A", "N")),
        pl.Series("order", np.where(g.random(n_cases) < cr["order"], "Y", "N")),
        pl.Series("fips_county", (g.integers(0, 100, n_cases) * 2 + 1)).cast(pl.Utf8).str.zfill(3),
        pl.Series("fv", g.random(n_cases) < cr["family_violence"]),
        pl.Series(
            "n_children",
            g.choice(
                np.array(list(cr["children_per_case"].keys()), dtype=np.int64),
                size=n_cases,
                p=np.array(list(cr["children_per_case"].values())) / sum(cr["children_per_case"].values()),
            ),
        ),
    ).with_row_index("case_no")
    # children: from the CP's state, each child in one case
    kids = persons.filter(alive & (pl.col("age") < 18))
    child_rows = []
    for st in sorted(cases.get_column("case_state").unique().to_list()):
        part = cases.filter(pl.col("case_state") == st)
        counts = part.get_column("n_children").to_numpy()
        pool = kids.filter(pl.col("state") == st).get_column("person_id").to_numpy()
        ids = _choose(g, pool, int(counts.sum()))
        child_rows.append(
            pl.DataFrame({"case_no": np.repeat(part.get_column("case_no").to_numpy(), counts), "person_id": ids})
        )
    children = pl.concat(child_rows).unique("person_id", keep="first", maintain_order=True)
    members = pl.concat(
        [
            cases.select("case_no", pl.col("cp").alias("person_id"), pl.lit("CP").alias("participant_type")),
            cases.select("case_no", pl.col("np").alias("person_id"), pl.col("np_role").alias("participant_type")),
            children.with_columns(pl.lit("CH").alias("participant_type")),
        ]
    ).join(cases.select("case_no", "case_id", "case_state", "fv"), on="case_no", how="left", maintain_order="left")
    members = members.with_columns(
        (pl.col("fv") & pl.col("participant_type").is_in(["CP", "CH"])).alias("fv"),
    ).sort("case_no", pl.col("participant_type").replace_strict({"CP": 0, "NP": 1, "PF": 1, "CH": 2}), "person_id")
    # member IDs: one per person per state
    per_state = members.select("case_state", "person_id").unique(maintain_order=True)
    mseq = rng(seed, "member_ids").permutation(per_state.height) + 1
    per_state = per_state.with_columns(
        pl.format("{}M{}", "case_state", pl.Series(mseq).cast(pl.Utf8).str.zfill(11)).alias("member_id")
    )
    members = members.join(per_state, on=["case_state", "person_id"], how="left", maintain_order="left")
    # children carry the NP's surname (70%) or the CP's
    surname_of = children.join(cases.select("case_no", "np", "cp"), on="case_no", how="left", maintain_order="left")
    take_np = rng(seed, "child_surname").random(surname_of.height) < 0.7
    surname_of = surname_of.with_columns(
        pl.when(pl.Series(take_np)).then(pl.col("np")).otherwise(pl.col("cp")).alias("parent")
    )
    surname_of = surname_of.join(
        persons.select(pl.col("person_id").alias("parent"), pl.col("last").alias("_new_last")),
        on="parent",
        how="left",
        maintain_order="left",
    ).select("person_id", "_new_last")
    persons = (
        persons.join(surname_of, on="person_id", how="left", maintain_order="left")
        .with_columns(
            pl.coalesce("_new_last", "last").alias("last"),
            pl.coalesce("_new_last", "birth_last").alias("birth_last"),
            pl.coalesce("_new_last", "ssa_last").alias("ssa_last"),
        )
        .drop("_new_last")
    )
    return cases.drop("n_children"), members, persons


def case_financials(cases: pl.DataFrame, seed: int, as_of: date, rates: dict) -> pl.DataFrame:
    """Per case: monthly obligation, arrears (cents), last payment date / amount."""
    cr = rates["cases"]
    g = rng(seed, "financials")
    n = cases.height
    obligation = np.exp(np.log(cr["obligation_median_dollars"]) + 0.5 * g.standard_normal(n))
    has_arrears = g.random(n) < cr["has_arrears"]
    arrears = np.where(
        has_arrears, np.exp(np.log(cr["arrears_median_dollars"]) + cr["arrears_sigma"] * g.standard_normal(n)), 0
    )
    arrears = np.minimum(arrears, 9_999_999)
    u = g.random(n)
    today = (as_of - date(1970, 1, 1)).days
    last_pay = np.where(u < cr["paid_recently"], today - g.integers(1, 90, n), today - g.integers(90, 1500, n))
    never = u > 1 - cr["never_paid"]
    return cases.select("case_no", "case_id").with_columns(
        pl.Series("monthly_obligation", (obligation * 100).astype(np.int64)),
        pl.Series("arrears", (arrears * 100).astype(np.int64)),
        pl.when(pl.Series(never))
        .then(None)
        .otherwise(pl.Series(last_pay.astype(np.int32)).cast(pl.Date))
        .alias("last_payment_date"),
        pl.when(pl.Series(never))
        .then(None)
        .otherwise(pl.Series((obligation * 100 * (0.5 + g.random(n))).astype(np.int64)))
        .alias("last_payment_amount"),
    )
