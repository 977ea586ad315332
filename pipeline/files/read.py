"""Readers: bytes → polars frames, one column per layout field, without a per-record Python loop.

Fixed-width files are read as lines by polars' multi-threaded scanner in batches (memory is bounded
by the batch, not the file) and cut into fields with vectorised `str.slice`; or, where its C loop
was built, by the compiled scanner (pipeline/files/fixedscan.py), which gives the same frames several times
faster. LF and CRLF both end a line. Bytes outside printable ASCII are a deliberate decision: OCSE
files are upper-case ASCII, so a line holding any other byte is decoded lossily (never crashes),
flagged NON_ASCII and rejected whole; its neighbours are unaffected. CSV files map onto the same
logical field names.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from pipeline.files.layouts import Layout, Record, load_all_layouts
from pipeline.files.lines import (
    BATCH_ROWS,
    LINE,
    LINE_NO,
    first_line,
    iter_line_batches,
)

LINE_SLACK = 1024  # bytes a line may exceed its layout's record length before it is cut, not held (DESIGN §10)
CSV_FIELD_BYTES = 256  # a CSV field without a declared length counts this much towards the line limit


def max_line_bytes(layout: Layout) -> int:
    """The longest line a file of this layout is read whole with: the record length (fixed width) or the sum
    of the fields (CSV, each quoted, with separators), plus LINE_SLACK; a longer line is rejected as
    LINE_TOO_LONG without ever being held in memory whole."""
    if layout.format != "csv":
        return layout.record_length + LINE_SLACK
    fields = [f for r in layout.records for f in r.fields if f.kept]
    return sum((f.length or CSV_FIELD_BYTES) + 3 for f in fields) + LINE_SLACK


def scanner_built() -> bool:
    """The compiled scanner's C loop is an optional part of the install (no compiler: polars does it all);
    it writes Arrow's little-endian layout directly, so a big-endian machine reads through polars too."""
    return sys.byteorder == "little" and importlib.util.find_spec("pipeline.files._scan") is not None


def iter_fixed_batches(
    path: Path, layout: Layout, batch_rows: int = BATCH_ROWS, compiled: bool = False
) -> Iterator[tuple[pl.DataFrame, dict | None]]:
    """(lines, scans) per batch of a fixed-width file: with `compiled`, the compiled scanner's batches
    (pipeline/files/fixedscan.py; scans = the clean rows per record, already typed) while the file is uniform,
    then plain line batches (scans None) from the first line where it is not."""
    skip = 0
    if compiled:
        from pipeline.files.fixedscan import (  # needs the optional C loop
            ResumeLineReader,
            iter_scanned,
        )

        for item in iter_scanned(path, layout, batch_rows):
            if isinstance(item, ResumeLineReader):
                skip = item.line - 1
                break
            yield item.lines, item.scans
        else:
            return
    for lines in iter_line_batches(path, batch_rows, skip=skip, max_line=max_line_bytes(layout)):
        yield lines, None


def _fixed_matches(layout: Layout, line: str) -> bool:
    return bool(layout.detect) and all(line[s - 1 : s - 1 + len(v)] == v for s, v in layout.detect)


def _csv_matches(layout: Layout, line: str) -> bool:
    columns = {c.strip().strip('"').lower() for c in line.split(",")}
    return bool(layout.detect_columns) and set(layout.detect_columns) <= columns


def detect_layout(path: Path, direction: str | None = None) -> Layout | None:
    """The layout whose signature the file's first line carries (most specific wins), else None."""
    line = first_line(path)
    candidates = [
        layout
        for layout in load_all_layouts().values()
        if (direction is None or layout.direction == direction)
        and (_csv_matches(layout, line) if layout.format == "csv" else _fixed_matches(layout, line))
    ]
    candidates.sort(key=lambda lay: -(len(lay.detect) + len(lay.detect_columns)))
    return candidates[0] if candidates else None


def stripped(expr: pl.Expr, leading: bool = False) -> pl.Expr:
    """Trim the padding (trailing spaces; leading too for CSV); an all-space value becomes null.

    Fixed-width alpha fields are left-justified, so a leading space is data the validation must see."""
    text = expr.str.strip_chars(" ") if leading else expr.str.strip_chars_end(" ")
    return pl.when(text.str.len_bytes() > 0).then(text)


def slice_fields(lines: pl.DataFrame, record: Record, keep_filler: bool = False) -> pl.DataFrame:
    """Cut each line into the record's fields (text, stripped, blank → null)."""
    line = pl.col(LINE)
    return lines.select(
        pl.col(LINE_NO),
        *[
            stripped(line.str.slice(f.start - 1, f.length)).alias(f.name)
            for f in record.fields
            if f.kept or keep_filler
        ],
    )


def record_type_expr(layout: Layout) -> pl.Expr:
    """Which record each line is: specific identifiers first, then the layout's default record."""
    line = pl.col(LINE)
    expr = None
    for rec in (r for r in layout.records if not r.is_default):
        test = line.str.slice(rec.match_start - 1, len(rec.match_value)) == rec.match_value
        expr = pl.when(test).then(pl.lit(rec.id)) if expr is None else expr.when(test).then(pl.lit(rec.id))
    default = next((r.id for r in layout.records if r.is_default), None)
    if expr is None:
        return pl.lit(default, dtype=pl.Utf8)
    return expr.otherwise(pl.lit(default, dtype=pl.Utf8))


def read_csv_text(path: Path) -> pl.DataFrame:
    """A CSV as text columns (header names lower-cased and trimmed) plus its physical line numbers."""
    if path.stat().st_size == 0:
        return pl.DataFrame(schema={LINE_NO: pl.Int64})
    frame = pl.read_csv(
        path, infer_schema=False, encoding="utf8-lossy", raise_if_empty=False, truncate_ragged_lines=True
    )
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    return frame.with_row_index(LINE_NO, offset=2).with_columns(pl.col(LINE_NO).cast(pl.Int64))
