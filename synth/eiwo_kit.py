"""What the e-IWO file builders share: the rates block, the physical line of each generated row, and fixed-width
files of batches (FH*, per batch BH* + data + BT*, FT*) with headers and trailers that agree with the data."""

from __future__ import annotations

import numpy as np
import polars as pl

from pipeline.files.layouts import load_layout
from synth.filekit import finish_block, ymd

TRUTH_SCHEMA = {
    "kind": pl.Utf8,
    "file": pl.Utf8,
    "line": pl.Int64,
    "person_id": pl.Int64,
    "expected": pl.Utf8,
    "outcome": pl.Utf8,
}


def settings(rates: dict, samples: bool) -> dict:
    e = dict(rates.get("eiwo", {}))
    if samples:
        e.update(e.get("samples", {}) or {})
    return e


def lines_of(blocks: list[tuple[str, pl.DataFrame]], csv: bool) -> pl.DataFrame:
    """(_k1, _k2) → the physical line each row will have (the order render() writes them in)."""
    keys = pl.concat([f.select("_k1", "_k2") for _, f in blocks]).sort("_k1", "_k2", maintain_order=True)
    return keys.with_row_index("line", offset=2 if csv else 1).with_columns(pl.col("line").cast(pl.Int64))


def universal(control: str, as_of, fips: str | None = None, ein: str | None = None) -> pl.DataFrame:
    row = {"control_number": control, "state_fips": fips, "ein": ein, "creation_date": ymd(as_of)}
    return pl.DataFrame([row], schema={k: pl.Utf8 for k in row})


def batched_file(
    layout_name: str,
    codes: tuple[str, str, str, str, str],
    rows: pl.DataFrame,
    batch_key: str,
    head_values,
    batch_values,
    invalid: float,
    g: np.random.Generator,
) -> list[tuple[str, pl.DataFrame]]:
    """FH*, then per value of `batch_key` a BH* batch of data records closed by BT*, then FT* (one loop turn per
    batch). `rows` is already booked; its _k1 becomes the batch number."""
    layout = load_layout(layout_name)
    fh, bh, data_id, bt, ft = codes
    blank = {"_pid": pl.lit(None, pl.Int64), "_corr": pl.lit([], pl.List(pl.Utf8)), "_bad": pl.lit(False)}

    def control(frame: pl.DataFrame, k1: int, k2: int, rid: str) -> tuple[str, pl.DataFrame]:
        frame = frame.with_columns(pl.lit(k1, pl.Int64).alias("_k1"), pl.lit(k2, pl.Int64).alias("_k2"), **blank)
        return finish_block(frame, layout, rid, 0.0, g)

    keys = rows.get_column(batch_key).unique(maintain_order=True).to_list()
    blocks = [control(head_values(), 0, 0, fh)]
    for n, key in enumerate(keys, 1):
        part = rows.filter(pl.col(batch_key) == key).with_columns(pl.lit(n, pl.Int64).alias("_k1"))
        head = batch_values(key, n)
        blocks.append(control(head, n, -1, bh))
        blocks.append(finish_block(part, layout, data_id, invalid, g))
        tail = head.select("control_number", pl.lit(str(part.height)).alias("record_count"))
        blocks.append(control(tail, n, 10**9, bt))
    total = head_values().select("control_number", pl.lit(str(len(keys))).alias("batch_count"))
    total = total.with_columns(pl.lit(str(rows.height)).alias("record_count"))
    blocks.append(control(total, len(keys) + 1, 0, ft))
    return blocks
