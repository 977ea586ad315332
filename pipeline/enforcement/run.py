"""Enforcement exchanges: one entry point for the cycle, and the loader hook for their inbound files.

- Loading: `pipeline/cycle/load.py` hands every accepted data record of an ENFORCEMENT_LAYOUTS file to
  `load_enforcement_records` (header / trailer records stay in the ledger and the validator's controls;
  a file rejected whole is rolled back by the loader, so none of its records reach these tables).
- The cycle calls `run_enforcement` after `write_outbound` and before archiving. It needs, loaded and
  committed: this cycle's files, the SSA master (`ssa_current`), the FCR stage (verified SSNs, FV flags)
  and the NDNH stage (for eTermination and eEmployer). It commits its store changes with the stage marker
  `enforcement` in one transaction (skipped on a resumed cycle), then (re)writes its outbound files from the
  store, so a rerun gives the same bytes; it merges its files into each recipient's manifest.json, which
  is why it runs after `write_outbound`.

Outbound written (per cycle): OFFREJ.<ST>.<cycle>.dat (offset rejects + reject control, every state that
sent a loaded offset file), PASSPORT.DOS.<cycle>.dat (certifications / releases, when any), MSFIDMINQ.<FI>.<cycle>.dat
(every registered institution, when there are debtors), MSFIDM.<ST>.<cycle>.dat, INSMATCH.<ST>.<cycle>.dat and
NOTICES.<ST>.<cycle>.dat (states with matches), the e-IWO files (pipeline/enforcement/eiwo_out.py: EIWO.<EMP>,
EIWORES.<ST>, EIWOACKRES.<EMP> and the No Programming Option's .html + EIWOACK .csv),
reports/<cycle>/employer_reporting_<YYYY-MM>.csv and reports/<cycle>/mser_<YYYY-MM>.csv.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pipeline import store
from pipeline.enforcement.asap import AsapResult, run_asap
from pipeline.enforcement.asap_settings import StateSettings, load_settings
from pipeline.enforcement.eiwo import EiwoResult
from pipeline.enforcement.eiwo_load import EIWO_LAYOUTS, load_eiwo_records
from pipeline.enforcement.eiwo_out import write_eiwo_outbound
from pipeline.enforcement.eiwo_ties import run_eiwo
from pipeline.enforcement.employers import write_late_report
from pipeline.enforcement.insurance import InsuranceResult, run_insurance
from pipeline.enforcement.insurance import response_blocks as insurance_blocks
from pipeline.enforcement.misidentified import apply_changes
from pipeline.enforcement.mser import write_mser_report
from pipeline.enforcement.msfidm import MsfidmResult, inquiry_blocks, run_msfidm
from pipeline.enforcement.msfidm import response_blocks as msfidm_blocks
from pipeline.enforcement.notices import NoticesResult, notice_blocks, run_notices
from pipeline.enforcement.offset import (
    OffsetResult,
    offset_states,
    reject_blocks,
    run_offset,
)
from pipeline.enforcement.passport import PassportResult, passport_blocks, run_passport
from pipeline.engine import Engine
from pipeline.files.delivery import write_blocks

STAGE = "enforcement"
ENFORCEMENT_LAYOUTS = {
    "offset_debtor": "offset_input",
    "msfidm_match": "msfidm_accounts",
    "insurance_claim": "insurance_claims",
    "insurance_claim_csv": "insurance_claims",
    "debt_inquiry": "debt_inquiries",
    "etermination": "terminations",
    "misidentified_csv": "misidentified_input",
    **{name: "eiwo" for name in sorted(EIWO_LAYOUTS)},  # pipeline/enforcement/eiwo_load.py
}
DATA_RECORDS = {
    "offset_debtor": "CASE",
    "msfidm_match": "B",
    "insurance_claim": "IM",
    "insurance_claim_csv": "IM",
    "debt_inquiry": "DI",
    "etermination": "ET",
    "misidentified_csv": "MI",
}


@dataclass
class EnforcementResult:
    cycle_id: str
    resumed: bool = False
    offset: OffsetResult | None = None
    passport: PassportResult | None = None
    msfidm: MsfidmResult | None = None
    insurance: InsuranceResult | None = None
    notices: NoticesResult | None = None
    eiwo: EiwoResult | None = None
    asap: AsapResult | None = None
    files: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def load_enforcement_records(
    con: duckdb.DuckDBPyConnection, layout_name: str, frames, file_id: int, cycle_id: str, submitter: str | None = None
) -> int:
    """Append accepted data records of an enforcement file type to its table (header / trailer records are
    ignored). `frames`: one frame of data records, or {record_id: frame}. Returns rows stored."""
    if layout_name not in ENFORCEMENT_LAYOUTS:
        return 0
    if layout_name in EIWO_LAYOUTS:
        pairs = frames.items() if isinstance(frames, dict) else [("DTL", frames)]
        return sum(load_eiwo_records(con, layout_name, r, f, file_id, cycle_id, submitter) for r, f in pairs)
    items = frames.items() if isinstance(frames, dict) else [(DATA_RECORDS[layout_name], frames)]
    stored = 0
    for record_id, frame in items:
        if record_id != DATA_RECORDS[layout_name] or frame.is_empty():
            continue
        frame = frame.with_columns(
            pl.lit(cycle_id).alias("cycle_id"),
            pl.lit(file_id, pl.Int32).alias("file_id"),
            pl.lit(submitter, pl.Utf8).alias("submitter"),
            pl.lit(layout_name).alias("layout"),
        )
        if layout_name == "misidentified_csv":
            frame = frame.rename({"misidentified_ssn": "ssn"}).with_columns(pl.col("submitter").alias("state"))
            store.insert_frame(con, "misidentified_input", frame)
            apply_changes(con, frame, "file", cycle_id)
        else:
            store.insert_frame(con, ENFORCEMENT_LAYOUTS[layout_name], frame)
        stored += frame.height
    return stored


def apply_enforcement(
    con: duckdb.DuckDBPyConnection,
    cycle_id: str,
    as_of: date,
    settings: dict[str, StateSettings] | None = None,
    engine: Engine | None = None,
) -> EnforcementResult:
    """Every store change of the stage (the caller owns the transaction). The early-intervention program
    (ASAP letters) runs last: it reads the addresses the insurance and MSFIDM matches just found."""
    result = EnforcementResult(cycle_id)
    result.offset = run_offset(con, cycle_id)
    result.passport = run_passport(con, cycle_id)
    result.msfidm = run_msfidm(con, cycle_id)
    result.insurance = run_insurance(con, cycle_id, engine)
    result.notices = run_notices(con, cycle_id, as_of, engine)
    result.eiwo = run_eiwo(con, cycle_id, as_of)  # after the notices: it flags their lump sums, adds to eTermination
    result.asap = run_asap(con, cycle_id, as_of, settings or {})
    return result


def _states(con: duckdb.DuckDBPyConnection, cycle: str, source: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            """SELECT DISTINCT state FROM enforcement_matches WHERE cycle_id = ?
        AND source IN (SELECT unnest(string_split(?, ','))) ORDER BY 1""",
            [cycle, source],
        ).fetchall()
    ]


def write_enforcement_outbound(con: duckdb.DuckDBPyConnection, home: Path, cycle: str, as_of: date) -> list[dict]:
    """(Re)write every enforcement outbound file of the cycle from the store."""
    files = [
        write_blocks(home, cycle, st, f"OFFREJ.{st}.{cycle}.dat", "offset_reject", reject_blocks(con, cycle, as_of, st))
        for st in offset_states(con, cycle)
    ]
    pp = passport_blocks(con, cycle, as_of)
    if pp[1][1].height:
        files.append(write_blocks(home, cycle, "DOS", f"PASSPORT.DOS.{cycle}.dat", "passport_denial", pp))
    n_inquiry = con.execute("SELECT count(*) FROM msfidm_inquiry WHERE cycle_id = ?", [cycle]).fetchone()[0]
    fis = (
        [
            r[0]
            for r in con.execute(
                "SELECT recipient FROM msfidm_recipients WHERE cycle_id = ? ORDER BY 1", [cycle]
            ).fetchall()
        ]
        if n_inquiry
        else []
    )
    files += [
        write_blocks(
            home, cycle, fi, f"MSFIDMINQ.{fi}.{cycle}.dat", "msfidm_inquiry", inquiry_blocks(con, cycle, as_of, fi)
        )
        for fi in fis
    ]
    files += [
        write_blocks(
            home, cycle, st, f"MSFIDM.{st}.{cycle}.dat", "msfidm_response", msfidm_blocks(con, cycle, as_of, st)
        )
        for st in _states(con, cycle, "msfidm")
    ]
    files += [
        write_blocks(
            home, cycle, st, f"INSMATCH.{st}.{cycle}.dat", "insurance_response", insurance_blocks(con, cycle, as_of, st)
        )
        for st in _states(con, cycle, "insurance")
    ]
    files += [
        write_blocks(
            home, cycle, st, f"NOTICES.{st}.{cycle}.dat", "enforcement_notice", notice_blocks(con, cycle, as_of, st)
        )
        for st in _states(con, cycle, "debt_inquiry,etermination,eiwo")
    ]
    files += write_eiwo_outbound(con, home, cycle, as_of)
    write_late_report(con, home, cycle, f"{as_of:%Y-%m}")
    write_mser_report(con, home, cycle, f"{as_of:%Y-%m}")
    return files


def run_enforcement(
    con: duckdb.DuckDBPyConnection, home: Path, cycle_id: str, as_of: date, engine: Engine | None = None
) -> EnforcementResult:
    """The cycle's enforcement stage (see the module docstring for where it is called). `engine` runs the
    debtor linkage's pair comparison (pipeline.engine; in process by default)."""
    if store.stage_done(con, cycle_id, STAGE):
        result = EnforcementResult(cycle_id, resumed=True)
    else:
        settings = load_settings(Path(home))
        with store.transaction(con):
            result = apply_enforcement(con, cycle_id, as_of, settings, engine)
            store.mark_stage(con, cycle_id, STAGE)
    result.files = write_enforcement_outbound(con, Path(home), cycle_id, as_of)
    return result
