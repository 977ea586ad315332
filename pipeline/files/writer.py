"""Writers: frames → fixed-width or CSV bytes per a layout, and durable atomic file writes.

Rendering is vectorised (one polars expression per field, concatenated per line). Values longer
than their field are cut to the field's length, as the NDNH specifications do for names.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import polars as pl

from pipeline.files.layouts import Field, Layout, Record
from pipeline.safeguards.faults import disk_full_check

LINE = "line"
FILE_MODE = 0o640
Blocks = list[tuple[str, pl.DataFrame]]  # (record id, rows) in file order


def _as_text(f: Field, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(f.name)
    if f.type == "date" and dtype == pl.Date:
        return col.dt.strftime("%Y%m%d")
    return col.cast(pl.Utf8)


def _field_expr(f: Field, record: Record, schema: pl.Schema) -> pl.Expr:
    blank = pl.lit(" " * f.length)
    if f.type == "filler":
        return blank
    if f.name not in schema:
        fixed = record.match_value if f.start == record.match_start else (f.values[0] if len(f.values) == 1 else "")
        return pl.lit(fixed.ljust(f.length)[: f.length])
    text = _as_text(f, schema[f.name])
    padded = text.str.pad_start(f.length, "0") if f.type in {"numeric", "amount"} else text.str.pad_end(f.length)
    return pl.when(text.is_null() | (text == "")).then(blank).otherwise(padded.str.slice(0, f.length))


def render_records(frame: pl.DataFrame, record: Record) -> pl.Series:
    """One fixed-width line per row (no line terminator); absent columns are blank or their fixed value."""
    schema = frame.schema
    return frame.select(pl.concat_str([_field_expr(f, record, schema) for f in record.fields]).alias(LINE)).to_series()


def render_file(layout: Layout, blocks: Blocks) -> pl.DataFrame:
    """All lines of a fixed-width file: blocks of (record_id, frame) in file order."""
    parts = [render_records(frame, layout.record(record_id)).to_frame() for record_id, frame in blocks]
    return pl.concat(parts) if parts else pl.DataFrame(schema={LINE: pl.Utf8})


def fixed_bytes(layout: Layout, blocks: Blocks) -> bytes:
    buffer = io.BytesIO()
    render_file(layout, blocks).write_csv(buffer, include_header=False, quote_style="never")
    return buffer.getvalue()


def files_bytes(layout: Layout, blocks: Blocks, key: str) -> dict[str, bytes]:
    """Many fixed-width files of one layout rendered at once, one render per block instead of one per file (a
    cycle writes over a thousand ACK files): every block's frame has a `key` column naming the file its row
    belongs to; a file is its rows in block order, then frame order. Same bytes as `fixed_bytes` per file."""
    parts = [
        frame.select(
            pl.col(key).cast(pl.Utf8), pl.lit(k).alias("_block"), pl.int_range(pl.len()).alias("_row")
        ).with_columns(render_records(frame, layout.record(record_id)))
        for k, (record_id, frame) in enumerate(blocks)
    ]
    files = (
        pl.concat(parts)
        .sort(key, "_block", "_row")
        .group_by(key, maintain_order=True)
        .agg((pl.col(LINE).str.join("\n") + "\n").alias(LINE))
    )
    return {name: text.encode() for name, text in files.iter_rows()}


def csv_bytes(layout: Layout, frame: pl.DataFrame) -> bytes:
    """A CSV with the layout's column names and order; dates as CCYYMMDD, amounts as integers."""
    fields = [f for f in layout.by_role("data")[0].fields if f.kept]
    schema = frame.schema
    out = frame.select(
        [
            (_as_text(f, schema[f.name]) if f.name in schema else pl.lit(None, dtype=pl.Utf8)).alias(f.column)
            for f in fields
        ]
    )
    buffer = io.BytesIO()
    out.write_csv(buffer)
    return buffer.getvalue()


def atomic_write(path: Path, data: bytes, mode: int = FILE_MODE) -> Path:
    """Write to a temp file beside `path`, fsync, set mode, rename over `path`, fsync the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            disk_full_check()
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return path


def write_fixed(path: Path, layout: Layout, blocks: Blocks) -> Path:
    return atomic_write(Path(path), fixed_bytes(layout, blocks))


def write_csv(path: Path, layout: Layout, frame: pl.DataFrame) -> Path:
    return atomic_write(Path(path), csv_bytes(layout, frame))
