"""Loading the e-IWO and employer-services files: accepted records of a loaded file → their input tables.

Orders (eiwo_order / eiwo_order_csv, record DTL) and acknowledgments (eiwo_ack / eiwo_ack_csv, record ACK) keep
their key columns typed and the whole record as layout text in `row_json`, so the order routed to the employer
repeats what the state sent, field for field. Batch headers and trailers (BHI / BTI, BHA / BTA) go to
`eiwo_batch_input` for the batch control check; MSER registrations (eiwo_mser_csv) to `mser_input`.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pipeline import store
from pipeline.files.codes import STATE_FIPS
from pipeline.files.layouts import load_layout

ORDER_LAYOUTS = ("eiwo_order", "eiwo_order_csv")
ACK_LAYOUTS = ("eiwo_ack", "eiwo_ack_csv")
EIWO_LAYOUTS = {*ORDER_LAYOUTS, *ACK_LAYOUTS, "eiwo_mser_csv"}
BATCH_RECORDS = ("BHI", "BTI", "BHA", "BTA")
# The fields a record carries (its record identifier, document_code, is the layout's own fixed value).
ORDER_FIELDS = tuple(
    f.name for f in load_layout("eiwo_employer").record("DTL").kept_fields if f.name != "document_code"
)
ACK_FIELDS = tuple(f.name for f in load_layout("eiwo_ack").record("ACK").kept_fields if f.name != "document_code")


def submitter_state(submitter: str | None) -> str | None:
    """The USPS state a state agency's folder stands for (KS, or the tail of SDNH-KS)."""
    tail = (submitter or "").rsplit("-", 1)[-1]
    return tail if tail in STATE_FIPS else None


def _as_text(frame: pl.DataFrame, name: str) -> pl.Expr:
    if name not in frame.columns:
        return pl.lit(None, pl.Utf8).alias(name)
    col = pl.col(name)
    return (col.dt.strftime("%Y%m%d") if frame.schema[name] == pl.Date else col.cast(pl.Utf8)).alias(name)


def row_json(frame: pl.DataFrame, names: tuple[str, ...]) -> pl.Expr:
    """The record's fields as layout text (dates CCYYMMDD, cents as digits) in one JSON object."""
    return pl.struct([_as_text(frame, n) for n in names]).struct.json_encode().alias("row_json")


def _meta(frame: pl.DataFrame, cycle_id: str, file_id: int, submitter: str | None, layout: str) -> pl.DataFrame:
    return frame.with_columns(
        pl.lit(cycle_id).alias("cycle_id"),
        pl.lit(file_id, pl.Int32).alias("file_id"),
        pl.lit(submitter, pl.Utf8).alias("submitter"),
        pl.lit(layout).alias("layout"),
    )


def load_eiwo_records(
    con: duckdb.DuckDBPyConnection,
    layout: str,
    record_id: str,
    frame: pl.DataFrame,
    file_id: int,
    cycle_id: str,
    submitter: str | None,
) -> int:
    """Append one batch of accepted records; returns the rows stored."""
    if frame.is_empty():
        return 0
    frame = _meta(frame, cycle_id, file_id, submitter, layout)
    if record_id in BATCH_RECORDS:
        return store.insert_frame(con, "eiwo_batch_input", frame.with_columns(pl.lit(record_id).alias("record_id")))
    if layout in ORDER_LAYOUTS and record_id == "DTL":
        state = pl.col("issuing_state") if "issuing_state" in frame.columns else pl.lit(submitter_state(submitter))
        frame = frame.with_columns(state.cast(pl.Utf8).alias("issuing_state"), row_json(frame, ORDER_FIELDS))
        return store.insert_frame(con, "eiwo_order_input", frame)
    if layout in ACK_LAYOUTS and record_id == "ACK":
        return store.insert_frame(con, "eiwo_ack_input", frame.with_columns(row_json(frame, ACK_FIELDS)))
    if layout == "eiwo_mser_csv" and record_id == "MSER":
        return store.insert_frame(con, "mser_input", frame)
    return 0
