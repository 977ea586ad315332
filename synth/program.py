"""The states' side of tier two over time: the support ledger of every IV-D case, the payments files, the
early-intervention contact outcomes, the ASAP settings files, and the truth of each parent's ability.

`start` runs `ledger.history_months` of the ledger before cycle 1 (from the arrears `cases.case_financials`
draws for that earlier date), so cycle 1's case financial summary, payments history and contact outcomes
agree with each other. `step` runs one later period (a monthly cycle). Truth (`truth_ability.parquet`): one
row per cycle and parent (state, member_id) with the true ability class (`ledger.ability_truth`) and the
behaviour the payments follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl
import yaml

from pipeline.files.layouts import load_layout
from synth import contacts, ledger
from synth import reference as ref
from synth.cases import case_financials
from synth.filekit import FileOut, book, finish_block, ymd
from synth.population import World
from synth.reference import rng
from synth.timeline import add_months

FIN_COLS = ["case_no", "case_id", "monthly_obligation", "arrears", "last_payment_date", "last_payment_amount"]
TRUTH_SCHEMA = {
    "cycle": pl.Int16,
    "as_of": pl.Date,
    "state": pl.Utf8,
    "member_id": pl.Utf8,
    "person_id": pl.Int64,
    "ability": pl.Utf8,
    "behaviour": pl.Utf8,
}


@dataclass
class Program:
    cases: pl.DataFrame  # one row per IV-D case: the ledger's state (see `_ledger_cases`)
    behaviour: pl.DataFrame  # person_id, behaviour
    log: pl.DataFrame  # the generator's own letters and holding outcomes (contacts.choose_letters)
    weekly: dict[str, int]
    ui: pl.DataFrame  # person_id, received: every UI claim written so far

    def fin(self) -> pl.DataFrame:
        """The frame `cases.case_financials` returns, at the ledger's current date."""
        return self.cases.select(FIN_COLS)


def state_settings(world: World, rates: dict) -> dict[str, dict]:
    """Each state's ASAP settings (the `states/<ST>.yaml` format of pipeline/enforcement/asap_settings.py):
    its agency, an office in its largest city, a fictional 555-01XX toll-free number and a weekly quota
    proportional to its IV-D caseload (`contacts.weekly_letters_per_case`)."""
    per_case = rates["contacts"]["weekly_letters_per_case"]
    counts = dict(world.cases.filter(pl.col("case_type") == "F").group_by("case_state").len().iter_rows())
    out = {}
    for st in world.states:
        city = ref.cities().filter(pl.col("state") == st).sort("rank").row(0, named=True)
        fips = ref.state_fips(st)
        out[st] = {
            "state": st,
            "agency": f"State of {st} Child Support Services",
            "office": {
                "name": "Early Intervention (ASAP) Call Center",
                "address_line_1": f"{100 + int(fips)} CAPITOL AVE",
                "city": city["city"],
                "state": st,
                "zip": city["zip"],
            },
            "toll_free": f"1-888-555-01{fips}",
            "hours": "Monday to Friday, 8 a.m. to 5 p.m.",
            "asap": {
                "weekly_letters": max(5, round(counts.get(st, 0) * per_case)),
                "resend_after_days": 180,
                "hold_after_contact_days": 30,
            },
        }
    return out


def settings_files(settings: dict[str, dict]) -> dict[str, str]:
    """relative path -> text of every `states/<ST>.yaml`."""
    head = "# ASAP early intervention settings of the state (fpls generate): what its letters say, how many a week.\n"
    return {f"states/{st}.yaml": head + yaml.safe_dump(s, sort_keys=False) for st, s in sorted(settings.items())}


def _ledger_cases(world: World, fin0: pl.DataFrame) -> pl.DataFrame:
    nps = world.members.filter(pl.col("participant_type").is_in(["NP", "PF"])).select(
        "case_no", "person_id", "member_id"
    )
    return (
        world.cases.select("case_no", "case_id", "case_state", "case_type", "tanf")
        .join(nps, on="case_no", how="left", maintain_order="left")
        .join(fin0.drop("case_id"), on="case_no", how="left", maintain_order="left")
        .with_columns(pl.lit(None, dtype=pl.Int64).alias("plan_cents"), pl.lit(None, dtype=pl.Date).alias("plan_until"))
    )


def _period(prog: Program, start: date, end: date, seed: int, rates: dict, tag: str) -> pl.DataFrame:
    cases = prog.cases.join(prog.behaviour, on="person_id", how="left", maintain_order="left")
    pays, after = ledger.simulate(cases, start, end, seed, rates, tag)
    prog.cases = after.drop("behaviour")
    return pays


def _letters_and_answers(prog: Program, at: date, until: date, weeks: int, stale, seed, rates, tag) -> pl.DataFrame:
    iv_d = prog.cases.filter(pl.col("case_type") == "F")
    letters = contacts.choose_letters(iv_d, prog.log, at, prog.weekly, weeks)
    answers = contacts.answer(letters, prog.behaviour, stale, at, until, seed, rates, tag)
    prog.cases = contacts.apply_outcomes(prog.cases, answers, until, seed, rates, tag)
    prog.log = contacts.log_events(prog.log, letters, answers, at)
    return answers


def start(world: World, jobs: pl.DataFrame, ui: pl.DataFrame, stale: pl.DataFrame, seed: int, rates: dict):
    """(program at cycle 1's date, payments of the history months, contact outcomes of the last month)."""
    months = int(rates["ledger"]["history_months"])
    d0 = add_months(world.as_of, -months)
    prog = Program(
        _ledger_cases(world, case_financials(world.cases, seed, d0, rates)),
        pl.DataFrame(schema={"person_id": pl.Int64, "behaviour": pl.Utf8}),
        contacts.empty_log(),
        {st: s["asap"]["weekly_letters"] for st, s in state_settings(world, rates).items()},
        ui,
    )
    ncps = prog.cases.get_column("person_id").drop_nulls()
    prog.behaviour = ledger.draw_behaviour(ledger.ability_truth(jobs, ui, ncps, world.as_of), seed, rates)
    pays, answers = [], []
    for k in range(months):
        a, b = add_months(d0, k), add_months(d0, k + 1)
        if k == months - 1:  # the program's last month before fpls: its letters are answered by cycle 1
            answers.append(_letters_and_answers(prog, a, b, 4, stale, seed, rates, "c1"))
        pays.append(_period(prog, a, b, seed, rates, f"h{k}"))
    return prog, pl.concat(pays), pl.concat(answers)


def step(prog: Program, start_d: date, end_d: date, stale, seed: int, rates: dict, cycle: int):
    """One later cycle (start_d, end_d]: letters at start_d answered by end_d, then the period's payments."""
    weeks = max(1, min(5, round((end_d - start_d).days / 7)))
    answers = _letters_and_answers(prog, start_d, end_d, weeks, stale, seed, rates, f"c{cycle}")
    pays = _period(prog, start_d, end_d, seed, rates, f"p{cycle}")
    return pays, answers


def truth(prog: Program, world: World, jobs: pl.DataFrame, cycle: int, as_of: date) -> pl.DataFrame:
    ncp = (
        prog.cases.filter(pl.col("case_type") == "F")
        .select(pl.col("case_state").alias("state"), "member_id", "person_id")
        .unique(maintain_order=True)
        .drop_nulls("person_id")
    )
    ability = ledger.ability_truth(jobs, prog.ui, ncp.get_column("person_id"), as_of).select("person_id", "ability")
    return (
        ncp.join(ability, on="person_id", how="left")
        .join(prog.behaviour, on="person_id", how="left")
        .with_columns(pl.lit(cycle).alias("cycle"), pl.lit(as_of).alias("as_of"))
        .select(list(TRUTH_SCHEMA))
        .cast(TRUTH_SCHEMA)
        .sort("state", "member_id")
    )


def _with_ids(rows: pl.DataFrame, prog: Program) -> pl.DataFrame:
    return rows.join(
        prog.cases.select("case_no", "case_id", pl.col("case_state").alias("state"), "member_id", "person_id"),
        on="case_no",
        how="left",
        maintain_order="left",
    )


def payment_files(world: World, pays: pl.DataFrame, prog: Program, as_of: date, seed: int, invalid: float, batch: int):
    layout = load_layout("payment_csv")
    rows = _with_ids(pays, prog).filter(
        pl.col("case_id").is_in(world.cases.filter(pl.col("case_type") == "F").get_column("case_id").implode())
    )
    out = []
    for st in world.states:
        part = rows.filter(pl.col("state") == st).sort("payment_date", "case_id", "payment_source")
        data = part.select(
            "person_id",
            pl.lit([], dtype=pl.List(pl.Utf8)).alias("corruptions"),
            "state",
            "case_id",
            "member_id",
            pl.col("payment_date").dt.strftime("%Y%m%d"),
            pl.col("amount").cast(pl.Utf8),
            "payment_source",
        )
        g = rng(seed, f"payments.{st}.{batch}")
        out.append(
            FileOut(
                st,
                "payment_csv",
                f"PAYMENTS.{st}.{ymd(as_of)}.{batch:03d}.csv",
                [finish_block(book(data, 0), layout, "PY", invalid, g)],
            )
        )
    return out


def contact_files(world: World, answers: pl.DataFrame, as_of: date, seed: int, invalid: float, batch: int):
    layout = load_layout("contact_outcome_csv")
    out = []
    for st in world.states:
        part = answers.filter(pl.col("state") == st).sort("contact_date", "case_id", "outcome")
        data = part.select(
            "person_id",
            pl.lit([], dtype=pl.List(pl.Utf8)).alias("corruptions"),
            "state",
            "case_id",
            "member_id",
            pl.col("contact_date").dt.strftime("%Y%m%d"),
            "outcome",
            pl.col("amount").cast(pl.Utf8),
            pl.lit("ASAP" + st).alias("worker_id"),
        )
        g = rng(seed, f"contacts.file.{st}.{batch}")
        out.append(
            FileOut(
                st,
                "contact_outcome_csv",
                f"CONTACTS.{st}.{ymd(as_of)}.{batch:03d}.csv",
                [finish_block(book(data, 0), layout, "CO", invalid, g)],
            )
        )
    return out
