"""Decode a file to named, typed columns without judging it (`fpls read`): bad values become null."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipeline.files.layouts import Layout, Record
from pipeline.files.lines import LINE, LINE_NO, first_overlong_line, iter_line_batches, lines_from_bytes
from pipeline.files.read import (
    detect_layout,
    max_line_bytes,
    read_csv_text,
    record_type_expr,
    slice_fields,
    stripped,
)
from pipeline.files.schema import typed_columns

RECORD_TYPE = "record_type"
FILE = "file"
JOINED_FILE_BYTES = 1 << 20  # larger files are decoded one by one, streamed


def _default_record(layout: Layout, record_id: str | None) -> Record:
    """The record asked for, else the layout's person record (a data record with an SSN: a QW file's wage
    records, not its employer records), else its first data record."""
    if record_id is None:
        data = layout.by_role("data") or layout.records
        return next((r for r in data if any(f.pii for f in r.fields)), data[0])
    if record_id not in {r.id for r in layout.records}:
        raise LookupError(f"layout {layout.name} has no record '{record_id}'; it has {[r.id for r in layout.records]}")
    return layout.record(record_id)


def decode_file(path: Path, layout: Layout | None = None, record_id: str | None = None) -> pl.DataFrame:
    layout = layout or detect_layout(path)
    if layout is None:
        raise LookupError(f"{path.name}: file type not recognised; pass --layout")
    record = _default_record(layout, record_id)
    if layout.format == "csv":
        if first_overlong_line(path, max_line_bytes(layout)) is not None:
            raise LookupError(f"{path.name}: a line is longer than layout {layout.name} allows; not decoded")
        text = read_csv_text(path)
        present = [f for f in record.fields if f.kept and f.column.lower() in text.columns]
        frame = text.select(
            pl.col(LINE_NO), *[stripped(pl.col(f.column.lower()), leading=True).alias(f.name) for f in present]
        )
        return typed_columns(frame, record)  # lenient: a value that does not parse is null
    parts = [
        slice_fields(batch.filter(record_type_expr(layout) == record.id), record)
        for batch in iter_line_batches(path, max_line=max_line_bytes(layout))
    ]
    frame = (
        pl.concat(parts) if parts else slice_fields(pl.DataFrame(schema={LINE_NO: pl.Int64, "line": pl.Utf8}), record)
    )
    return typed_columns(frame, record)  # lenient: a value that does not parse is null


def _many_fixed_lines(paths: list[Path]) -> pl.DataFrame:
    """The lines of many files as one frame (file index, line_no, line): one parse of their joined bytes."""
    data = [p.read_bytes() for p in paths]
    data = [d if not d or d.endswith(b"\n") else d + b"\n" for d in data]
    counts = pl.Series([d.count(b"\n") for d in data], dtype=pl.Int64)
    files = pl.int_range(len(data), eager=True, dtype=pl.Int64).repeat_by(counts).explode()
    return pl.DataFrame({FILE: files, LINE: lines_from_bytes(b"".join(data))}).with_columns(
        (pl.int_range(pl.len()).over(FILE) + 1).alias(LINE_NO)
    )


def _many_csv_text(paths: list[Path]) -> pl.DataFrame:
    frame = pl.scan_csv(
        paths, infer_schema=False, encoding="utf8-lossy", include_file_paths=FILE, truncate_ragged_lines=True
    ).collect()
    frame = frame.rename({c: c.strip().lower() for c in frame.columns if c != FILE})
    index = pl.col(FILE).replace_strict([str(p) for p in paths], range(len(paths)), return_dtype=pl.Int64)
    return frame.with_columns(index, (pl.int_range(pl.len()).over(FILE) + 2).alias(LINE_NO))


def _many_fixed(paths: list[Path], layout: Layout, record: Record) -> pl.DataFrame:
    """Small files joined and cut at once; a large one through the streaming reader (memory bounded by the batch)."""
    small = [i for i, p in enumerate(paths) if p.stat().st_size <= JOINED_FILE_BYTES]
    joined = set(small)
    lines = _many_fixed_lines([paths[i] for i in small]).filter(record_type_expr(layout) == record.id)
    parts = [slice_fields(lines, record).with_columns(lines.get_column(FILE).replace_strict(range(len(small)), small))]
    parts += [
        decode_file(p, layout, record.id).with_columns(pl.lit(i, dtype=pl.Int64).alias(FILE))
        for i, p in enumerate(paths)
        if i not in joined
    ]
    return pl.concat([typed_columns(parts[0], record), *parts[1:]], how="vertical_relaxed")


def decode_many(paths: list[Path], layout: Layout, record_id: str) -> pl.DataFrame:
    """One record type of many files of one layout (files this system wrote, e.g. a cycle's thousands of e-IWO
    files), decoded as `decode_file` decodes each, small files at once; `file` is the row's file's index in
    `paths`."""
    record = _default_record(layout, record_id)
    if layout.format != "csv":
        return _many_fixed(paths, layout, record)
    text = _many_csv_text(paths)
    present = [f for f in record.fields if f.kept and f.column.lower() in text.columns]
    cut = text.select(
        FILE, pl.col(LINE_NO), *[stripped(pl.col(f.column.lower()), leading=True).alias(f.name) for f in present]
    )
    return typed_columns(cut, record)
