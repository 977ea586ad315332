"""The true synthetic world: persons, employers, jobs, child-support cases and their members.

Everything is drawn with numpy from named random streams (synth.reference.rng) and assembled with
polars; loops run over states or sexes, never over records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from synth import reference as ref
from synth.reference import rng

SSN_CUTOVER = date(2011, 6, 25)  # SSN randomisation: areas 734-749 and 772-899 issued only after this
_PRE_AREAS = np.array([a for a in list(range(1, 734)) + list(range(750, 772)) if a != 666])
_POST_AREAS = np.array(list(range(734, 750)) + list(range(772, 900)))
_PER_AREA = 99 * 9999


@dataclass
class World:
    as_of: date
    states: list[str]
    persons: pl.DataFrame
    employers: pl.DataFrame
    jobs: pl.DataFrame
    cases: pl.DataFrame
    members: pl.DataFrame


def _days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _to_date(days: np.ndarray) -> pl.Series:
    return pl.Series(days.astype(np.int32)).cast(pl.Date)


def _ssns(gen: np.random.Generator, areas: np.ndarray, k: int) -> pl.Series:
    """k distinct structurally valid SSNs from the given areas (group 01-99, serial 0001-9999)."""
    idx = gen.choice(len(areas) * _PER_AREA, size=k, replace=False)
    area, rem = areas[idx // _PER_AREA], idx % _PER_AREA
    value = area.astype(np.int64) * 1_000_000 + (rem // 9999 + 1) * 10_000 + rem % 9999 + 1
    bad = np.isin(value, [78_051_120, 219_099_999])  # published never-valid numbers
    value[bad] += 1
    return pl.Series(value).cast(pl.Utf8).str.zfill(9)


def addresses(gen: np.random.Generator, state: np.ndarray, rates: dict) -> pl.DataFrame:
    """street, line2, city, state, zip, zip4 for each given state code (vectorised per state)."""
    n = len(state)
    city = np.empty(n, dtype="U30")
    zip5 = np.empty(n, dtype="U5")
    cities = ref.cities()
    for st in sorted(set(state.tolist())):
        rows = np.flatnonzero(state == st)
        table = cities.filter(pl.col("state") == st)
        w = table.get_column("w").to_numpy()
        pick = gen.choice(table.height, size=len(rows), p=w / w.sum())
        city[rows] = table.get_column("city").to_numpy()[pick]
        zip5[rows] = table.get_column("zip").to_numpy()[pick]
    number = gen.integers(1, 9999, n)
    street = ref.pick(ref.STREETS, gen.integers(0, len(ref.STREETS), n))
    suffix = ref.pick(ref.STREET_SUFFIXES, gen.integers(0, len(ref.STREET_SUFFIXES), n))
    unit = gen.integers(1, 400, n)
    has_unit = gen.random(n) < rates["population"]["address_line_2"]
    zip_tail = gen.integers(0, 40, n)
    has_zip4 = gen.random(n) < 0.6
    zip4 = gen.integers(1, 9999, n)
    return pl.DataFrame(
        {
            "_n": number,
            "_street": street,
            "_suffix": suffix,
            "_unit": unit,
            "_has_unit": has_unit,
            "city": pl.Series(city, dtype=pl.Utf8),
            "_zip": pl.Series(zip5, dtype=pl.Utf8),
            "state": state,
            "_zt": zip_tail,
            "_has_zip4": has_zip4,
            "_zip4": zip4,
        }
    ).select(
        pl.format("{} {} {}", "_n", "_street", "_suffix").alias("street"),
        pl.when("_has_unit").then(pl.format("APT {}", "_unit")).otherwise(None).alias("line2"),
        "city",
        "state",
        pl.concat_str(
            [
                pl.col("_zip").str.slice(0, 3),
                ((pl.col("_zip").str.slice(3, 2).cast(pl.Int64) + pl.col("_zt")) % 100).cast(pl.Utf8).str.zfill(2),
            ]
        ).alias("zip"),
        pl.when("_has_zip4").then(pl.col("_zip4").cast(pl.Utf8).str.zfill(4)).otherwise(None).alias("zip4"),
    )


def _state_weights(states: list[str]) -> np.ndarray:
    pops = dict(ref.states().select("usps", "pop_millions").iter_rows())
    w = np.array([pops[s] for s in states], dtype=float)
    return w / w.sum()


def build_persons(n: int, states: list[str], seed: int, as_of: date, rates: dict) -> pl.DataFrame:
    pr = rates["population"]
    g = rng(seed, "persons")
    sex = np.where(g.random(n) < pr["female_share"], "F", "M")
    bands = pr["age_bands"]
    band_idx = g.choice(len(bands), size=n, p=np.array(list(bands.values())) / sum(bands.values()))
    lo_hi = np.array([[int(x) for x in k.split("-")] for k in bands])
    age_days = ((lo_hi[band_idx, 0] + g.random(n) * (lo_hi[band_idx, 1] - lo_hi[band_idx, 0] + 1)) * 365.2425).astype(
        np.int64
    )
    dob_days = _days(as_of) - age_days
    age = age_days / 365.2425
    first_m, first_f = ref.sample_names(ref.first_names("M"), g, n), ref.sample_names(ref.first_names("F"), g, n)
    mid_m, mid_f = ref.sample_names(ref.first_names("M"), g, n), ref.sample_names(ref.first_names("F"), g, n)
    birth_last = ref.sample_names(ref.surnames(), g, n)
    spouse_last = ref.sample_names(ref.surnames(), g, n)
    has_middle = g.random(n) < pr["middle_name"]
    # surname change on marriage (adult women): took spouse's name / hyphenated / kept
    married = (sex == "F") & (age >= 20) & (g.random(n) < pr["married_female"])
    u = g.random(n)
    took = married & (u < pr["took_spouse_surname"])
    hyph = married & (u >= pr["took_spouse_surname"]) & (u < pr["took_spouse_surname"] + pr["hyphenated_surname"])
    ssa_updated = g.random(n) < pr["ssa_name_updated"]
    # SSNs: pre-2011 areas for those born before the randomisation, post areas after; some get a second one
    post = dob_days >= _days(SSN_CUTOVER)
    other = (g.random(n) < pr["other_ssn"]) & ~post
    n_pre = int((~post).sum())
    pre_ssns = _ssns(g, _PRE_AREAS, n_pre + int(other.sum()))
    ssn = (
        pl.Series("ssn", [None] * n, dtype=pl.Utf8)
        .scatter(np.flatnonzero(~post), pre_ssns.slice(0, n_pre))
        .scatter(np.flatnonzero(post), _ssns(g, _POST_AREAS, int(post.sum())))
    )
    other_ssn = pl.Series("other_ssn", [None] * n, dtype=pl.Utf8).scatter(np.flatnonzero(other), pre_ssns.slice(n_pre))
    deceased = g.random(n) < pr["deceased"]
    dod_days = _days(as_of) - 1 - (g.random(n) * np.minimum(age_days - 1, 5 * 365)).astype(np.int64)
    state = np.array(states)[g.choice(len(states), size=n, p=_state_weights(states))]
    moved = g.random(n) < pr["moved_last_year"]
    prev_state = np.where(
        (g.random(n) < pr["moved_out_of_state"]) & (len(states) > 1),
        np.array(states)[g.integers(0, len(states), n)],
        state,
    )
    cur = addresses(rng(seed, "addresses"), state, rates)
    prev = addresses(rng(seed, "prev_addresses"), prev_state, rates)
    frame = pl.DataFrame(
        {
            "person_id": np.arange(1, n + 1, dtype=np.int64),
            "sex": sex,
            "dob": _to_date(dob_days),
            "age": age.astype(np.float32),
            "married": married,
            "moved": moved,
        }
    ).with_columns(
        pl.when(pl.col("sex") == "M").then(first_m).otherwise(first_f).alias("first"),
        pl.when(pl.Series(has_middle)).then(pl.when(pl.col("sex") == "M").then(mid_m).otherwise(mid_f)).alias("middle"),
        birth_last.alias("birth_last"),
        pl.when(pl.Series(took))
        .then(spouse_last)
        .when(pl.Series(hyph))
        .then(pl.concat_str([birth_last, pl.lit("-"), spouse_last]).str.slice(0, 30))
        .otherwise(birth_last)
        .alias("last"),
        ssn,
        other_ssn,
        pl.when(pl.Series(deceased)).then(_to_date(dod_days)).alias("dod"),
        pl.Series("_ssa_updated", ssa_updated),
    )
    frame = frame.with_columns(
        pl.when(pl.col("_ssa_updated")).then(pl.col("last")).otherwise(pl.col("birth_last")).alias("ssa_last"),
    ).drop("_ssa_updated")
    cur_cols = cur.rename({c: f"{c}" for c in cur.columns})
    prev_cols = prev.rename({c: f"prev_{c}" for c in prev.columns})
    return pl.concat([frame, cur_cols, prev_cols], how="horizontal")


def build_employers(n_persons: int, states: list[str], seed: int, rates: dict) -> pl.DataFrame:
    er = rates["employment"]
    g = rng(seed, "employers")
    m = max(12, int(n_persons * er["employers_per_person"]))
    size = (np.arange(1, m + 1) ** -1.1)[g.permutation(m)]
    n_multi = int(min(max(2, round(m * er["multistate_employers"])), er["multistate_employers_max"]))
    rank = np.argsort(np.argsort(-size))  # 0 = largest employer
    multistate = rank < n_multi
    state = np.array(states)[g.choice(len(states), size=m, p=_state_weights(states))]
    fein_idx = g.choice(len(ref.EIN_PREFIXES) * 10_000_000, size=m, replace=False)
    fein = np.array(ref.EIN_PREFIXES)[fein_idx // 10_000_000] * 10_000_000 + fein_idx % 10_000_000
    prefix_kind = g.random(m) < 0.5
    name = pl.DataFrame(
        {
            "a": ref.sample_names(ref.surnames(), g, m),
            "b": ref.pick(ref.BUSINESS_PREFIXES, g.integers(0, len(ref.BUSINESS_PREFIXES), m)),
            "i": ref.pick(ref.INDUSTRIES, g.integers(0, len(ref.INDUSTRIES), m)),
            "s": ref.pick(ref.BUSINESS_SUFFIXES, g.integers(0, len(ref.BUSINESS_SUFFIXES), m)),
            "k": prefix_kind,
        }
    ).select(pl.concat_str([pl.when("k").then("a").otherwise("b"), "i", "s"], separator=" ").alias("employer_name"))
    addr = addresses(g, state, rates)
    return pl.concat(
        [
            pl.DataFrame(
                {
                    "employer_id": np.arange(1, m + 1, dtype=np.int64),
                    "size": size,
                    "multistate": multistate,
                    "fein": pl.Series(fein).cast(pl.Utf8).str.zfill(9),
                    "state_ein": pl.Series(g.integers(0, 10**10, m)).cast(pl.Utf8).str.zfill(10),
                    "csv": multistate & (rank % 2 == 1),  # every second multistate employer sends CSV
                }
            ),
            name,
            addr.rename({c: f"emp_{c}" for c in addr.columns}),
        ],
        how="horizontal",
    )


def draw_employers(g: np.random.Generator, employers: pl.DataFrame, states: np.ndarray) -> np.ndarray:
    """For each row, an employer of the row's state (or a multistate one), weighted by employer size."""
    employer_id = np.zeros(len(states), dtype=np.int64)
    for st in sorted(set(states.tolist())):
        rows = np.flatnonzero(states == st)
        cand = employers.filter((pl.col("emp_state") == st) | pl.col("multistate"))
        w = cand.get_column("size").to_numpy()
        employer_id[rows] = cand.get_column("employer_id").to_numpy()[
            g.choice(cand.height, size=len(rows), p=w / w.sum())
        ]
    return employer_id


def build_jobs(persons: pl.DataFrame, employers: pl.DataFrame, seed: int, as_of: date, rates: dict) -> pl.DataFrame:
    er = rates["employment"]
    g = rng(seed, "jobs")
    alive = persons.filter(pl.col("dod").is_null() & (pl.col("age") >= 18) & (pl.col("age") < 71))
    p_emp = np.where(alive.get_column("age").to_numpy() < 65, er["employed_18_64"], er["employed_65_plus"])
    workers = alive.filter(pl.Series(g.random(alive.height) < p_emp))
    second = g.random(workers.height) < er["second_job"]
    third = second & (g.random(workers.height) < er["third_job"] / er["second_job"])
    slots = pl.concat(
        [
            workers.select("person_id", "state", "dob"),
            workers.filter(pl.Series(second)).select("person_id", "state", "dob"),
            workers.filter(pl.Series(third)).select("person_id", "state", "dob"),
        ]
    )
    employer_id = draw_employers(g, employers, slots.get_column("state").to_numpy())
    jobs = slots.with_columns(pl.Series("employer_id", employer_id)).unique(
        ["person_id", "employer_id"], maintain_order=True
    )
    k = jobs.height
    today = _days(as_of)
    recent = g.random(k) < er["new_hire_share"]
    window = er["new_hire_window_days"]
    dob = jobs.get_column("dob").cast(pl.Int32).to_numpy().astype(np.int64)
    tenure = window + (g.exponential(4 * 365.25, k)).astype(np.int64)
    hire = np.where(recent, today - g.integers(0, window, k), np.maximum(today - tenure, dob + 16 * 365))
    ended = ~recent & (g.random(k) < er["ended_recently"])
    end = np.where(ended, np.maximum(hire + 1, today - g.integers(1, 31, k)), -1)
    annual = np.exp(np.log(er["annual_wage_median_dollars"]) + er["annual_wage_sigma"] * g.standard_normal(k))
    return (
        jobs.drop("dob", "state")
        .with_columns(
            pl.Series("job_id", np.arange(1, k + 1, dtype=np.int64)),
            _to_date(hire).alias("hire_date"),
            pl.when(pl.Series(ended)).then(_to_date(np.where(end < 0, 0, end))).alias("end_date"),
            pl.Series("annual_cents", (annual * 100).astype(np.int64)),
        )
        .join(
            persons.select("person_id", pl.col("state").alias("work_state")),
            on="person_id",
            how="left",
            maintain_order="left",
        )
    )
