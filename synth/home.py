"""`fpls generate`: build the world, make every inbound file, write a ready home with its truth.

Home layout written (DESIGN §4/§5):
  partners.yaml                 registered submitters (id, kind, file_types)
  inbound/<submitter>/FILE      each followed by an empty FILE.done marker
  truth.parquet                 one row per generated record (file, line, record type, true person, corruptions)
  truth_persons.parquet         the true identity of every person (for evaluation only)
  truth_eiwo.parquet            e-IWO orders and acknowledgments: the recipient / state each must reach (or refusal)
  cycles/NN/inbound/...         with --cycles K > 1: the inbound files of later cycles (cycles.yaml says when)
"""

from __future__ import annotations

import shutil
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import yaml

from pipeline.files.layouts import load_layout
from pipeline.files.writer import atomic_write, csv_bytes, render_records
from synth import (
    files_eiwo,
    files_ndnh,
    files_notices,
    files_partners,
    files_portal,
    files_state,
    history,
    months,
    program,
)
from synth.cases import build_cases
from synth.filekit import FileOut, ymd
from synth.population import World, build_employers, build_jobs, build_persons
from synth.rates import load_rates

KINDS = {
    "state": [
        "fcr_input",
        "offset_debtor",
        "case_financial_csv",
        "payment_csv",
        "contact_outcome_csv",
        "misidentified_csv",
        "irg_profile_csv",
        "ede_manifest_csv",
        "dra_file",
        "state_plan_csv",
        "self_assessment_csv",
        "av_survey_csv",
        "portal_document",
        "eiwo_order",
        "eiwo_order_csv",
    ],
    "ssa": ["ssa_master"],
    "sdnh": ["ndnh_w4", "new_hire_csv"],
    "swa": ["ndnh_qw", "ndnh_ui"],
    "employer": [
        "ndnh_w4",
        "new_hire_csv",
        "etermination",
        "debt_inquiry",
        "eiwo_ack",
        "eiwo_ack_csv",
        "eiwo_mser_csv",
    ],
    "fi": ["msfidm_match"],
    "insurer": ["insurance_claim", "insurance_claim_csv", "debt_inquiry"],
}
OWNED = (
    "partners.yaml",
    "truth.parquet",
    "truth_persons.parquet",
    "truth_ability.parquet",
    "truth_eiwo.parquet",
    "cycles.yaml",
    "inbound",
    "cycles",
    "states",
)
CADENCES = ("weekly", "monthly")
TRUTH_SCHEMA = {
    "cycle": pl.Int16,
    "submitter": pl.Utf8,
    "layout": pl.Utf8,
    "file": pl.Utf8,
    "path": pl.Utf8,
    "line": pl.Int64,
    "record_type": pl.Utf8,
    "person_id": pl.Int64,
    "corruptions": pl.List(pl.Utf8),
    "expect_reject": pl.Boolean,
}


def kind_of(submitter: str) -> str:
    prefix = submitter.split("-", 1)[0]
    return {"SSA": "ssa", "SDNH": "sdnh", "SWA": "swa", "EMP": "employer", "FI": "fi", "INS": "insurer"}.get(
        prefix, "state"
    )


def build_world(n: int, states: list[str], seed: int, as_of: date, rates: dict) -> World:
    persons = build_persons(n, states, seed, as_of, rates)
    employers = build_employers(n, states, seed, rates)
    jobs = build_jobs(persons, employers, seed, as_of, rates)
    cases, members, persons = build_cases(persons, states, seed, as_of, rates)
    return World(as_of, states, persons, employers, jobs, cases, members)


def cycle_one_files(
    world: World, seed: int, rates: dict, invalid: float, samples: bool = False
) -> tuple[list[FileOut], months.History, pl.DataFrame, pl.DataFrame]:
    """Cycle 1's files, the state of the history for later cycles, cycle 1's truth of the parents and the e-IWO
    truth (orders and acknowledgments: where each must go)."""
    files = [files_state.ssa_file(world, seed, rates, invalid, 1)]
    views = files_state.state_views(world, seed, rates)
    hist = history.settings(rates, samples)
    past = history.past_spells(world.persons, world.employers, world.jobs, seed, world.as_of, rates, hist)
    all_jobs = pl.concat([world.jobs, past])
    claimants = files_ndnh.ui_claimants(world, seed, rates)
    ui = claimants.select("person_id", pl.lit(world.as_of).alias("received"))
    stale = views.filter(pl.col("stale_address")).select("case_state", "person_id")
    prog, pays, answers = program.start(world, all_jobs, ui, stale, seed, rates)
    fin = prog.fin()
    debt = files_state.debtors(world, fin, views, rates)
    for st in world.states:
        files.append(files_state.fcr_file(world, st, views, seed, rates, invalid, 1))
        files.append(files_state.offset_file(world, st, debt, seed, rates, invalid, 1))
        files.append(files_state.case_financial_file(world, st, fin, views, seed, invalid, 1))
        files.append(files_state.misidentified_file(world, st, views, seed, rates, invalid, 1))
    files += program.payment_files(world, pays, prog, world.as_of, seed, invalid, 1)
    files += program.contact_files(world, answers, world.as_of, seed, invalid, 1)
    since = history.w4_since(world.as_of, rates, hist)
    hires = files_ndnh.new_hires(world, all_jobs, since, world.as_of, seed, rates, "c1")
    w4_jobs = all_jobs.filter((pl.col("hire_date") > since) & (pl.col("hire_date") <= world.as_of))
    files += files_ndnh.w4_files(world, hires, world.as_of, seed, invalid, 1, "c1")
    files += files_ndnh.qw_files(world, seed, rates, invalid, 1, all_jobs, hist["qw_quarters"])
    files += files_ndnh.ui_files(world, seed, rates, invalid, 1, claim=claimants)
    files += files_partners.fidm_files(world, debt, seed, rates, invalid, 1)
    ins = files_partners.insurers(world, seed, rates)
    claims = files_partners.claims(world, ins, seed, rates)
    files += files_partners.insurance_files(world, ins, claims, seed, invalid, 1)
    eterms = files_notices.etermination_files(world, seed, rates, invalid, 1, w4_jobs)
    files += eterms
    files += files_notices.debt_inquiry_files(world, ins, claims, seed, rates, invalid, 1)
    files += files_portal.portal_files(world, fin, seed, 1)
    eiwo, eiwo_truth = files_eiwo.eiwo_files(world, all_jobs, views, fin, seed, rates, invalid, 1, samples, eterms)
    state = months.History(world, prog, views, stale, past)
    return files + eiwo, state, program.truth(prog, world, all_jobs, 1, world.as_of), eiwo_truth


def later_cycle_files(world: World, cycle: int, seed: int, rates: dict, invalid: float) -> tuple[date, list[FileOut]]:
    """Cycle k > 1 (weekly): the new hires of that week, as W-4 files."""
    as_of = world.as_of + timedelta(days=7 * (cycle - 1))
    jobs = build_jobs(world.persons, world.employers, seed * 1000 + cycle, as_of, rates)
    jobs = jobs.with_columns(pl.col("job_id") + cycle * 100_000_000)
    hires = files_ndnh.new_hires(world, jobs, as_of - timedelta(days=7), as_of, seed, rates, f"c{cycle}")
    return as_of, files_ndnh.w4_files(world, hires, as_of, seed, invalid, cycle, f"c{cycle}")


def bad_header_file(files: list[FileOut]) -> FileOut | None:
    """A copy of the first state-directory W-4 file with an impossible header date: rejected whole."""
    src = next((f for f in files if f.layout == "ndnh_w4" and f.submitter.startswith("SDNH-")), None)
    if src is None:
        return None
    blocks = []
    for rid, frame in src.blocks:
        frame = frame.head(5)
        if rid == "H4":
            frame = frame.with_columns(pl.lit("20261341").alias("date_stamp"), pl.lit(["bad_header"]).alias("_corr"))
        elif rid == "T4":
            frame = frame.with_columns(pl.lit(str(min(5, src.blocks[1][1].height))).alias("record_count"))
        blocks.append((rid, frame.with_columns(pl.lit(True).alias("_bad"))))
    return FileOut(src.submitter, src.layout, src.name.replace(".001.", ".002."), blocks)


def render(fo: FileOut) -> tuple[bytes, pl.DataFrame]:
    """File bytes + per-line truth rows (line numbers as `fpls validate` counts them)."""
    if fo.raw is not None:  # a portal document: opaque bytes, one truth row (line 1, no person)
        return fo.raw, pl.DataFrame(
            {"line": [1], "record_type": ["PD"], "_pid": [None], "_corr": [[]], "_bad": [False]},
            schema={
                "line": pl.Int64,
                "record_type": pl.Utf8,
                "_pid": pl.Int64,
                "_corr": pl.List(pl.Utf8),
                "_bad": pl.Boolean,
            },
        )
    layout = load_layout(fo.layout)
    if layout.format == "csv":
        rid, frame = fo.blocks[0]
        frame = frame.sort("_k1", "_k2", maintain_order=True)
        meta = frame.select(pl.lit(rid).alias("record_type"), "_pid", "_corr", "_bad").with_row_index("line", offset=2)
        return csv_bytes(layout, frame), meta
    parts = [
        pl.concat(
            [
                render_records(frame, layout.record(rid)).to_frame("text"),
                frame.select("_k1", "_k2", "_pid", "_corr", "_bad", pl.lit(rid).alias("record_type")),
            ],
            how="horizontal",
        )
        for rid, frame in fo.blocks
    ]
    lines = pl.concat(parts).sort("_k1", "_k2", maintain_order=True).with_row_index("line", offset=1)
    data = lines.select("text").write_csv(include_header=False, quote_style="never").encode("ascii")
    return data, lines.select("line", "record_type", "_pid", "_corr", "_bad")


def write_files(files: list[FileOut], inbound: Path, home: Path, cycle: int) -> pl.DataFrame:
    truth = []
    for fo in files:
        data, meta = render(fo)
        path = inbound / fo.submitter / fo.name
        atomic_write(path, data)
        atomic_write(path.with_name(path.name + ".done"), b"")
        truth.append(
            meta.select(
                pl.lit(cycle).alias("cycle"),
                pl.lit(fo.submitter).alias("submitter"),
                pl.lit(fo.layout).alias("layout"),
                pl.lit(fo.name).alias("file"),
                pl.lit(str(path.relative_to(home))).alias("path"),
                "line",
                "record_type",
                pl.col("_pid").alias("person_id"),
                pl.col("_corr").alias("corruptions"),
                pl.col("_bad").alias("expect_reject"),
            ).cast(TRUTH_SCHEMA)
        )
    return pl.concat(truth) if truth else pl.DataFrame(schema=TRUTH_SCHEMA)


def partners_yaml(states: list[str], submitters: set[str]) -> str:
    ids = set(submitters) | set(states) | {"SSA"} | {f"SDNH-{s}" for s in states} | {f"SWA-{s}" for s in states}
    rows = [{"id": i, "kind": kind_of(i), "file_types": KINDS[kind_of(i)]} for i in sorted(ids)]
    return "# Registered submitters, written by `fpls generate`.\n" + yaml.safe_dump(
        {"partners": rows}, sort_keys=False
    )


def clear_owned(out: Path) -> None:
    for name in OWNED:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def generate(
    n: int,
    states: list[str],
    seed: int,
    out: Path,
    as_of: date,
    cycles: int = 1,
    samples: bool = False,
    rates_path: Path | None = None,
    cadence: str = "weekly",
) -> dict:
    """Write a ready home. Later cycles (`cycles` > 1) are weekly (that week's W-4s) or monthly (a month of
    W-4s, QW of the quarters that ended, UI, case financial summaries, payments, contact outcomes)."""
    if cadence not in CADENCES:
        raise ValueError(f"cadence must be one of {CADENCES}, got {cadence!r}")
    started = time.perf_counter()
    rates = load_rates(rates_path)
    invalid = rates["invalid_record_rate_samples" if samples else "invalid_record_rate"]
    world = build_world(n, states, seed, as_of, rates)
    files, hist, ability, eiwo_truth = cycle_one_files(world, seed, rates, invalid, samples)
    if samples and (bad := bad_header_file(files)) is not None:
        files.append(bad)
    out.mkdir(parents=True, exist_ok=True)
    clear_owned(out)
    for rel, text in program.settings_files(program.state_settings(world, rates)).items():
        atomic_write(out / rel, text.encode())
    truth = [write_files(files, out / "inbound", out, 1)]
    abilities = [ability]
    submitters = {f.submitter for f in files}
    schedule = [{"cycle": 1, "as_of": as_of.isoformat(), "inbound": "inbound"}]
    n_files = len(files)
    later = (
        months.monthly_cycles(hist, cycles, seed, rates, invalid)
        if cadence == "monthly"
        else ((c, *later_cycle_files(world, c, seed, rates, invalid), None) for c in range(2, cycles + 1))
    )
    for c, c_as_of, c_files, c_truth in later:
        truth.append(write_files(c_files, out / "cycles" / f"{c:02d}" / "inbound", out, c))
        submitters |= {f.submitter for f in c_files}
        schedule.append({"cycle": c, "as_of": c_as_of.isoformat(), "inbound": f"cycles/{c:02d}/inbound"})
        n_files += len(c_files)
        if c_truth is not None:
            abilities.append(c_truth)
    if cycles > 1:
        (out / "cycles.yaml").write_text(yaml.safe_dump({"cycles": schedule}, sort_keys=False))
    pl.concat(abilities).write_parquet(out / "truth_ability.parquet", statistics=False)
    (out / "partners.yaml").write_text(partners_yaml(states, submitters))
    truth_frame = pl.concat(truth)
    truth_frame.write_parquet(out / "truth.parquet", statistics=False)
    eiwo_truth.write_parquet(out / "truth_eiwo.parquet", statistics=False)
    world.persons.select(
        "person_id",
        "ssn",
        "other_ssn",
        "first",
        "middle",
        "last",
        "birth_last",
        "ssa_last",
        "dob",
        "sex",
        "dod",
        "street",
        "city",
        "state",
        "zip",
        "prev_street",
        "prev_city",
        "prev_state",
        "prev_zip",
    ).write_parquet(out / "truth_persons.parquet", statistics=False)
    return {
        "out": str(out),
        "persons": n,
        "states": states,
        "seed": seed,
        "as_of": as_of.isoformat(),
        "cycles": cycles,
        "cadence": cadence,
        "files": n_files,
        "records": truth_frame.height,
        "deliberately_invalid": int(truth_frame.get_column("expect_reject").sum()),
        "seconds": round(time.perf_counter() - started, 2),
    }


def parse_as_of(text: str | None) -> date:
    return date.fromisoformat(text) if text else date.today()


__all__ = ["generate", "ymd"]
