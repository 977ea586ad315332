"""Line-level checks of a fixed-width file: each line classified by record type and given its first
line-level problem (blank, longer than the layout allows, non-ASCII, after the trailer, unknown record,
misplaced header, wrong length).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pipeline.files import errors
from pipeline.files.layouts import Layout
from pipeline.files.lines import LINE, LINE_NO
from pipeline.files.read import max_line_bytes, record_type_expr

RECORD_TYPE, LINE_CODE, CLEAN = "record_type", "line_code", "clean"


@dataclass
class FixedState:
    header_ok: bool | None = None  # None until line 1 is seen
    trailer_line: int | None = None


def line_codes(batch: pl.DataFrame, layout: Layout, state: FixedState) -> pl.DataFrame:
    """Classify each line and give the first line-level problem, if any (vectorised).

    Lines the compiled scanner passed (CLEAN, pipeline/files/fixedscan.py) arrive without their text and
    already typed; only the checks that depend on where a line stands apply to them."""
    line = pl.col(LINE)
    headers = [r.id for r in layout.by_role("header")]
    trailers = [r.id for r in layout.by_role("trailer")]
    if CLEAN not in batch.columns:
        batch = batch.with_columns(pl.lit(False).alias(CLEAN), pl.lit(None, pl.Utf8).alias(RECORD_TYPE))
    batch = batch.with_columns(
        pl.when(CLEAN).then(pl.col(RECORD_TYPE)).otherwise(record_type_expr(layout)).alias(RECORD_TYPE)
    )
    if state.trailer_line is None:
        found = batch.filter(pl.col(RECORD_TYPE).is_in(trailers)).get_column(LINE_NO)
        state.trailer_line = int(found.min()) if len(found) else None
    after = pl.lit(False) if state.trailer_line is None else pl.col(LINE_NO) > state.trailer_line
    misplaced = pl.col(RECORD_TYPE).is_in(headers) & (pl.col(LINE_NO) != 1)
    none = pl.lit(None, dtype=pl.Utf8)
    text_code = (
        pl.when(line.is_null() | (line.str.strip_chars() == ""))
        .then(pl.lit("BLANK_LINE"))
        .when(line.str.len_bytes() > max_line_bytes(layout))
        .then(pl.lit("LINE_TOO_LONG"))
        .when(line.str.len_bytes() != line.str.len_chars())
        .then(pl.lit("NON_ASCII"))
        .when(after)
        .then(pl.lit("AFTER_TRAILER"))
        .when(pl.col(RECORD_TYPE).is_null())
        .then(pl.lit("UNKNOWN_RECORD"))
        .when(misplaced)
        .then(pl.lit("MISPLACED_HEADER"))
        .when(line.str.len_bytes() != layout.record_length)
        .then(pl.lit("LINE_LENGTH"))
        .otherwise(none)
    )
    place_code = (
        pl.when(after).then(pl.lit("AFTER_TRAILER")).when(misplaced).then(pl.lit("MISPLACED_HEADER")).otherwise(none)
    )
    return batch.with_columns(pl.when(CLEAN).then(place_code).otherwise(text_code).alias(LINE_CODE))


def line_rejects(batch: pl.DataFrame, layout: Layout, file: str) -> pl.DataFrame:
    bad = batch.filter(pl.col(LINE_CODE).is_not_null())
    if bad.is_empty():
        return errors.empty_rejects()
    rows = bad.select(
        pl.col(LINE_NO).alias("line"),
        pl.col(RECORD_TYPE).fill_null(""),
        pl.col(LINE_CODE).alias("code"),
        pl.col(LINE).str.len_bytes().alias("length"),
    )
    messages = pl.DataFrame(
        [
            {"code": c, RECORD_TYPE: rt, "message": errors.render(c, record_type=rt)}
            for c, rt in rows.select("code", RECORD_TYPE).unique().iter_rows()
        ],
        schema={"code": pl.Utf8, RECORD_TYPE: pl.Utf8, "message": pl.Utf8},
    )
    length_message = pl.format(
        "the record is {} bytes long, {} records are {}", "length", RECORD_TYPE, pl.lit(layout.record_length)
    )
    return rows.join(messages, on=["code", RECORD_TYPE], how="left").select(
        pl.lit(file).alias("file"),
        "line",
        RECORD_TYPE,
        pl.lit("").alias("field"),
        "code",
        pl.when(pl.col("code") == "LINE_LENGTH").then(length_message).otherwise("message").alias("message"),
        pl.lit("").alias("value"),
    )
