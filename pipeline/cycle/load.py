"""Validate + load one claimed file into the store: its rows and its ledger row commit together (in its own
transaction, or one shared by small files: pipeline/cycle/load_context.py).

Refusals before a record is read (unregistered submitter, file type not allowed, header naming another
transmitter, identical resubmission) and files rejected whole by validation leave only a ledger row and
their reasons; the data rows of a rejected file are rolled back (a small file's are never written).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from matchers.ssn import ssn_reason_expr
from pipeline.cycle.context import CycleContext
from pipeline.cycle.fcr_rejects import keep_rejected
from pipeline.cycle.inbound import (
    csv_sender_problem,
    entry_refusal,
    file_digests,
    load_partners,
    transmitter_problem,
    work_files,
)
from pipeline.cycle.load_context import LoadContext
from pipeline.cycle.qw_employers import QwEmployers, attach_qw_employers
from pipeline.enforcement.run import ENFORCEMENT_LAYOUTS, load_enforcement_records
from pipeline.files import errors
from pipeline.files.layouts import Layout
from pipeline.files.lines import first_line
from pipeline.files.read import detect_layout
from pipeline.files.validate import ValidationResult, validate_file
from pipeline.portal.run import PORTAL_LAYOUTS, is_attachment, load_attachment, load_portal_file
from pipeline.safeguards.faults import checkpoint
from pipeline.safeguards.masking import mask_ssn
from pipeline.store import bulk_appends, insert_frame

NDNH_ID_FACTOR = 10_000_000_000
NEVER_ISSUED = ("AREA_000", "AREA_666", "AREA_9XX", "GROUP_00", "SERIAL_0000", "ITIN", "KNOWN_INVALID")
SOURCES = {"ndnh_w4": "H99", "new_hire_csv": "H99", "ndnh_qw": "H98", "ndnh_ui": "H97"}
# The states' own CSV reports about their cases -> store table (case financial summary; tier two: payments and
# early-intervention contact outcomes).
STATE_CSV = {
    "case_financial_csv": "case_financial",
    "payment_csv": "payments",
    "contact_outcome_csv": "contact_outcomes",
}
# File-level refusals made by the cycle; their messages live with every other code in error_codes.yaml.
CYCLE_CODES = (
    "UNREGISTERED_SUBMITTER",
    "FILE_TYPE_NOT_ALLOWED",
    "TRANSMITTER_MISMATCH",
    "DUPLICATE_FILE",
    "ENTRY_IS_SYMLINK",
    "ENTRY_NOT_A_FILE",
    "FILE_NAME_REFUSED",
    "FILE_UNREADABLE",
)


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
    content_sha256: str = ""

    @property
    def codes(self) -> list[str]:
        return [r["code"] for r in self.reasons if r.get("severity", "E") == "E"]


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
    problem = transmitter_problem(partner, layout, first_line(path)) or csv_sender_problem(partner, layout, path)
    if problem:
        _refusal(outcome, "TRANSMITTER_MISMATCH", problem)
        return None
    dup = ctx.con.execute(
        """SELECT min(file_id) FROM file_ledger WHERE submitter = ? AND status = 'loaded'
        AND (sha256 = ? OR content_sha256 = ?)""",
        [outcome.submitter, outcome.sha256, outcome.content_sha256],
    ).fetchone()[0]
    if dup is not None:
        outcome.duplicate_of = int(dup)
        _refusal(outcome, "DUPLICATE_FILE", f"first loaded as file {dup}")
        return None
    return layout


class _Sink:
    """Receives accepted typed batches and appends them to the store tables of the file type, as they come:
    each batch goes to DuckDB through its Arrow scan, the columns that are the same for the whole file added
    by DuckDB in the INSERT (pipeline/store Appender), so memory follows the batch."""

    def __init__(self, ctx: LoadContext, outcome: FileOutcome, layout: Layout):
        self.ctx, self.outcome, self.layout = ctx, outcome, layout
        self.meta = {"cycle_id": ctx.cycle_id, "file_id": outcome.file_id}
        self.employers = QwEmployers() if layout.name == "ndnh_qw" else None

    def _meta(self, frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(
            pl.lit(self.ctx.cycle_id).alias("cycle_id"), pl.lit(self.outcome.file_id, dtype=pl.Int32).alias("file_id")
        )

    def _append(self, table: str, frame: pl.DataFrame, expressions: dict | None = None, **constants) -> None:
        self.ctx.appender(table).append(frame, {**self.meta, **constants}, expressions)

    def __call__(self, record_id: str, frame: pl.DataFrame) -> None:
        con, name = self.ctx.con, self.layout.name
        if self.layout.header and record_id == self.layout.header.id:
            self.outcome.header = {k: v for k, v in frame.row(0, named=True).items() if k != "line_no"}
            return
        if self.layout.trailer_record and record_id == self.layout.trailer_record.id:
            return
        if name == "ssa_master":
            self._append("ssa_master", frame)
        elif name == "fcr_input":
            table = "fcr_case_input" if record_id == "FC" else "fcr_person_input"
            self._append(
                table, frame, state=self.outcome.submitter, batch_number=self.outcome.header.get("batch_number")
            )
        elif name == "misidentified_csv":
            self._misidentified(self._meta(frame))
        elif name in STATE_CSV:  # a state reports only its own cases: rows naming another are not loaded
            self._append(STATE_CSV[name], frame.filter(pl.col("state") == self.outcome.submitter))
        elif name == "ndnh_qw" and record_id == "E4":
            self._append("ndnh_employers", frame)
            self.employers.add(frame)
        elif name in SOURCES:
            if self.employers is not None:
                frame = self.employers.attach(frame)
            self._append(
                "ndnh",
                frame,
                {"ndnh_id": f"{int(self.outcome.file_id)}::BIGINT * {NDNH_ID_FACTOR} + line_no"},
                received=self.ctx.as_of,
                submitter=self.outcome.submitter,
                source=SOURCES[name],
            )
            self._never_issued(record_id, frame)
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

    def _never_issued(self, record_id: str, frame: pl.DataFrame) -> None:
        """A posted NDNH record whose SSN was never issued gets a warning on its line (ACK, ledger)."""
        bad = frame.filter(ssn_reason_expr("ssn").is_in(NEVER_ISSUED)).select("line_no", "ssn")
        message = errors.render("SSN_NEVER_ISSUED")
        self.outcome.reasons += [
            {
                "line": line,
                "record_type": record_id,
                "field": "ssn",
                "code": "SSN_NEVER_ISSUED",
                "message": message,
                "value": mask_ssn(ssn),
                "severity": "W",
            }
            for line, ssn in bad.iter_rows()
        ]


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
    if result is not None and not result.record_warnings.is_empty() and outcome.status != "rejected":
        parts.append(result.record_warnings.select(*cols[:-1], pl.lit("W").alias("severity")))
    return pl.concat(parts).with_columns(pl.lit(outcome.file_id, dtype=pl.Int32).alias("file_id"))


def _record_ledger(ctx: LoadContext, outcome: FileOutcome, size: int, result: ValidationResult | None) -> None:
    ctx.con.execute(
        """INSERT INTO file_ledger (file_id, cycle_id, submitter, file_name, sha256, bytes, layout, status, records,
        accepted, rejected, reason_codes, duplicate_of, header_json, processed, content_sha256)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE, ?)""",
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
            outcome.content_sha256,
        ],
    )
    ctx.appender("rejects").append(_rejects_frame(outcome, result))


def next_file_id(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT coalesce(max(file_id), 0) + 1 FROM file_ledger").fetchone()[0])


def _refused_entry(ctx: LoadContext, path: Path, code: str) -> FileOutcome:
    """A claimed entry that is not read at all (a symlink, a folder, a bad name, no read permission): only its
    ledger row and reason, so the submitter's ACK says why and the archive stage quarantines it."""
    outcome = _refusal(FileOutcome(next_file_id(ctx.con), path.parent.name, path.name, ""), code)
    with ctx.file_transaction(0):
        _record_ledger(ctx, outcome, os.lstat(path).st_size if code == "FILE_UNREADABLE" else 0, None)
        checkpoint("load")
    return outcome


def _validate(path: Path, layout: Layout, outcome: FileOutcome, sink: _Sink, hold: bool) -> ValidationResult:
    """Validate a file into the store as its batches come; a file sharing its group's transaction is held
    (small by definition) and stored only once validation has accepted the file, as no rollback can undo it."""
    held: list[tuple[str, pl.DataFrame]] = []
    result = validate_file(path, layout, sink=(lambda rid, frame: held.append((rid, frame))) if hold else sink)
    _apply_validation(outcome, result)
    if outcome.status == "loaded":
        for record_id, frame in held:
            sink(record_id, frame)
    return result


def load_file(ctx: LoadContext, path: Path) -> FileOutcome:
    """Check, validate and load one claimed file (work/<cycle>/<submitter>/FILE) in one transaction."""
    refusal = entry_refusal(path)
    if refusal is not None:
        return _refused_entry(ctx, path, refusal)
    try:
        digests = file_digests(path)
    except PermissionError:
        return _refused_entry(ctx, path, "FILE_UNREADABLE")
    outcome = FileOutcome(next_file_id(ctx.con), path.parent.name, path.name, digests[0], content_sha256=digests[1])
    size = path.stat().st_size
    shared = ctx.in_group(size)  # this file shares its transaction with other small files
    with ctx.file_transaction(size):
        layout = _precheck(ctx, path, outcome)
        result = sink = None
        if outcome.status == "loaded" and layout is None:
            code = "EMPTY_FILE" if size == 0 else "UNKNOWN_LAYOUT"
            outcome.reasons.append({**errors.reject_row(path.name, 1, "", "", code), "severity": "E"})
            outcome.status = "rejected"
        elif outcome.status == "loaded":
            sink = _Sink(ctx, outcome, layout)
            result = _validate(path, layout, outcome, sink, hold=shared)
        if outcome.status != "loaded":
            if not shared:  # a file sharing its transaction was held, so it wrote nothing
                ctx.con.execute("ROLLBACK")
                ctx.con.execute("BEGIN TRANSACTION")
        elif sink is not None and sink.employers is not None and sink.employers.mend():
            attach_qw_employers(ctx.con, outcome.file_id)
        elif outcome.layout == "fcr_input" and result is not None and not result.rejects.is_empty():
            ids = {"cycle_id": ctx.cycle_id, "file_id": outcome.file_id, "state": outcome.submitter}
            keep_rejected(ctx.con, path, layout, result.rejects, {**ids, **outcome.header})
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
    with bulk_appends(ctx.con), load_ctx.grouped_commits():
        claimed = work_files(ctx.home / "work" / ctx.cycle_id)
        for i, path in enumerate(claimed, 1):
            ctx.report("file", i - 1, len(claimed), f"{path.parent.name}/{path.name}")
            if (path.parent.name, path.name) in done:
                continue
            refused = entry_refusal(path) is not None  # never read (a symlink named like a document included)
            if not refused and is_attachment(path):
                load_ctx.commit_group()  # an attachment is ledgered in its own transaction
                outcome = load_attachment(ctx.con, ctx.cycle_id, path)
            else:
                outcome = load_file(load_ctx, path)
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
        ctx.report("file", len(claimed), len(claimed), "files loaded")
    return result
