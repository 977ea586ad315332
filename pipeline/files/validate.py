"""Validation: a file → accepted typed frames (streamed to a sink) + a rejects table + file status.

Each line is classified and checked where it stands (line_checks.py), each record against the layout's
pandera schema (record_checks.py); this module adds what a single record cannot know: the header must come first, nothing may follow the trailer, trailer
controls must agree, the reject rate must stay under the layout's limit. Conservation always holds:
records read = accepted + rejected (a file rejected whole counts every record as rejected).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline.files import errors
from pipeline.files.controls import ControlTally, describe
from pipeline.files.layouts import Layout, Record
from pipeline.files.line_checks import CLEAN, LINE_CODE, RECORD_TYPE, FixedState, line_codes, line_rejects
from pipeline.files.lines import BATCH_ROWS, LINE_NO, first_overlong_line
from pipeline.files.read import (
    detect_layout,
    iter_fixed_batches,
    max_line_bytes,
    read_csv_text,
    scanner_built,
    slice_fields,
    stripped,
)
from pipeline.files.record_checks import validate_records

Sink = Callable[[str, pl.DataFrame], None]


@dataclass
class ValidationResult:
    file: str
    layout: str
    records: int = 0
    accepted: int = 0
    rejected: int = 0
    rejects: pl.DataFrame = field(default_factory=errors.empty_rejects)
    file_errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)  # file-level warnings
    record_warnings: pl.DataFrame = field(default_factory=errors.empty_rejects)  # kept records, a value unknown
    by_record_type: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def file_status(self) -> str:
        return "rejected" if self.file_errors else "accepted"

    def reject_file(self, row: dict) -> None:
        self.file_errors.append(row)
        self.settle()

    def settle(self) -> None:
        """Conservation: a file-level error rejects every record of the file."""
        self.rejected = self.records - self.accepted
        if self.file_errors:
            self.accepted, self.rejected = 0, self.records

    def to_json(self, max_errors: int = 10_000) -> dict:
        rows = self.file_errors + self.rejects.head(max_errors).to_dicts()
        keep = ("line", "record_type", "field", "code", "message", "value")
        return {
            "file": self.file,
            "layout": self.layout,
            "file_status": self.file_status,
            "records": self.records,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "errors": [{k: r[k] for k in keep} for r in rows],
            "errors_truncated": self.rejects.height > max_errors,
            "warnings": [
                {k: r[k] for k in keep} for r in self.warnings + self.record_warnings.head(max_errors).to_dicts()
            ],
            "warning_count": len(self.warnings) + self.record_warnings.height,
            "by_record_type": self.by_record_type,
        }


def _count_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _file_error(
    result: ValidationResult, code: str, line: int = 1, record_type: str = "", field_name: str = "", **detail
) -> dict:
    return errors.reject_row(result.file, line, record_type, field_name, code, **detail)


def _count_read(result: ValidationResult, batch: pl.DataFrame) -> None:
    for record_type, n in batch.group_by(RECORD_TYPE).len().iter_rows():
        counts = result.by_record_type.setdefault(record_type or "unknown", {"read": 0, "accepted": 0})
        counts["read"] += n


@dataclass
class _FixedRun:
    """The state of one fixed-width file's validation across batches."""

    path: Path
    layout: Layout
    sink: Sink
    result: ValidationResult
    state: FixedState = field(default_factory=FixedState)
    rejects: list[pl.DataFrame] = field(default_factory=list)
    warnings: list[pl.DataFrame] = field(default_factory=list)
    declared: dict[str, dict] = field(default_factory=dict)  # control record id → its values

    def __post_init__(self) -> None:
        self.tally = ControlTally(self.layout)

    def batch(self, lines: pl.DataFrame, scans: dict | None = None) -> None:
        """One batch of lines; `scans` holds, per record, the rows the compiled scanner found clean."""
        self.result.records += lines.height
        if self.state.header_ok is False:
            return
        lines = line_codes(lines, self.layout, self.state)
        if self.state.header_ok is None and not self._header_first(lines):
            return
        scans = scans or {}
        texts = lines.filter(~pl.col(CLEAN))  # every line, unless the compiled scanner passed it
        self.tally.add(texts)
        for record_id, scan in scans.items():
            self.tally.add_records(record_id, scan.accepted)
        _count_read(self.result, lines)
        self.rejects.append(line_rejects(lines, self.layout, self.result.file))
        good = texts.filter(pl.col(LINE_CODE).is_null())
        for record in self.layout.records:
            part = good.filter(pl.col(RECORD_TYPE) == record.id) if good.height else good
            accepted, rejects, warnings = (
                validate_records(slice_fields(part, record, keep_filler=True), record, self.result.file)
                if not part.is_empty()
                else (None, errors.empty_rejects(), errors.empty_rejects())
            )
            self.warnings.append(warnings)
            if record.id in scans:
                accepted = _with_clean(accepted, scans[record.id].accepted, lines)
            if accepted is not None:
                self._take(record, accepted, rejects)

    def _header_first(self, lines: pl.DataFrame) -> bool:
        header = self.layout.header
        first = lines.row(0, named=True)
        self.state.header_ok = header is None or (first[RECORD_TYPE] == header.id and first[LINE_CODE] is None)
        if not self.state.header_ok:
            self.result.reject_file(_file_error(self.result, "HEADER_MISSING", record_type=header.id))
        return self.state.header_ok

    def _take(self, record: Record, accepted: pl.DataFrame, rejects: pl.DataFrame) -> None:
        self.rejects.append(rejects)
        self.result.by_record_type[record.id]["accepted"] += accepted.height
        self.result.accepted += accepted.height
        if record.role == "header" and not rejects.is_empty():
            bad = rejects.row(0, named=True)
            self.result.file_errors.append(
                _file_error(
                    self.result, "HEADER_INVALID", record_type=record.id, field_name=bad["field"], detail=bad["message"]
                )
            )
        if accepted.height and record.role != "data" and record.id not in self.declared:
            self.declared[record.id] = accepted.row(0, named=True)
        if accepted.height:
            self.sink(record.id, accepted)

    def finish(self) -> ValidationResult:
        result = self.result
        result.rejects = (
            pl.concat(self.rejects).sort("line", maintain_order=True) if self.rejects else errors.empty_rejects()
        )
        if self.warnings:
            result.record_warnings = pl.concat(self.warnings).sort("line", maintain_order=True)
        if self.state.header_ok is not False:
            self._check_trailer()
            self._check_controls()
        result.settle()
        return result

    def _check_trailer(self) -> None:
        trailer = self.layout.trailer_record
        if trailer is None:
            return
        line = self.state.trailer_line
        if line is None:
            code = "TRAILER_REQUIRED" if self.layout.trailer == "required" else "TRAILER_MISSING"
            row = _file_error(self.result, code, line=self.result.records, record_type=trailer.id)
            (self.result.file_errors if code == "TRAILER_REQUIRED" else self.result.warnings).append(row)
        elif trailer.id not in self.declared:
            self.result.file_errors.append(
                _file_error(self.result, "TRAILER_INVALID", line=line, record_type=trailer.id)
            )

    def _check_controls(self) -> None:
        for control, declared, actual in self.tally.mismatches(self.declared):
            line = self.declared[control.record][LINE_NO]
            self.result.file_errors.append(
                _file_error(
                    self.result,
                    "CONTROL_MISMATCH",
                    line=line,
                    record_type=control.record,
                    field_name=control.field,
                    detail=f"{declared}, the file holds {actual} ({describe(control)})",
                )
            )


def _with_clean(checked: pl.DataFrame | None, clean: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """The scanner's clean rows (less those rejected for where they stand) with the rows pandera passed."""
    placed = lines.filter(pl.col(CLEAN) & pl.col(LINE_CODE).is_not_null())
    if not placed.is_empty():
        clean = clean.join(placed.select(LINE_NO), on=LINE_NO, how="anti")
    if checked is None or checked.is_empty():
        return clean
    return pl.concat([clean, checked]).sort(LINE_NO)


def _validate_fixed(path: Path, layout: Layout, sink: Sink, batch_rows: int, compiled: bool) -> ValidationResult:
    run = _FixedRun(path, layout, sink, ValidationResult(path.name, layout.name))
    for lines, scans in iter_fixed_batches(path, layout, batch_rows, compiled):
        run.batch(lines, scans)
    return run.finish()


def _validate_csv(path: Path, layout: Layout, sink: Sink) -> ValidationResult:
    result = ValidationResult(path.name, layout.name)
    record = layout.by_role("data")[0]
    overlong = first_overlong_line(path, max_line_bytes(layout))
    if overlong is not None:  # never handed whole to the CSV reader: the file is refused
        result.records = max(_count_lines(path) - 1, 0)
        result.reject_file(_file_error(result, "LINE_TOO_LONG", line=overlong))
        return result
    text = read_csv_text(path)
    result.records = text.height
    columns = {f.column.lower(): f.name for f in record.fields if f.kept}
    missing = sorted(set(columns) - set(text.columns))
    extra = sorted(set(text.columns) - set(columns) - {LINE_NO})
    if extra:
        result.warnings.append(_file_error(result, "EXTRA_COLUMN", detail=", ".join(extra)))
    if missing:
        result.reject_file(_file_error(result, "MISSING_COLUMN", detail=", ".join(missing)))
        return result
    frame = text.select(pl.col(LINE_NO), *[stripped(pl.col(c), leading=True).alias(n) for c, n in columns.items()])
    accepted, result.rejects, result.record_warnings = validate_records(frame, record, result.file)
    result.accepted, result.rejected = accepted.height, text.height - accepted.height
    result.by_record_type[record.id] = {"read": text.height, "accepted": accepted.height}
    if accepted.height:
        sink(record.id, accepted)
    return result


def _check_reject_rate(result: ValidationResult, layout: Layout) -> None:
    data_ids = {r.id for r in layout.by_role("data")}
    read = sum(v["read"] for k, v in result.by_record_type.items() if k in data_ids)
    accepted = sum(v["accepted"] for k, v in result.by_record_type.items() if k in data_ids)
    limit = layout.max_reject_rate
    if limit is not None and read and not result.file_errors and (read - accepted) / read > limit:
        rate = f"{(read - accepted) / read:.0%}"
        result.reject_file(_file_error(result, "REJECT_RATE", detail=rate))


def _ignore(record_id: str, frame: pl.DataFrame) -> None:
    return None


def validate_file(
    path: Path | str,
    layout: Layout | None = None,
    sink: Sink | None = None,
    batch_rows: int = BATCH_ROWS,
    compiled: bool | None = None,
) -> ValidationResult:
    """Validate one file. `sink(record_id, frame)` receives accepted typed records batch by batch;
    if the result's file_status is 'rejected' the caller must discard what the sink received.
    `compiled` chooses the compiled fixed-width scanner (default: whenever it was built); both ways
    give the same result, the compiled one several times faster."""
    path = Path(path)
    layout = layout or detect_layout(path)
    name = layout.name if layout else ""
    result = ValidationResult(path.name, name)
    if path.stat().st_size == 0:
        result.reject_file(_file_error(result, "EMPTY_FILE"))
        return result
    if layout is None:
        result.records = _count_lines(path)
        result.reject_file(_file_error(result, "UNKNOWN_LAYOUT"))
        return result
    if layout.format == "csv":
        result = _validate_csv(path, layout, sink or _ignore)
    else:
        if compiled is None:
            compiled = scanner_built()
        result = _validate_fixed(path, layout, sink or _ignore, batch_rows, compiled)
    _check_reject_rate(result, layout)
    return result
