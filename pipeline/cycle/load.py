"""Validate + load one claimed file into the store: one transaction holds its rows and its ledger row.

Refusals before a record is read (unregistered submitter, file type not allowed, header naming another
transmitter, identical resubmission) and files rejected whole by validation leave only a ledger row and
their reasons; the data rows of a rejected file are rolled back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pipeline.cycle.context import CycleContext
from pipeline.cycle.inbound import (
    Partner,
    csv_submitter_problem,
    load_partners,
    sha256_file,
    transmitter_problem,
    work_files,
)
from pipeline.enforcement.run import ENFORCEMENT_LAYOUTS, load_enforcement_records
from pipeline.files import errors
from pipeline.files.layouts import Layout
from pipeline.files.lines import first_line
from pipeline.files.read import detect_layout
from pipeline.files.validate import ValidationResult, validate_file
from pipeline.portal.run import PORTAL_LAYOUTS, load_attachment, load_portal_file
from pipeline.safeguards.faults import checkpoint
from pipeline.store import insert_frame, transaction

NDNH_ID_FACTOR = 10_000_000_000
SOURCES = {"ndnh_w4": "H99", "new_hire_csv": "H99", "ndnh_qw": "H98", "ndnh_ui": "H97"}
# File-level refusals made by the cycle; their messages live with every other code in error_codes.yaml.
CYCLE_CODES = ("UNREGISTERED_SUBMITTER", "FILE_TYPE_NOT_ALLOWED", "TRANSMITTER_MISMATCH", "DUPLICATE_FILE")


@dataclass
class FileOutcome:
    file_id: int
    submitter: str
    file_name: str
    sha256: str
    layout: str = ""
    status: str = "loaded"  # loaded | rejected | duplicate
    records: int = 0
    accepted: int = 0
    rejected: int = 0
    reasons: list[dict] = field(default_factory=list)
    duplicate_of: int | None = None
    header: dict = field(default_factory=dict)

    @property
    def codes(self) -> list[str]:
        return [r["code"] for r in self.reasons if r.get("severity", "E") == "E"]


@dataclass
class LoadContext:
    con: duckdb.DuckDBPyConnection
    cycle_id: str
    as_of: date
    partners: dict[str, Partner]


def _refusal(outcome: FileOutcome, code: str, detail: str = "") -> FileOutcome:
    message = errors.render(code) + (f" ({detail})" if detail else "")
    outcome.reasons.append(
        {"line": 0, "record_type": "", "field": "", "code": code, "message": message, "value": "", "severity": "E"}
    )
    outcome.status = "duplicate" if code == "DUPLICATE_FILE" else "rejected"
    return outcome


def _precheck(ctx: LoadContext, path: Path, outcome: FileOutcome) -> Layout | None:
    partner = ctx.partners.get(outcome.submitter)
    if partner is None:
        _refusal(outcome, "UNREGISTERED_SUBMITTER", outcome.submitter)
        return None
    layout = detect_layout(path, direction="inbound") if path.stat().st_size else None
    if layout is None:
        return None  # validation says EMPTY_FILE / UNKNOWN_LAYOUT
    outcome.layout = layout.name
    if partner.file_types and layout.name not in partner.file_types:
        _refusal(outcome, "FILE_TYPE_NOT_ALLOWED", layout.name)
        return None
    problem = transmitter_problem(partner, layout, first_line(path)) or csv_submitter_problem(partner, layout, path)
    if problem:
        _refusal(outcome, "TRANSMITTER_MISMATCH", problem)
        return None
    dup = ctx.con.execute(
        "SELECT min(file_id) FROM file_ledger WHERE sha256 = ? AND status = 'loaded'", [outcome.sha256]
    ).fetchone()[0]
    if dup is not None:
        outcome.duplicate_of = int(dup)
        _refusal(outcome, "DUPLICATE_FILE", f"first loaded as file {dup}")
        return None
    return layout


class _Sink:
    """Receives accepted typed batches and appends them to the store tables of the file type."""

    def __init__(self, ctx: LoadContext, outcome: FileOutcome, layout: Layout):
        self.ctx, self.outcome, self.layout = ctx, outcome, layout

    def _meta(self, frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(
            pl.lit(self.ctx.cycle_id).alias("cycle_id"), pl.lit(self.outcome.file_id, dtype=pl.Int32).alias("file_id")
        )

    def __call__(self, record_id: str, frame: pl.DataFrame) -> None:
        con, name = self.ctx.con, self.layout.name
        if self.layout.header and record_id == self.layout.header.id:
            self.outcome.header = {k: v for k, v in frame.row(0, named=True).items() if k != "line_no"}
            return
        if self.layout.trailer_record and record_id == self.layout.trailer_record.id:
            return
        frame = self._meta(frame)
        if name == "ssa_master":
            insert_frame(con, "ssa_master", frame)
        elif name == "fcr_input":
            frame = frame.with_columns(
                pl.lit(self.outcome.submitter).alias("state"),
                pl.lit(self.outcome.header.get("batch_number")).alias("batch_number"),
            )
            insert_frame(con, "fcr_case_input" if record_id == "FC" else "fcr_person_input", frame)
        elif name == "misidentified_csv":
            self._misidentified(frame)
        elif name == "case_financial_csv":  # a state reports only its own cases: rows naming another are not loaded
            insert_frame(con, "case_financial", frame.filter(pl.col("state") == self.outcome.submitter))
        elif name == "ndnh_qw" and record_id == "E4":
            insert_frame(con, "ndnh_employers", frame)
        elif name in SOURCES:
            insert_frame(con, "ndnh", self._ndnh(frame))
        elif name in ENFORCEMENT_LAYOUTS:
            load_enforcement_records(
                con, name, {record_id: frame}, self.outcome.file_id, self.ctx.cycle_id, self.outcome.submitter
            )
        elif name in PORTAL_LAYOUTS:
            load_portal_file(
                con, name, record_id, frame, self.outcome.file_id, self.ctx.cycle_id, self.outcome.submitter
            )

    def _misidentified(self, frame: pl.DataFrame) -> None:
        rows = frame.select(
            "file_id",
            pl.lit(self.outcome.submitter).alias("state"),
            "member_id",
            pl.col("misidentified_ssn").alias("ssn"),
            "action",
        )
        removed = rows.filter(pl.col("action") == "D")  # noqa: F841 - used by name in SQL
        self.ctx.con.execute(
            "DELETE FROM misidentified m USING removed r WHERE m.state = r.state "
            "AND m.member_id = r.member_id AND m.ssn = r.ssn"
        )
        insert_frame(self.ctx.con, "misidentified", rows.filter(pl.col("action") == "A"))

    def _ndnh(self, frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(
            (pl.lit(self.outcome.file_id, dtype=pl.Int64) * NDNH_ID_FACTOR + pl.col("line_no")).alias("ndnh_id"),
            pl.lit(self.ctx.as_of).alias("received"),
            pl.lit(self.outcome.submitter).alias("submitter"),
            pl.lit(SOURCES[self.layout.name]).alias("source"),
        )


def _attach_qw_employers(con: duckdb.DuckDBPyConnection, file_id: int) -> None:
    con.execute(
        """
        UPDATE ndnh SET employer_name = e.employer_name, employer_address_line_1 = e.employer_address_line_1,
            employer_address_line_2 = e.employer_address_line_2, employer_city = e.employer_city,
            employer_state = e.employer_state, employer_zip = e.employer_zip
        FROM (SELECT * FROM ndnh_employers WHERE file_id = ?
              QUALIFY row_number() OVER (PARTITION BY employer_fein, reporting_period ORDER BY line_no) = 1) e
        WHERE ndnh.file_id = ? AND ndnh.employer_fein = e.employer_fein
          AND ndnh.reporting_period = e.reporting_period""",
        [file_id, file_id],
    )


def _apply_validation(outcome: FileOutcome, result: ValidationResult) -> None:
    outcome.records, outcome.accepted, outcome.rejected = result.records, result.accepted, result.rejected
    outcome.layout = outcome.layout or result.layout
    for row in result.file_errors:
        outcome.reasons.append({**row, "severity": "E"})
    for row in result.warnings:
        outcome.reasons.append({**row, "severity": "W"})
    if result.file_status == "rejected":
        outcome.status = "rejected"


def _rejects_frame(outcome: FileOutcome, result: ValidationResult | None) -> pl.DataFrame:
    cols = ["line", "record_type", "field", "code", "message", "value", "severity"]
    file_rows = pl.DataFrame(
        [{k: r.get(k) for k in cols} for r in outcome.reasons],
        schema={**{k: v for k, v in errors.REJECT_COLUMNS.items() if k in cols}, "severity": pl.Utf8},
    )
    parts = [file_rows]
    if result is not None and not result.rejects.is_empty():
        parts.append(result.rejects.select(*cols[:-1], pl.lit("E").alias("severity")))
    return pl.concat(parts).with_columns(pl.lit(outcome.file_id, dtype=pl.Int32).alias("file_id"))


def _record_ledger(ctx: LoadContext, outcome: FileOutcome, size: int, result: ValidationResult | None) -> None:
    ctx.con.execute(
        "INSERT INTO file_ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE)",
        [
            outcome.file_id,
            ctx.cycle_id,
            outcome.submitter,
            outcome.file_name,
            outcome.sha256,
            size,
            outcome.layout,
            outcome.status,
            outcome.records,
            outcome.accepted,
            outcome.rejected,
            outcome.codes,
            outcome.duplicate_of,
            json.dumps(outcome.header, default=str, sort_keys=True),
        ],
    )
    insert_frame(ctx.con, "rejects", _rejects_frame(outcome, result))


def next_file_id(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT coalesce(max(file_id), 0) + 1 FROM file_ledger").fetchone()[0])


def load_file(ctx: LoadContext, path: Path) -> FileOutcome:
    """Check, validate and load one claimed file (work/<cycle>/<submitter>/FILE) in one transaction."""
    outcome = FileOutcome(next_file_id(ctx.con), path.parent.name, path.name, sha256_file(path))
    size = path.stat().st_size
    with transaction(ctx.con):
        layout = _precheck(ctx, path, outcome)
        result = None
        if outcome.status == "loaded" and layout is None:
            code = "EMPTY_FILE" if size == 0 else "UNKNOWN_LAYOUT"
            outcome.reasons.append({**errors.reject_row(path.name, 1, "", "", code), "severity": "E"})
            outcome.status = "rejected"
        elif outcome.status == "loaded":
            result = validate_file(path, layout, sink=_Sink(ctx, outcome, layout))
            _apply_validation(outcome, result)
        if outcome.status != "loaded":
            ctx.con.execute("ROLLBACK")
            ctx.con.execute("BEGIN TRANSACTION")
        elif outcome.layout == "ndnh_qw":
            _attach_qw_employers(ctx.con, outcome.file_id)
        _record_ledger(ctx, outcome, size, result)
        checkpoint("load")
    return outcome


@dataclass
class LoadResult:
    files: int = 0
    loaded: int = 0
    refused: int = 0
    records: int = 0
    accepted: int = 0
    rejected: int = 0

    def add(self, outcome: FileOutcome) -> None:
        self.files += 1
        self.loaded += outcome.status == "loaded"
        self.refused += outcome.status != "loaded"
        self.records += outcome.records
        self.accepted += outcome.accepted
        self.rejected += outcome.rejected


def load_claimed(ctx: CycleContext) -> LoadResult:
    """Load stage: every claimed file of the cycle not yet in the ledger, one transaction each. EDE and
    state-plan documents are kept as attachments (pipeline/portal/run.py), everything else validated."""
    load_ctx = LoadContext(ctx.con, ctx.cycle_id, ctx.as_of, load_partners(ctx.home))
    done = {
        (r[0], r[1])
        for r in ctx.con.execute(
            "SELECT submitter, file_name FROM file_ledger WHERE cycle_id = ?", [ctx.cycle_id]
        ).fetchall()
    }
    result = LoadResult()
    for path in work_files(ctx.home / "work" / ctx.cycle_id):
        if (path.parent.name, path.name) in done:
            continue
        outcome = load_attachment(ctx.con, ctx.cycle_id, path) or load_file(load_ctx, path)
        ctx.log.event(
            "file",
            submitter=outcome.submitter,
            file=outcome.file_name,
            layout=outcome.layout,
            status=outcome.status,
            records=outcome.records,
            accepted=outcome.accepted,
            rejected=outcome.rejected,
            codes=outcome.codes,
        )
        result.add(outcome)
    return result
